//! NumPy's `.npz` archives, as `np.savez` and `np.savez_compressed` write
//! them: a zip archive of one `NAME.npy` array per entry, stored or
//! deflated, usually with zip64 records.
//!
//! The archive is read whole into memory, then each entry is inflated
//! under a budget that the network sets (a file of the network needs its
//! tensors' bytes and little more, so an archive that inflates to far more
//! is refused before it can fill the memory), and its `.npy` header — a
//! Python dict literal such as `{'descr': '<f4', 'fortran_order': False,
//! 'shape': (784, 50), }` — is parsed by hand, without evaluating
//! anything. Arrays in Fortran order are put back in C order and
//! big-endian ones in little-endian, so that the shared import core sees
//! the book's row-major arrays.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::Path;

use zip::read::ZipFile;
use zip::{CompressionMethod, ZipArchive};

use super::import::{ForeignDtype, ForeignTensor, Wanted, describe, import};
use super::{ImportOptions, IoError, MEMORY};
use crate::{Network, Scalar};

/// The first bytes of every `.npy` array.
const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// How deeply the values of a `.npy` header may nest (a structured dtype's
/// description is a list of tuples): far more than NumPy writes.
const MAX_DEPTH: usize = 32;

/// An archive may inflate to this many times the bytes of the network's
/// tensors (counted as `f64`), plus [`SLACK`].
const FACTOR: u64 = 16;
const SLACK: u64 = 1 << 20;

/// The longest `.npy` header [`npz_shapes`] reads: NumPy's are a few
/// hundred bytes (format 1.0 allows at most 65,535).
const MAX_HEADER: usize = 1 << 20;

/// Loads `net` from a NumPy `.npz` archive, such as `np.savez(path,
/// **params)` writes from the book's `params` dictionary (or
/// `np.savez_compressed`).
///
/// Each tensor of the network is the entry of its own name: `W1.npy`,
/// `b1.npy`, … (`gamma1.npy`, `running_mean1.npy` for batch
/// normalization), the book's names, which
/// [`Network::tensor_layers`] lists. Arrays are in the book's layout: an
/// `Affine<784, 50>`'s `W1` is a `(784, 50)` array (inputs by outputs), a
/// bias a `(50,)` array, a convolution's filters `(FN, C, FH, FW)`.
/// `float32` and `float64` arrays are read, little- or big-endian, in C or
/// Fortran order; `f64` arrays load into an `f32` network (and the other
/// way round) only with [`ImportOptions::convert_dtype`].
///
/// Nothing is written into the network unless every tensor it needs is
/// there and fits: on any error the network is as it was.
///
/// # Errors
/// - [`IoError::Read`] if the file cannot be read (or is not a regular
///   file);
/// - [`IoError::NotNpz`] if it is not a zip archive of `.npy` arrays: a
///   broken or cut zip structure, an entry that is not a `.npy` array or
///   whose header is malformed, a compression method other than stored or
///   deflated, data that do not match the header, or entries that would
///   inflate to far more than the network's tensors take;
/// - [`IoError::Disagreements`] if the archive does not fit the network,
///   with every disagreement found, each naming the layer as declared: a
///   missing tensor, another shape, another dtype (such as `<i8`), a value
///   that is not finite, an array no layer takes (unless
///   [`ImportOptions::ignore_unused`]).
pub fn load_npz<T: Scalar, N: Network<T>>(
    net: &mut N,
    path: impl AsRef<Path>,
    options: ImportOptions,
) -> Result<(), IoError> {
    let path = path.as_ref();
    load_bytes(net, &read(path)?, options, path)
}

/// Loads `net` from the bytes of a NumPy `.npz` archive (see
/// [`load_npz`]).
///
/// # Errors
/// Those of [`load_npz`] but `Read`; the path in the error is [`MEMORY`].
pub fn load_npz_from_bytes<T: Scalar, N: Network<T>>(
    net: &mut N,
    bytes: &[u8],
    options: ImportOptions,
) -> Result<(), IoError> {
    load_bytes(net, bytes, options, Path::new(MEMORY))
}

/// The shape of every array of the `.npz` archive at `path`, by name
/// (without `.npy`), as its header states it (`(784, 50)` is `[784,
/// 50]`): what a network with widths chosen at run time reads its widths
/// from, as [`tensor_shapes`](super::tensor_shapes) for a safetensors
/// file.
///
/// Only each entry's `.npy` header is inflated, not its data, so any
/// archive is read in little memory; the data are checked when the
/// archive is loaded.
///
/// # Errors
/// [`IoError::Read`] if the file cannot be read; [`IoError::NotNpz`] if it
/// is not a zip archive of `.npy` arrays or a header is malformed.
pub fn npz_shapes(path: impl AsRef<Path>) -> Result<BTreeMap<String, Vec<usize>>, IoError> {
    let path = path.as_ref();
    let bytes = read(path)?;
    read_shapes(&bytes).map_err(|problem| IoError::NotNpz {
        path: path.to_path_buf(),
        problem,
    })
}

