//! A deterministic fuzz-style stress run of the `predict` example's PNG
//! path: its decoding (`predict/png_decode.rs`) and the framing to MNIST's
//! 28×28 (`predict/frame.rs`), the very files `predict` compiles.
//!
//! Seeds: valid PNGs of every color type and bit depth (gray 1 to 16 bits,
//! gray + alpha, RGB, RGBA, palette with and without `tRNS`, a gray key),
//! of square, flat and tall shapes down to 1×1 and up to 7000×1, and an
//! animated one. Mutations: the byte edits of `fuzz_common`, and edits of
//! the format: IHDR fields (width and height up to 2³²−1, bit depth, color
//! type, interlacing) with the CRC fixed so that the decoder believes them,
//! chunk lengths, chunk data with the CRC fixed, and chunks removed,
//! duplicated, swapped or inserted.
//!
//! Every input runs under `catch_unwind` and must not panic; an image that
//! decodes must be 28×28 values in `0..=255`. A counting allocator checks
//! that no input makes the path hold more than the decoder promises
//! (`MAX_PNG_BYTES` for the image, plus the png crate's own buffers).
//! Exits non-zero on any failure.
//!
//! ```text
//! cargo run --example fuzz_png [-- ITERATIONS [SEED]]
//! ```
//! (500,000 inputs by default: about 35 s in the dev profile.)

#[path = "../net-core/examples/fuzz_common/mod.rs"]
mod fuzz;

#[path = "predict/frame.rs"]
mod frame;
#[path = "predict/png_decode.rs"]
mod png_decode;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use png::{BitDepth, ColorType};

use frame::to_mnist;
use fuzz::alloc::measure;
use fuzz::{Op, Rng};
use png_decode::{MAX_PNG_BYTES, decode_png};

/// What the png crate may hold beyond the image the decoder counts: its
/// inflate state, a few rows, and the chunks it keeps (its default limits
/// allow 64 MiB of these).
const DECODER_OWN: usize = 64 << 20;

/// The most one input may make the path hold at once.
const MAX_HELD: usize = MAX_PNG_BYTES + DECODER_OWN;

/// The 8-byte PNG signature, then IHDR's length and type.
const IHDR_DATA: usize = 16;

/// What a seed is made of, besides its pixels.
struct Kind {
    size: (u32, u32),
    color: ColorType,
    depth: BitDepth,
    /// The palette (RGB triples), for `Indexed`.
    palette: Option<Vec<u8>>,
    /// The `tRNS` chunk: alpha per palette entry, or the transparent gray
    /// or RGB key.
    trns: Option<Vec<u8>>,
    frames: u32,
}

impl Kind {
    fn plain(size: (u32, u32), color: ColorType, depth: BitDepth) -> Self {
        Kind {
            size,
            color,
            depth,
            palette: None,
            trns: None,
            frames: 1,
        }
    }
}

/// Encodes a valid PNG of that kind, its pixels drawn from `rng`; empty if
/// the encoder refuses the kind.
fn encode(rng: &mut Rng, kind: Kind) -> Vec<u8> {
    let (width, height) = kind.size;
    let row = (width as usize * kind.color.samples() * kind.depth as usize).div_ceil(8);
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(kind.color);
    encoder.set_depth(kind.depth);
    if let Some(palette) = kind.palette {
        encoder.set_palette(palette);
    }
    if let Some(trns) = kind.trns {
        encoder.set_trns(trns);
    }
    let written = (if kind.frames > 1 {
        encoder.set_animated(kind.frames, 0)
    } else {
        Ok(())
    })
    .and_then(|()| encoder.write_header())
    .and_then(|mut writer| {
        for _ in 0..kind.frames {
            // Mostly dark with light strokes, as a digit: few distinct
            // values compress well, so that the large seeds stay small.
            let data: Vec<u8> = (0..row * height as usize)
                .map(|_| if rng.below(8) == 0 { rng.byte() } else { 0 })
                .collect();
            writer.write_image_data(&data)?;
        }
        writer.finish()
    });
    if written.is_err() {
        out.clear();
    }
    out
}

