//! The safetensors layout: parsing a file defensively, and converting
//! between the network's column-major parameters and the file's row-major
//! little-endian tensors.
//!
//! The header is parsed by the `safetensors` crate's own `Metadata` (dtype
//! names, offsets that tile the data without holes or overlaps, sizes
//! computed with checked arithmetic); the framing around it (the length
//! prefix, the data length) is checked here, with checked arithmetic:
//! `SafeTensors::deserialize` itself adds the data length to the header
//! length unchecked, which a crafted header makes overflow (a panic in
//! debug builds). So are keys the header repeats, which the parser would
//! silently drop but for the last, and the two digests of the metadata
//! (of the data, and of the header's content).
//!
//! Files are written here too, rather than by `safetensors::serialize`,
//! whose `__metadata__` map is a `HashMap` written in random order: here
//! the header's keys are sorted, so that equal inputs give equal bytes.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use safetensors::Dtype;
use safetensors::tensor::Metadata;

use super::{FormatError, IoError};
use crate::files::RegularFile;
use crate::{Network, ParamName, ParamShape, Scalar};

/// The largest header the safetensors format allows.
const MAX_HEADER: u64 = 100_000_000;

/// The longest header a file of `tensors` tensors needs: 64 KiB for the
/// metadata, and 1 KiB a tensor for its name, dtype, shape and offsets
/// (about 100 bytes in practice). A longer header is refused before it is
/// parsed, since parsing holds about 32 bytes for each of its numbers.
pub(crate) fn header_limit(tensors: usize) -> u64 {
    (64 << 10) + (1 << 10) * tensors as u64
}

/// One tensor of a parsed file, its data still in the file's bytes.
pub(crate) struct RawTensor<'a> {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub data: &'a [u8],
    /// Where the data starts: the tensors' order in the file.
    pub offset: usize,
}

/// A parsed file: the `__metadata__` map and the tensors, by name.
pub(crate) struct Parsed<'a> {
    pub metadata: HashMap<String, String>,
    pub tensors: BTreeMap<String, RawTensor<'a>>,
}

fn not_safetensors(path: &Path, problem: FormatError) -> IoError {
    IoError::NotSafetensors {
        path: path.to_path_buf(),
        problem,
    }
}