/// The whole file at `path`.
fn read(path: &Path) -> Result<Vec<u8>, IoError> {
    // Whole files in memory, as the other loaders read them (the
    // safetensors reader's look at the first bytes does not apply here).
    crate::files::read_bounded(path, u64::MAX).map_err(|source| IoError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn load_bytes<T: Scalar, N: Network<T>>(
    net: &mut N,
    bytes: &[u8],
    options: ImportOptions,
    path: &Path,
) -> Result<(), IoError> {
    let wanted: Vec<Wanted> = net
        .tensor_layers()
        .iter()
        .flat_map(|layer| {
            let described = describe(layer);
            layer.tensors.iter().map(move |spec| Wanted {
                layer: described.clone(),
                spec: *spec,
                key: spec.name.to_string(),
                transposed: false,
            })
        })
        .collect();
    let needed = wanted
        .iter()
        .map(|w| (w.spec.shape.len() as u64).saturating_mul(8))
        .fold(0u64, u64::saturating_add);
    let limit = needed.saturating_mul(FACTOR).saturating_add(SLACK);
    let tensors = read_archive(bytes, limit).map_err(|problem| IoError::NotNpz {
        path: path.to_path_buf(),
        problem,
    })?;
    import(net, &tensors, &wanted, Vec::new(), |_| false, options, path)
}

/// The zip archive of `bytes`; or what is wrong with it.
fn open_archive(bytes: &[u8]) -> Result<ZipArchive<Cursor<&[u8]>>, String> {
    if bytes.is_empty() {
        return Err("it is empty".into());
    }
    ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        let kind = if bytes.starts_with(NPY_MAGIC) {
            "; it is a single .npy array, as `np.save` writes, not an archive of them"
        } else if matches!(bytes, [0x80, 2..=5, ..]) {
            "; it looks like a Python pickle, such as the book's params.pkl (`np.savez` writes an archive of its arrays)"
        } else {
            ""
        };
        format!("it is not a readable zip archive ({e}){kind}")
    })
}

/// The array name of an entry (its name without `.npy`), checked: a
/// `.npy` entry, stored or deflated, not a second of its name.
fn entry_key<V>(
    entry: &ZipFile<'_, impl Read>,
    seen: &BTreeMap<String, V>,
) -> Result<(String, String), String> {
    let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
    let Some(key) = name.strip_suffix(".npy") else {
        return Err(format!(
            "it holds `{name}`, which is not a `.npy` array (an .npz archive holds only \
             `NAME.npy` entries)"
        ));
    };
    if seen.contains_key(key) {
        return Err(format!("it holds two entries named `{name}`"));
    }
    match entry.compression() {
        CompressionMethod::Stored | CompressionMethod::Deflated => {}
        method => {
            return Err(format!(
                "`{name}` is compressed with {method}; NumPy stores or deflates its entries, \
                 and only those can be read"
            ));
        }
    }
    let key = key.to_owned();
    Ok((name, key))
}

/// The shapes of the arrays of an archive, by name, from their headers
/// alone; or what is wrong with it.
fn read_shapes(bytes: &[u8]) -> Result<BTreeMap<String, Vec<usize>>, String> {
    let mut archive = open_archive(bytes)?;
    let mut shapes = BTreeMap::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| format!("its entry number {} cannot be opened ({e})", index + 1))?;
        let (name, key) = entry_key(&entry, &shapes)?;
        let cannot = |e: std::io::Error| format!("`{name}` cannot be read ({e})");
        // The magic, the version and the header length, then the header.
        let mut prefix = Vec::new();
        (&mut entry)
            .take(12)
            .read_to_end(&mut prefix)
            .map_err(cannot)?;
        let (start, header_len, _) =
            preamble(&prefix).map_err(|problem| format!("`{name}` {problem}"))?;
        if header_len > MAX_HEADER {
            return Err(format!(
                "`{name}` announces a header of {header_len} bytes; NumPy writes headers of \
                 far fewer"
            ));
        }
        let end = start + header_len;
        (&mut entry)
            .take(end.saturating_sub(prefix.len()) as u64)
            .read_to_end(&mut prefix)
            .map_err(cannot)?;
        let (header, _) = npy_header(&prefix).map_err(|problem| format!("`{name}` {problem}"))?;
        shapes.insert(key, header.shape);
    }
    Ok(shapes)
}

/// The arrays of an archive, by name (without `.npy`), inflating at most
/// `limit` bytes in all; or what is wrong with it.
fn read_archive(
    bytes: &[u8],
    limit: u64,
) -> Result<BTreeMap<String, ForeignTensor<'static>>, String> {
    let mut archive = open_archive(bytes)?;
    let mut budget = limit;
    let mut tensors = BTreeMap::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| format!("its entry number {} cannot be opened ({e})", index + 1))?;
        let (name, key) = entry_key(&entry, &tensors)?;
        let declared = entry.size();
        if declared > budget {
            return Err(format!(
                "`{name}` would inflate to {declared} bytes, more than a file of this network \
                 can need ({limit} bytes for all its entries)"
            ));
        }
        // Bounded by the budget, and so by the network's size.
        let mut data = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
        (&mut entry)
            .take(declared.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| format!("`{name}` cannot be read ({e})"))?;
        let actual = data.len() as u64;
        if actual != declared {
            let what = if actual > declared {
                "more than".to_owned()
            } else {
                format!("only {actual} bytes, not")
            };
            return Err(format!(
                "`{name}` inflates to {what} the {declared} bytes the archive declares"
            ));
        }
        budget -= declared;
        let tensor = parse_npy(data).map_err(|problem| format!("`{name}` {problem}"))?;
        tensors.insert(key, tensor);
    }
    Ok(tensors)
}

/// Where the header dict of a `.npy` file starts, how long it says it is,
/// and whether it is UTF-8 (format 3.0) rather than Latin-1; or what is
/// wrong with it (a phrase that follows the entry's name).
fn preamble(data: &[u8]) -> Result<(usize, usize, bool), String> {
    if !data.starts_with(NPY_MAGIC) {
        return Err("is not a .npy array: it does not start with `\\x93NUMPY`".into());
    }
    let (Some(&major), Some(&minor)) = (data.get(6), data.get(7)) else {
        return Err("is cut short in its format version".into());
    };
    let (width, utf8) = match (major, minor) {
        (1, 0) => (2, false),
        (2 | 3, 0) => (4, major == 3),
        _ => {
            return Err(format!(
                "is a .npy array of format version {major}.{minor}; versions 1.0, 2.0 and 3.0 \
                 can be read"
            ));
        }
    };
    let header_len = match data.get(8..8 + width) {
        Some(&[a, b]) => usize::from(u16::from_le_bytes([a, b])),
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => return Err("is cut short in its header length".into()),
    };
    Ok((8 + width, header_len, utf8))
}

