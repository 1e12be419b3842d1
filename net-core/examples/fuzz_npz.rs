//! A deterministic fuzz-style stress run of the NumPy `.npz` reader,
//! `net_core::io::load_npz`, into a small two-layer network in f32 and in
//! f64.
//!
//! Seeds: archives of the network's four arrays as NumPy writes them
//! (`.npy` format 1.0, 2.0 and 3.0, float32 and float64, little- and
//! big-endian, C and Fortran order), stored and deflated, with and without
//! zip64 records. Mutations: edits of the arrays before they are zipped
//! again (tokens of the header dict, its length, the format version, the
//! data, special values such as NaN, entry names, entries removed, swapped
//! or added) and, on a part of the inputs, the byte edits of `fuzz_common`
//! and edits of the numeric fields of the zip records (sizes, offsets,
//! counts) after they are zipped.
//!
//! Every input is written to a file and loaded under `catch_unwind`, and
//! must not panic; if it is refused, the network must be bit for bit as
//! before; if it is accepted, every value must be finite. A counting
//! allocator bounds the memory one load holds at once to 16 times the
//! input's size plus 4 MiB (the reader inflates at most about 1 MiB for
//! this network, whatever the archive declares). Exits non-zero on any
//! failure.
//!
//! ```text
//! cargo run -p net-core --example fuzz_npz [-- ITERATIONS [SEED]]
//! ```
//! (`ITERATIONS` inputs; 300,000 by default.)

#[path = "fuzz_common/mod.rs"]
mod fuzz;
#[path = "../tests/common/mod.rs"]
mod net;

