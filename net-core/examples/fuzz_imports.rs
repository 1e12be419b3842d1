//! A deterministic fuzz-style stress run of the readers of other
//! frameworks' files, `net_core::io::load_npz_from_bytes` (NumPy `.npz`
//! archives) and `load_pytorch_from_bytes` (PyTorch `state_dict`s saved
//! with safetensors), into a small two-layer network in f32 and in f64.
//!
//! npz seeds: archives of the network's four arrays as NumPy writes them
//! (`.npy` format 1.0, 2.0 and 3.0, float32 and float64, little- and
//! big-endian, C and Fortran order), stored and deflated, with and without
//! zip64 records. Mutations: edits of the arrays before they are zipped
//! again (tokens of the header dict, its length, the format version, the
//! data, special values such as NaN, entry names, entries removed, swapped
//! or added) and, on a part of the inputs, the byte edits of `fuzz_common`
//! and edits of the numeric fields of the zip records (sizes, offsets,
//! counts) after they are zipped.
//!
//! PyTorch seeds: `pytorch_to_bytes` of the network (f32 and f64), and the
//! same tensors under PyTorch's other module names (`features.0.weight`,
//! `fc1.weight`, `layers.2` before `layers.10`) with the keys and the data
//! in other orders. (The test network has no `BatchNorm`, so no seed has a
//! `num_batches_tracked`; the mutations add one here and there.)
//! Mutations: edits of the tensors before the file is framed again (names,
//! shapes, two tensors' shapes swapped, dtypes, data offsets, special
//! values, data cut or extended, tensors removed, reordered or added),
//! token edits of the header JSON, the header length field, and the byte
//! edits of `fuzz_common`.
//!
//! Every input is loaded from memory under `catch_unwind`, and must not
//! panic; if it is refused, the network must be bit for bit as before; if
//! it is accepted, every value must be finite. A counting allocator bounds
//! the memory one load holds at once to 16 times the input's size plus
//! 4 MiB (the npz reader inflates at most about 1 MiB for this network,
//! whatever the archive declares). Exits non-zero on any failure.
//!
//! ```text
//! cargo run -p net-core --example fuzz_imports [-- ITERATIONS [SEED]]
//! ```
//! (`ITERATIONS` inputs for each reader; 300,000 by default.)

#[path = "fuzz_common/mod.rs"]
mod fuzz;
#[path = "../tests/common/mod.rs"]
mod net;

use std::collections::BTreeMap;
use std::io::{Cursor, Write};
use std::process::ExitCode;
use std::time::Instant;

use net_core::io::{
    ImportOptions, IoError, load_npz_from_bytes, load_pytorch_from_bytes, pytorch_to_bytes,
};
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

/// The seeds of the networks the valid files are written from, and of
/// those the fuzzed inputs load into.
const SEED_F32: u64 = 1;
const SEED_F64: u64 = 2;

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
// What both readers' mutations share

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

/// Edits a token of the text header at `start..end` of `bytes` (a `.npy`
/// dict, a safetensors JSON): replaced by one of `pieces`, removed, or a
/// piece inserted at a token boundary. Returns the header's new end, or
/// `None` if it has no boundary to cut at.
fn text_edit(
    rng: &mut Rng,
    bytes: &mut Vec<u8>,
    start: usize,
    end: usize,
    pieces: &[&str],
) -> Option<usize> {
    // Token boundaries: quotes, punctuation and spaces.
    let cuts: Vec<usize> = (start..end.min(bytes.len()))
        .filter(|&i| {
            matches!(
                bytes[i],
                b'\'' | b'"' | b'(' | b')' | b'[' | b']' | b',' | b':' | b' ' | b'{' | b'}'
            )
        })
        .collect();
    if cuts.len() < 2 {
        return None;
    }
    let from = cuts[rng.below(cuts.len())];
    let to = (from + 1 + rng.below(12)).min(end);
    let piece = rng.pick(pieces).as_bytes().to_vec();
    let end = match rng.below(3) {
        0 => {
            bytes.splice(from..to, piece.iter().copied());
            end - (to - from) + piece.len()
        }
        1 => {
            bytes.drain(from..to);
            end - (to - from)
        }
        _ => {
            bytes.splice(from..from, piece.iter().copied());
            end + piece.len()
        }
    };
    Some(end.max(start))
}