/// Valid PNGs of every color type and depth, several shapes.
fn seeds(rng: &mut Rng) -> Vec<Vec<u8>> {
    use BitDepth::{Eight, Four, One, Sixteen, Two};
    use ColorType::{Grayscale, GrayscaleAlpha, Indexed, Rgb, Rgba};
    let mut kinds: Vec<Kind> = [
        ((28, 28), Grayscale, Eight),
        ((5, 3), Grayscale, One),
        ((9, 4), Grayscale, Two),
        ((7, 7), Grayscale, Four),
        ((17, 33), Grayscale, Sixteen),
        ((12, 12), GrayscaleAlpha, Eight),
        ((3, 20), GrayscaleAlpha, Sixteen),
        ((20, 20), Rgb, Eight),
        ((9, 9), Rgb, Sixteen),
        ((30, 20), Rgba, Eight),
        ((4, 4), Rgba, Sixteen),
        ((1, 1), Grayscale, Eight),
        ((56, 56), Grayscale, Eight),
        ((7000, 1), Grayscale, Eight),
        ((1, 7000), Grayscale, Eight),
        ((3000, 2), Grayscale, One),
        ((2, 900), Rgba, Eight),
        ((29, 27), Rgb, Eight),
    ]
    .into_iter()
    .map(|(size, color, depth)| Kind::plain(size, color, depth))
    .collect();
    for (size, depth, colors, trns) in [
        ((45, 45), Eight, 256, None),
        ((10, 3), One, 2, None),
        ((6, 6), Two, 4, Some(vec![0, 128])),
        ((13, 60), Four, 16, Some(vec![255; 16])),
    ] {
        kinds.push(Kind {
            palette: Some((0..3 * colors).map(|_| rng.byte()).collect()),
            trns,
            ..Kind::plain(size, Indexed, depth)
        });
    }
    // Transparent keys: a gray and an RGB color.
    kinds.push(Kind {
        trns: Some(vec![0, 0]),
        ..Kind::plain((8, 8), Grayscale, Eight)
    });
    kinds.push(Kind {
        trns: Some(vec![0; 6]),
        ..Kind::plain((8, 8), Rgb, Eight)
    });
    kinds.push(Kind {
        frames: 2,
        ..Kind::plain((10, 10), Grayscale, Eight)
    });
    kinds.into_iter().map(|kind| encode(rng, kind)).collect()
}

/// Where each chunk starts (its length field), and its data's length.
fn chunks(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut at = 8;
    while let Some(len) = bytes.get(at..at + 4) {
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if at + 12 + len > bytes.len() {
            break;
        }
        found.push((at, len));
        at += 12 + len;
    }
    found
}

/// Recomputes the CRC of the chunk at `at` of data length `len`.
fn fix_crc(bytes: &mut [u8], at: usize, len: usize) {
    let crc = crc32fast::hash(&bytes[at + 4..at + 8 + len]);
    bytes[at + 8 + len..at + 12 + len].copy_from_slice(&crc.to_be_bytes());
}

/// Interesting widths, heights and chunk lengths.
const SIZES: [u32; 14] = [
    0,
    1,
    2,
    28,
    7000,
    16_384,
    65_535,
    0x0100_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
    3000,
    4100,
];

/// The mutations, drawn uniformly: the generic ones, and those of the
/// PNG format.
const OPS: [Op; 11] = [
    Op::Flip,
    Op::Set,
    Op::Truncate,
    Op::Insert,
    Op::Remove,
    Op::Append,
    Op::Splice,
    Op::Format(IHDR_FIELD),
    Op::Format(CHUNK_LENGTH),
    Op::Format(CHUNK_DATA),
    Op::Format(CHUNK_ORDER),
];
const IHDR_FIELD: u8 = 0;
const CHUNK_LENGTH: u8 = 1;
const CHUNK_DATA: u8 = 2;
const CHUNK_ORDER: u8 = 3;