/// Splits `bytes` into a header and tensors, checking the framing and the
/// offsets. Never panics.
pub(crate) fn parse<'a>(
    bytes: &'a [u8],
    max_header: u64,
    path: &Path,
) -> Result<Parsed<'a>, IoError> {
    if bytes.is_empty() {
        return Err(not_safetensors(path, FormatError::Empty));
    }
    let Some((prefix, rest)) = bytes.split_first_chunk::<8>() else {
        return Err(not_safetensors(
            path,
            FormatError::TooShort { len: bytes.len() },
        ));
    };
    let header_len = announced_header_len(prefix, rest.len() as u64, path)?;
    let declared = header_len as u64;
    let limit = max_header.min(MAX_HEADER);
    if declared > limit {
        return Err(not_safetensors(
            path,
            FormatError::HeaderTooLarge {
                declared,
                limit,
                looks_like: sniff(prefix),
            },
        ));
    }
    // In range: `announced_header_len` checked it against `rest.len()`.
    let (header, data) = rest.split_at(header_len);
    let header = std::str::from_utf8(header)
        .map_err(|_| not_safetensors(path, FormatError::HeaderNotUtf8))?;
    // A key the header repeats would be dropped by the parser, the last
    // one kept (and the error it may cause, overlapping offsets, would not
    // name it): refused first, as the format says.
    if let Some(detail) = duplicate_key(header) {
        return Err(not_safetensors(path, FormatError::BadHeader { detail }));
    }
    let metadata: Metadata = serde_json::from_str(header).map_err(|e| {
        not_safetensors(
            path,
            FormatError::BadHeader {
                detail: e.to_string(),
            },
        )
    })?;

    // The crate checked that the offsets tile `0..data_len` exactly.
    let expected = metadata.data_len() as u64;
    let actual = data.len() as u64;
    if expected > actual {
        return Err(IoError::Truncated {
            path: path.to_path_buf(),
            expected,
            actual,
        });
    }
    if expected < actual {
        return Err(not_safetensors(
            path,
            FormatError::TrailingBytes { expected, actual },
        ));
    }

    let recorded = metadata.metadata().as_ref().and_then(|m| m.get(DIGEST_KEY));
    if let Some(recorded) = recorded {
        let actual = crate::digest::sha256_hex([data]);
        if *recorded != actual {
            return Err(IoError::DigestMismatch {
                path: path.to_path_buf(),
                recorded: recorded.clone(),
                actual,
            });
        }
    }

    let recorded = metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get(HEADER_DIGEST_KEY));
    if let Some(recorded) = recorded {
        let tensors = metadata.tensors();
        let actual = header_digest(
            tensors.iter().map(|(name, info)| {
                (
                    name.as_str(),
                    info.dtype,
                    info.shape.as_slice(),
                    info.data_offsets,
                )
            }),
            metadata
                .metadata()
                .iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        if *recorded != actual {
            return Err(IoError::HeaderDigestMismatch {
                path: path.to_path_buf(),
                recorded: recorded.clone(),
                actual,
            });
        }
    }

    let mut tensors = BTreeMap::new();
    for (name, info) in metadata.tensors() {
        let (start, end) = info.data_offsets;
        let Some(bytes) = data.get(start..end) else {
            return Err(IoError::Truncated {
                path: path.to_path_buf(),
                expected,
                actual,
            });
        };
        tensors.insert(
            name,
            RawTensor {
                dtype: info.dtype,
                shape: info.shape.clone(),
                data: bytes,
                offset: start,
            },
        );
    }
    let metadata = metadata.metadata().clone().unwrap_or_default();
    Ok(Parsed { metadata, tensors })
}

