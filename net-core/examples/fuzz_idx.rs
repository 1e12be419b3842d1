//! A deterministic fuzz-style stress run of the IDX parser, raw and gzip.
//!
//! Runs `net_core::data::parse_idx` over mutated small valid IDX files (bit
//! flips, byte edits, truncations, header dimension edits, insertions,
//! deletions, splices), each under `catch_unwind`; the gzip path gets both
//! mutated compressed streams and compressed mutated content. A counting
//! allocator checks that no single allocation exceeds a bound (the parser
//! must never allocate what a header merely claims). Exits non-zero on any
//! panic or oversized allocation. The generator, the generic mutations and
//! the allocator are those of `fuzz_common/`, shared with
//! `fuzz_safetensors`.
//!
//! ```text
//! cargo run --release -p net-core --example fuzz_idx [-- ITERATIONS [SEED]]
//! ```

#[path = "fuzz_common/mod.rs"]
mod fuzz;

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use flate2::Compression;
use flate2::write::GzEncoder;
use net_core::data::{IdxArray, IdxError, parse_idx};

use fuzz::alloc::measure;
use fuzz::{Op, Rng};

/// No allocation made while parsing an input of at most a few hundred bytes
/// may exceed this (the gzip decoder's own state is a few tens of KiB).
const MAX_ALLOCATION: usize = 1 << 20;

fn gzip(bytes: &[u8], level: u32) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::new(level));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// Small valid files: a few shapes, including MNIST-like ones.
fn seeds(rng: &mut Rng) -> Vec<Vec<u8>> {
    let shapes: [&[usize]; 8] = [
        &[1],
        &[10],
        &[3, 4],
        &[2, 3, 4],
        &[1, 28, 28],
        &[5, 2, 2],
        &[0, 28, 28],
        &[2, 1, 1, 3],
    ];
    shapes
        .iter()
        .map(|dims| {
            let n: usize = dims.iter().product();
            IdxArray {
                dims: dims.to_vec(),
                data: (0..n).map(|_| rng.byte() % 16).collect(),
            }
            .to_bytes()
            .unwrap_or_default()
        })
        .collect()
}

/// Interesting dimension values for header edits.
const DIMS: [u32; 10] = [
    0,
    1,
    2,
    28,
    60_000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
    0x0001_0000,
];

/// The mutations, drawn uniformly: the generic ones, and two of the IDX
/// header.
const OPS: [Op; 9] = [
    Op::Flip,
    Op::Set,
    Op::Truncate,
    Op::Insert,
    Op::Remove,
    Op::Format(DIMENSION),
    Op::Format(DIMENSION_COUNT_OR_DTYPE),
    Op::Append,
    Op::Splice,
];
const DIMENSION: u8 = 0;
const DIMENSION_COUNT_OR_DTYPE: u8 = 1;

/// The IDX header's mutations; `false` if `bytes` is too short for one.
fn mutate_header(rng: &mut Rng, bytes: &mut [u8], op: u8) -> bool {
    match op {
        DIMENSION => {
            // Raw layout: dims start at byte 4.
            let k = rng.below(4);
            let v = if rng.below(2) == 0 {
                DIMS[rng.below(DIMS.len())]
            } else {
                rng.next() as u32
            };
            if let Some(slot) = bytes.get_mut(4 + 4 * k..8 + 4 * k) {
                slot.copy_from_slice(&v.to_be_bytes());
            }
            true
        }
        _ if bytes.len() > 3 => {
            let at = 2 + rng.below(2);
            let v = rng.byte();
            if let Some(b) = bytes.get_mut(at) {
                *b = v;
            }
            true
        }
        _ => false,
    }
}

/// Applies one to four random mutations.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, pool: &[Vec<u8>]) {
    fuzz::mutate(rng, bytes, pool, 4, &OPS, &mut |rng, bytes, op| {
        mutate_header(rng, bytes, op)
    });
}

/// What happened to one input.
enum Outcome {
    Accepted,
    Rejected(&'static str),
    Panicked,
    /// Accepted, but the array is inconsistent.
    Bogus,
}

fn kind(e: &IdxError) -> &'static str {
    match e {
        IdxError::TruncatedHeader { .. } => "TruncatedHeader",
        IdxError::BadMagic { .. } => "BadMagic",
        IdxError::UnsupportedDtype { .. } => "UnsupportedDtype",
        IdxError::NoDimensions => "NoDimensions",
        IdxError::SizeOverflow { .. } => "SizeOverflow",
        IdxError::TruncatedData { .. } => "TruncatedData",
        IdxError::TrailingData { .. } => "TrailingData",
        IdxError::Gzip { .. } => "Gzip",
        _ => "other",
    }
}

/// Parses `input` under `catch_unwind`; also returns the largest single
/// allocation made meanwhile.
fn run(input: &[u8]) -> (Outcome, usize) {
    let (result, usage) = measure(|| fuzz::unwinding(|| parse_idx(input)));
    let outcome = match result {
        Some(Ok(array)) => {
            if array.num_elements() == Some(array.data.len()) && !array.dims.is_empty() {
                Outcome::Accepted
            } else {
                Outcome::Bogus
            }
        }
        Some(Err(e)) => Outcome::Rejected(kind(&e)),
        None => Outcome::Panicked,
    };
    (outcome, usage.largest)
}