/// Chunks to insert: ancillary ones the decoder reads, and critical ones
/// out of place.
fn extra_chunk(rng: &mut Rng) -> Vec<u8> {
    let (kind, data): (&[u8; 4], Vec<u8>) = match rng.below(7) {
        0 => (b"tRNS", (0..rng.below(300)).map(|_| rng.byte()).collect()),
        1 => (
            b"PLTE",
            (0..3 * rng.below(300)).map(|_| rng.byte()).collect(),
        ),
        2 => (b"gAMA", 45_455u32.to_be_bytes().to_vec()),
        3 => (b"IEND", Vec::new()),
        4 => (b"tEXt", b"Comment\0fuzz".to_vec()),
        5 => (
            b"acTL",
            [2u32, 0].iter().flat_map(|v| v.to_be_bytes()).collect(),
        ),
        _ => (b"IDAT", (0..rng.below(64)).map(|_| rng.byte()).collect()),
    };
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(&data);
    chunk.extend_from_slice(&crc32fast::hash(&chunk[4..]).to_be_bytes());
    chunk
}

/// The PNG format's mutations; `false` when `bytes` has no chunk to edit.
fn mutate_format(rng: &mut Rng, bytes: &mut Vec<u8>, op: u8) -> bool {
    let found = chunks(bytes);
    if found.is_empty() {
        return false;
    }
    match op {
        IHDR_FIELD => {
            let Some(&(at, len)) = found.first().filter(|&&(_, len)| len >= 13) else {
                return false;
            };
            let field = rng.below(6);
            if field < 2 {
                // Width or height.
                let v = if rng.below(2) == 0 {
                    *rng.pick(&SIZES)
                } else {
                    rng.next() as u32
                };
                let start = IHDR_DATA + 4 * field;
                bytes[start..start + 4].copy_from_slice(&v.to_be_bytes());
            } else {
                // Bit depth, color type, compression or filter method, or
                // interlacing: small values are the interesting ones.
                let v = if rng.below(2) == 0 {
                    *rng.pick(&[0, 1, 2, 3, 4, 6, 8, 16])
                } else {
                    rng.byte()
                };
                let offset = [8, 9, 10, 11, 12][rng.below(5)];
                bytes[IHDR_DATA + offset] = v;
            }
            fix_crc(bytes, at, len);
            true
        }
        CHUNK_LENGTH => {
            let &(at, len) = rng.pick(&found);
            let v = match rng.below(3) {
                0 => *rng.pick(&SIZES),
                1 => (len as u32)
                    .wrapping_add(rng.below(9) as u32)
                    .wrapping_sub(4),
                _ => rng.next() as u32,
            };
            bytes[at..at + 4].copy_from_slice(&v.to_be_bytes());
            true
        }
        CHUNK_DATA => {
            let &(at, len) = rng.pick(&found);
            if len == 0 {
                return false;
            }
            for _ in 0..1 + rng.below(3) {
                let i = at + 8 + rng.below(len);
                bytes[i] = if rng.below(2) == 0 {
                    bytes[i] ^ (1 << rng.below(8))
                } else {
                    rng.byte()
                };
            }
            fix_crc(bytes, at, len);
            true
        }
        _ => {
            let &(at, len) = rng.pick(&found);
            let chunk: Vec<u8> = bytes[at..at + 12 + len].to_vec();
            match rng.below(4) {
                0 => {
                    bytes.drain(at..at + 12 + len);
                }
                1 => {
                    bytes.splice(at..at, chunk);
                }
                2 => {
                    // Moved before another chunk.
                    let &(to, _) = rng.pick(&found);
                    bytes.drain(at..at + 12 + len);
                    let to = to.min(bytes.len());
                    bytes.splice(to..to, chunk);
                }
                _ => {
                    let extra = extra_chunk(rng);
                    bytes.splice(at..at, extra);
                }
            }
            true
        }
    }
}