/// What the JSON `header` repeats, if anything: a tensor's name, a
/// metadata entry or a field of a tensor's entry, said in a sentence.
/// Every object's keys are compared as the parser decodes them (`"W1"` and
/// `"W\u0031"` are the same key). Any text is scanned, valid JSON or not,
/// in one pass that holds only the keys of the objects still open; a key
/// that does not decode ends the scan, for the parser to report.
fn duplicate_key(header: &str) -> Option<String> {
    /// An object being read: its keys so far, the key it is the value of,
    /// and whether a key comes next.
    struct Object<'a> {
        keys: HashSet<Cow<'a, str>>,
        owner: Option<Cow<'a, str>>,
        key_next: bool,
    }
    /// The parser's limit: deeper text is refused by it.
    const MAX_DEPTH: usize = 128;
    let bytes = header.as_bytes();
    // `None` for an array.
    let mut open: Vec<Option<Object<'_>>> = Vec::new();
    let mut last_key = None;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'{' | b'[' if open.len() >= MAX_DEPTH => return None,
            b'{' => {
                // The value of the last key, or an element of an array.
                let owner = match open.last() {
                    Some(Some(_)) => last_key.take(),
                    _ => None,
                };
                open.push(Some(Object {
                    keys: HashSet::new(),
                    owner,
                    key_next: true,
                }));
            }
            b'[' => open.push(None),
            b'}' | b']' => {
                open.pop();
            }
            b',' => {
                if let Some(Some(object)) = open.last_mut() {
                    object.key_next = true;
                }
            }
            b'"' => {
                let end = string_end(bytes, i)?;
                let depth = open.len();
                if let Some(Some(object)) = open.last_mut() {
                    if object.key_next {
                        object.key_next = false;
                        let raw = header.get(i..=end)?;
                        // Borrowed unless it holds an escape.
                        let key = match raw.get(1..raw.len() - 1) {
                            Some(plain) if !plain.contains('\\') => Cow::Borrowed(plain),
                            _ => Cow::Owned(serde_json::from_str::<String>(raw).ok()?),
                        };
                        if object.keys.contains(&key) {
                            return Some(match (depth, object.owner.as_deref()) {
                                (1, _) if key == "__metadata__" => {
                                    "it holds two `__metadata__` maps".to_owned()
                                }
                                (1, _) => format!("it names the tensor `{key}` twice"),
                                (2, Some("__metadata__")) => {
                                    format!("its metadata entry `{key}` appears twice")
                                }
                                (_, Some(owner)) => {
                                    format!("the key `{key}` appears twice in `{owner}`")
                                }
                                (_, None) => format!("the key `{key}` appears twice"),
                            });
                        }
                        object.keys.insert(key.clone());
                        last_key = Some(key);
                    }
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where the JSON string opened at `start` closes.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
}

/// The SHA-256 of a header's content in a canonical form: every tensor's
/// name, dtype, shape and offsets, sorted by name, then every metadata
/// entry (the data digest among them) but [`HEADER_DIGEST_KEY`], sorted by
/// key. Each string is preceded by its length, and every number is 8
/// little-endian bytes, so that no two headers give the same bytes. The
/// JSON text itself (its spacing, its order of keys, its escapes) is not
/// covered: what it says is.
fn header_digest<'a>(
    tensors: impl IntoIterator<Item = (&'a str, Dtype, &'a [usize], (usize, usize))>,
    metadata: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    fn number(out: &mut Vec<u8>, n: usize) {
        out.extend_from_slice(&(n as u64).to_le_bytes());
    }
    fn text(out: &mut Vec<u8>, s: &str) {
        number(out, s.len());
        out.extend_from_slice(s.as_bytes());
    }
    let mut tensors: Vec<_> = tensors.into_iter().collect();
    tensors.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut metadata: Vec<_> = metadata
        .into_iter()
        .filter(|(key, _)| *key != HEADER_DIGEST_KEY)
        .collect();
    metadata.sort_unstable();
    let mut out = Vec::new();
    text(&mut out, "staticnet header 1");
    number(&mut out, tensors.len());
    for (name, dtype, shape, (start, end)) in tensors {
        text(&mut out, name);
        text(&mut out, &dtype.to_string());
        number(&mut out, shape.len());
        for &dim in shape {
            number(&mut out, dim);
        }
        number(&mut out, start);
        number(&mut out, end);
    }
    number(&mut out, metadata.len());
    for (key, value) in metadata {
        text(&mut out, key);
        text(&mut out, value);
    }
    crate::digest::sha256_hex([out.as_slice()])
}

/// The header length the 8-byte `prefix` announces, if the `available`
/// bytes after it hold that many.
///
/// # Errors
/// [`FormatError::HeaderBeyondFile`], with what the file seems to be.
fn announced_header_len(prefix: &[u8; 8], available: u64, path: &Path) -> Result<usize, IoError> {
    let declared = u64::from_le_bytes(*prefix);
    match usize::try_from(declared) {
        Ok(len) if declared <= available => Ok(len),
        // Longer than the file, or than any memory could hold it.
        _ => Err(not_safetensors(
            path,
            FormatError::HeaderBeyondFile {
                declared,
                available,
                looks_like: sniff(prefix),
            },
        )),
    }
}

/// What a file that is not safetensors seems to be, from its first bytes.
fn sniff(start: &[u8]) -> Option<&'static str> {
    const KINDS: [(&[u8], &str); 6] = [
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"\x1f\x8b", "a gzip file"),
        (
            b"PK\x03\x04",
            "a zip archive, such as a PyTorch .pt or a NumPy .npz file",
        ),
        (b"\x93NUMPY", "a NumPy .npy file"),
        (b"\x00\x00\x08", "an IDX file, such as MNIST data"),
    ];
    if let Some(&(_, kind)) = KINDS.iter().find(|(magic, _)| start.starts_with(magic)) {
        return Some(kind);
    }
    match start {
        [0x80, 2..=5, ..] => Some("a Python pickle, such as the book's params.pkl"),
        _ if start
            .iter()
            .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) =>
        {
            Some("text")
        }
        _ => None,
    }
}

