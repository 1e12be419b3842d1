//! The IDX parser on malformed files (each gives its own error variant, and
//! errors from files name the file), and a property test feeding random
//! bytes and mutated valid files (raw and gzip) to the parser.

#[path = "common/scratch.rs"]
mod scratch;

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use net_core::data::{DataError, IdxArray, IdxError, parse_idx, read_idx};
use proptest::prelude::*;
use scratch::Scratch;

fn raw(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
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

fn idx_error(path: &Path) -> IdxError {
    match read_idx(path) {
        Err(DataError::Idx { path: p, source }) => {
            assert_eq!(p, path);
            source
        }
        other => panic!(
            "expected an IDX error for {}, got {other:?}",
            path.display()
        ),
    }
}

#[test]
fn each_malformed_file_gives_its_error_naming_the_file() {
    let scratch = Scratch::new("idx-malformed");
    let valid = raw(&[3, 2, 2], &[1; 12]);

    // Each case is written raw and gzip-compressed, under a name that says
    // nothing true about the compression.
    type Check = fn(&IdxError) -> bool;
    let cases: Vec<(&str, Vec<u8>, Check)> = vec![
        ("empty", vec![], |e| {
            matches!(
                e,
                IdxError::TruncatedHeader {
                    needed: 4,
                    available: 0
                }
            )
        }),
        (
            "magic",
            {
                let mut v = valid.clone();
                v[0] = 0x50;
                v
            },
            |e| matches!(e, IdxError::BadMagic { found: [0x50, 0] }),
        ),
        (
            "dtype",
            {
                let mut v = valid.clone();
                v[2] = 0x0C;
                v
            },
            |e| matches!(e, IdxError::UnsupportedDtype { code: 0x0C }),
        ),
        ("nodims", vec![0, 0, 8, 0], |e| {
            matches!(e, IdxError::NoDimensions)
        }),
        ("header", valid[..10].to_vec(), |e| {
            matches!(
                e,
                IdxError::TruncatedHeader {
                    needed: 16,
                    available: 10
                }
            )
        }),
        ("short", valid[..valid.len() - 3].to_vec(), |e| {
            matches!(
                e,
                IdxError::TruncatedData {
                    expected: 12,
                    actual: 9
                }
            )
        }),
        ("long", [&valid[..], &[9, 9][..]].concat(), |e| {
            matches!(e, IdxError::TrailingData { expected: 12 })
        }),
        ("huge", raw(&[1 << 31, 28, 28], &[0; 100]), |e| {
            matches!(e, IdxError::TruncatedData { actual: 100, .. })
        }),
        ("overflow", raw(&[u32::MAX; 4], &[]), |e| {
            matches!(e, IdxError::SizeOverflow { .. })
        }),
    ];
    for (name, bytes, check) in &cases {
        let path = scratch.write(&format!("{name}.gz"), bytes);
        let err = idx_error(&path);
        assert!(check(&err), "{name} (raw): {err:?}");
        let message = read_idx(&path).unwrap_err().to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");

        let path = scratch.write(&format!("{name}.raw"), &gzip(bytes));
        let err = idx_error(&path);
        assert!(check(&err), "{name} (gzip): {err:?}");
    }

    // Garbage after the gzip magic, a damaged stream, trailing bytes after
    // the gzip member.
    let gz = gzip(&valid);
    let mut flipped = gz.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let mut padded = gz.clone();
    padded.extend_from_slice(b"\0\0\0\0");
    for (name, bytes) in [
        ("garbage", vec![0x1f, 0x8b, 0xde, 0xad, 0xbe, 0xef]),
        ("cut", gz[..gz.len() - 4].to_vec()),
        ("padded", padded),
    ] {
        let path = scratch.write(name, &bytes);
        let err = idx_error(&path);
        assert!(matches!(err, IdxError::Gzip { .. }), "{name}: {err:?}");
    }
    // A flipped bit in the deflate data: some error, never a wrong result.
    let path = scratch.write("flipped", &flipped);
    assert!(read_idx(&path).is_err());

    // A file that is not there.
    let missing = scratch.0.join("nope.gz");
    assert!(matches!(read_idx(&missing), Err(DataError::Io { path, .. }) if path == missing));
}

#[test]
fn gzip_detection_is_by_content() {
    let scratch = Scratch::new("idx-detect");
    let valid = raw(&[2, 2], &[1, 2, 3, 4]);
    let a = read_idx(&scratch.write("raw-named.gz", &valid)).unwrap();
    let b = read_idx(&scratch.write("gz-named.idx", &gzip(&valid))).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.dims, [2, 2]);
}