use std::collections::BTreeMap;
use std::io::{Cursor, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use net_core::io::{ImportOptions, IoError, load_npz};
use net_core::{
    Batch, Init, LayerTensors, Network, ParamMut, ParamRef, ParamShape, ParamUpdate, Scalar,
    Targets, TensorSpec,
};
use rand::RngCore;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use fuzz::alloc::{Usage, measure};
use fuzz::{Op, Rng};
use net::{Net32, Net64, random_net, snapshot};

/// A load may hold at most `FACTOR · input + SLACK` bytes at once.
const FACTOR: usize = 16;
const SLACK: usize = 4 << 20;

/// A network written by hand, with the tensor layers `network!` would
/// list (a hand-written network lists none, and an importer then has
/// nothing to match).
struct Listed<N>(N);

impl<T: Scalar, N: Network<T>> Network<T> for Listed<N> {
    type In = N::In;
    type Out = N::Out;

    fn init(rng: &mut dyn RngCore, init: Init) -> Self {
        Listed(N::init(rng, init))
    }

    fn forward(&mut self, x: &Batch<T, N::In>) -> &Batch<T, N::Out> {
        self.0.forward(x)
    }

    fn forward_loss(&mut self, x: &Batch<T, N::In>, t: Targets<'_, T, N::Out>) -> T {
        self.0.forward_loss(x, t)
    }

    fn scores(&self) -> &Batch<T, N::Out> {
        self.0.scores()
    }

    fn backward(&mut self, x: &Batch<T, N::In>, t: Targets<'_, T, N::Out>, u: ParamUpdate<T>) {
        self.0.backward(x, t, u)
    }

    fn visit_params(&self, f: &mut dyn FnMut(ParamRef<'_, T>)) {
        self.0.visit_params(f)
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(ParamMut<'_, T>)) {
        self.0.visit_params_mut(f)
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
        self.0.visit_params(&mut |p| {
            if let Some(layer) = layers.get_mut(p.name.index.wrapping_sub(1)) {
                layer.tensors.push(TensorSpec {
                    name: p.name,
                    shape: p.shape,
                    buffer: false,
                });
            }
        });
        layers
    }
}

// ---------------------------------------------------------------------------
// Archives as NumPy writes them

/// An entry of an archive: its name and its `.npy` bytes.
type Entry = (String, Vec<u8>);

/// A `.npy` file of format `version` with `header` as its dict, padded as
/// NumPy pads it.
fn npy_raw(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    let width = if version == 1 { 2 } else { 4 };
    let unpadded = 8 + width + header.len() + 1;
    let padded = format!("{header}{}\n", " ".repeat((64 - unpadded % 64) % 64));
    match version {
        1 => out.extend((padded.len() as u16).to_le_bytes()),
        _ => out.extend((padded.len() as u32).to_le_bytes()),
    }
    out.extend(padded.as_bytes());
    out.extend(data);
    out
}

/// The `.npy` array of a parameter (values in the network's column-major
/// order), in the book's layout.
fn npy(
    shape: ParamShape,
    values: &[f64],
    version: u8,
    f32: bool,
    big: bool,
    fortran: bool,
) -> Vec<u8> {
    let dims = shape.dims();
    // Row-major, or column-major (Fortran order) for a matrix.
    let order: Vec<f64> = match shape {
        ParamShape::Matrix { rows, cols } if !fortran => (0..rows * cols)
            .map(|k| values[(k % cols) * rows + k / cols])
            .collect(),
        _ => values.to_vec(),
    };
    let mut data = Vec::new();
    for v in order {
        match (f32, big) {
            (true, false) => data.extend((v as f32).to_le_bytes()),
            (true, true) => data.extend((v as f32).to_be_bytes()),
            (false, false) => data.extend(v.to_le_bytes()),
            (false, true) => data.extend(v.to_be_bytes()),
        }
    }
    let descr = format!(
        "{}f{}",
        if big { '>' } else { '<' },
        if f32 { 4 } else { 8 }
    );
    let dims: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let fortran = if fortran { "True" } else { "False" };
    let header = format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
    npy_raw(version, &header, &data)
}

/// The archive of `entries`; `None` if the zip writer refuses them (two
/// entries of one name).
fn zip_of(entries: &[Entry], deflate: bool, zip64: bool) -> Option<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let method = if deflate {
        CompressionMethod::Deflated
    } else {
        CompressionMethod::Stored
    };
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(zip64);
    for (name, bytes) in entries {
        zip.start_file(name.as_str(), options).ok()?;
        zip.write_all(bytes).ok()?;
    }
    Some(zip.finish().ok()?.into_inner())
}

/// A valid archive's entries, to mutate.
struct Seed {
    entries: Vec<Entry>,
    /// Written from an f64 network (otherwise f32).
    f64: bool,
}

/// The arrays of `net`, in each form NumPy writes.
fn seeds_of<T: Scalar, N: Network<T>>(net: &N, f64: bool, out: &mut Vec<Seed>) {
    let forms = [
        (1, false, false),
        (2, false, true),
        (3, true, false),
        (1, true, true),
    ];
    for (version, big, fortran) in forms {
        let mut entries = Vec::new();
        net.visit_params(&mut |p| {
            let values: Vec<f64> = p.value.iter().map(|v| v.as_f64()).collect();
            let bytes = npy(p.shape, &values, version, !f64, big, fortran);
            entries.push((format!("{}.npy", p.name), bytes));
        });
        out.push(Seed { entries, f64 });
    }
}

// ---------------------------------------------------------------------------
// Mutations of the arrays

/// Pieces of a header dict to write into one.
const PIECES: &[&str] = &[
    "'<f4'",
    "'<f8'",
    "'>f4'",
    "'>f8'",
    "'=f8'",
    "'f4'",
    "'|f4'",
    "'<i8'",
    "'|u1'",
    "'<f2'",
    "'<c16'",
    "'O'",
    "'<U10'",
    "''",
    "'descr'",
    "'shape'",
    "'fortran_order'",
    "'x'",
    "True",
    "False",
    "None",
    "true",
    "0",
    "1",
    "-1",
    "4",
    "3",
    "2",
    "12",
    "()",
    "(3,)",
    "(2,)",
    "(4, 3)",
    "(3, 4)",
    "(3, 2)",
    "(2, 3)",
    "(12,)",
    "(0,)",
    "(0, 0)",
    "(4, 3, 1)",
    "(1, 4, 3)",
    "(3)",
    "(3L,)",
    "(4L, 3L)",
    "(-1,)",
    "(1.5,)",
    "('3',)",
    "(18446744073709551615,)",
    "(18446744073709551616,)",
    "(4294967296, 4294967296)",
    "(3037000500, 3037000500)",
    "(9223372036854775807, 2)",
    "[4, 3]",
    "[('a', '<f4'), ('b', '<f8')]",
    "{}",
    "{'a': (1, [2])}",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "'",
    "\"",
    "\\",
    "\n",
    " ",
    "é",
    "\u{0}",
];

/// Entry names to rename to, or add.
const NAMES: &[&str] = &[
    "W1.npy",
    "b1.npy",
    "W2.npy",
    "b2.npy",
    "W3.npy",
    "w1.npy",
    "W1",
    "W1.NPY",
    ".npy",
    "",
    "W1.npy/",
    "dir/W1.npy",
    "W1.npz",
    "b2.npy.npy",
    "é.npy",
];

/// Special f32 values, as bits: NaNs, infinities, extremes, subnormals.
const F32_SPECIALS: [u32; 6] = [
    0x7fc0_0000,
    0xff80_0000,
    0x7f80_0000,
    0x7f7f_ffff,
    0x0000_0001,
    0x8000_0000,
];

/// Special f64 values, as bits.
const F64_SPECIALS: [u64; 6] = [
    0x7ff8_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7ff0_0000_0000_0000,
    0x7fef_ffff_ffff_ffff,
    0x0000_0000_0000_0001,
    0x8000_0000_0000_0000,
];

/// An interesting unsigned number, near `near` or at a limit.
fn number(rng: &mut Rng, near: u64) -> u64 {
    match rng.below(6) {
        0..=2 => near.wrapping_add(rng.below(9) as u64).wrapping_sub(4),
        3 => rng.below(300) as u64,
        4 => rng.next() >> rng.below(64),
        _ => *rng.pick(&[
            0,
            1,
            0xffff,
            0x1_0000,
            u64::from(u32::MAX),
            1 << 32,
            i64::MAX as u64,
            u64::MAX,
        ]),
    }
}

/// Where the header dict of a `.npy` starts and ends (its length field's
/// width, and the dict's range), if the preamble is there.
fn header_span(npy: &[u8]) -> Option<(usize, usize, usize)> {
    let width = if *npy.get(6)? == 1 { 2 } else { 4 };
    let len = match *npy.get(8..8 + width)? {
        [a, b] => usize::from(u16::from_le_bytes([a, b])),
        [a, b, c, d] => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => return None,
    };
    let start = 8 + width;
    Some((width, start, (start + len).min(npy.len())))
}

/// Writes the length of the header (`start..end`) into its field.
fn reframe(npy: &mut [u8], width: usize, start: usize, end: usize) {
    let len = end - start;
    let bytes = (len as u32).to_le_bytes();
    if let Some(field) = npy.get_mut(8..8 + width) {
        field.copy_from_slice(&bytes[..width]);
    }
}

/// Edits a token of the header dict: replaced, removed, or a piece
/// inserted; the length field follows 15 times in 16.
fn header_token(rng: &mut Rng, npy: &mut Vec<u8>) -> bool {
    let Some((width, start, end)) = header_span(npy) else {
        return false;
    };
    // Token boundaries: quotes, punctuation and spaces.
    let cuts: Vec<usize> = (start..end)
        .filter(|&i| {
            matches!(
                npy[i],
                b'\'' | b'"' | b'(' | b')' | b',' | b':' | b' ' | b'{' | b'}'
            )
        })
        .collect();
    if cuts.len() < 2 {
        return false;
    }
    let from = cuts[rng.below(cuts.len())];
    let to = (from + 1 + rng.below(12)).min(end);
    let piece = rng.pick(PIECES).as_bytes().to_vec();
    let grown = match rng.below(3) {
        0 => {
            let removed = to - from;
            npy.splice(from..to, piece.iter().copied());
            piece.len() as isize - removed as isize
        }
        1 => {
            npy.drain(from..to);
            -((to - from) as isize)
        }
        _ => {
            npy.splice(from..from, piece.iter().copied());
            piece.len() as isize
        }
    };
    if rng.below(16) != 0 {
        let end = (end as isize + grown).max(start as isize) as usize;
        reframe(npy, width, start, end);
    }
    true
}

/// Sets the header length field, or the format version, to an
/// interesting value.
fn preamble(rng: &mut Rng, npy: &mut [u8]) -> bool {
    let Some((width, start, end)) = header_span(npy) else {
        return false;
    };
    if rng.below(3) == 0 {
        let at = 6 + rng.below(2);
        let value = *rng.pick(&[0u8, 1, 2, 3, 4, 255]);
        if let Some(b) = npy.get_mut(at) {
            *b = value;
        }
        return true;
    }
    let value = number(rng, (end - start) as u64).to_le_bytes();
    if let Some(field) = npy.get_mut(8..8 + width) {
        field.copy_from_slice(&value[..width]);
    }
    true
}

/// Writes a special value into the data, cuts it or extends it.
fn data_edit(rng: &mut Rng, npy: &mut Vec<u8>) -> bool {
    let Some((_, _, end)) = header_span(npy) else {
        return false;
    };
    let data_len = npy.len() - end;
    match rng.below(4) {
        0 if data_len > 0 => npy.truncate(npy.len() - 1 - rng.below(data_len.min(9))),
        1 => {
            for _ in 0..1 + rng.below(8) {
                let b = rng.byte();
                npy.push(b);
            }
        }
        _ => {
            let wide = rng.below(2) == 0;
            let size = if wide { 8 } else { 4 };
            if data_len < size {
                return false;
            }
            let at = end + rng.below(data_len / size) * size;
            let value = if wide {
                rng.pick(&F64_SPECIALS).to_le_bytes().to_vec()
            } else {
                rng.pick(&F32_SPECIALS).to_le_bytes().to_vec()
            };
            if let Some(slot) = npy.get_mut(at..at + size) {
                slot.copy_from_slice(&value);
            }
        }
    }
    true
}

/// Renames, removes, duplicates or swaps entries, or adds one of another
/// seed.
fn entry_edit(rng: &mut Rng, entries: &mut Vec<Entry>, seeds: &[Seed]) {
    let other = rng.pick(seeds).entries.clone();
    let len = entries.len();
    match rng.below(5) {
        0 if len > 0 => entries[rng.below(len)].0 = rng.pick(NAMES).to_string(),
        1 if len > 0 => {
            entries.remove(rng.below(len));
        }
        2 if len > 1 => {
            let (i, j) = (rng.below(len), rng.below(len));
            let bytes = entries[i].1.clone();
            entries[j].1 = bytes;
        }
        3 if len > 0 => {
            let i = rng.below(len);
            entries[i].1 = rng.pick(&other).1.clone();
        }
        _ => {
            let mut entry = rng.pick(&other).clone();
            if rng.below(2) == 0 {
                entry.0 = rng.pick(NAMES).to_string();
            }
            entries.insert(rng.below(len + 1), entry);
        }
    }
}

// ---------------------------------------------------------------------------
// Mutations of the zip records

const ZIP_FIELD: u8 = 0;

/// The byte edits and the edits of the zip records, with their weights.
const OPS: [(Op, usize); 8] = [
    (Op::Flip, 1),
    (Op::Set, 1),
    (Op::Truncate, 1),
    (Op::Insert, 1),
    (Op::Remove, 1),
    (Op::Append, 1),
    (Op::Splice, 1),
    (Op::Format(ZIP_FIELD), 6),
];

/// The signatures of the zip records: local header, central header, end
/// of central directory, zip64 end record and locator.
const SIGNATURES: [&[u8]; 5] = [
    b"PK\x03\x04",
    b"PK\x01\x02",
    b"PK\x05\x06",
    b"PK\x06\x06",
    b"PK\x06\x07",
];

/// Overwrites a 2-, 4- or 8-byte field of a zip record (a size, an
/// offset, a count, a length) with an interesting number.
fn zip_field(rng: &mut Rng, bytes: &mut [u8]) -> bool {
    let starts: Vec<usize> = (0..bytes.len().saturating_sub(3))
        .filter(|&i| SIGNATURES.iter().any(|s| bytes[i..].starts_with(s)))
        .collect();
    if starts.is_empty() {
        return false;
    }
    let at = starts[rng.below(starts.len())] + 4 + rng.below(52);
    let width = *rng.pick(&[2usize, 4, 4, 8]);
    let Some(field) = bytes.get_mut(at..at + width) else {
        return false;
    };
    let mut old = [0u8; 8];
    old[..width].copy_from_slice(field);
    let value = number(rng, u64::from_le_bytes(old)).to_le_bytes();
    field.copy_from_slice(&value[..width]);
    true
}

// ---------------------------------------------------------------------------
// Running the loader

/// What one load did.
enum Outcome {
    Accepted,
    Rejected(&'static str),
    Panicked,
    ChangedOnError(&'static str),
    Wrong(String),
}

/// The kind of a refusal: the variant, and for `NotNpz` what it found.
fn kind(e: &IoError) -> &'static str {
    let message = e.to_string();
    let has = |s: &str| message.contains(s);
    match e {
        IoError::Disagreements { .. } => "Disagreements",
        IoError::NotNpz { .. } if has("readable zip archive") => "NotNpz: zip structure",
        IoError::NotNpz { .. } if has("cannot be opened") => "NotNpz: entry unopenable",
        IoError::NotNpz { .. } if has("cannot be read") => "NotNpz: entry unreadable",
        IoError::NotNpz { .. } if has("not a `.npy` array") => "NotNpz: not .npy",
        IoError::NotNpz { .. } if has("would inflate") => "NotNpz: over the budget",
        IoError::NotNpz { .. } if has("inflates to") => "NotNpz: size disagrees",
        IoError::NotNpz { .. } if has("bad header") => "NotNpz: npy header",
        IoError::NotNpz { .. } if has("bytes of data") => "NotNpz: npy data length",
        IoError::NotNpz { .. } => "NotNpz: other",
        IoError::Read { .. } => "Read",
        _ => "other",
    }
}

/// Loads `input` (written at `path`) into `net`, and judges the outcome.
fn run<T: Scalar, N: Network<T>>(
    net: &mut Listed<N>,
    path: &Path,
    input: &[u8],
    options: ImportOptions,
) -> (Outcome, Usage) {
    if let Err(e) = std::fs::write(path, input) {
        return (
            Outcome::Wrong(format!("the input cannot be written: {e}")),
            Usage::default(),
        );
    }
    let before = snapshot(&net.0);
    let (result, usage) = measure(|| fuzz::unwinding(|| load_npz(net, path, options)));
    let outcome = match result {
        None => Outcome::Panicked,
        Some(Ok(())) => {
            let mut finite = true;
            net.visit_params(&mut |p| finite &= p.value.iter().all(|v| v.as_f64().is_finite()));
            if finite {
                Outcome::Accepted
            } else {
                Outcome::Wrong("a value loaded is not finite".into())
            }
        }
        Some(Err(e)) if snapshot(&net.0) != before => Outcome::ChangedOnError(kind(&e)),
        Some(Err(e)) => Outcome::Rejected(kind(&e)),
    };
    (outcome, usage)
}

#[derive(Default)]
struct Stats {
    inputs: usize,
    accepted: usize,
    rejected: BTreeMap<&'static str, usize>,
    panics: usize,
    changed: usize,
    wrong: usize,
    over_bound: usize,
    peak: (usize, usize),
    largest_input: usize,
    failures: Vec<(String, Vec<u8>)>,
}

/// One mutated input: its bytes and whether it goes to the f64 network.
fn input(rng: &mut Rng, seeds: &[Seed], pool: &[Vec<u8>]) -> (Vec<u8>, bool) {
    let seed = rng.pick(seeds);
    let deflate = rng.below(2) == 0;
    let zip64 = rng.below(2) == 0;
    let mut entries = seed.entries.clone();
    // One input in 8 is a seed's archive under byte edits alone.
    let structural = rng.below(8) != 0;
    if structural {
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(entries.len().max(1));
            let done = match (rng.below(10), entries.get_mut(i)) {
                (0..=3, Some(entry)) => header_token(rng, &mut entry.1),
                (4, Some(entry)) => preamble(rng, &mut entry.1),
                (5 | 6, Some(entry)) => data_edit(rng, &mut entry.1),
                (7, Some(entry)) => {
                    let ops = fuzz::weighted(&OPS[..7]);
                    fuzz::mutate(rng, &mut entry.1, pool, 2, &ops, &mut |_, _, _| false);
                    true
                }
                _ => false,
            };
            if !done {
                entry_edit(rng, &mut entries, seeds);
            }
        }
    }
    let mut bytes = zip_of(&entries, deflate, zip64)
        .or_else(|| zip_of(&seed.entries, deflate, zip64))
        .unwrap_or_default();
    if !structural || rng.below(3) == 0 {
        let ops = fuzz::weighted(&OPS);
        fuzz::mutate(rng, &mut bytes, pool, 4, &ops, &mut |rng, bytes, _| {
            zip_field(rng, bytes)
        });
    }
    // Mostly into the network of the seed's dtype.
    let f64 = seed.f64 != (rng.below(8) == 0);
    (bytes, f64)
}

fn fuzz_all(
    iterations: usize,
    rng: &mut Rng,
    seeds: &[Seed],
    pool: &[Vec<u8>],
    path: &Path,
) -> Stats {
    let mut stats = Stats::default();
    let mut net32 = Listed(random_net::<f32, Net32>(11));
    let mut net64 = Listed(random_net::<f64, Net64>(12));
    for _ in 0..iterations {
        let (bytes, f64) = input(rng, seeds, pool);
        let options = ImportOptions::new()
            .convert_dtype(rng.below(4) == 0)
            .ignore_unused(rng.below(4) == 0);
        let (outcome, usage) = if f64 {
            run::<f64, _>(&mut net64, path, &bytes, options)
        } else {
            run::<f32, _>(&mut net32, path, &bytes, options)
        };
        stats.inputs += 1;
        stats.largest_input = stats.largest_input.max(bytes.len());
        if usage.peak > stats.peak.0 {
            stats.peak = (usage.peak, bytes.len());
        }
        let over = usage.peak > FACTOR * bytes.len() + SLACK;
        stats.over_bound += usize::from(over);
        let failure = match outcome {
            Outcome::Accepted => {
                stats.accepted += 1;
                None
            }
            Outcome::Rejected(kind) => {
                *stats.rejected.entry(kind).or_default() += 1;
                None
            }
            Outcome::Panicked => {
                stats.panics += 1;
                Some("panic".to_owned())
            }
            Outcome::ChangedOnError(kind) => {
                stats.changed += 1;
                Some(format!("network changed on error ({kind})"))
            }
            Outcome::Wrong(why) => {
                stats.wrong += 1;
                Some(why)
            }
        };
        let failure = failure.or_else(|| over.then(|| format!("held {} bytes", usage.peak)));
        if let Some(what) = failure {
            if stats.failures.len() < 5 {
                stats.failures.push((what, bytes));
            }
        }
    }
    stats
}

fn main() -> ExitCode {
    let (iterations, seed) = fuzz::iterations_and_seed(300_000);
    let mut rng = Rng(seed);

    let mut seeds = Vec::new();
    seeds_of(&random_net::<f32, Net32>(1), false, &mut seeds);
    seeds_of(&random_net::<f64, Net64>(2), true, &mut seeds);
    // In memory where the system has it: one file is written per input.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).or_else(|_| tempfile::tempdir())
    } else {
        tempfile::tempdir()
    };
    let dir = match dir {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("no temporary directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = dir.path().join("input.npz");

    // Sanity: every seed loads, stored and deflated, and gives the values
    // it was written from.
    let mut pool = Vec::new();
    for s in &seeds {
        for (deflate, zip64) in [(false, true), (true, false)] {
            let Some(bytes) = zip_of(&s.entries, deflate, zip64) else {
                eprintln!("a seed cannot be zipped");
                return ExitCode::FAILURE;
            };
            let loaded = if s.f64 {
                let mut net = Listed(random_net::<f64, Net64>(7));
                let ok = matches!(
                    run(&mut net, &path, &bytes, ImportOptions::new()).0,
                    Outcome::Accepted
                );
                ok && snapshot(&net.0) == snapshot(&random_net::<f64, Net64>(2))
            } else {
                let mut net = Listed(random_net::<f32, Net32>(7));
                let ok = matches!(
                    run(&mut net, &path, &bytes, ImportOptions::new()).0,
                    Outcome::Accepted
                );
                ok && snapshot(&net.0) == snapshot(&random_net::<f32, Net32>(1))
            };
            if !loaded {
                eprintln!("a seed does not load as written: {}", bytes.escape_ascii());
                return ExitCode::FAILURE;
            }
            pool.push(bytes);
        }
    }

    // Silence the default panic message: panics are counted and reported.
    let panics = fuzz::quiet_panics();
    let start = Instant::now();
    let Some(stats) = fuzz::unwinding(|| fuzz_all(iterations, &mut rng, &seeds, &pool, &path))
    else {
        let message = fuzz::last_panic_message(&panics).unwrap_or_default();
        println!("fuzz_npz: the fuzzer itself panicked: {message}");
        return ExitCode::FAILURE;
    };
    let elapsed = start.elapsed();
    println!(
        "fuzz_npz: {} inputs in {elapsed:.2?} ({:.0} inputs/s), seed {seed:#x}",
        stats.inputs,
        stats.inputs as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    println!(
        "  accepted {}, rejected {}, panics {}, changed on error {}, wrong on success {}",
        stats.accepted,
        stats.rejected.values().sum::<usize>(),
        stats.panics,
        stats.changed,
        stats.wrong
    );
    println!("  rejections by error: {:?}", stats.rejected);
    println!(
        "  largest input {} bytes; most memory held by a load {} bytes (input {} bytes); loads \
         over the limit ({FACTOR} × input + {SLACK} bytes) {}",
        stats.largest_input, stats.peak.0, stats.peak.1, stats.over_bound
    );
    if !stats.failures.is_empty() {
        if let Some(message) = fuzz::first_panic_message(&panics) {
            println!("  first panic: {message}");
        }
        for (what, input) in &stats.failures {
            println!("  failure ({what}): b\"{}\"", input.escape_ascii());
        }
        return ExitCode::FAILURE;
    }
    println!("  ok");
    ExitCode::SUCCESS
}
