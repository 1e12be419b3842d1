//! The IDX file format (the format of the MNIST files), raw or gzip-compressed.
//!
//! An IDX file is
//!
//! | bytes | content |
//! | --- | --- |
//! | 2 | zero |
//! | 1 | element type: `0x08` unsigned byte (the only one supported here) |
//! | 1 | number of dimensions `d` (at least 1) |
//! | 4·d | each dimension, a big-endian `u32` |
//! | ∏ dims × element size | the data, row-major |
//!
//! Compression is detected by content: an input starting with the gzip magic
//! `1f 8b` is decompressed (several concatenated gzip members are accepted,
//! as `gzip -d` does), anything else is parsed as raw IDX. The file name
//! plays no part.
//!
//! # Robustness
//!
//! The parser is strict and never trusts the header with memory:
//!
//! * the data must be **exactly** as long as the header declares: shorter is
//!   [`IdxError::TruncatedData`], longer is [`IdxError::TrailingData`]. For a
//!   gzip input, decompression stops one byte past the declared size, so a
//!   stream that inflates to more than the header declares is rejected
//!   without inflating it;
//! * for a gzip input, anything after the last gzip member (even zero
//!   padding), a damaged member or a bad CRC is [`IdxError::Gzip`];
//! * the product of the dimensions is computed with overflow checks
//!   ([`IdxError::SizeOverflow`]);
//! * no allocation is sized by the header alone: raw data is copied from
//!   what is present, and a gzip stream is decompressed into a buffer that
//!   grows with the data actually decompressed (at most doubling per step,
//!   from 64 KiB, never beyond the declared size, which it reaches exactly).
//!   A 40-byte file that claims 2³¹ images costs about 64 KiB (plus the
//!   decoder's ~40 KiB of state) before it is rejected.

use std::io::{self, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use super::DataError;
use crate::files::read_bounded;

/// The element type code of unsigned bytes, the only one supported.
pub const DTYPE_U8: u8 = 0x08;

/// The two bytes that start a gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The first step of the decompression buffer's growth.
const MIN_STEP: usize = 64 << 10;

/// A parsed IDX file of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdxArray {
    /// The dimensions, outermost first (for MNIST images: count, rows, cols).
    pub dims: Vec<usize>,
    /// The elements, row-major; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

impl IdxArray {
    /// The number of elements the dimensions describe, or `None` on
    /// overflow.
    pub fn num_elements(&self) -> Option<usize> {
        self.dims
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
    }

    /// Encodes the array as a raw (uncompressed) IDX file of unsigned bytes.
    ///
    /// Returns `None` when the array cannot be represented: no dimension or
    /// more than 255 of them, a dimension above `u32::MAX`, or a data length
    /// that is not the product of the dimensions.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        let ndim = u8::try_from(self.dims.len()).ok().filter(|&n| n > 0)?;
        if self.num_elements()? != self.data.len() {
            return None;
        }
        let mut out = Vec::with_capacity(4 + 4 * self.dims.len() + self.data.len());
        out.extend_from_slice(&[0, 0, DTYPE_U8, ndim]);
        for &d in &self.dims {
            out.extend_from_slice(&u32::try_from(d).ok()?.to_be_bytes());
        }
        out.extend_from_slice(&self.data);
        Some(out)
    }
}