/// Crashers and near-misses found while fuzzing, kept as regressions.
#[test]
fn fuzz_regressions() {
    // A dims product that overflows only past isize::MAX.
    let err = parse_idx(&raw(&[0x8000_0000, 0x8000_0000, 2], &[])).unwrap_err();
    assert!(matches!(err, IdxError::SizeOverflow { .. }), "{err:?}");
    // 255 dimensions of 1, then one byte.
    let file = raw(&[1; 255], &[42]);
    assert_eq!(parse_idx(&file).unwrap().data, [42]);
    assert_eq!(parse_idx(&gzip(&file)).unwrap().data, [42]);
    // A zero dimension among huge ones: an empty array, not an overflow.
    let file = raw(&[u32::MAX, 0, u32::MAX], &[]);
    assert_eq!(parse_idx(&file).unwrap().data.len(), 0);
    // The gzip magic alone, and the magic plus a valid gzip header only.
    assert!(matches!(
        parse_idx(&[0x1f, 0x8b]),
        Err(IdxError::Gzip { .. })
    ));
    let gz = gzip(&[]);
    assert!(parse_idx(&gz[..10]).is_err());
    // Found by examples/fuzz_idx.rs: a gzip stream of ~1.5 KB whose header
    // claims 8,388,609 × 28 × 28 bytes made the parser reserve 1.6 MB up
    // front (1032 × the compressed size). Now the buffer only grows with the
    // data decompressed (see tests/data_alloc.rs for the allocation bound).
    let file = raw(&[0x0080_0001, 28, 28], &[5; 1500]);
    let err = parse_idx(&gzip(&file)).unwrap_err();
    assert!(
        matches!(err, IdxError::TruncatedData { expected, actual: 1500 } if expected == 0x0080_0001 * 784),
        "{err:?}"
    );
    // An empty gzip member: the decompressed input is empty.
    assert!(matches!(
        parse_idx(&gz),
        Err(IdxError::TruncatedHeader { available: 0, .. })
    ));
}

/// A small valid IDX array.
fn small_array() -> impl Strategy<Value = IdxArray> {
    prop::collection::vec(0usize..5, 1..4).prop_flat_map(|dims| {
        let n: usize = dims.iter().product();
        prop::collection::vec(any::<u8>(), n..=n).prop_map(move |data| IdxArray {
            dims: dims.clone(),
            data,
        })
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Remove(usize),
    /// Overwrite the dimension at this position with this value.
    SetDim(usize, u32),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let dim = prop_oneof![
        0u32..8,
        Just(u32::MAX),
        Just(1 << 31),
        Just(60_000),
        any::<u32>()
    ];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(p, b)| Mutation::FlipBit(p, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, v)| Mutation::SetByte(p, v)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(p, v)| Mutation::Insert(p, v)),
        any::<usize>().prop_map(Mutation::Remove),
        (0usize..4, dim).prop_map(|(k, v)| Mutation::SetDim(k, v)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len();
    match *m {
        Mutation::FlipBit(p, b) if len > 0 => bytes[p % len] ^= 1 << b,
        Mutation::SetByte(p, v) if len > 0 => bytes[p % len] = v,
        Mutation::Truncate(p) => bytes.truncate(p % (len + 1)),
        Mutation::Insert(p, v) => bytes.insert(p % (len + 1), v),
        Mutation::Remove(p) if len > 0 => {
            bytes.remove(p % len);
        }
        Mutation::SetDim(k, v) => {
            let at = 4 + 4 * k;
            if at + 4 <= len {
                bytes[at..at + 4].copy_from_slice(&v.to_be_bytes());
            }
        }
        _ => {}
    }
}

/// Whatever the parser answers, an accepted array is consistent.
fn check(bytes: &[u8]) {
    if let Ok(array) = parse_idx(bytes) {
        assert!(!array.dims.is_empty());
        assert_eq!(array.num_elements(), Some(array.data.len()));
    }
}

proptest! {
    // Integration tests have no lib.rs next to them for proptest to persist
    // failures beside: failing cases are printed instead (and belong in
    // `fuzz_regressions`).
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        check(&bytes);
        let mut gz = vec![0x1f, 0x8b];
        gz.extend_from_slice(&bytes);
        check(&gz);
        let mut idx = vec![0, 0, 8];
        idx.extend_from_slice(&bytes);
        check(&idx);
    }

    #[test]
    fn valid_files_round_trip(array in small_array()) {
        let bytes = array.to_bytes().unwrap();
        prop_assert_eq!(&parse_idx(&bytes).unwrap(), &array);
        prop_assert_eq!(&parse_idx(&gzip(&bytes)).unwrap(), &array);
    }

    #[test]
    fn mutated_raw_files_never_panic(
        array in small_array(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut bytes = array.to_bytes().unwrap();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check(&bytes);
        // The mutated content, compressed: the header claims go through the
        // gzip path too.
        check(&gzip(&bytes));
    }

    #[test]
    fn mutated_gzip_files_never_panic(
        array in small_array(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut bytes = gzip(&array.to_bytes().unwrap());
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check(&bytes);
    }
}