/// Writes a special value (NaN, ±∞, an extreme, a subnormal), as f32 or
/// f64, at a value's place in `data`.
fn special_value(rng: &mut Rng, data: &mut [u8]) -> bool {
    let wide = rng.below(2) == 0;
    let size = if wide { 8 } else { 4 };
    if data.len() < size {
        return false;
    }
    let at = rng.below(data.len() / size) * size;
    let value = if wide {
        rng.pick(&F64_SPECIALS).to_le_bytes().to_vec()
    } else {
        rng.pick(&F32_SPECIALS).to_le_bytes().to_vec()
    };
    if let Some(slot) = data.get_mut(at..at + size) {
        slot.copy_from_slice(&value);
    }
    true
}

/// The byte edits of `fuzz_common` and one format edit, with their
/// weights.
const fn ops(format_weight: usize) -> [(Op, usize); 8] {
    [
        (Op::Flip, 1),
        (Op::Set, 1),
        (Op::Truncate, 1),
        (Op::Insert, 1),
        (Op::Remove, 1),
        (Op::Append, 1),
        (Op::Splice, 1),
        (Op::Format(0), format_weight),
    ]
}

// ---------------------------------------------------------------------------
// The harness both readers run in

/// A reader under test: how it loads, the valid files it starts from, and
/// how it mutates them.
trait Reader {
    const NAME: &'static str;

    fn load<T: Scalar, N: Network<T>>(
        net: &mut N,
        bytes: &[u8],
        options: ImportOptions,
    ) -> Result<(), IoError>;

    /// Valid files, each with whether it was written from the f64 network
    /// (of seed [`SEED_F64`]; otherwise the f32 one, of [`SEED_F32`]).
    fn valid(&self) -> Vec<(Vec<u8>, bool)>;

    /// One mutated input, and whether it goes to the f64 network.
    fn input(&self, rng: &mut Rng) -> (Vec<u8>, bool);

    /// The kind of a refusal, for the statistics.
    fn kind(e: &IoError) -> String;
}

/// What one load did.
enum Outcome {
    Accepted,
    Rejected(String),
    Panicked,
    ChangedOnError(String),
    Wrong(String),
}

/// Loads `input` into `net`, and judges the outcome.
fn run<R: Reader, T: Scalar, N: Network<T>>(
    net: &mut Listed<N>,
    input: &[u8],
    options: ImportOptions,
) -> (Outcome, Usage) {
    let before = snapshot(&net.0);
    let (result, usage) = measure(|| fuzz::unwinding(|| R::load(net, input, options)));
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
        Some(Err(e)) if snapshot(&net.0) != before => Outcome::ChangedOnError(R::kind(&e)),
        Some(Err(e)) => Outcome::Rejected(R::kind(&e)),
    };
    (outcome, usage)
}

/// Checks that every valid file of `reader` loads and gives the values it
/// was written from.
fn sanity<R: Reader>(reader: &R) -> Result<(), String> {
    for (bytes, f64) in reader.valid() {
        let loaded = if f64 {
            let mut net = Listed(random_net::<f64, Net64>(7));
            let ok = matches!(
                run::<R, _, _>(&mut net, &bytes, ImportOptions::new()).0,
                Outcome::Accepted
            );
            ok && snapshot(&net.0) == snapshot(&random_net::<f64, Net64>(SEED_F64))
        } else {
            let mut net = Listed(random_net::<f32, Net32>(7));
            let ok = matches!(
                run::<R, _, _>(&mut net, &bytes, ImportOptions::new()).0,
                Outcome::Accepted
            );
            ok && snapshot(&net.0) == snapshot(&random_net::<f32, Net32>(SEED_F32))
        };
        if !loaded {
            return Err(format!(
                "a seed does not load as written: b\"{}\"",
                bytes.escape_ascii()
            ));
        }
    }
    Ok(())
}