/// Reads the regular file at `path` whole, after a look at its first 8
/// bytes: a file whose header length is beyond its end (an image, a text
/// file) is refused without reading the rest.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, IoError> {
    let fail = |source: std::io::Error| IoError::Read {
        path: path.to_path_buf(),
        source,
    };
    // Whole files in memory, as long as memory allows: no bound of our own.
    let mut file = RegularFile::open(path, u64::MAX).map_err(fail)?;
    if let Some(prefix) = file.peek::<8>().map_err(fail)? {
        announced_header_len(&prefix, file.len() - 8, path)?;
    }
    file.read_whole().map_err(fail)
}

/// Whether `T` is `f32` (otherwise it is `f64`: [`Scalar`] is sealed).
fn is_f32<T: Scalar>() -> bool {
    T::NAME == "f32"
}

/// The safetensors dtype of `T`.
pub(crate) fn dtype_of<T: Scalar>() -> Dtype {
    if is_f32::<T>() {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

/// The safetensors name of `T`'s dtype.
pub(crate) fn dtype_name<T: Scalar>() -> &'static str {
    if is_f32::<T>() { "F32" } else { "F64" }
}

/// Where the `k`-th value of a tensor of `shape` sits, in the book's
/// row-major order.
pub(crate) fn book_position(shape: ParamShape, k: usize) -> Vec<usize> {
    let dims = shape.dims();
    let mut position = vec![0; dims.len()];
    let mut rest = k;
    for (index, &dim) in position.iter_mut().zip(&dims).rev() {
        *index = rest % dim.max(1);
        rest /= dim.max(1);
    }
    position
}

/// Converts a shape from a file (book order) to a [`ParamShape`].
pub(crate) fn param_shape(dims: &[usize]) -> Option<ParamShape> {
    match *dims {
        [n] => Some(ParamShape::Vector(n)),
        [rows, cols] => Some(ParamShape::Matrix { rows, cols }),
        [count, channels, height, width] => Some(ParamShape::Filters {
            count,
            channels,
            height,
            width,
        }),
        _ => None,
    }
}

/// A tensor ready to be written.
pub(crate) struct OwnedTensor {
    dtype: Dtype,
    pub shape: Vec<usize>,
    data: Vec<u8>,
}

/// Encodes `values` (column-major for a matrix, as [`ParamShape`] says) as
/// a row-major little-endian tensor of `T`'s dtype, refusing non-finite
/// values.
pub(crate) fn encode<T: Scalar>(
    name: &str,
    shape: ParamShape,
    values: &[T],
    path: &Path,
) -> Result<OwnedTensor, IoError> {
    if values.len() != shape.len() {
        return Err(IoError::LengthMismatch {
            path: path.to_path_buf(),
            name: name.to_owned(),
            shape: shape.dims(),
            len: values.len(),
        });
    }
    let f32 = is_f32::<T>();
    let width = if f32 { 4 } else { 8 };
    let mut data = Vec::with_capacity(values.len() * width);
    // `k` runs over the book's row-major order; `values` is column-major.
    let (rows, cols) = match shape {
        ParamShape::Matrix { rows, cols } => (rows, cols),
        // Stored in the file's order already: one row.
        _ => (1, shape.len()),
    };
    for i in 0..rows {
        for j in 0..cols {
            // In range: the length was checked above.
            let v = values.get(j * rows + i).map_or(f64::NAN, |v| v.as_f64());
            if !v.is_finite() {
                return Err(IoError::NonFinite {
                    path: path.to_path_buf(),
                    name: name.to_owned(),
                    position: book_position(shape, i * cols + j),
                    value: v,
                });
            }
            if f32 {
                data.extend_from_slice(&(v as f32).to_le_bytes());
            } else {
                data.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    Ok(OwnedTensor {
        dtype: dtype_of::<T>(),
        shape: shape.dims(),
        data,
    })
}

/// Checks a tensor's dtype and shape against `shape`, and decodes it into
/// column-major values of `T`, refusing non-finite values.
pub(crate) fn decode<T: Scalar>(
    name: &str,
    raw: &RawTensor<'_>,
    shape: ParamShape,
    path: &Path,
) -> Result<Vec<T>, IoError> {
    if raw.dtype != dtype_of::<T>() {
        return Err(IoError::WrongDtype {
            path: path.to_path_buf(),
            name: name.to_owned(),
            file_dtype: raw.dtype.to_string(),
            net_dtype: T::NAME,
            expected_dtype: dtype_name::<T>(),
        });
    }
    if raw.shape != shape.dims() {
        return Err(IoError::WrongShape {
            path: path.to_path_buf(),
            name: name.to_owned(),
            file_shape: raw.shape.clone(),
            net_shape: shape.dims(),
        });
    }
    let len = shape.len();
    let width = if is_f32::<T>() { 4 } else { 8 };
    if len.checked_mul(width) != Some(raw.data.len()) {
        // Unreachable after the crate's checks of the offsets.
        let actual = raw.data.len() as u64;
        return Err(IoError::Truncated {
            path: path.to_path_buf(),
            expected: (len as u64).saturating_mul(width as u64),
            actual,
        });
    }
    // The file's values in its (row-major) order, checked to be finite.
    let native = file_values(raw.data, width);
    if let Some(k) = native.iter().position(|v| !v.is_finite()) {
        return Err(IoError::NonFinite {
            path: path.to_path_buf(),
            name: name.to_owned(),
            position: book_position(shape, k),
            value: native.get(k).copied().unwrap_or(f64::NAN),
        });
    }
    Ok(network_order(&native, shape))
}

/// A tensor's little-endian words of `width` bytes (4: `f32`, else `f64`),
/// as `f64`, in the file's order.
pub(crate) fn file_values(data: &[u8], width: usize) -> Vec<f64> {
    if width == 4 {
        data.chunks_exact(4)
            .map(|c| <[u8; 4]>::try_from(c).map_or(f64::NAN, |b| f64::from(f32::from_le_bytes(b))))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|c| <[u8; 8]>::try_from(c).map_or(f64::NAN, f64::from_le_bytes))
            .collect()
    }
}

/// Values in the book's row-major order, put in the network's: a
/// matrix's entry `(i, j)`, at `i·cols + j` in the file, goes to
/// `j·rows + i`; vectors and filters keep their order.
pub(crate) fn network_order<T: Scalar>(file: &[f64], shape: ParamShape) -> Vec<T> {
    match shape {
        ParamShape::Vector(_) | ParamShape::Filters { .. } => {
            file.iter().map(|&v| T::of_f64(v)).collect()
        }
        ParamShape::Matrix { rows, cols } => {
            let mut values = vec![T::zero(); shape.len()];
            for (i, row) in file.chunks_exact(cols.max(1)).enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    if let Some(slot) = values.get_mut(j * rows + i) {
                        *slot = T::of_f64(v);
                    }
                }
            }
            values
        }
    }
}

/// A tensor of the network in a file: a parameter, or a buffer (state such
/// as `BatchNorm`'s running mean, `running_mean1`), by its name and shape.
pub(crate) struct Spec {
    pub name: String,
    pub shape: ParamShape,
    /// Whether it is a buffer, which files written before buffers were
    /// saved lack.
    pub buffer: bool,
}

/// Calls `f` on every tensor of `net`: its parameters, then its buffers.
fn visit_tensors<T: Scalar, N: Network<T>>(net: &N, f: &mut dyn FnMut(Spec, &[T])) {
    let spec = |name: ParamName, shape, buffer| Spec {
        name: name.to_string(),
        shape,
        buffer,
    };
    net.visit_params(&mut |p| f(spec(p.name, p.shape, false), p.value));
    net.visit_buffers(&mut |b| f(spec(b.name, b.shape, true), b.value));
}

/// Calls `f` on every tensor of `net`, mutably.
fn visit_tensors_mut<T: Scalar, N: Network<T>>(
    net: &mut N,
    f: &mut dyn FnMut(ParamName, ParamShape, &mut [T]),
) {
    net.visit_params_mut(&mut |p| f(p.name, p.shape, p.value));
    net.visit_buffers_mut(&mut |b| f(b.name, b.shape, b.value));
}

/// The network's tensors, in its order, checking that no two share a name.
pub(crate) fn specs<T: Scalar, N: Network<T>>(net: &N, path: &Path) -> Result<Vec<Spec>, IoError> {
    let mut specs = Vec::new();
    visit_tensors(net, &mut |spec, _| specs.push(spec));
    let mut seen = HashSet::new();
    for spec in &specs {
        if !seen.insert(spec.name.as_str()) {
            return Err(IoError::DuplicateName {
                path: path.to_path_buf(),
                name: spec.name.clone(),
            });
        }
    }
    Ok(specs)
}

/// Encodes every tensor of `net`: parameters and buffers.
pub(crate) fn encode_params<T: Scalar, N: Network<T>>(
    net: &N,
    path: &Path,
) -> Result<Vec<(String, OwnedTensor)>, IoError> {
    specs(net, path)?;
    let mut tensors = Vec::new();
    let mut result = Ok(());
    visit_tensors(net, &mut |spec, value| {
        if result.is_err() {
            return;
        }
        match encode(&spec.name, spec.shape, value, path) {
            Ok(tensor) => tensors.push((spec.name, tensor)),
            Err(e) => result = Err(e),
        }
    });
    result.map(|()| tensors)
}

/// The network's tensors decoded from a file, ready to be copied in.
pub(crate) struct Staged<T> {
    pub values: Vec<(String, Vec<T>)>,
    /// The buffers the file lacks (it was written before buffers were
    /// saved); they keep their values.
    pub missing_buffers: Vec<String>,
}

/// Decodes the network's tensors from `parsed` into staging buffers, in the
/// network's order. `is_extra` says which other tensors the caller reads
/// itself; any other tensor is unexpected. A missing parameter is an error;
/// a missing buffer is noted.
pub(crate) fn stage_params<T: Scalar, N: Network<T>>(
    net: &N,
    parsed: &Parsed<'_>,
    is_extra: impl Fn(&str) -> bool,
    path: &Path,
) -> Result<Staged<T>, IoError> {
    let specs = specs(net, path)?;
    let mut staged = Staged {
        values: Vec::with_capacity(specs.len()),
        missing_buffers: Vec::new(),
    };
    for spec in &specs {
        let Some(raw) = parsed.tensors.get(&spec.name) else {
            if spec.buffer {
                staged.missing_buffers.push(spec.name.clone());
                continue;
            }
            return Err(IoError::MissingTensor {
                path: path.to_path_buf(),
                name: spec.name.clone(),
            });
        };
        staged.values.push((
            spec.name.clone(),
            decode::<T>(&spec.name, raw, spec.shape, path)?,
        ));
    }
    let known: HashSet<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    if let Some(name) = parsed
        .tensors
        .keys()
        .find(|n| !known.contains(n.as_str()) && !is_extra(n))
    {
        return Err(IoError::UnexpectedTensor {
            path: path.to_path_buf(),
            name: name.clone(),
        });
    }
    Ok(staged)
}

/// Copies staged values into the network: all of them, or none (with an
/// error) if the network's mutable visit disagrees with its shared one.
pub(crate) fn commit<T: Scalar, N: Network<T>>(
    net: &mut N,
    staged: Staged<T>,
    path: &Path,
) -> Result<(), IoError> {
    let missing: HashSet<String> = staged.missing_buffers.into_iter().collect();
    let staged: HashMap<String, Vec<T>> = staged.values.into_iter().collect();
    let mut problem = None;
    visit_tensors_mut(net, &mut |name, shape, value| {
        if problem.is_some() {
            return;
        }
        let name = name.to_string();
        match staged.get(&name) {
            None if missing.contains(&name) => {}
            None => {
                problem = Some(IoError::MissingTensor {
                    path: path.to_path_buf(),
                    name,
                })
            }
            Some(values) if values.len() != value.len() => {
                problem = Some(IoError::LengthMismatch {
                    path: path.to_path_buf(),
                    name,
                    shape: shape.dims(),
                    len: values.len(),
                })
            }
            Some(_) => {}
        }
    });
    if let Some(problem) = problem {
        return Err(problem);
    }
    visit_tensors_mut(net, &mut |name, _, value| {
        if let Some(values) = staged.get(&name.to_string()) {
            if values.len() == value.len() {
                value.copy_from_slice(values);
            }
        }
    });
    Ok(())
}

/// The metadata key of the SHA-256 digest of a file's tensor data.
pub(crate) const DIGEST_KEY: &str = "sha256";

/// The metadata key of the SHA-256 digest of a file's header: its tensors'
/// names, dtypes, shapes and offsets, and its other metadata entries (see
/// [`header_digest`]).
pub(crate) const HEADER_DIGEST_KEY: &str = "header_sha256";

/// Serializes named tensors, laid out in the order given, and a metadata
/// map into safetensors bytes, with two digests added to the metadata,
/// which loading verifies: the SHA-256 of the tensor data (`sha256`), and
/// that of the header's content (`header_sha256`), the first among it. The
/// header's keys are sorted, so equal inputs give equal bytes.
pub(crate) fn serialize(
    tensors: &[(String, OwnedTensor)],
    metadata: Option<BTreeMap<String, String>>,
    path: &Path,
) -> Result<Vec<u8>, IoError> {
    use serde_json::{Map, Value, json};

    let mut offsets = Vec::with_capacity(tensors.len());
    let mut offset = 0usize;
    for (_, tensor) in tensors {
        let end = offset + tensor.data.len();
        offsets.push((offset, end));
        offset = end;
    }
    let data = tensors.iter().map(|(_, t)| t.data.as_slice());
    let mut metadata = metadata.unwrap_or_default();
    metadata.insert(DIGEST_KEY.to_owned(), crate::digest::sha256_hex(data));
    let digest = header_digest(
        tensors
            .iter()
            .zip(&offsets)
            .map(|((name, t), &span)| (name.as_str(), t.dtype, t.shape.as_slice(), span)),
        metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    metadata.insert(HEADER_DIGEST_KEY.to_owned(), digest);

    let mut header = Map::new();
    let map: Map<String, Value> = metadata
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    header.insert("__metadata__".to_owned(), Value::Object(map));
    for ((name, tensor), &(start, end)) in tensors.iter().zip(&offsets) {
        let entry = json!({
            "dtype": tensor.dtype.to_string(),
            "shape": tensor.shape,
            "data_offsets": [start, end],
        });
        if header.insert(name.clone(), entry).is_some() {
            return Err(IoError::DuplicateName {
                path: path.to_path_buf(),
                name: name.clone(),
            });
        }
    }
    let mut header = Value::Object(header).to_string().into_bytes();
    // Pad with spaces so that the data starts 8-byte aligned, as the
    // reference implementation does.
    header.resize(header.len().next_multiple_of(8), b' ');

    let mut bytes = Vec::with_capacity(8 + header.len() + offset);
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    for (_, tensor) in tensors {
        bytes.extend_from_slice(&tensor.data);
    }
    Ok(bytes)
}
