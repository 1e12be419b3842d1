//! No allocation is driven by what an IDX header claims: a counting global
//! allocator records the largest single allocation while parsing inputs
//! whose headers claim gigabytes. (One test in this binary, so no other
//! thread allocates meanwhile.)

#[path = "common/largest_allocation.rs"]
mod allocations;

use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;

use flate2::Compression;
use flate2::write::GzEncoder;
use net_core::data::{IdxError, parse_idx, read_idx};

use allocations::LARGEST;

fn raw(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// The largest single allocation made by `f`.
fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.store(0, Ordering::Relaxed);
    let r = f();
    (r, LARGEST.load(Ordering::Relaxed))
}

#[test]
fn header_claims_do_not_drive_allocations() {
    let claims: [&[u32]; 4] = [
        &[1 << 31, 28, 28],
        &[u32::MAX, 0xffff],
        &[0x0080_0001, 28, 28],
        &[60_000, 28, 28],
    ];
    for dims in claims {
        // Raw: 1,000 bytes of data present.
        let file = raw(dims, &[7; 1000]);
        let (r, largest) = largest_allocation(|| parse_idx(&file));
        assert!(
            matches!(r, Err(IdxError::TruncatedData { actual: 1000, .. })),
            "{r:?}"
        );
        assert!(largest < 4096, "raw {dims:?}: {largest} bytes");

        // Gzip: 1 MB of zeros compresses to ~1 KB (ratio ~1000:1), the
        // worst case for a bound derived from the compressed size.
        let file = gzip(&raw(dims, &vec![0; 1 << 20]));
        assert!(file.len() < 2048, "{}", file.len());
        let (r, largest) = largest_allocation(|| parse_idx(&file));
        assert!(
            matches!(r, Err(IdxError::TruncatedData { actual, .. }) if actual == 1 << 20),
            "{r:?}"
        );
        // Bounded by twice the data really decompressed, whatever the claim.
        assert!(largest <= 2 << 20, "gzip {dims:?}: {largest} bytes");
    }

    // A complete real file: the image buffer is allocated at exactly its
    // declared size, no doubling slack (the file itself is 9.9 MB).
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/mnist/train-images-idx3-ubyte.gz");
    if !path.is_file() {
        println!("skipped the real-file part: {} is absent", path.display());
        return;
    }
    let (r, largest) = largest_allocation(|| read_idx(&path));
    let array = r.unwrap();
    assert_eq!(array.data.len(), 60_000 * 784);
    assert_eq!(array.data.capacity(), 60_000 * 784);
    assert_eq!(largest, 60_000 * 784, "largest allocation");
    println!("train-images: largest single allocation {largest} bytes");
}