#[derive(Default)]
struct Stats {
    inputs: usize,
    accepted: usize,
    rejected: BTreeMap<String, usize>,
    panics: usize,
    changed: usize,
    wrong: usize,
    over_bound: usize,
    peak: (usize, usize),
    largest_input: usize,
    failures: Vec<(String, Vec<u8>)>,
}

impl Stats {
    fn record(&mut self, outcome: Outcome, usage: Usage, input: Vec<u8>) {
        self.inputs += 1;
        self.largest_input = self.largest_input.max(input.len());
        if usage.peak > self.peak.0 {
            self.peak = (usage.peak, input.len());
        }
        let over = usage.peak > FACTOR * input.len() + SLACK;
        self.over_bound += usize::from(over);
        let failure = match outcome {
            Outcome::Accepted => {
                self.accepted += 1;
                None
            }
            Outcome::Rejected(kind) => {
                *self.rejected.entry(kind).or_default() += 1;
                None
            }
            Outcome::Panicked => {
                self.panics += 1;
                Some("panic".to_owned())
            }
            Outcome::ChangedOnError(kind) => {
                self.changed += 1;
                Some(format!("network changed on error ({kind})"))
            }
            Outcome::Wrong(why) => {
                self.wrong += 1;
                Some(why)
            }
        };
        let failure = failure.or_else(|| over.then(|| format!("held {} bytes", usage.peak)));
        if let Some(what) = failure {
            if self.failures.len() < 5 {
                self.failures.push((what, input));
            }
        }
    }
}

/// `iterations` mutated inputs of `reader`, each into the network of its
/// dtype (mostly the one it was written from), under options drawn too.
fn fuzz_reader<R: Reader>(reader: &R, iterations: usize, rng: &mut Rng) -> Stats {
    let mut stats = Stats::default();
    let mut net32 = Listed(random_net::<f32, Net32>(11));
    let mut net64 = Listed(random_net::<f64, Net64>(12));
    for _ in 0..iterations {
        let (bytes, f64) = reader.input(rng);
        let options = ImportOptions::new()
            .convert_dtype(rng.below(4) == 0)
            .ignore_unused(rng.below(4) == 0);
        let (outcome, usage) = if f64 {
            run::<R, f64, _>(&mut net64, &bytes, options)
        } else {
            run::<R, f32, _>(&mut net32, &bytes, options)
        };
        stats.record(outcome, usage, bytes);
    }
    stats
}

/// Checks and fuzzes `reader`, and prints what happened; `false` on any
/// failure.
fn check<R: Reader>(reader: &R, iterations: usize, seed: u64, panics: &fuzz::Panics) -> bool {
    let name = R::NAME;
    if let Err(e) = sanity(reader) {
        println!("{name}: {e}");
        return false;
    }
    let mut rng = Rng(seed);
    let start = Instant::now();
    let Some(stats) = fuzz::unwinding(|| fuzz_reader(reader, iterations, &mut rng)) else {
        let message = fuzz::last_panic_message(panics).unwrap_or_default();
        println!("{name}: the fuzzer itself panicked: {message}");
        return false;
    };
    let elapsed = start.elapsed();
    println!(
        "{name}: {} inputs in {elapsed:.2?} ({:.0} inputs/s), seed {seed:#x}",
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
        if let Some(message) = fuzz::first_panic_message(panics) {
            println!("  first panic: {message}");
        }
        for (what, input) in &stats.failures {
            println!("  failure ({what}): b\"{}\"", input.escape_ascii());
        }
        return false;
    }
    println!("  ok");
    true
}

