//! What a `POST /predict` body may be, and the 784 values the net reads
//! made of it: JSON numbers in `0..=1`, or a PNG framed as `predict --png`
//! frames one. Every refusal is a [`Rejection`]: a status and a message.

use hyper::StatusCode;
use serde_json::Value;

use crate::frame::{PIXELS, to_mnist};
use crate::png_decode::decode_png;

/// The largest body read, in bytes; a longer one is refused with 413.
pub const MAX_BODY: usize = 1 << 20;

/// The largest PNG framed, in pixels: a body within [`MAX_BODY`] can
/// still claim a huge image, and each one decoding takes about 20 bytes a
/// pixel (the predict example's decoder alone allows 256 MiB).
const MAX_PNG_PIXELS: u64 = 2048 * 2048;

/// A request refused: the status to answer with, and why.
#[derive(Debug, PartialEq)]
pub struct Rejection {
    pub status: StatusCode,
    pub message: String,
}

impl Rejection {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Rejection {
            status,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Rejection::new(StatusCode::BAD_REQUEST, message)
    }
}

/// The kinds of body `/predict` reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BodyKind {
    /// `application/json`: `{"pixels": [784 numbers]}` or the bare array.
    Json,
    /// `image/png`: any PNG, framed to 28×28.
    Png,
}

impl BodyKind {
    /// The kind a `Content-Type` names (its parameters, such as
    /// `; charset=utf-8`, ignored).
    pub fn of(content_type: Option<&str>) -> Result<BodyKind, Rejection> {
        let media = content_type
            .and_then(|value| value.split(';').next())
            .map(|media| media.trim().to_ascii_lowercase());
        match media.as_deref() {
            Some("application/json") => Ok(BodyKind::Json),
            Some("image/png") => Ok(BodyKind::Png),
            other => Err(Rejection::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Type {}: send application/json ({{\"pixels\": [784 numbers in 0..1]}}) \
                     or image/png",
                    other.map_or("missing".to_owned(), |m| format!("`{m}`"))
                ),
            )),
        }
    }

    /// The image a body of this kind holds, as the net reads it: 784
    /// values in `0..=1`, row by row, white on black.
    pub fn pixels(self, body: &[u8]) -> Result<Vec<f32>, Rejection> {
        match self {
            BodyKind::Json => pixels_from_json(body),
            BodyKind::Png => pixels_from_png(body),
        }
    }
}

/// `{"pixels": [...]}` or `[...]`: 784 finite numbers in `0..=1`.
fn pixels_from_json(body: &[u8]) -> Result<Vec<f32>, Rejection> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Rejection::bad(format!(
            "the body is not JSON ({e}); JSON has no NaN or Infinity"
        ))
    })?;
    let values = match &value {
        Value::Array(values) => values,
        Value::Object(fields) => match fields.get("pixels") {
            Some(Value::Array(values)) => values,
            Some(_) => return Err(Rejection::bad("`pixels` is not an array of numbers")),
            None => return Err(Rejection::bad("the object has no `pixels` array")),
        },
        _ => {
            return Err(Rejection::bad(
                "send {\"pixels\": [784 numbers in 0..1]} or the bare array",
            ));
        }
    };
    if values.len() != PIXELS {
        return Err(Rejection::bad(format!(
            "{} values: a 28×28 image is {PIXELS}, row by row",
            values.len()
        )));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, value)| match value.as_f64() {
            Some(v) if (0.0..=1.0).contains(&v) => Ok(v as f32),
            Some(v) => Err(Rejection::bad(format!(
                "pixels[{i}] is {v}, outside 0..1 (divide 0..255 values by 255)"
            ))),
            None => Err(Rejection::bad(format!(
                "pixels[{i}] is {value}, not a number"
            ))),
        })
        .collect()
}