/// The header of a `.npy` file, and where its data start; or what is
/// wrong with it (a phrase that follows the entry's name).
fn npy_header(data: &[u8]) -> Result<(Header, usize), String> {
    let (start, header_len, utf8) = preamble(data)?;
    let Some(header) = start
        .checked_add(header_len)
        .and_then(|end| data.get(start..end))
    else {
        return Err(format!(
            "announces a header of {header_len} bytes, but only {} bytes follow",
            data.len() - start
        ));
    };
    let text = if utf8 {
        std::str::from_utf8(header)
            .map_err(|_| "has a header that is not UTF-8 text".to_owned())?
            .to_owned()
    } else {
        // Latin-1, as NumPy writes versions 1.0 and 2.0.
        header.iter().map(|&b| char::from(b)).collect()
    };
    let header = parse_header(&text).map_err(|problem| format!("has a bad header: {problem}"))?;
    Ok((header, start + header_len))
}

/// The array of a `.npy` file, its data little-endian in C order; or what
/// is wrong with it (a phrase that follows the entry's name).
fn parse_npy(mut data: Vec<u8>) -> Result<ForeignTensor<'static>, String> {
    let (header, data_start) = npy_header(&data)?;
    data.drain(..data_start);

    let Some((dtype, item, little)) = float_dtype(&header.descr) else {
        // Any other dtype: the import names it, with the tensor's layer.
        return Ok(ForeignTensor {
            dtype: ForeignDtype::Other(header.descr),
            shape: header.shape,
            data: Cow::Owned(data),
        });
    };
    let count = header
        .shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d));
    let bytes = count.and_then(|n| n.checked_mul(item));
    if bytes != Some(data.len()) {
        let bytes = bytes.map_or_else(|| "more than memory holds".to_owned(), |b| b.to_string());
        return Err(format!(
            "holds {} bytes of data, but its header describes an array of shape {:?} of {} \
             ({bytes} bytes)",
            data.len(),
            header.shape,
            header.descr
        ));
    }
    if !little {
        for value in data.chunks_exact_mut(item) {
            value.reverse();
        }
    }
    if header.fortran_order && header.shape.len() > 1 {
        data = c_order(&data, &header.shape, item);
    }
    Ok(ForeignTensor {
        dtype,
        shape: header.shape,
        data: Cow::Owned(data),
    })
}

/// The dtype, item size and byte order (`true`: little-endian) of a float
/// `descr` such as `<f4`, `>f8` or `=f4`; `None` for any other.
fn float_dtype(descr: &str) -> Option<(ForeignDtype, usize, bool)> {
    let native = cfg!(target_endian = "little");
    let (little, kind) = match descr.as_bytes().first() {
        Some(b'<') => (true, &descr[1..]),
        Some(b'>') => (false, &descr[1..]),
        Some(b'=') => (native, &descr[1..]),
        _ => (native, descr),
    };
    match kind {
        "f4" => Some((ForeignDtype::F32, 4, little)),
        "f8" => Some((ForeignDtype::F64, 8, little)),
        _ => None,
    }
}

/// The values of an array stored in Fortran order (first axis fastest),
/// in C order (last axis fastest). `data` holds exactly the array.
fn c_order(data: &[u8], shape: &[usize], item: usize) -> Vec<u8> {
    // Where a step along each axis moves in `data`, in values.
    let mut strides = Vec::with_capacity(shape.len());
    let mut stride = 1usize;
    for &dim in shape {
        strides.push(stride);
        stride = stride.saturating_mul(dim);
    }
    let count = data.len() / item.max(1);
    let mut out = Vec::with_capacity(data.len());
    let mut index = vec![0usize; shape.len()];
    let mut offset = 0usize;
    for _ in 0..count {
        let at = offset * item;
        out.extend_from_slice(data.get(at..at + item).unwrap_or_default());
        // The next index in C order, and its place in `data`.
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            offset += strides[axis];
            if index[axis] < shape[axis] {
                break;
            }
            offset -= strides[axis] * index[axis];
            index[axis] = 0;
        }
    }
    out
}

/// The three entries of a `.npy` header.
#[derive(Debug, PartialEq, Eq)]
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// A Python literal of a header, as far as a header needs.
#[derive(Debug)]
enum Literal {
    Str(String),
    Bool(bool),
    /// A non-negative integer; `None` beyond `usize`.
    Int(Option<usize>),
    /// A negative integer, `None`, or a list or a dict (a structured
    /// dtype's description): kept by its text.
    Other,
    Tuple(Vec<Literal>),
}