/// What is wrong with an IDX input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdxError {
    /// The input ends inside the header (for gzip: the decompressed stream
    /// does).
    #[error("IDX header truncated: it needs {needed} bytes, the input holds {available}")]
    TruncatedHeader {
        /// The header size needed so far (4, then 4 + 4 × dimensions).
        needed: usize,
        /// The bytes available.
        available: usize,
    },
    /// The input starts neither with the IDX magic (two zero bytes) nor with
    /// the gzip magic.
    #[error(
        "not an IDX file: it starts with {:02x} {:02x}, expected 00 00 (raw IDX) or 1f 8b (gzip)",
        found[0],
        found[1]
    )]
    BadMagic {
        /// The first two bytes.
        found: [u8; 2],
    },
    /// The element type is not unsigned byte.
    #[error(
        "unsupported IDX element type 0x{code:02x} ({}); only 0x08 (unsigned byte) is supported",
        dtype_name(*code)
    )]
    UnsupportedDtype {
        /// The element type code found.
        code: u8,
    },
    /// The header declares zero dimensions.
    #[error("the IDX header declares zero dimensions")]
    NoDimensions,
    /// The product of the dimensions does not fit in memory addresses.
    #[error("the IDX dimensions {dims:?} describe more elements than can be addressed")]
    SizeOverflow {
        /// The dimensions declared.
        dims: Vec<u32>,
    },
    /// The data section is shorter than the header declares.
    #[error(
        "IDX data truncated: the header declares {expected} bytes of data, the input holds {actual}"
    )]
    TruncatedData {
        /// The size the header declares.
        expected: usize,
        /// The size present.
        actual: usize,
    },
    /// The data section is longer than the header declares.
    #[error("IDX data longer than the {expected} bytes the header declares")]
    TrailingData {
        /// The size the header declares.
        expected: usize,
    },
    /// The decompressed data does not fit in memory. The buffer only grows
    /// with data actually decompressed (at most doubling), so this means a
    /// genuinely huge stream.
    #[error("out of memory: cannot hold {bytes} bytes of decompressed IDX data")]
    OutOfMemory {
        /// The size that could not be allocated.
        bytes: usize,
    },
    /// The input starts with the gzip magic but is not a valid gzip stream
    /// (damaged, truncated, bad CRC, or followed by bytes that are not a
    /// gzip member).
    #[error("invalid gzip stream: {source}")]
    Gzip {
        /// The decoder's error.
        #[source]
        source: io::Error,
    },
}

/// The name of an IDX element type code, for messages.
fn dtype_name(code: u8) -> &'static str {
    match code {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "i16",
        0x0C => "i32",
        0x0D => "f32",
        0x0E => "f64",
        _ => "not an IDX type",
    }
}

/// Parses an IDX file of unsigned bytes held in memory, gzip-compressed or
/// raw (detected by the gzip magic `1f 8b`). See the [module
/// documentation](self) for what is accepted.
///
/// ```
/// use net_core::data::{IdxArray, parse_idx};
/// let bytes = [0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6];
/// let array = parse_idx(&bytes)?;
/// assert_eq!(array, IdxArray { dims: vec![2, 3], data: vec![1, 2, 3, 4, 5, 6] });
/// # Ok::<(), net_core::data::IdxError>(())
/// ```
pub fn parse_idx(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        parse_gzip(bytes)
    } else {
        parse_raw(bytes)
    }
}

/// Reads and parses an IDX file, gzip-compressed or raw (detected by
/// content, not by name). Errors name the file.
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let bytes = read_bounded(path, MAX_IDX_FILE).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_idx(&bytes).map_err(|source| DataError::Idx {
        path: path.to_path_buf(),
        source,
    })
}

/// The largest IDX file read, compressed or raw: far above MNIST's
/// training images (47 MB raw).
const MAX_IDX_FILE: u64 = 1 << 30;

/// The header: the dimensions and the size of the data they declare.
struct Header {
    dims: Vec<usize>,
    data_len: usize,
}

fn parse_raw(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    let mut rest = bytes;
    // Reading from a slice cannot fail.
    let header = read_header(&mut rest).map_err(|e| e.into_idx())?;
    match rest.len().cmp(&header.data_len) {
        std::cmp::Ordering::Less => Err(IdxError::TruncatedData {
            expected: header.data_len,
            actual: rest.len(),
        }),
        std::cmp::Ordering::Greater => Err(IdxError::TrailingData {
            expected: header.data_len,
        }),
        std::cmp::Ordering::Equal => Ok(IdxArray {
            dims: header.dims,
            data: rest.to_vec(),
        }),
    }
}

