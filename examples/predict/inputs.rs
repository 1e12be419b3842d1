//! Reading the files the program is given, each as a regular file of
//! bounded size: the IDX image (and the labels beside it) and the PNG.

use std::path::Path;

use staticnet::data::read_idx;
use staticnet::files::read_bounded;

use crate::Failure;
use crate::frame::{PIXELS, Pixels, SIDE, to_mnist};
use crate::png_decode::decode_png;

/// The largest PNG file read, compressed.
const MAX_PNG_FILE_BYTES: u64 = 64 << 20;

/// Reads the regular file at `path`, of at most `max` bytes (see
/// [`read_bounded`]), with the path in the message of a failure.
fn read_bounded_file(path: &Path, max: u64) -> Result<Vec<u8>, Failure> {
    read_bounded(path, max)
        .map_err(|e| Failure::Runtime(format!("could not read `{}`: {e}", path.display())))
}

/// Image `index` of an IDX file of 28×28 images, and its label when the
/// matching labels file lies beside it.
pub fn read_idx_image(path: &Path, index: usize) -> Result<(Pixels, Option<u8>), Failure> {
    let array = read_idx(path).map_err(|e| e.to_string())?;
    let count = match array.dims[..] {
        [count, SIDE, SIDE] => count,
        _ => {
            return Err(Failure::Runtime(format!(
                "`{}` holds an array of shape {:?}, not 28×28 images [count, 28, 28]",
                path.display(),
                array.dims
            )));
        }
    };
    if index >= count {
        return Err(Failure::Usage(if count == 0 {
            format!("--index {index}: `{}` holds no image", path.display())
        } else {
            format!(
                "--index {index} is out of range: `{}` holds {count} images (0 to {})",
                path.display(),
                count - 1
            )
        }));
    }
    let image = &array.data[index * PIXELS..(index + 1) * PIXELS];
    let mut pixels = [0.0; PIXELS];
    for (dst, &p) in pixels.iter_mut().zip(image) {
        *dst = f64::from(p);
    }
    Ok((pixels, label_beside(path, index, count)))
}

/// The label of sample `index` from the labels file matching the images
/// file `images` (`…-images-idx3-ubyte[.gz]` → `…-labels-idx1-ubyte[.gz]`),
/// if there is one holding `count` labels.
fn label_beside(images: &Path, index: usize, count: usize) -> Option<u8> {
    let name = images.file_name()?.to_str()?;
    if !name.contains("images-idx3") {
        return None;
    }
    let labels = name.replace("images-idx3", "labels-idx1");
    let toggled = match labels.strip_suffix(".gz") {
        Some(raw) => raw.to_owned(),
        None => format!("{labels}.gz"),
    };
    let path = [labels, toggled]
        .into_iter()
        .map(|name| images.with_file_name(name))
        .find(|path| path.is_file())?;
    match read_idx(&path) {
        Ok(array) if array.dims == [count] => array.data.get(index).copied(),
        Ok(array) => {
            eprintln!(
                "note: `{}` holds an array of shape {:?}, not {count} labels; no true label shown",
                path.display(),
                array.dims
            );
            None
        }
        Err(e) => {
            eprintln!("note: no true label shown: {e}");
            None
        }
    }
}

/// Reads a PNG and turns it into what the network was trained on, with a
/// note on stderr for every change.
pub fn read_png(path: &Path) -> Result<Pixels, Failure> {
    let bytes = read_bounded_file(path, MAX_PNG_FILE_BYTES)?;
    let (gray, mut notes) = decode_png(&bytes).map_err(|e| {
        format!(
            "`{}` is not a PNG image staticnet can read: {e}",
            path.display()
        )
    })?;
    let (pixels, framing) = to_mnist(gray);
    notes.extend(framing);
    for note in notes {
        eprintln!("note: {note}");
    }
    Ok(pixels)
}