/// Parses a `.npy` header: a dict literal with the keys `descr`,
/// `fortran_order` and `shape`, in any order, optionally followed by a
/// trailing comma, then spaces and a newline.
fn parse_header(text: &str) -> Result<Header, String> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    parser.skip_space();
    if !parser.eat(b'{') {
        return Err("it is not a dict literal `{…}`".into());
    }
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    loop {
        parser.skip_space();
        if parser.eat(b'}') {
            break;
        }
        let key = match parser.value(0)? {
            (Literal::Str(key), _) => key,
            (_, text) => return Err(format!("the key `{}` is not a string", clip(text))),
        };
        parser.skip_space();
        if !parser.eat(b':') {
            return Err(format!("the key '{}' is not followed by `:`", clip(&key)));
        }
        let (value, text) = parser.value(0)?;
        let slot_taken = match key.as_str() {
            "descr" => descr
                .replace(match value {
                    Literal::Str(s) => s,
                    _ => text.trim().to_owned(),
                })
                .is_some(),
            "fortran_order" => match value {
                Literal::Bool(b) => fortran_order.replace(b).is_some(),
                _ => {
                    return Err(format!(
                        "'fortran_order' is `{}`, not True or False",
                        clip(text)
                    ));
                }
            },
            "shape" => shape.replace(shape_of(value, text)?).is_some(),
            _ => {
                return Err(format!(
                    "it has a key '{}'; a .npy header has only 'descr', 'fortran_order' and \
                     'shape'",
                    clip(&key)
                ));
            }
        };
        if slot_taken {
            return Err(format!("the key '{key}' appears twice"));
        }
        parser.skip_space();
        if parser.eat(b',') {
            continue;
        }
        parser.skip_space();
        if !parser.eat(b'}') {
            return Err(format!("a `,` or `}}` is missing at byte {}", parser.at));
        }
        break;
    }
    parser.skip_space();
    if parser.at < parser.bytes.len() {
        return Err(format!(
            "`{}` follows the dict",
            clip(parser.text.get(parser.at..).unwrap_or_default())
        ));
    }
    let missing = |key| format!("it has no '{key}'");
    Ok(Header {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
    })
}

/// The dimensions of a `shape` value: a tuple of non-negative integers.
fn shape_of(value: Literal, text: &str) -> Result<Vec<usize>, String> {
    let Literal::Tuple(items) = value else {
        return Err(format!("'shape' is `{}`, not a tuple", clip(text)));
    };
    items
        .into_iter()
        .map(|item| match item {
            Literal::Int(Some(dim)) => Ok(dim),
            Literal::Int(None) => Err(format!(
                "'shape' `{}` has a dimension beyond any memory",
                clip(text)
            )),
            _ => Err(format!(
                "'shape' `{}` holds something other than non-negative integers",
                clip(text)
            )),
        })
        .collect()
}