/// Applies one to four random mutations.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, pool: &[Vec<u8>]) {
    fuzz::mutate(rng, bytes, pool, 4, &OPS, &mut mutate_format);
}

/// What happened to one input.
enum Outcome {
    Accepted,
    Rejected(String),
    Panicked,
    /// Accepted, but a value is out of `0..=255`.
    Bogus,
}

/// The predict path on `input`, under `catch_unwind`.
fn run(input: &[u8]) -> Outcome {
    let result = fuzz::unwinding(|| {
        decode_png(input).map(|(gray, _notes)| {
            let (pixels, _notes) = to_mnist(gray);
            pixels
        })
    });
    match result {
        Some(Ok(pixels)) if pixels.iter().all(|v| (0.0..=255.0).contains(v)) => Outcome::Accepted,
        Some(Ok(_)) => Outcome::Bogus,
        Some(Err(message)) => Outcome::Rejected(kind(&message)),
        None => Outcome::Panicked,
    }
}

/// An error message's kind, for the tally: its first words, numbers
/// left out.
fn kind(message: &str) -> String {
    message
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .take(4)
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() -> ExitCode {
    let (iterations, seed) = fuzz::iterations_and_seed(200_000);
    let mut rng = Rng(seed);

    let pool = seeds(&mut rng);
    // Sanity: every seed decodes.
    for (i, s) in pool.iter().enumerate() {
        if let Err(e) = decode_png(s) {
            eprintln!("seed {i} does not decode: {e}");
            return ExitCode::FAILURE;
        }
    }

    // Silence the default panic message: panics are counted and reported.
    let panics_seen = fuzz::quiet_panics();

    let start = Instant::now();
    let (mut accepted, mut panics, mut bogus) = (0usize, 0usize, 0usize);
    let mut rejected: BTreeMap<String, usize> = BTreeMap::new();
    let mut crashers: Vec<Vec<u8>> = Vec::new();
    let (mut held, mut held_at) = (0, Vec::new());
    let mut largest_input = 0;
    for _ in 0..iterations {
        let mut input = pool[rng.below(pool.len())].clone();
        mutate(&mut rng, &mut input, &pool);
        largest_input = largest_input.max(input.len());
        let (outcome, usage) = measure(|| run(&input));
        if usage.peak > held {
            held = usage.peak;
            held_at.clone_from(&input);
        }
        let failed = matches!(outcome, Outcome::Panicked | Outcome::Bogus);
        match outcome {
            Outcome::Accepted => accepted += 1,
            Outcome::Rejected(kind) => *rejected.entry(kind).or_default() += 1,
            Outcome::Panicked => panics += 1,
            Outcome::Bogus => bogus += 1,
        }
        if failed && crashers.len() < 10 {
            crashers.push(input);
        }
    }
    let elapsed = start.elapsed();
    println!(
        "fuzz_png: {iterations} inputs in {elapsed:.2?} ({:.0} inputs/s), seed {seed:#x}",
        iterations as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    println!(
        "  decoded {accepted}, rejected {}, panics {panics}, out of range {bogus}",
        rejected.values().sum::<usize>()
    );
    let mut kinds: Vec<_> = rejected.into_iter().collect();
    kinds.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    for (kind, n) in kinds.iter().take(12) {
        println!("    {n:>8}  {kind}");
    }
    println!(
        "  largest input {largest_input} bytes; most held at once {held} bytes (limit {MAX_HELD})"
    );
    let mut failed = false;
    if panics > 0 || bogus > 0 {
        failed = true;
        if let Some(message) = fuzz::first_panic_message(&panics_seen) {
            println!("  first panic: {message}");
        }
        for c in &crashers {
            println!("  crasher: {c:?}");
        }
    }
    if held > MAX_HELD {
        failed = true;
        println!("  the path held more than {MAX_HELD} bytes, for input {held_at:?}");
    }
    if failed {
        ExitCode::FAILURE
    } else {
        println!("  ok");
        ExitCode::SUCCESS
    }
}