/// A PNG of any kind, brought to MNIST's framing by the predict
/// example's own code: gray, white on black, padded square, 28×28.
fn pixels_from_png(body: &[u8]) -> Result<Vec<f32>, Rejection> {
    let header = png::Decoder::new(std::io::Cursor::new(body))
        .read_info()
        .map_err(|e| Rejection::bad(format!("the body is not a PNG image: {e}")))?;
    let (width, height) = header.info().size();
    if u64::from(width) * u64::from(height) > MAX_PNG_PIXELS {
        return Err(Rejection::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the PNG is {width}×{height} pixels; this server frames at most 2048×2048"),
        ));
    }
    let (gray, _notes) =
        decode_png(body).map_err(|e| Rejection::bad(format!("the PNG cannot be decoded: {e}")))?;
    let (pixels, _framing) = to_mnist(gray);
    Ok(pixels.iter().map(|&p| (p / 255.0) as f32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(result: Result<Vec<f32>, Rejection>) -> StatusCode {
        result.expect_err("refused").status
    }

    /// A `width`×`height` 8-bit gray PNG of `value`.
    fn png(width: u32, height: u32, value: u8) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Grayscale);
        let mut writer = encoder.write_header().expect("header");
        let data = vec![value; (width * height) as usize];
        writer.write_image_data(&data).expect("data");
        writer.finish().expect("finish");
        bytes
    }

    #[test]
    fn content_types_choose_the_parser_or_are_refused() {
        assert_eq!(BodyKind::of(Some("application/json")), Ok(BodyKind::Json));
        assert_eq!(
            BodyKind::of(Some("Application/JSON; charset=utf-8")),
            Ok(BodyKind::Json)
        );
        assert_eq!(BodyKind::of(Some("image/png")), Ok(BodyKind::Png));
        for refused in [None, Some("text/plain"), Some("")] {
            let rejection = BodyKind::of(refused).expect_err("refused");
            assert_eq!(rejection.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
    }

    #[test]
    fn json_takes_an_object_or_a_bare_array_of_784_values() {
        let array = format!("[{}]", vec!["0.5"; PIXELS].join(","));
        let object = format!("{{\"pixels\": {array}}}");
        for body in [&array, &object] {
            let pixels = BodyKind::Json.pixels(body.as_bytes()).expect("accepted");
            assert_eq!(pixels, vec![0.5; PIXELS]);
        }
        let edges = format!("[0, 1{}]", ", 0".repeat(PIXELS - 2));
        assert!(BodyKind::Json.pixels(edges.as_bytes()).is_ok());
    }

    #[test]
    fn json_of_the_wrong_length_or_values_is_a_bad_request() {
        let short = format!("[{}]", vec!["0"; PIXELS - 1].join(","));
        let rejection = BodyKind::Json.pixels(short.as_bytes()).expect_err("short");
        assert_eq!(rejection.status, StatusCode::BAD_REQUEST);
        assert!(rejection.message.starts_with("783 values"), "{rejection:?}");
        let with = |first: &str| format!("[{first}{}]", ", 0".repeat(PIXELS - 1));
        for body in [with("NaN"), with("Infinity"), with("1e999"), with("-0.5")] {
            assert_eq!(
                status(BodyKind::Json.pixels(body.as_bytes())),
                StatusCode::BAD_REQUEST
            );
        }
        let rejection = BodyKind::Json
            .pixels(with("255").as_bytes())
            .expect_err("255");
        assert!(
            rejection.message.contains("pixels[0] is 255"),
            "{rejection:?}"
        );
        let rejection = BodyKind::Json
            .pixels(with("\"0\"").as_bytes())
            .expect_err("string");
        assert!(rejection.message.contains("not a number"), "{rejection:?}");
        for body in ["", "{", "{\"pixel\": []}", "{\"pixels\": 3}", "7", "[[0]]"] {
            assert_eq!(
                status(BodyKind::Json.pixels(body.as_bytes())),
                StatusCode::BAD_REQUEST
            );
        }
    }

    #[test]
    fn a_png_is_framed_to_28_by_28_values_in_0_to_1() {
        let pixels = BodyKind::Png.pixels(&png(28, 28, 51)).expect("accepted");
        assert_eq!(pixels, vec![0.2; PIXELS]);
        // A light image is taken for a dark digit on white, and inverted.
        let pixels = BodyKind::Png.pixels(&png(280, 140, 255)).expect("accepted");
        assert_eq!(pixels.len(), PIXELS);
        assert!(pixels.iter().all(|&p| p == 0.0), "{pixels:?}");
    }

    #[test]
    fn a_broken_or_huge_png_is_refused() {
        let mut broken = png(28, 28, 0);
        broken.truncate(broken.len() / 2);
        assert_eq!(
            status(BodyKind::Png.pixels(&broken)),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(BodyKind::Png.pixels(b"not a png")),
            StatusCode::BAD_REQUEST
        );
        let huge = png(4096, 1025, 0);
        assert_eq!(
            status(BodyKind::Png.pixels(&huge)),
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }
}