fn parse_gzip(bytes: &[u8]) -> Result<IdxArray, IdxError> {
    let mut decoder = MultiGzDecoder::new(bytes);
    let header = read_header(&mut decoder).map_err(|e| e.into_idx())?;
    let expected = header.data_len;

    // Grow the buffer with the data that actually arrives: each step at most
    // doubles it (starting at 64 KiB), and it never exceeds what the header
    // declares. So the header alone cannot cause a large allocation, and the
    // final buffer has exactly the declared size (no slack to shrink away).
    let mut data = Vec::new();
    while data.len() < expected {
        let want = (expected - data.len()).min(data.len().max(MIN_STEP));
        data.try_reserve_exact(want)
            .map_err(|_| IdxError::OutOfMemory {
                bytes: data.len().saturating_add(want),
            })?;
        let limit = u64::try_from(want).unwrap_or(u64::MAX);
        let got = (&mut decoder)
            .take(limit)
            .read_to_end(&mut data)
            .map_err(gzip_error)?;
        if got < want {
            // The stream ended early.
            break;
        }
    }
    if data.len() < expected {
        return Err(IdxError::TruncatedData {
            expected,
            actual: data.len(),
        });
    }
    // The declared data is complete: the stream must end here, with valid
    // CRCs and nothing after the last member.
    let mut probe = [0u8; 1];
    loop {
        match decoder.read(&mut probe) {
            Ok(0) => break,
            Ok(_) => return Err(IdxError::TrailingData { expected }),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(gzip_error(e)),
        }
    }
    Ok(IdxArray {
        dims: header.dims,
        data,
    })
}

fn gzip_error(source: io::Error) -> IdxError {
    IdxError::Gzip { source }
}

/// An error while reading the header: either the header is bad, or the
/// reader failed (only possible for the gzip decoder).
enum HeaderError {
    Idx(IdxError),
    Io(io::Error),
}

impl HeaderError {
    fn into_idx(self) -> IdxError {
        match self {
            HeaderError::Idx(e) => e,
            HeaderError::Io(source) => gzip_error(source),
        }
    }
}

impl From<IdxError> for HeaderError {
    fn from(e: IdxError) -> Self {
        HeaderError::Idx(e)
    }
}