fn main() -> ExitCode {
    let (iterations, seed) = fuzz::iterations_and_seed(1_000_000);
    let mut rng = Rng(seed);

    let raw_seeds = seeds(&mut rng);
    let gz_seeds: Vec<Vec<u8>> = raw_seeds
        .iter()
        .enumerate()
        .map(|(i, s)| gzip(s, [0, 1, 6, 9][i % 4]))
        .collect();
    let mut pool = raw_seeds.clone();
    pool.extend(gz_seeds.iter().cloned());
    // Sanity: every seed parses.
    for s in &pool {
        if parse_idx(s).is_err() {
            eprintln!("a seed does not parse: {s:?}");
            return ExitCode::FAILURE;
        }
    }
    // Gzip streams of header-edited content (huge claims through the
    // decompressor), compressed once here since compressing is slow.
    let mut claim_pool = Vec::new();
    for _ in 0..512 {
        let mut bytes = raw_seeds[rng.below(raw_seeds.len())].clone();
        mutate(&mut rng, &mut bytes, &pool);
        claim_pool.push(gzip(&bytes, 1));
    }

    // Silence the default panic message: panics are counted and reported.
    let first_panic = fuzz::quiet_panics();

    let start = Instant::now();
    let (mut accepted, mut panics, mut bogus) = (0usize, 0usize, 0usize);
    let mut rejected: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut gzip_inputs = 0usize;
    let mut crashers: Vec<Vec<u8>> = Vec::new();
    let mut largest_input = 0;
    let mut largest = 0;
    let mut largest_at: Vec<u8> = Vec::new();
    for i in 0..iterations {
        let input = match i % 8 {
            // Mutated raw files.
            0..=3 => {
                let mut bytes = raw_seeds[rng.below(raw_seeds.len())].clone();
                mutate(&mut rng, &mut bytes, &pool);
                bytes
            }
            // Mutated gzip streams.
            4 | 5 => {
                let mut bytes = gz_seeds[rng.below(gz_seeds.len())].clone();
                mutate(&mut rng, &mut bytes, &pool);
                bytes
            }
            // Gzip of mutated content, sometimes mutated again.
            6 => {
                let mut bytes = claim_pool[rng.below(claim_pool.len())].clone();
                if rng.below(2) == 0 {
                    mutate(&mut rng, &mut bytes, &pool);
                }
                bytes
            }
            // Freshly compressed mutated content (slower: 1 in 64).
            _ => {
                let mut bytes = raw_seeds[rng.below(raw_seeds.len())].clone();
                mutate(&mut rng, &mut bytes, &pool);
                if i % 64 == 7 {
                    gzip(&bytes, 1)
                } else {
                    let mut v = bytes;
                    // Random bytes behind the gzip magic.
                    v.splice(0..0, [0x1f, 0x8b]);
                    v
                }
            }
        };
        largest_input = largest_input.max(input.len());
        if input.starts_with(&[0x1f, 0x8b]) {
            gzip_inputs += 1;
        }
        let (outcome, allocated) = run(&input);
        if allocated > largest {
            largest = allocated;
            largest_at.clone_from(&input);
        }
        match outcome {
            Outcome::Accepted => accepted += 1,
            Outcome::Rejected(kind) => *rejected.entry(kind).or_default() += 1,
            Outcome::Panicked => {
                panics += 1;
                if crashers.len() < 10 {
                    crashers.push(input);
                }
            }
            Outcome::Bogus => {
                bogus += 1;
                if crashers.len() < 10 {
                    crashers.push(input);
                }
            }
        }
    }
    let elapsed = start.elapsed();
    println!(
        "fuzz_idx: {iterations} inputs ({gzip_inputs} gzip) in {elapsed:.2?} ({:.0} inputs/s), seed {seed:#x}",
        iterations as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    println!(
        "  accepted {accepted}, rejected {}, panics {panics}, inconsistent {bogus}",
        rejected.values().sum::<usize>()
    );
    println!("  rejections by error: {rejected:?}");
    println!(
        "  largest input {largest_input} bytes; largest single allocation while parsing \
         {largest} bytes (limit {MAX_ALLOCATION})"
    );
    let mut failed = false;
    if panics > 0 || bogus > 0 {
        failed = true;
        if let Some(message) = fuzz::first_panic_message(&first_panic) {
            println!("  first panic: {message}");
        }
        for c in &crashers {
            println!("  crasher: {c:?}");
        }
    }
    if largest > MAX_ALLOCATION {
        failed = true;
        println!("  an allocation exceeded {MAX_ALLOCATION} bytes, for input {largest_at:?}");
    }
    if failed {
        ExitCode::FAILURE
    } else {
        println!("  ok");
        ExitCode::SUCCESS
    }
}