fn main() -> ExitCode {
    let (iterations, seed) = fuzz::iterations_and_seed(300_000);
    let net32: Net32 = random_net(SEED_F32);
    let net64: Net64 = random_net(SEED_F64);
    let npz = Npz::new(&net32, &net64);
    let pytorch = match Pytorch::new(&net32, &net64) {
        Ok(pytorch) => pytorch,
        Err(e) => {
            eprintln!("the PyTorch seeds cannot be written: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Silence the default panic message: panics are counted and reported.
    let panics = fuzz::quiet_panics();
    let npz_ok = check(&npz, iterations, seed, &panics);
    let pytorch_ok = check(&pytorch, iterations, seed ^ 0x9e37_79b9, &panics);
    if npz_ok && pytorch_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

// ---------------------------------------------------------------------------
// npz: archives as NumPy writes them

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

/// The npz reader, with its seeds and the archives they zip to.
struct Npz {
    seeds: Vec<Seed>,
    /// The seeds' archives, stored and deflated: the splices' sources.
    pool: Vec<Vec<u8>>,
}

impl Npz {
    fn new(net32: &Net32, net64: &Net64) -> Self {
        let mut seeds = Vec::new();
        seeds_of(net32, false, &mut seeds);
        seeds_of(net64, true, &mut seeds);
        let mut pool = Vec::new();
        for s in &seeds {
            for (deflate, zip64) in [(false, true), (true, false)] {
                pool.extend(zip_of(&s.entries, deflate, zip64));
            }
        }
        Npz { seeds, pool }
    }
}

impl Reader for Npz {
    const NAME: &'static str = "npz reader";

    fn load<T: Scalar, N: Network<T>>(
        net: &mut N,
        bytes: &[u8],
        options: ImportOptions,
    ) -> Result<(), IoError> {
        load_npz_from_bytes(net, bytes, options)
    }

    fn valid(&self) -> Vec<(Vec<u8>, bool)> {
        let mut files = Vec::new();
        for s in &self.seeds {
            for (deflate, zip64) in [(false, true), (true, false)] {
                // An archive the writer refuses is caught as not loading.
                let bytes = zip_of(&s.entries, deflate, zip64).unwrap_or_default();
                files.push((bytes, s.f64));
            }
        }
        files
    }

    fn input(&self, rng: &mut Rng) -> (Vec<u8>, bool) {
        let (seeds, pool) = (&self.seeds, &self.pool);
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
                        let ops = fuzz::weighted(&ops(0));
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
            let ops = fuzz::weighted(&ops(6));
            fuzz::mutate(rng, &mut bytes, pool, 4, &ops, &mut |rng, bytes, _| {
                zip_field(rng, bytes)
            });
        }
        // Mostly into the network of the seed's dtype.
        let f64 = seed.f64 != (rng.below(8) == 0);
        (bytes, f64)
    }

    fn kind(e: &IoError) -> String {
        npz_kind(e).to_owned()
    }
}

/// The kind of an npz refusal: the variant, and for `NotNpz` what it
/// found.
fn npz_kind(e: &IoError) -> &'static str {
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

// ---------------------------------------------------------------------------
// npz: mutations of the arrays

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

/// Edits a token of the header dict; the length field follows 15 times
/// in 16.
fn header_token(rng: &mut Rng, npy: &mut Vec<u8>) -> bool {
    let Some((width, start, end)) = header_span(npy) else {
        return false;
    };
    let Some(end) = text_edit(rng, npy, start, end, PIECES) else {
        return false;
    };
    if rng.below(16) != 0 {
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
        _ => return special_value(rng, &mut npy[end..]),
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
// npz: mutations of the zip records

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
// PyTorch: state_dicts saved with safetensors

/// A tensor of a safetensors file to write.
#[derive(Clone)]
struct Tensor {
    name: String,
    dtype: String,
    shape: Vec<u64>,
    data: Vec<u8>,
}

/// A valid state_dict's tensors, in the order of the file, to mutate.
struct StateDict {
    tensors: Vec<Tensor>,
    /// Written from an f64 network (otherwise f32).
    f64: bool,
}

/// A safetensors file of `tensors`, the header's keys and the data in
/// their order, with `offsets` instead of the true data offsets of one
/// tensor.
fn safetensors_file(tensors: &[Tensor], offsets: Option<(usize, [u64; 2])>) -> Vec<u8> {
    let mut header = String::from("{");
    let mut data = Vec::new();
    for (i, t) in tensors.iter().enumerate() {
        let start = data.len() as u64;
        data.extend_from_slice(&t.data);
        let [from, to] = match offsets {
            Some((at, offsets)) if at == i => offsets,
            _ => [start, data.len() as u64],
        };
        let shape: Vec<String> = t.shape.iter().map(u64::to_string).collect();
        if i > 0 {
            header.push(',');
        }
        header.push_str(&format!(
            "{}:{{\"dtype\":{},\"shape\":[{}],\"data_offsets\":[{from},{to}]}}",
            serde_json::Value::from(t.name.as_str()),
            serde_json::Value::from(t.dtype.as_str()),
            shape.join(",")
        ));
    }
    header.push('}');
    // Padded with spaces to a multiple of 8, as the format's writers do.
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    out
}

/// The state_dict of `net` under PyTorch's names for its modules
/// (`prefixes`: the first affine's, the second's), in the book's order.
fn state_dict<T: Scalar, N: Network<T>>(net: &N, prefixes: [&str; 2]) -> Vec<Tensor> {
    let dtype = if T::of_f64(0.1).as_f64() == 0.1 {
        "F64"
    } else {
        "F32"
    };
    let mut tensors = Vec::new();
    net.visit_params(&mut |p| {
        let module = prefixes[p.name.index - 1];
        let (role, shape) = match p.shape {
            // Column-major `[inputs, outputs]` is row-major `[outputs, inputs]`.
            ParamShape::Matrix { rows, cols } => ("weight", vec![cols as u64, rows as u64]),
            _ => ("bias", vec![p.value.len() as u64]),
        };
        let mut data = Vec::new();
        for v in p.value.iter() {
            match dtype {
                "F64" => data.extend(v.as_f64().to_le_bytes()),
                _ => data.extend((v.as_f64() as f32).to_le_bytes()),
            }
        }
        tensors.push(Tensor {
            name: format!("{module}.{role}"),
            dtype: dtype.to_owned(),
            shape,
            data,
        });
    });
    tensors
}

/// PyTorch's names for the two modules: an `nn.Sequential`'s, one inside
/// another module, named attributes, and numbers that sort otherwise as
/// text than as numbers.
const PREFIXES: [[&str; 2]; 5] = [
    ["0", "2"],
    ["features.0", "features.2"],
    ["fc1", "fc2"],
    ["layers.2", "layers.10"],
    ["model.net.1", "model.net.3"],
];

/// The state_dicts of `net`, under each module naming, their tensors in
/// several orders.
fn state_dicts_of<T: Scalar, N: Network<T>>(net: &N, f64: bool, out: &mut Vec<StateDict>) {
    for (k, prefixes) in PREFIXES.into_iter().enumerate() {
        let tensors = state_dict(net, prefixes);
        let mut reversed = tensors.clone();
        reversed.reverse();
        // Biases first, then weights; and the second module first.
        let mut by_role = tensors.clone();
        by_role.sort_by_key(|t| !t.name.ends_with("bias"));
        let mut by_module = tensors.clone();
        by_module.rotate_left(2);
        let orders = [tensors, reversed, by_role, by_module];
        // Every order for `nn.Sequential`'s names, two for the others.
        for (i, tensors) in orders.into_iter().enumerate() {
            if k == 0 || i % 2 == k % 2 {
                out.push(StateDict { tensors, f64 });
            }
        }
    }
}

/// The PyTorch reader, with its seeds.
struct Pytorch {
    seeds: Vec<StateDict>,
    /// `pytorch_to_bytes` of the networks, with the digest it records.
    written: Vec<(Vec<u8>, bool)>,
    /// Every valid file: the splices' sources.
    pool: Vec<Vec<u8>>,
}

impl Pytorch {
    fn new(net32: &Net32, net64: &Net64) -> Result<Self, IoError> {
        let mut seeds = Vec::new();
        state_dicts_of(net32, false, &mut seeds);
        state_dicts_of(net64, true, &mut seeds);
        let written = vec![
            (pytorch_to_bytes(&Listed(net32.clone()))?, false),
            (pytorch_to_bytes(&Listed(net64.clone()))?, true),
        ];
        let mut pool: Vec<Vec<u8>> = seeds
            .iter()
            .map(|s| safetensors_file(&s.tensors, None))
            .collect();
        pool.extend(written.iter().map(|(bytes, _)| bytes.clone()));
        Ok(Pytorch {
            seeds,
            written,
            pool,
        })
    }
}

impl Reader for Pytorch {
    const NAME: &'static str = "PyTorch reader";

    fn load<T: Scalar, N: Network<T>>(
        net: &mut N,
        bytes: &[u8],
        options: ImportOptions,
    ) -> Result<(), IoError> {
        load_pytorch_from_bytes(net, bytes, options)
    }

    fn valid(&self) -> Vec<(Vec<u8>, bool)> {
        let mut files: Vec<(Vec<u8>, bool)> = self
            .seeds
            .iter()
            .map(|s| (safetensors_file(&s.tensors, None), s.f64))
            .collect();
        files.extend(self.written.iter().cloned());
        files
    }

    fn input(&self, rng: &mut Rng) -> (Vec<u8>, bool) {
        // One input in 8 is a valid file under byte edits alone (the
        // files `pytorch_to_bytes` writes among them, whose digest any
        // change of the data breaks).
        let (mut bytes, f64) = if rng.below(8) == 0 {
            let (bytes, f64) = if rng.below(2) == 0 {
                rng.pick(&self.written).clone()
            } else {
                let seed = rng.pick(&self.seeds);
                (safetensors_file(&seed.tensors, None), seed.f64)
            };
            let ops = fuzz::weighted(&ops(2));
            let mut bytes = bytes;
            fuzz::mutate(
                rng,
                &mut bytes,
                &self.pool,
                4,
                &ops,
                &mut |rng, bytes, _| header_length(rng, bytes),
            );
            (bytes, f64)
        } else {
            let seed = rng.pick(&self.seeds);
            let mut tensors = seed.tensors.clone();
            let mut offsets = None;
            for _ in 0..1 + rng.below(3) {
                offsets = tensor_edit(rng, &mut tensors, &self.seeds).or(offsets);
            }
            let mut bytes = safetensors_file(&tensors, offsets);
            if rng.below(4) == 0 {
                json_edit(rng, &mut bytes);
            }
            if rng.below(4) == 0 {
                let ops = fuzz::weighted(&ops(2));
                fuzz::mutate(
                    rng,
                    &mut bytes,
                    &self.pool,
                    3,
                    &ops,
                    &mut |rng, bytes, _| header_length(rng, bytes),
                );
            }
            (bytes, seed.f64)
        };
        if bytes.is_empty() && rng.below(2) == 0 {
            bytes.push(0);
        }
        // Mostly into the network of the seed's dtype.
        (bytes, f64 != (rng.below(8) == 0))
    }

    fn kind(e: &IoError) -> String {
        // The variant, and the variant of a format error inside.
        let debug = format!("{e:?}");
        let word = |s: &str| {
            s.split(|c: char| !c.is_alphanumeric() && c != '_')
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        match debug.find("problem: ") {
            Some(at) => format!("{}: {}", word(&debug), word(&debug[at + 9..])),
            None => word(&debug),
        }
    }
}

// ---------------------------------------------------------------------------
// PyTorch: mutations of the tensors and of the header

/// Names to rename a tensor to, or add one under: PyTorch's, wrong ones,
/// and odd ones.
const KEYS: &[&str] = &[
    "0.weight",
    "0.bias",
    "2.weight",
    "2.bias",
    "1.weight",
    "4.weight",
    "features.0.weight",
    "features.2.bias",
    "fc1.weight",
    "weight",
    "bias",
    "0.running_mean",
    "0.running_var",
    "num_batches_tracked",
    "1.num_batches_tracked",
    "0.weight.weight",
    "0.Weight",
    "0.",
    ".",
    "",
    "10.weight",
    "-1.weight",
    "18446744073709551616.weight",
    "__metadata__",
    "é.weight",
    "0\u{0}.weight",
];

/// Dtypes to retype a tensor to.
const DTYPES: &[&str] = &[
    "F32", "F64", "F16", "BF16", "I64", "I32", "I8", "U8", "BOOL", "F8_E4M3", "f32", "X", "",
];

/// The width of a safetensors dtype, in bytes (4 for a name that is none).
fn dtype_width(dtype: &str) -> u64 {
    match dtype {
        "F64" | "I64" | "U64" => 8,
        "F16" | "BF16" | "I16" | "U16" => 2,
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => 1,
        _ => 4,
    }
}

/// A shape near `shape`: its axes swapped, a dimension changed, an axis
/// added or removed, empty, or huge.
fn reshape(rng: &mut Rng, shape: &[u64]) -> Vec<u64> {
    let mut shape = shape.to_vec();
    match rng.below(7) {
        0 => shape.reverse(),
        1 if !shape.is_empty() => {
            let at = rng.below(shape.len());
            shape[at] = number(rng, shape[at]);
        }
        2 => shape.insert(rng.below(shape.len() + 1), 1),
        3 if !shape.is_empty() => {
            shape.remove(rng.below(shape.len()));
        }
        4 => shape.clear(),
        5 => shape = vec![shape.iter().fold(1u64, |n, &d| n.wrapping_mul(d))],
        _ => {
            for dim in shape.iter_mut() {
                *dim = number(rng, *dim);
            }
        }
    }
    shape
}

/// Gives `tensor` data of the size its shape and dtype say (zeros at the
/// end), if that is a small size.
fn fit_data(tensor: &mut Tensor) {
    let bytes = tensor
        .shape
        .iter()
        .try_fold(dtype_width(&tensor.dtype), |n, &d| n.checked_mul(d))
        .filter(|&n| n <= 1 << 16);
    if let Some(bytes) = bytes {
        tensor.data.resize(bytes as usize, 0);
    }
}

/// Edits the tensors of a state_dict; returns data offsets to write
/// instead of one tensor's true ones, when it draws that edit.
fn tensor_edit(
    rng: &mut Rng,
    tensors: &mut Vec<Tensor>,
    seeds: &[StateDict],
) -> Option<(usize, [u64; 2])> {
    let len = tensors.len();
    let i = rng.below(len.max(1));
    match rng.below(12) {
        0 if len > 0 => tensors[i].name = rng.pick(KEYS).to_string(),
        1 if len > 0 => {
            tensors[i].shape = reshape(rng, &tensors[i].shape);
            // Half the time with data of the new size, past the parser.
            if rng.below(2) == 0 {
                fit_data(&mut tensors[i]);
            }
        }
        2 if len > 1 => {
            // Two tensors' shapes swapped, their data left.
            let j = rng.below(len);
            let shape = tensors[i].shape.clone();
            tensors[i].shape = std::mem::replace(&mut tensors[j].shape, shape);
            if rng.below(2) == 0 {
                fit_data(&mut tensors[i]);
                fit_data(&mut tensors[j]);
            }
        }
        3 if len > 0 => {
            let t = &mut tensors[i];
            t.dtype = rng.pick(DTYPES).to_string();
            // Mostly with data of the new width.
            if rng.below(4) != 0 {
                fit_data(t);
            }
        }
        4 if len > 0 => {
            tensors.remove(i);
        }
        5 if len > 0 => {
            // A second tensor of a name already there.
            let mut copy = tensors[rng.below(len)].clone();
            copy.name = tensors[i].name.clone();
            tensors.insert(rng.below(len + 1), copy);
        }
        6 => {
            let mut extra = if rng.below(2) == 0 {
                // PyTorch's batch counter: an I64 scalar.
                Tensor {
                    name: String::new(),
                    dtype: "I64".into(),
                    shape: Vec::new(),
                    data: 1000u64.to_le_bytes().to_vec(),
                }
            } else {
                let other = &rng.pick(seeds).tensors;
                rng.pick(other).clone()
            };
            extra.name = rng.pick(KEYS).to_string();
            tensors.insert(rng.below(len + 1), extra);
        }
        7 if len > 1 => {
            let j = rng.below(len);
            tensors.swap(i, j);
        }
        8 if len > 0 => {
            special_value(rng, &mut tensors[i].data);
        }
        9 if len > 0 => {
            let data = &mut tensors[i].data;
            if rng.below(2) == 0 && !data.is_empty() {
                data.truncate(data.len() - 1 - rng.below(data.len().min(9)));
            } else {
                for _ in 0..1 + rng.below(8) {
                    data.push(rng.byte());
                }
            }
        }
        10 if len > 0 => {
            let start: u64 = tensors[..i].iter().map(|t| t.data.len() as u64).sum();
            let end = start + tensors[i].data.len() as u64;
            let offsets = match rng.below(3) {
                0 => [number(rng, start), end],
                1 => [start, number(rng, end)],
                _ => [end, start],
            };
            return Some((i, offsets));
        }
        _ => {
            // A tensor of the other dtype's seed in its place.
            if let Some(t) = tensors.get_mut(i) {
                let other = rng.pick(seeds);
                if let Some(o) = other.tensors.iter().find(|o| o.name == t.name) {
                    *t = o.clone();
                }
            }
        }
    }
    None
}

/// Pieces of a safetensors header to write into one.
const JSON_PIECES: &[&str] = &[
    "\"F32\"",
    "\"F64\"",
    "\"I64\"",
    "\"BF16\"",
    "\"BOOL\"",
    "\"dtype\"",
    "\"shape\"",
    "\"data_offsets\"",
    "\"__metadata__\"",
    "\"0.weight\"",
    "\"2.bias\"",
    "\"num_batches_tracked\"",
    "\"sha256\"",
    "[3,4]",
    "[4,3]",
    "[2,3]",
    "[3]",
    "[]",
    "[0]",
    "[-1]",
    "[1.5]",
    "[18446744073709551615]",
    "[4294967296,4294967296]",
    "[0,48]",
    "[48,0]",
    "[0,18446744073709551615]",
    "{}",
    "{\"a\":[{}]}",
    "null",
    "true",
    "1e400",
    "-0",
    "0",
    "12",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "\\",
    "\\u0000",
    " ",
    "é",
    "\u{0}",
];

/// Edits a token of the header JSON; the length field follows 15 times
/// in 16.
fn json_edit(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let Some(field) = bytes.get(..8) else {
        return false;
    };
    let len = u64::from_le_bytes(field.try_into().unwrap_or_default());
    let end = usize::try_from(len).map_or(bytes.len(), |len| (8 + len).min(bytes.len()));
    let Some(end) = text_edit(rng, bytes, 8, end, JSON_PIECES) else {
        return false;
    };
    if rng.below(16) != 0 {
        bytes[..8].copy_from_slice(&((end - 8) as u64).to_le_bytes());
    }
    true
}

/// Sets the 8-byte header length to an interesting number.
fn header_length(rng: &mut Rng, bytes: &mut [u8]) -> bool {
    let Some(field) = bytes.get_mut(..8) else {
        return false;
    };
    let old = u64::from_le_bytes(field.try_into().unwrap_or_default());
    field.copy_from_slice(&number(rng, old).to_le_bytes());
    true
}