fn read_header<R: Read>(r: &mut R) -> Result<Header, HeaderError> {
    let mut magic = [0u8; 4];
    let got = read_full(r, &mut magic).map_err(HeaderError::Io)?;
    let [z0, z1, dtype, ndim] = magic;
    if got >= 2 && (z0 != 0 || z1 != 0) {
        return Err(IdxError::BadMagic { found: [z0, z1] }.into());
    }
    if got < magic.len() {
        return Err(IdxError::TruncatedHeader {
            needed: magic.len(),
            available: got,
        }
        .into());
    }
    if dtype != DTYPE_U8 {
        return Err(IdxError::UnsupportedDtype { code: dtype }.into());
    }
    if ndim == 0 {
        return Err(IdxError::NoDimensions.into());
    }

    // At most 255 dimensions: the buffer lives on the stack.
    let mut raw = [0u8; 4 * 255];
    let dims_len = 4 * usize::from(ndim);
    let dims_bytes = raw.get_mut(..dims_len).unwrap_or_default();
    let got = read_full(r, dims_bytes).map_err(HeaderError::Io)?;
    if got < dims_len {
        return Err(IdxError::TruncatedHeader {
            needed: 4 + dims_len,
            available: 4 + got,
        }
        .into());
    }
    let raw_dims: Vec<u32> = dims_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let overflow = || IdxError::SizeOverflow {
        dims: raw_dims.clone(),
    };
    let mut dims = Vec::with_capacity(raw_dims.len());
    let mut data_len = 1usize;
    for &d in &raw_dims {
        let d = usize::try_from(d).map_err(|_| overflow())?;
        data_len = data_len.checked_mul(d).ok_or_else(overflow)?;
        dims.push(d);
    }
    // No allocation, and so no IDX array, can exceed isize::MAX bytes.
    if isize::try_from(data_len).is_err() {
        return Err(overflow().into());
    }
    Ok(Header { dims, data_len })
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match r.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n.min(rest.len()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn raw(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, DTYPE_U8, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn small() -> Vec<u8> {
        raw(&[2, 3, 4], &(0..24).collect::<Vec<u8>>())
    }

    #[test]
    fn parses_raw_and_gzip_alike() {
        let file = small();
        let expected = IdxArray {
            dims: vec![2, 3, 4],
            data: (0..24).collect(),
        };
        assert_eq!(parse_idx(&file).unwrap(), expected);
        assert_eq!(parse_idx(&gzip(&file)).unwrap(), expected);
        assert_eq!(expected.to_bytes().unwrap(), file);
    }

    #[test]
    fn accepts_empty_arrays_and_concatenated_members() {
        let empty = raw(&[0, 28, 28], &[]);
        assert_eq!(parse_idx(&empty).unwrap().dims, vec![0, 28, 28]);
        let file = small();
        let (a, b) = file.split_at(10);
        let mut two = gzip(a);
        two.extend(gzip(b));
        assert_eq!(parse_idx(&two).unwrap().data.len(), 24);
    }

    #[test]
    fn empty_and_short_inputs_are_truncated_headers() {
        for len in 0..4 {
            let err = parse_idx(&small()[..len]).unwrap_err();
            assert!(
                matches!(err, IdxError::TruncatedHeader { needed: 4, available } if available == len),
                "{err:?}"
            );
        }
        let err = parse_idx(&small()[..9]).unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::TruncatedHeader {
                    needed: 16,
                    available: 9
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn wrong_magic() {
        let mut file = small();
        file[1] = 1;
        let err = parse_idx(&file).unwrap_err();
        assert!(
            matches!(err, IdxError::BadMagic { found: [0, 1] }),
            "{err:?}"
        );
        assert!(err.to_string().contains("00 01"), "{err}");
        let err = parse_idx(b"PK\x03\x04 a zip file").unwrap_err();
        assert!(matches!(err, IdxError::BadMagic { .. }), "{err:?}");
    }

    #[test]
    fn unsupported_dtype_and_zero_dims() {
        let mut file = small();
        file[2] = 0x0D;
        let err = parse_idx(&file).unwrap_err();
        assert!(
            matches!(err, IdxError::UnsupportedDtype { code: 0x0D }),
            "{err:?}"
        );
        assert!(err.to_string().contains("f32"), "{err}");
        let err = parse_idx(&[0, 0, 8, 0]).unwrap_err();
        assert!(matches!(err, IdxError::NoDimensions), "{err:?}");
    }

    #[test]
    fn truncated_and_trailing_data() {
        let file = small();
        let err = parse_idx(&file[..file.len() - 1]).unwrap_err();
        assert!(
            matches!(
                err,
                IdxError::TruncatedData {
                    expected: 24,
                    actual: 23
                }
            ),
            "{err:?}"
        );
        let mut long = file.clone();
        long.push(0);
        let err = parse_idx(&long).unwrap_err();
        assert!(
            matches!(err, IdxError::TrailingData { expected: 24 }),
            "{err:?}"
        );
        // The same through gzip: the decompressed content decides.
        let err = parse_idx(&gzip(&file[..file.len() - 1])).unwrap_err();
        assert!(matches!(err, IdxError::TruncatedData { .. }), "{err:?}");
        let err = parse_idx(&gzip(&long)).unwrap_err();
        assert!(
            matches!(err, IdxError::TrailingData { expected: 24 }),
            "{err:?}"
        );
        let err = parse_idx(&gzip(&file[..7])).unwrap_err();
        assert!(matches!(err, IdxError::TruncatedHeader { .. }), "{err:?}");
    }

    #[test]
    fn huge_claims_fail_without_huge_allocations() {
        // 2^31 images of 28 × 28 with 10 bytes of data: raw and gzip.
        let file = raw(&[1 << 31, 28, 28], &[7; 10]);
        let err = parse_idx(&file).unwrap_err();
        assert!(
            matches!(err, IdxError::TruncatedData { expected, actual: 10 } if expected == (1usize << 31) * 784),
            "{err:?}"
        );
        let err = parse_idx(&gzip(&file)).unwrap_err();
        assert!(
            matches!(err, IdxError::TruncatedData { actual: 10, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn dimension_overflow() {
        let file = raw(&[u32::MAX, u32::MAX, u32::MAX], &[]);
        let err = parse_idx(&file).unwrap_err();
        assert!(
            matches!(err, IdxError::SizeOverflow { ref dims } if dims.len() == 3),
            "{err:?}"
        );
        let err = parse_idx(&gzip(&file)).unwrap_err();
        assert!(matches!(err, IdxError::SizeOverflow { .. }), "{err:?}");
        // Above isize::MAX but below usize::MAX.
        let file = raw(&[u32::MAX, u32::MAX / 2 + 2], &[]);
        let err = parse_idx(&file).unwrap_err();
        assert!(matches!(err, IdxError::SizeOverflow { .. }), "{err:?}");
    }

    #[test]
    fn damaged_gzip_streams() {
        let gz = gzip(&small());
        // Truncated compressed stream.
        for cut in [2, 5, 10, 15, gz.len() - 8, gz.len() - 1] {
            let err = parse_idx(&gz[..cut]).unwrap_err();
            assert!(
                matches!(
                    err,
                    IdxError::Gzip { .. }
                        | IdxError::TruncatedHeader { .. }
                        | IdxError::TruncatedData { .. }
                ),
                "cut at {cut}: {err:?}"
            );
        }
        // Once the IDX content is complete, only the gzip trailer can be
        // missing: that is a gzip error.
        let err = parse_idx(&gz[..gz.len() - 1]).unwrap_err();
        assert!(matches!(err, IdxError::Gzip { .. }), "{err:?}");
        // Bad CRC.
        let mut bad_crc = gz.clone();
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 0xff;
        let err = parse_idx(&bad_crc).unwrap_err();
        assert!(matches!(err, IdxError::Gzip { .. }), "{err:?}");
        // Garbage after the gzip member, even zero padding.
        for tail in [&b"garbage"[..], &[0u8; 4][..], &[0x1f][..]] {
            let mut padded = gz.clone();
            padded.extend_from_slice(tail);
            let err = parse_idx(&padded).unwrap_err();
            assert!(matches!(err, IdxError::Gzip { .. }), "{tail:?}: {err:?}");
        }
        // Pure garbage after the magic.
        let err = parse_idx(&[0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]).unwrap_err();
        assert!(matches!(err, IdxError::Gzip { .. }), "{err:?}");
    }

    #[test]
    fn read_idx_names_the_file() {
        let dir = std::env::temp_dir().join(format!("net-core-idx-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("broken.idx.gz");
        std::fs::write(&path, [0, 0, 8, 1, 0, 0]).unwrap();
        let err = read_idx(&path).unwrap_err();
        assert!(
            matches!(&err, DataError::Idx { path: p, source: IdxError::TruncatedHeader { .. } } if p == &path)
        );
        assert!(err.to_string().contains("broken.idx.gz"), "{err}");
        let missing = dir.join("missing");
        let err = read_idx(&missing).unwrap_err();
        assert!(matches!(&err, DataError::Io { path: p, .. } if p == &missing));
        assert!(err.to_string().contains("missing"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn to_bytes_rejects_unrepresentable_arrays() {
        let a = IdxArray {
            dims: vec![2, 2],
            data: vec![1, 2, 3],
        };
        assert_eq!(a.to_bytes(), None);
        assert_eq!(IdxArray::default().to_bytes(), None);
        let big = IdxArray {
            dims: vec![1 << 33, 0],
            data: vec![],
        };
        assert_eq!(big.to_bytes(), None);
    }
}