/// At most 60 characters of `text`, for a message.
fn clip(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(60) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// A cursor over a header's text.
struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// The text from `start` to the cursor.
    fn since(&self, start: usize) -> &'a str {
        self.text.get(start..self.at).unwrap_or_default()
    }

    /// The value at the cursor (after spaces), and its text.
    fn value(&mut self, depth: usize) -> Result<(Literal, &'a str), String> {
        if depth > MAX_DEPTH {
            return Err(format!("its values nest more than {MAX_DEPTH} deep"));
        }
        self.skip_space();
        let start = self.at;
        let value = match self.peek() {
            Some(quote @ (b'\'' | b'"')) => {
                self.at += 1;
                let body = self.at;
                loop {
                    match self.peek() {
                        None => return Err("a string is not closed".into()),
                        Some(b'\\') => self.at += 2,
                        Some(c) if c == quote => break,
                        Some(_) => self.at += 1,
                    }
                }
                let body = self.text.get(body..self.at).unwrap_or_default().to_owned();
                self.at += 1;
                Literal::Str(body)
            }
            Some(b'(') => Literal::Tuple(self.items(b')', depth)?),
            Some(b'[') => {
                self.items(b']', depth)?;
                Literal::Other
            }
            Some(b'{') => {
                self.at += 1;
                loop {
                    self.skip_space();
                    if self.eat(b'}') {
                        break;
                    }
                    self.value(depth + 1)?;
                    self.skip_space();
                    if !self.eat(b':') {
                        return Err(format!("a `:` is missing at byte {}", self.at));
                    }
                    self.value(depth + 1)?;
                    self.skip_space();
                    if !self.eat(b',') && !self.eat(b'}') {
                        return Err(format!("a `,` or `}}` is missing at byte {}", self.at));
                    } else if self.bytes.get(self.at - 1) == Some(&b'}') {
                        break;
                    }
                }
                Literal::Other
            }
            Some(b'-' | b'0'..=b'9') => {
                let negative = self.eat(b'-');
                let digits = self.at;
                let mut n = Some(0usize);
                while let Some(c @ b'0'..=b'9') = self.peek() {
                    n = n
                        .and_then(|n| n.checked_mul(10))
                        .and_then(|n| n.checked_add(usize::from(c - b'0')));
                    self.at += 1;
                }
                if self.at == digits {
                    return Err(format!(
                        "a `-` is not followed by digits at byte {}",
                        self.at
                    ));
                }
                // Python 2's long integers, as old NumPy wrote shapes.
                let _ = self.eat(b'L') || self.eat(b'l');
                if negative {
                    Literal::Other
                } else {
                    Literal::Int(n)
                }
            }
            Some(c) if c.is_ascii_alphabetic() => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.at += 1;
                }
                match self.since(start) {
                    "True" => Literal::Bool(true),
                    "False" => Literal::Bool(false),
                    "None" => Literal::Other,
                    word => return Err(format!("`{}` is not a literal", clip(word))),
                }
            }
            Some(_) => {
                let rest = self.text.get(start..).unwrap_or_default();
                return Err(format!("a value is expected at `{}`", clip(rest)));
            }
            None => return Err("it ends where a value is expected".into()),
        };
        Ok((value, self.since(start)))
    }

    /// The items of a tuple or a list, the cursor on its opening bracket,
    /// up to `close`; a trailing comma is allowed.
    fn items(&mut self, close: u8, depth: usize) -> Result<Vec<Literal>, String> {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.value(depth + 1)?.0);
            self.skip_space();
            if self.eat(close) {
                return Ok(items);
            }
            if !self.eat(b',') {
                return Err(format!(
                    "a `,` or `{}` is missing at byte {}",
                    char::from(close),
                    self.at
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use rand::RngCore;
    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipWriter};

    use super::*;
    use crate::{
        Affine, Batch, Const, Init, Layer, LayerTensors, LossLayer, ParamMut, ParamRef, ParamShape,
        ParamUpdate, Relu, SoftmaxWithLoss, Targets, TensorSpec,
    };

    /// `Affine<4, 3> → Relu → Affine<3, 2> → SoftmaxWithLoss`, written as
    /// `network!` would, with its tensor layers listed.
    struct Tiny<T: Scalar> {
        affine1: Affine<T, 4, 3>,
        relu1: Relu<T, Const<3>>,
        affine2: Affine<T, 3, 2>,
        loss: SoftmaxWithLoss<T, 2>,
    }

    impl<T: Scalar> Network<T> for Tiny<T> {
        type In = Const<4>;
        type Out = Const<2>;

        fn init(rng: &mut dyn RngCore, init: Init) -> Self {
            Tiny {
                affine1: Layer::init(rng, init),
                relu1: Layer::init(rng, init),
                affine2: Layer::init(rng, init),
                loss: LossLayer::new(),
            }
        }

        fn forward(&mut self, x: &Batch<T, Const<4>>) -> &Batch<T, Const<2>> {
            let h = self.affine1.forward(x);
            let h = self.relu1.forward(h);
            self.affine2.forward(h)
        }

        fn forward_loss(&mut self, x: &Batch<T, Const<4>>, t: Targets<'_, T, Const<2>>) -> T {
            let h = self.affine1.forward(x);
            let h = self.relu1.forward(h);
            let y = self.affine2.forward(h);
            self.loss.forward(y, t)
        }

        fn scores(&self) -> &Batch<T, Const<2>> {
            self.affine2.output()
        }

        fn backward(
            &mut self,
            x: &Batch<T, Const<4>>,
            t: Targets<'_, T, Const<2>>,
            update: ParamUpdate<T>,
        ) {
            let dy = self.loss.backward(t);
            let dr1 = self.affine2.backward(self.relu1.output(), dy);
            let da1 = self.relu1.backward(self.affine1.output(), dr1);
            self.affine1.backward_first(x, da1, update);
            update.apply(&mut self.affine2);
        }

        fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>)) {
            self.affine1.visit_params(&mut |mut p| {
                p.name.index = 1;
                f(p)
            });
            self.affine2.visit_params(&mut |mut p| {
                p.name.index = 2;
                f(p)
            });
        }

        fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
            self.affine1.visit_params_mut(&mut |mut p| {
                p.name.index = 1;
                f(p)
            });
            self.affine2.visit_params_mut(&mut |mut p| {
                p.name.index = 2;
                f(p)
            });
        }

        fn tensor_layers(&self) -> Vec<LayerTensors> {
            let mut layers = vec![
                LayerTensors {
                    declared: "Affine<4, 3>",
                    field: "affine1",
                    position: 0,
                    tensors: Vec::new(),
                },
                LayerTensors {
                    declared: "Affine<3, 2>",
                    field: "affine2",
                    position: 2,
                    tensors: Vec::new(),
                },
            ];
            self.visit_params(&mut |p| {
                layers[p.name.index - 1].tensors.push(TensorSpec {
                    name: p.name,
                    shape: p.shape,
                    buffer: false,
                })
            });
            layers
        }
    }

    fn tiny<T: Scalar>() -> Tiny<T> {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
        Tiny::init(&mut rng, Init::BOOK)
    }

    /// Every parameter, in the book's row-major order, by name.
    fn book_values<T: Scalar>(net: &Tiny<T>) -> Vec<(String, Vec<f64>)> {
        let mut out = Vec::new();
        net.visit_params(&mut |p| {
            let values = match p.shape {
                ParamShape::Matrix { rows, cols } => (0..rows * cols)
                    .map(|k| p.value[(k % cols) * rows + k / cols].as_f64())
                    .collect(),
                _ => p.value.iter().map(|v| v.as_f64()).collect(),
            };
            out.push((p.name.to_string(), values));
        });
        out
    }

    /// The book's arrays for the tiny net: `W1 (4, 3)`, `b1 (3,)`,
    /// `W2 (3, 2)`, `b2 (2,)`, values `k/8 − 1` row by row.
    fn arrays() -> Vec<(&'static str, Vec<usize>, Vec<f64>)> {
        let values =
            |n: usize, from: usize| (from..from + n).map(|k| k as f64 / 8.0 - 1.0).collect();
        vec![
            ("W1", vec![4, 3], values(12, 0)),
            ("b1", vec![3], values(3, 12)),
            ("W2", vec![3, 2], values(6, 15)),
            ("b2", vec![2], values(2, 21)),
        ]
    }

    /// A `.npy` file of format `version` with `header` as its dict.
    fn npy_raw(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = NPY_MAGIC.to_vec();
        out.extend([version, 0]);
        let len_width = if version == 1 { 2 } else { 4 };
        // Padded with spaces to a multiple of 64, ending in a newline.
        let unpadded = 8 + len_width + header.len() + 1;
        let padded = format!("{header}{}\n", " ".repeat((64 - unpadded % 64) % 64));
        if version == 1 {
            out.extend((padded.len() as u16).to_le_bytes());
        } else {
            out.extend((padded.len() as u32).to_le_bytes());
        }
        out.extend(padded.as_bytes());
        out.extend(data);
        out
    }

    /// How a test writes an array.
    #[derive(Clone, Copy)]
    struct Form {
        version: u8,
        f32: bool,
        big: bool,
        fortran: bool,
    }

    const PLAIN: Form = Form {
        version: 1,
        f32: false,
        big: false,
        fortran: false,
    };

    /// A `.npy` array of `values` (row-major) of `shape`, as NumPy writes
    /// it in `form`.
    fn npy(shape: &[usize], values: &[f64], form: Form) -> Vec<u8> {
        let mut order: Vec<f64> = values.to_vec();
        if form.fortran && shape.len() == 2 {
            let (rows, cols) = (shape[0], shape[1]);
            order = (0..rows * cols)
                .map(|k| values[(k % rows) * cols + k / rows])
                .collect();
        }
        let mut data = Vec::new();
        for v in order {
            match (form.f32, form.big) {
                (true, false) => data.extend((v as f32).to_le_bytes()),
                (true, true) => data.extend((v as f32).to_be_bytes()),
                (false, false) => data.extend(v.to_le_bytes()),
                (false, true) => data.extend(v.to_be_bytes()),
            }
        }
        let descr = format!(
            "{}{}",
            if form.big { '>' } else { '<' },
            if form.f32 { "f4" } else { "f8" }
        );
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        let shape = match dims.len() {
            1 => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        };
        let fortran = if form.fortran { "True" } else { "False" };
        let header =
            format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
        npy_raw(form.version, &header, &data)
    }

    /// A zip archive of `entries`, as `np.savez` (stored) or
    /// `np.savez_compressed` (deflated) writes it, with zip64 records.
    fn npz(entries: &[(String, Vec<u8>)], method: CompressionMethod) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .large_file(true);
        for (name, bytes) in entries {
            zip.start_file(name.as_str(), options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// The tiny net's archive, every array in `form`.
    fn book_npz(form: Form, method: CompressionMethod) -> Vec<u8> {
        let entries: Vec<(String, Vec<u8>)> = arrays()
            .iter()
            .map(|(name, shape, values)| (format!("{name}.npy"), npy(shape, values, form)))
            .collect();
        npz(&entries, method)
    }

    /// Loads `bytes` from a file into `net`.
    fn load<T: Scalar>(
        net: &mut Tiny<T>,
        bytes: &[u8],
        options: ImportOptions,
    ) -> Result<(), IoError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("params.npz");
        std::fs::write(&path, bytes).unwrap();
        load_npz(net, &path, options)
    }

    fn assert_loaded<T: Scalar>(net: &Tiny<T>) {
        let expected: Vec<(String, Vec<f64>)> = arrays()
            .into_iter()
            .map(|(name, _, values)| (name.to_owned(), values))
            .collect();
        assert_eq!(book_values(net), expected);
    }

    fn problems(result: Result<(), IoError>) -> Vec<String> {
        match result {
            Err(IoError::Disagreements { problems, .. }) => problems,
            other => panic!("expected disagreements, got {other:?}"),
        }
    }

    fn not_npz(result: Result<(), IoError>) -> String {
        match result {
            Err(e @ IoError::NotNpz { .. }) => e.to_string(),
            other => panic!("expected NotNpz, got {other:?}"),
        }
    }

    #[test]
    fn stored_v1_f64_loads_in_the_books_layout() {
        let mut net = tiny::<f64>();
        load(
            &mut net,
            &book_npz(PLAIN, CompressionMethod::Stored),
            ImportOptions::new(),
        )
        .unwrap();
        assert_loaded(&net);
    }

    #[test]
    fn bytes_load_as_the_file_does_and_errors_name_memory() {
        let bytes = book_npz(PLAIN, CompressionMethod::Deflated);
        let mut net = tiny::<f64>();
        load_npz_from_bytes(&mut net, &bytes, ImportOptions::new()).unwrap();
        assert_loaded(&net);

        let mut net = tiny::<f64>();
        let before = book_values(&net);
        let message = not_npz(load_npz_from_bytes(
            &mut net,
            &bytes[..bytes.len() / 2],
            ImportOptions::new(),
        ));
        assert!(message.contains(MEMORY), "{message}");
        let result = load_npz_from_bytes(&mut tiny::<f32>(), &bytes, ImportOptions::new());
        let message = result.as_ref().unwrap_err().to_string();
        assert_eq!(problems(result).len(), 4, "{message}");
        assert!(message.contains(MEMORY), "{message}");
        assert_eq!(book_values(&net), before);
    }

    #[test]
    fn shapes_are_read_from_the_headers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("params.npz");
        for (form, method) in [
            (PLAIN, CompressionMethod::Stored),
            (
                Form {
                    version: 3,
                    fortran: true,
                    ..PLAIN
                },
                CompressionMethod::Deflated,
            ),
        ] {
            std::fs::write(&path, book_npz(form, method)).unwrap();
            let shapes = npz_shapes(&path).unwrap();
            let expected: BTreeMap<String, Vec<usize>> = arrays()
                .into_iter()
                .map(|(name, shape, _)| (name.to_owned(), shape))
                .collect();
            assert_eq!(shapes, expected);
        }

        // A bomb's header is read, not its data.
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1048576,), }";
        let entries = vec![("W1.npy".to_owned(), npy_raw(1, header, &vec![0; 8 << 20]))];
        std::fs::write(&path, npz(&entries, CompressionMethod::Deflated)).unwrap();
        assert_eq!(npz_shapes(&path).unwrap()["W1"], vec![1 << 20]);

        let entries = vec![("W1.npy".to_owned(), b"not an array".to_vec())];
        std::fs::write(&path, npz(&entries, CompressionMethod::Stored)).unwrap();
        let message = npz_shapes(&path).unwrap_err().to_string();
        assert!(
            message.contains("`W1.npy` is not a .npy array"),
            "{message}"
        );
        std::fs::write(&path, b"").unwrap();
        let message = npz_shapes(&path).unwrap_err().to_string();
        assert!(message.ends_with("it is empty"), "{message}");
        let missing = npz_shapes(dir.path().join("absent.npz")).unwrap_err();
        assert!(matches!(missing, IoError::Read { .. }), "{missing:?}");
    }

    #[test]
    fn deflated_v2_f32_loads() {
        let form = Form {
            version: 2,
            f32: true,
            ..PLAIN
        };
        let bytes = book_npz(form, CompressionMethod::Deflated);
        let mut net = tiny::<f32>();
        load(&mut net, &bytes, ImportOptions::new()).unwrap();
        assert_loaded(&net);
    }

    #[test]
    fn v3_fortran_order_and_big_endian_load_the_same() {
        for (fortran, big) in [(true, false), (false, true), (true, true)] {
            let form = Form {
                version: 3,
                fortran,
                big,
                ..PLAIN
            };
            let mut net = tiny::<f64>();
            load(
                &mut net,
                &book_npz(form, CompressionMethod::Deflated),
                ImportOptions::new(),
            )
            .unwrap();
            assert_loaded(&net);
        }
    }

    #[test]
    fn fortran_order_of_three_axes_is_reordered() {
        // A (2, 3, 4) array: value k at C index k.
        let shape = [2usize, 3, 4];
        let fortran: Vec<u8> = (0..24u8)
            .map(|f| {
                // Fortran offset f = i + 2·j + 6·k; C value = 12·i + 4·j + k.
                let (i, j, k) = (f % 2, (f / 2) % 3, f / 6);
                12 * i + 4 * j + k
            })
            .collect();
        assert_eq!(c_order(&fortran, &shape, 1), (0..24).collect::<Vec<u8>>());
    }

    #[test]
    fn another_dtype_is_named() {
        let mut entries: Vec<(String, Vec<u8>)> = arrays()
            .iter()
            .map(|(name, shape, values)| (format!("{name}.npy"), npy(shape, values, PLAIN)))
            .collect();
        let header = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";
        entries[1].1 = npy_raw(1, header, &[0; 24]);
        let mut net = tiny::<f64>();
        let before = book_values(&net);
        let problems = problems(load(
            &mut net,
            &npz(&entries, CompressionMethod::Stored),
            ImportOptions::new(),
        ));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("<i8"), "{problems:?}");
        assert!(
            problems[0].contains("`Affine<4, 3>` (affine1)"),
            "{problems:?}"
        );
        assert_eq!(book_values(&net), before);
    }

    #[test]
    fn a_missing_tensor_and_a_wrong_shape_are_reported_together() {
        let entries: Vec<(String, Vec<u8>)> = arrays()
            .iter()
            .filter(|(name, _, _)| *name != "b2")
            .map(|(name, shape, values)| {
                let shape = if *name == "W1" {
                    vec![3, 4]
                } else {
                    shape.clone()
                };
                (format!("{name}.npy"), npy(&shape, values, PLAIN))
            })
            .collect();
        let mut net = tiny::<f64>();
        let before = book_values(&net);
        let result = load(
            &mut net,
            &npz(&entries, CompressionMethod::Deflated),
            ImportOptions::new(),
        );
        let message = result.as_ref().unwrap_err().to_string();
        let problems = problems(result);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`W1` has shape [3, 4]"), "{message}");
        assert!(problems[0].contains("needs [4, 3]"), "{message}");
        assert!(problems[1].contains("has no `b2`"), "{message}");
        assert!(message.contains("2 disagreements"), "{message}");
        assert_eq!(book_values(&net), before);
    }

    #[test]
    fn another_float_type_needs_convert_dtype() {
        let bytes = book_npz(PLAIN, CompressionMethod::Stored);
        let mut net = tiny::<f32>();
        let problems = problems(load(&mut net, &bytes, ImportOptions::new()));
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(
            problems.iter().all(|p| p.contains("convert_dtype")),
            "{problems:?}"
        );
        load(&mut net, &bytes, ImportOptions::new().convert_dtype(true)).unwrap();
        assert_loaded(&net);
    }

    #[test]
    fn converted_values_beyond_f32_are_refused() {
        let mut entries: Vec<(String, Vec<u8>)> = arrays()
            .iter()
            .map(|(name, shape, values)| (format!("{name}.npy"), npy(shape, values, PLAIN)))
            .collect();
        entries[3].1 = npy(&[2], &[0.5, 1e300], PLAIN);
        let mut net = tiny::<f32>();
        let before = book_values(&net);
        let options = ImportOptions::new().convert_dtype(true);
        let problems = problems(load(
            &mut net,
            &npz(&entries, CompressionMethod::Stored),
            options,
        ));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("beyond the range of f32"),
            "{problems:?}"
        );
        assert_eq!(book_values(&net), before);
    }

    #[test]
    fn extra_arrays_are_refused_unless_ignored() {
        let mut entries: Vec<(String, Vec<u8>)> = arrays()
            .iter()
            .map(|(name, shape, values)| (format!("{name}.npy"), npy(shape, values, PLAIN)))
            .collect();
        entries.push(("W9.npy".into(), npy(&[1], &[0.5], PLAIN)));
        let bytes = npz(&entries, CompressionMethod::Stored);
        let mut net = tiny::<f64>();
        let problems = problems(load(&mut net, &bytes, ImportOptions::new()));
        assert!(
            problems.len() == 1 && problems[0].contains("`W9`"),
            "{problems:?}"
        );
        load(&mut net, &bytes, ImportOptions::new().ignore_unused(true)).unwrap();
        assert_loaded(&net);
    }

    #[test]
    fn a_truncated_archive_is_not_npz() {
        let bytes = book_npz(PLAIN, CompressionMethod::Deflated);
        for len in [bytes.len() - 1, bytes.len() / 2, 30, 4] {
            let message = not_npz(load(
                &mut tiny::<f64>(),
                &bytes[..len],
                ImportOptions::new(),
            ));
            assert!(message.contains("is not a NumPy .npz archive"), "{message}");
        }
    }

    #[test]
    fn garbage_and_empty_files_are_not_npz() {
        let garbage: Vec<u8> = (0..4000u32)
            .map(|k| (k.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        not_npz(load(&mut tiny::<f64>(), &garbage, ImportOptions::new()));
        let message = not_npz(load(&mut tiny::<f64>(), b"", ImportOptions::new()));
        assert!(message.ends_with("it is empty"), "{message}");
        let single = npy(&[2], &[1.0, 2.0], PLAIN);
        let message = not_npz(load(&mut tiny::<f64>(), &single, ImportOptions::new()));
        assert!(message.contains("np.save"), "{message}");
    }

    #[test]
    fn a_damaged_entry_is_not_npz() {
        // A stored entry's data changed: its CRC no longer matches.
        let mut bytes = book_npz(PLAIN, CompressionMethod::Stored);
        let at = bytes.windows(6).position(|w| w == NPY_MAGIC).unwrap() + 200;
        bytes[at] ^= 0x40;
        let message = not_npz(load(&mut tiny::<f64>(), &bytes, ImportOptions::new()));
        assert!(message.contains("`W1.npy` cannot be read"), "{message}");
    }

    #[test]
    fn entries_other_than_npy_arrays_are_refused() {
        let entries = vec![("notes.txt".to_owned(), b"hello".to_vec())];
        let message = not_npz(load(
            &mut tiny::<f64>(),
            &npz(&entries, CompressionMethod::Stored),
            ImportOptions::new(),
        ));
        assert!(
            message.contains("`notes.txt`, which is not a `.npy` array"),
            "{message}"
        );

        let entries = vec![("W1.npy".to_owned(), b"not an array".to_vec())];
        let message = not_npz(load(
            &mut tiny::<f64>(),
            &npz(&entries, CompressionMethod::Stored),
            ImportOptions::new(),
        ));
        assert!(
            message.contains("`W1.npy` is not a .npy array"),
            "{message}"
        );
    }

    #[test]
    fn data_of_another_length_than_the_header_says_is_refused() {
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
        let entries = vec![("b1.npy".to_owned(), npy_raw(1, header, &[0; 16]))];
        let message = not_npz(load(
            &mut tiny::<f64>(),
            &npz(&entries, CompressionMethod::Stored),
            ImportOptions::new(),
        ));
        assert!(message.contains("holds 16 bytes of data"), "{message}");
        assert!(message.contains("(24 bytes)"), "{message}");
    }

    #[test]
    fn a_zip_bomb_is_refused_before_it_inflates() {
        // 8 MiB of zeros deflate to a few kilobytes; the tiny net needs
        // 184 bytes, so at most about 1 MiB is inflated.
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1048576,), }";
        let entries = vec![("W1.npy".to_owned(), npy_raw(1, header, &vec![0; 8 << 20]))];
        let bytes = npz(&entries, CompressionMethod::Deflated);
        assert!(bytes.len() < 100_000);
        let message = not_npz(load(&mut tiny::<f64>(), &bytes, ImportOptions::new()));
        assert!(message.contains("would inflate to"), "{message}");
    }

    #[test]
    fn headers_parse_in_any_order_and_form() {
        let parse = |text: &str| parse_header(text);
        let header = |descr: &str, fortran_order, shape: &[usize]| Header {
            descr: descr.to_owned(),
            fortran_order,
            shape: shape.to_vec(),
        };
        assert_eq!(
            parse("{'descr': '<f4', 'fortran_order': False, 'shape': (784, 50), }  \n"),
            Ok(header("<f4", false, &[784, 50]))
        );
        assert_eq!(
            parse("{\"shape\":(),\"fortran_order\":True,\"descr\":\">f8\"}"),
            Ok(header(">f8", true, &[]))
        );
        assert_eq!(
            parse("{'fortran_order': False, 'shape': (5,), 'descr': '=f4'}"),
            Ok(header("=f4", false, &[5]))
        );
        // Python 2's NumPy wrote long integers.
        assert_eq!(
            parse("{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }"),
            Ok(header("<f8", false, &[3, 4]))
        );
        // A structured dtype is kept by its text, for the import to name.
        assert_eq!(
            parse(
                "{'descr': [('a', '<f4'), ('b', '<i8')], 'fortran_order': False, 'shape': (2,), }"
            ),
            Ok(header("[('a', '<f4'), ('b', '<i8')]", false, &[2]))
        );
        for bad in [
            "",
            "{",
            "{}",
            "[]",
            "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x",
            "{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
            "{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,)}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = format!(
            "{{'descr': {}{}, 'fortran_order': False, 'shape': (1,)}}",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(parse(&deep).unwrap_err().contains("nest"));
    }

    #[test]
    fn float_dtypes_are_recognised() {
        assert_eq!(float_dtype("<f4"), Some((ForeignDtype::F32, 4, true)));
        assert_eq!(float_dtype(">f8"), Some((ForeignDtype::F64, 8, false)));
        assert_eq!(float_dtype("=f8").map(|d| d.1), Some(8));
        for other in ["<i8", "<f2", "|u1", "<c8", "f16", "", "<"] {
            assert_eq!(float_dtype(other), None, "{other}");
        }
    }
}
