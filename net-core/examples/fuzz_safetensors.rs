//! A deterministic fuzz-style stress run of the safetensors loaders,
//! `net_core::io::load_weights_from_bytes` and `load_checkpoint_from_bytes`,
//! into a small two-layer network in f32 and in f64.
//!
//! Seeds: weight files and checkpoints (with and without optimizer state)
//! as staticnet writes them, and copies of them whose `sha256` and
//! `header_sha256` metadata keys are renamed, so that mutated tensor data
//! and headers get past the digests to the checks after them. Mutations: the byte edits of `fuzz_common`, edits of the
//! 8-byte header length, token edits of the JSON header (keys, dtypes,
//! shapes, offsets, huge, negative and fractional numbers, nested objects
//! and arrays, pieces of other headers) and edits of its parsed tree (a
//! tensor renamed, removed, duplicated, reshaped, retyped, moved or added
//! with its data; metadata entries), re-framed to the new header length,
//! special values (NaN, ±∞, subnormals) in the data, and the digest
//! recomputed after some of them.
//!
//! Every input is loaded under `catch_unwind`, and must not panic; if it is
//! refused, the network must be bit for bit as before; if it is accepted,
//! every value loaded must be finite and be the file's (as the `safetensors`
//! crate reads it), and a checkpoint's metadata and state tensors the
//! file's (the weights loader leaves a checkpoint's state tensors aside). A counting allocator bounds the memory one load holds at once
//! to 16 times the input's size plus 1 MiB. Exits non-zero on any failure.
//!
//! ```text
//! cargo run -p net-core --example fuzz_safetensors [-- ITERATIONS [SEED]]
//! ```
//! (`ITERATIONS` inputs for each loader; 1,000,000 by default.)

#[path = "fuzz_common/mod.rs"]
mod fuzz;
#[path = "../tests/common/mod.rs"]
mod net;

use std::collections::{BTreeMap, HashSet};
use std::process::ExitCode;
use std::time::Instant;

use net_core::io::{
    CheckpointMeta, FormatError, IoError, Loaded, StateTensor, checkpoint_to_bytes,
    load_checkpoint_from_bytes, load_weights_from_bytes, to_safetensors_bytes,
};
use net_core::{Network, ParamShape, Scalar};
use safetensors::{Dtype, SafeTensors};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use fuzz::alloc::{Usage, measure};
use fuzz::{Op, Rng};
use net::{Net32, Net64, frame, random_net};

/// A load may hold at most `FACTOR · input + SLACK` bytes at once.
const FACTOR: usize = 16;
const SLACK: usize = 1 << 20;

/// The metadata keys of the digests (of the data, of the header), as
/// staticnet writes them, and their renamed forms in the seeds whose
/// digests are not checked.
const DIGEST_KEYS: [(&[u8], &[u8]); 2] = [
    (b"\"sha256\"", b"\"SHA256\""),
    (b"\"header_sha256\"", b"\"HEADER_SHA256\""),
];

/// The loader under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Weights,
    Checkpoint,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Weights => "weights",
            Target::Checkpoint => "checkpoint",
        }
    }
}

/// A valid file to mutate.
struct Seed {
    bytes: Vec<u8>,
    /// Written from an f64 network (otherwise f32).
    f64: bool,
    /// What wrote it.
    target: Target,
}

/// The parameters' names and shapes, in the network's order.
fn params<T: Scalar, N: Network<T>>(net: &N) -> Vec<(String, ParamShape)> {
    let mut out = Vec::new();
    net.visit_params(&mut |p| out.push((p.name.to_string(), p.shape)));
    out
}

/// `bytes` with the digest keys renamed: the same file for staticnet, but
/// unchecked.
fn rename_digest(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (key, renamed) in DIGEST_KEYS {
        if let Some(at) = find(&out, key) {
            if let Some(key) = out.get_mut(at..at + renamed.len()) {
                key.copy_from_slice(renamed);
            }
        }
    }
    out
}

/// Weight files and checkpoints of two networks of `T`, and their copies
/// with the digest keys renamed.
fn seeds_of<T: Scalar, N: Network<T>>(
    f64: bool,
    rng: &mut Rng,
    out: &mut Vec<Seed>,
) -> Result<(), IoError> {
    let mut files = Vec::new();
    for seed in [1, 2] {
        let net: N = random_net(seed);
        files.push((Target::Weights, to_safetensors_bytes(&net)?));

        // Optimizer states: none, momentum's, and Adam's with a scalar and
        // a 4-D tensor beside.
        let value =
            |rng: &mut Rng| T::of_f64((rng.next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5);
        let mut momentum = Vec::new();
        let mut adam = Vec::new();
        for (name, shape) in params(&net) {
            let tensor = |state: &str, rng: &mut Rng| {
                let values: Vec<T> = (0..shape.len()).map(|_| value(rng)).collect();
                (format!("optimizer.{state}.{name}"), shape, values)
            };
            momentum.push(tensor("v", rng));
            adam.push(tensor("m", rng));
            adam.push(tensor("v", rng));
        }
        adam.push((
            "optimizer.t".to_owned(),
            ParamShape::Vector(1),
            vec![T::of_f64(7.0)],
        ));
        let filters = ParamShape::Filters {
            count: 2,
            channels: 1,
            height: 2,
            width: 2,
        };
        adam.push((
            "optimizer.k.filters".to_owned(),
            filters,
            (0..8).map(|_| value(rng)).collect(),
        ));
        let metas = [
            (0, 0, "sgd", Vec::new()),
            (1234, 42, "momentum", momentum),
            (u64::MAX, u64::MAX, "adam", adam),
        ];
        for (iteration, seed, optimizer, state) in metas {
            let meta = CheckpointMeta {
                iteration,
                seed,
                optimizer,
                dataset: Some("mnist"),
                settings: None,
                evaluation: None,
            };
            let entries: Vec<(&str, ParamShape, &[T])> = state
                .iter()
                .map(|(name, shape, values)| (name.as_str(), *shape, values.as_slice()))
                .collect();
            files.push((
                Target::Checkpoint,
                checkpoint_to_bytes(&net, &meta, &entries)?,
            ));
        }
    }
    for (target, bytes) in files {
        out.push(Seed {
            bytes: rename_digest(&bytes),
            f64,
            target,
        });
        out.push(Seed { bytes, f64, target });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The framing and the JSON header

/// Where the first occurrence of `needle` starts in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The end of the header (the start of the data), if the length prefix
/// fits in the file.
fn header_end(bytes: &[u8]) -> Option<usize> {
    let prefix: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    let end = u64::from_le_bytes(prefix).checked_add(8)?;
    usize::try_from(end).ok().filter(|&end| end <= bytes.len())
}

/// The header of `bytes` (all after the prefix, if the prefix is off), and
/// where it ends; `None` for an input shorter than the prefix.
fn header_of(bytes: &[u8]) -> Option<(&[u8], usize)> {
    let end = header_end(bytes).unwrap_or(bytes.len());
    Some((bytes.get(8..end)?, end))
}

/// Replaces the header (which ended at `end`) with `header`, and the length
/// prefix with its length (but for 1 time in 16, which keeps the old one).
fn reframe(rng: &mut Rng, bytes: &mut Vec<u8>, end: usize, header: &[u8]) {
    let data = bytes.split_off(end.min(bytes.len()));
    bytes.truncate(8);
    if rng.below(16) != 0 {
        if let Some(prefix) = bytes.get_mut(..8) {
            prefix.copy_from_slice(&(header.len() as u64).to_le_bytes());
        }
    }
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&data);
}

/// The SHA-256 of `data`, in lowercase hex, as staticnet records it.
fn digest(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Writes the digest of the data into the header's `"sha256":"…"` entry,
/// so that mutated data reach the value checks; `false` if there is none.
fn redigest(bytes: &mut [u8]) -> bool {
    let Some(end) = header_end(bytes) else {
        return false;
    };
    let Some(key) = bytes.get(8..end).and_then(|h| find(h, b"\"sha256\":\"")) else {
        return false;
    };
    let at = 8 + key + b"\"sha256\":\"".len();
    if at + 64 > end {
        return false;
    }
    let hex = digest(bytes.get(end..).unwrap_or_default());
    match bytes.get_mut(at..at + 64) {
        Some(slot) => {
            slot.copy_from_slice(hex.as_bytes());
            true
        }
        None => false,
    }
}

/// A byte range of a header: `start..end`.
type Span = (usize, usize);

/// The JSON tokens of a header, as byte ranges: strings, numbers, words,
/// and single punctuation bytes; whitespace is skipped. Works on any
/// bytes.
fn tokens(h: &[u8]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| h.get(i).copied().unwrap_or(0);
    while i < h.len() {
        let start = i;
        match at(i) {
            b' ' | b'\n' | b'\r' | b'\t' => {
                i += 1;
                continue;
            }
            b'"' => {
                i += 1;
                while i < h.len() && at(i) != b'"' {
                    i += if at(i) == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(h.len());
            }
            b'-' | b'0'..=b'9' => {
                i += 1;
                while matches!(at(i), b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() => {
                while at(i).is_ascii_alphanumeric() {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        out.push((start, i));
    }
    out
}

/// The range of token `i` of `toks`, extended to its matching bracket if
/// it opens an array or an object (to the end if none matches).
fn group(h: &[u8], toks: &[Span], i: usize) -> Span {
    let Some(&(start, end)) = toks.get(i) else {
        return (h.len(), h.len());
    };
    if !matches!(h.get(start), Some(b'[' | b'{')) {
        return (start, end);
    }
    let mut depth = 0usize;
    for &(s, e) in toks.get(i..).unwrap_or_default() {
        match h.get(s) {
            Some(b'[' | b'{') => depth += 1,
            Some(b']' | b'}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return (start, e);
                }
            }
            _ => {}
        }
    }
    (start, h.len())
}

// ---------------------------------------------------------------------------
// What mutations write

/// Pieces of JSON to write into a header.
const PIECES: &[&str] = &[
    // Keys, metadata and names.
    "\"dtype\"",
    "\"shape\"",
    "\"data_offsets\"",
    "\"__metadata__\"",
    "\"sha256\"",
    "\"format\"",
    "\"format_version\"",
    "\"iteration\"",
    "\"seed\"",
    "\"optimizer\"",
    "\"staticnet.checkpoint\"",
    "\"W1\"",
    "\"b1\"",
    "\"W2\"",
    "\"b2\"",
    "\"W3\"",
    "\"running_mean1\"",
    "\"optimizer.\"",
    "\"optimizer.v.W1\"",
    "\"optimizer.m.b2\"",
    "\"\"",
    "\"1\"",
    "\"-1\"",
    "\"18446744073709551616\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\\"\"",
    "\"é\"",
    // Dtypes.
    "\"F32\"",
    "\"F64\"",
    "\"F16\"",
    "\"BF16\"",
    "\"I32\"",
    "\"I64\"",
    "\"U8\"",
    "\"BOOL\"",
    "\"F8_E4M3\"",
    "\"F4\"",
    "\"C64\"",
    "\"f32\"",
    // Numbers.
    "0",
    "1",
    "2",
    "3",
    "4",
    "8",
    "12",
    "23",
    "92",
    "184",
    "-1",
    "-0",
    "1.5",
    "1e2",
    "1e400",
    "-1e400",
    "1e-400",
    "01",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "99999999999999999999999999999999999999",
    // Arrays.
    "[]",
    "[0]",
    "[1]",
    "[12]",
    "[4,3]",
    "[3,4]",
    "[2,2,3]",
    "[1,1,4,3]",
    "[0,4]",
    "[4,0]",
    "[0,0]",
    "[0,18446744073709551615]",
    "[18446744073709551615,18446744073709551615]",
    "[4294967296,4294967296]",
    "[0,18446744073709551615,18446744073709551615]",
    "[3037000500,3037000500]",
    "[-1]",
    "[1.5]",
    "[\"4\"]",
    "[[4]]",
    "[null]",
    // Objects.
    "{}",
    "{\"a\":{\"b\":{\"c\":[{}]}}}",
    "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}",
    "{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}",
    "{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}",
    "{\"dtype\":\"F32\",\"shape\":[0,18446744073709551615],\"data_offsets\":[0,0]}",
    "{\"format\":\"staticnet.checkpoint\"}",
    "{\"__metadata__\":{}}",
    // Other tokens.
    "null",
    "true",
    "false",
    ",",
    ":",
    "{",
    "}",
    "[",
    "]",
    "\"",
];

/// Dtype names, valid or not.
const DTYPES: &[&str] = &[
    "F32", "F64", "F16", "BF16", "I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64", "BOOL",
    "F8_E4M3", "F8_E5M2", "F4", "F6_E2M3", "C64", "f32", "F128", "",
];

/// The size in bytes of a dtype whose elements are whole bytes.
fn width(dtype: &str) -> Option<usize> {
    match dtype {
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => Some(1),
        "I16" | "U16" | "F16" | "BF16" => Some(2),
        "I32" | "U32" | "F32" => Some(4),
        "I64" | "U64" | "F64" | "C64" => Some(8),
        _ => None,
    }
}

/// Tensor names to rename to, or add.
const NAMES: &[&str] = &[
    "W1",
    "b1",
    "W2",
    "b2",
    "W3",
    "w1",
    "W1 ",
    "",
    "__metadata__",
    "running_mean1",
    "running_var1",
    "optimizer.",
    "optimizer.v",
    "optimizer.v.W1",
    "optimizer.m.b2",
    "optimizer.x.y.z",
    "optimizer..",
    "sha256",
    "W1\u{0}",
    "é",
];

/// Metadata keys.
const META_KEYS: &[&str] = &[
    "format",
    "format_version",
    "iteration",
    "seed",
    "optimizer",
    "sha256",
    "header_sha256",
    "x",
];

/// Metadata values.
const META_VALUES: &[&str] = &[
    "staticnet.checkpoint",
    "staticnet.checkpoint ",
    "",
    "0",
    "1",
    "2",
    "-1",
    "+1",
    " 1",
    "01",
    "1e3",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "sgd",
    "é",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
];

/// Special f32 values, as bits: NaNs, infinities, extremes, subnormals.
const F32_SPECIALS: [u32; 10] = [
    0x7fc0_0000,
    0xffc0_0000,
    0x7f80_0001,
    0x7f80_0000,
    0xff80_0000,
    0x7f7f_ffff,
    0x0000_0001,
    0x8000_0000,
    0x0080_0000,
    0x3f80_0000,
];

/// Special f64 values, as bits.
const F64_SPECIALS: [u64; 10] = [
    0x7ff8_0000_0000_0000,
    0xfff8_0000_0000_0000,
    0x7ff0_0000_0000_0001,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7fef_ffff_ffff_ffff,
    0x0000_0000_0000_0001,
    0x8000_0000_0000_0000,
    0x47ef_ffff_e000_0000,
    0x3ff0_0000_0000_0000,
];

/// An interesting unsigned number, near `near` (a size or an offset of the
/// file) or at a limit.
fn number(rng: &mut Rng, near: usize) -> u64 {
    let near = near as u64;
    match rng.below(8) {
        0..=2 => near.wrapping_add(rng.below(9) as u64).wrapping_sub(4),
        3 => rng.below(200) as u64,
        4 => rng.next(),
        5 => rng.next() >> rng.below(64),
        _ => *rng.pick(&[
            0,
            1,
            u64::from(u32::MAX),
            1 << 32,
            (1 << 53) + 1,
            i64::MAX as u64,
            1 << 63,
            u64::MAX,
            u64::MAX / 4 + 1,
            3_037_000_500,
        ]),
    }
}

/// A JSON value, mostly of the wrong kind.
fn weird_value(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-1),
        3 => json!(1.5),
        4 => json!(u64::MAX),
        5 => json!("F32"),
        6 => json!([]),
        7 => json!({}),
        8 => json!({"a": {"b": [1, {"c": null}]}}),
        _ => json!([[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]),
    }
}

/// A shape, valid or not.
fn shape_value(rng: &mut Rng, near: usize) -> Value {
    let dim = |rng: &mut Rng| {
        json!(if rng.below(2) == 0 {
            rng.below(13) as u64
        } else {
            number(rng, near)
        })
    };
    match rng.below(10) {
        0 => json!([]),
        1 => json!([dim(rng)]),
        2 => json!([dim(rng), dim(rng)]),
        3 => json!([dim(rng), dim(rng), dim(rng)]),
        4 => json!([dim(rng), dim(rng), dim(rng), dim(rng)]),
        5 => json!([0, u64::MAX, u64::MAX]),
        6 => json!([dim(rng), -1]),
        7 => json!([1.5]),
        8 => json!(["4"]),
        _ => weird_value(rng),
    }
}

/// Data offsets, valid or not, near `data_len`.
fn offsets_value(rng: &mut Rng, start: usize, end: usize, data_len: usize) -> Value {
    let near = |rng: &mut Rng| {
        let around = *rng.pick(&[start, end, data_len]);
        json!(number(rng, around))
    };
    match rng.below(8) {
        0..=3 => json!([near(rng), near(rng)]),
        4 => json!([end, start]),
        5 => json!([near(rng)]),
        6 => json!([start, end, near(rng)]),
        _ => {
            if rng.below(2) == 0 {
                json!([-1, end])
            } else {
                weird_value(rng)
            }
        }
    }
}

/// A few data bytes for `count` values of `width` bytes: random or special.
fn data_bytes(rng: &mut Rng, count: usize, width: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(count * width);
    for _ in 0..count {
        match (width, rng.below(4)) {
            (4, 0) => out.extend_from_slice(&rng.pick(&F32_SPECIALS).to_le_bytes()),
            (4, _) => out.extend_from_slice(&(rng.below(1000) as f32 / 100.0 - 5.0).to_le_bytes()),
            (8, 0) => out.extend_from_slice(&rng.pick(&F64_SPECIALS).to_le_bytes()),
            (8, _) => out.extend_from_slice(&(rng.below(1000) as f64 / 100.0 - 5.0).to_le_bytes()),
            _ => out.extend((0..width).map(|_| rng.byte())),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The mutations of the format

const HEADER_LENGTH: u8 = 0;
const TOKEN: u8 = 1;
const INSERT: u8 = 2;
const DELETE: u8 = 3;
const HEADER_SPLICE: u8 = 4;
const TREE: u8 = 5;
const VALUE: u8 = 6;
const DIGEST: u8 = 7;
const DATA_LENGTH: u8 = 8;

/// The mutations and their weights: the byte edits (1 in 5), and more of
/// those that keep the file well-formed enough to reach the loaders' later
/// checks.
const OPS: [(Op, usize); 16] = [
    (Op::Flip, 1),
    (Op::Set, 1),
    (Op::Truncate, 1),
    (Op::Insert, 1),
    (Op::Remove, 1),
    (Op::Append, 1),
    (Op::Splice, 1),
    (Op::Format(HEADER_LENGTH), 2),
    (Op::Format(TOKEN), 4),
    (Op::Format(INSERT), 2),
    (Op::Format(DELETE), 1),
    (Op::Format(HEADER_SPLICE), 2),
    (Op::Format(TREE), 10),
    (Op::Format(VALUE), 4),
    (Op::Format(DIGEST), 1),
    (Op::Format(DATA_LENGTH), 2),
];

/// The mutations of half the inputs: no byte edit and no edit of the
/// header length, so that the framing stays right and the header mostly
/// valid JSON.
const DEEP_OPS: [(Op, usize); 6] = [
    (Op::Format(TOKEN), 2),
    (Op::Format(INSERT), 1),
    (Op::Format(HEADER_SPLICE), 1),
    (Op::Format(TREE), 5),
    (Op::Format(VALUE), 2),
    (Op::Format(DATA_LENGTH), 1),
];

/// The kind of JSON a token or piece starting with `first` is: string,
/// number, array, object, or other.
fn json_kind(first: Option<&u8>) -> usize {
    match first {
        Some(b'"') => 0,
        Some(b'-' | b'0'..=b'9') => 1,
        Some(b'[') => 2,
        Some(b'{') => 3,
        _ => 4,
    }
}

/// The format's mutations, with what they draw from.
struct Mutator<'a> {
    /// The seeds, for splices.
    pool: &'a [Vec<u8>],
    /// Their headers and the headers' tokens, for pieces of them.
    headers: Vec<(&'a [u8], Vec<Span>)>,
    /// [`PIECES`], and a few generated ones (deep nesting, long numbers).
    pieces: Vec<Vec<u8>>,
    /// The pieces of each [`json_kind`], by index.
    by_kind: [Vec<usize>; 5],
}

impl<'a> Mutator<'a> {
    fn new(pool: &'a [Vec<u8>], pieces: Vec<Vec<u8>>) -> Self {
        let mut by_kind: [Vec<usize>; 5] = Default::default();
        for (i, piece) in pieces.iter().enumerate() {
            by_kind[json_kind(piece.first())].push(i);
        }
        let headers = pool
            .iter()
            .filter_map(|seed| header_of(seed))
            .map(|(header, _)| (header, tokens(header)))
            .filter(|(_, toks)| !toks.is_empty())
            .collect();
        Mutator {
            pool,
            headers,
            pieces,
            by_kind,
        }
    }

    /// Applies mutation `op`; `false` if it found nothing to edit.
    fn apply(&self, rng: &mut Rng, bytes: &mut Vec<u8>, op: u8) -> bool {
        match op {
            HEADER_LENGTH => header_length(rng, bytes),
            TOKEN | INSERT | DELETE | HEADER_SPLICE => self.token_edit(rng, bytes, op),
            TREE => tree_edit(rng, bytes),
            VALUE => special_value(rng, bytes),
            DIGEST => redigest(bytes),
            _ => data_length(rng, bytes),
        }
    }

    /// A piece of JSON: from the list, or a random number.
    fn piece(&self, rng: &mut Rng) -> Vec<u8> {
        match rng.below(8) {
            0 => number(rng, 100).to_string().into_bytes(),
            1 => format!("-{}", number(rng, 100)).into_bytes(),
            _ => rng.pick(&self.pieces).clone(),
        }
    }

    /// A piece of JSON of the given [`json_kind`] (any for "other").
    fn piece_of_kind(&self, rng: &mut Rng, kind: usize) -> Vec<u8> {
        match (kind, self.by_kind.get(kind)) {
            (1, _) if rng.below(2) == 0 => number(rng, 100).to_string().into_bytes(),
            (0..=3, Some(indices)) if !indices.is_empty() => {
                let i = *rng.pick(indices);
                self.pieces.get(i).cloned().unwrap_or_default()
            }
            _ => self.piece(rng),
        }
    }

    /// Replaces, inserts or deletes a token, a value or an entry of the
    /// header, or inserts a piece of another seed's header; then re-frames.
    /// Half the time (three times in four for a replacement) the edit keeps
    /// the header valid JSON: a value replaced with one of its kind, an
    /// entry `"key":value` inserted or removed whole; otherwise it is any
    /// token, group or run of tokens, anywhere.
    fn token_edit(&self, rng: &mut Rng, bytes: &mut Vec<u8>, op: u8) -> bool {
        let Some((header, end)) = header_of(bytes) else {
            return false;
        };
        let toks = tokens(header);
        if toks.is_empty() {
            return false;
        }
        let kind_at = |i: usize| json_kind(toks.get(i).and_then(|t| header.get(t.0)));
        let valid = rng.below(if op == TOKEN { 4 } else { 2 }) != 0;
        let mut new = header.to_vec();
        if !valid {
            let i = rng.below(toks.len());
            let (start, stop) = if rng.below(3) == 0 {
                group(header, &toks, i)
            } else {
                toks[i]
            };
            match op {
                TOKEN => {
                    new.splice(start..stop, self.piece(rng));
                }
                INSERT => {
                    let at = if rng.below(2) == 0 { start } else { stop };
                    let mut piece = self.piece(rng);
                    if rng.below(2) == 0 {
                        piece.push(*rng.pick(b",:"));
                    }
                    new.splice(at..at, piece);
                }
                DELETE => {
                    new.drain(start..stop);
                }
                _ => {
                    // A run of up to 12 tokens of another header.
                    let Some((other, other_toks)) = self.other_header(rng) else {
                        return false;
                    };
                    let j = rng.below(other_toks.len());
                    let k = (j + rng.below(12)).min(other_toks.len() - 1);
                    let piece = other
                        .get(other_toks[j].0..other_toks[k].1)
                        .unwrap_or_default();
                    let at = if rng.below(2) == 0 { start } else { stop };
                    new.splice(at..at, piece.iter().copied());
                }
            }
            reframe(rng, bytes, end, &new);
            return true;
        }
        // Where an entry can go: after an object's `{`.
        let opening: Vec<usize> = (0..toks.len()).filter(|&i| kind_at(i) == 3).collect();
        match op {
            TOKEN => {
                // A value (or key), not punctuation.
                let values: Vec<usize> = (0..toks.len()).filter(|&i| kind_at(i) < 4).collect();
                if values.is_empty() {
                    return false;
                }
                let i = *rng.pick(&values);
                let (start, stop) = group(header, &toks, i);
                new.splice(start..stop, self.piece_of_kind(rng, kind_at(i)));
            }
            INSERT => {
                if opening.is_empty() {
                    return false;
                }
                let at = toks[*rng.pick(&opening)].1;
                let name = serde_json::to_string(rng.pick(NAMES)).unwrap_or_default();
                let kind = rng.below(4);
                let value = self.piece_of_kind(rng, kind);
                let entry = [name.as_bytes(), b":", &value, b","].concat();
                new.splice(at..at, entry);
            }
            DELETE => {
                let entries: Vec<(usize, usize)> = (0..toks.len())
                    .filter_map(|i| entry_at(header, &toks, i))
                    .collect();
                if entries.is_empty() {
                    return false;
                }
                let (i, last) = *rng.pick(&entries);
                let (mut start, mut stop) = (toks[i].0, toks[last].1);
                // With the comma after it, or else the one before it.
                match (
                    toks.get(last + 1),
                    i.checked_sub(1).and_then(|p| toks.get(p)),
                ) {
                    (Some(&(s, e)), _) if header.get(s) == Some(&b',') => stop = e,
                    (_, Some(&(s, _))) if header.get(s) == Some(&b',') => start = s,
                    _ => {}
                }
                new.drain(start..stop);
            }
            _ => {
                // An entry of another header, after a `{` of this one.
                let Some((other, other_toks)) = self.other_header(rng) else {
                    return false;
                };
                let entries: Vec<(usize, usize)> = (0..other_toks.len())
                    .filter_map(|i| entry_at(other, other_toks, i))
                    .collect();
                if entries.is_empty() || opening.is_empty() {
                    return false;
                }
                let (i, last) = *rng.pick(&entries);
                let piece = other
                    .get(other_toks[i].0..other_toks[last].1)
                    .unwrap_or_default();
                let at = toks[*rng.pick(&opening)].1;
                let entry = [piece, b","].concat();
                new.splice(at..at, entry);
            }
        }
        reframe(rng, bytes, end, &new);
        true
    }

    /// The header of a random seed, and its tokens (not empty).
    fn other_header(&self, rng: &mut Rng) -> Option<(&'a [u8], &[Span])> {
        let (header, toks) = self.headers.get(rng.below(self.headers.len().max(1)))?;
        Some((header, toks))
    }
}

/// The entry `"key":value` that starts at token `i`, if one does: the
/// indices of its first and last tokens.
fn entry_at(h: &[u8], toks: &[Span], i: usize) -> Option<(usize, usize)> {
    let (key, colon) = (toks.get(i)?, toks.get(i + 1)?);
    if h.get(key.0) != Some(&b'"') || h.get(colon.0) != Some(&b':') {
        return None;
    }
    let (_, value_end) = group(h, toks, i + 2);
    let last = toks.iter().rposition(|t| t.1 <= value_end)?;
    Some((i, last))
}

/// Sets the 8-byte header length to an interesting value.
fn header_length(rng: &mut Rng, bytes: &mut [u8]) -> bool {
    let len = bytes.len();
    let Some(prefix) = bytes.get_mut(..8) else {
        return false;
    };
    let declared = u64::from_le_bytes(prefix.try_into().unwrap_or_default());
    let value = match rng.below(6) {
        0 => (len as u64 - 8)
            .wrapping_add(rng.below(3) as u64)
            .wrapping_sub(1),
        1 => declared.wrapping_add(rng.below(17) as u64).wrapping_sub(8),
        2 => *rng.pick(&[0, 1, 2, 7, 8, 99_999_999, 100_000_000, 100_000_001]),
        3 => *rng.pick(&[
            u64::from(u32::MAX),
            1 << 32,
            1 << 63,
            u64::MAX,
            u64::MAX - 7,
        ]),
        4 => declared ^ (1 << rng.below(64)),
        _ => rng.next(),
    };
    prefix.copy_from_slice(&value.to_le_bytes());
    true
}

/// Writes a special value (NaN, ±∞, …) into the data, usually aligned.
fn special_value(rng: &mut Rng, bytes: &mut [u8]) -> bool {
    let Some(end) = header_end(bytes) else {
        return false;
    };
    let Some(data) = bytes.get_mut(end..) else {
        return false;
    };
    let wide = rng.below(2) == 0;
    let size = if wide { 8 } else { 4 };
    if data.len() < size {
        return false;
    }
    let at = if rng.below(4) == 0 {
        rng.below(data.len() - size + 1)
    } else {
        rng.below(data.len() / size) * size
    };
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

/// Cuts or extends the data by a few bytes, or removes one inside it.
fn data_length(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let Some(end) = header_end(bytes) else {
        return false;
    };
    let data_len = bytes.len() - end;
    match rng.below(3) {
        0 if data_len > 0 => bytes.truncate(bytes.len() - 1 - rng.below(data_len.min(16))),
        1 if data_len > 0 => {
            bytes.remove(end + rng.below(data_len));
        }
        _ => {
            let count = 1 + rng.below(4);
            let extra = data_bytes(rng, count, 4);
            bytes.extend_from_slice(&extra);
        }
    }
    true
}

/// The tensors of a parsed header: its keys but `__metadata__`.
fn tensor_names(header: &Map<String, Value>) -> Vec<String> {
    header
        .keys()
        .filter(|k| *k != "__metadata__")
        .cloned()
        .collect()
}

/// A tensor entry's offsets, dtype and shape, if well-formed.
fn entry_info(entry: &Value) -> Option<(usize, usize, String, Vec<usize>)> {
    let offsets = entry.get("data_offsets")?.as_array()?;
    let start = usize::try_from(offsets.first()?.as_u64()?).ok()?;
    let end = usize::try_from(offsets.get(1)?.as_u64()?).ok()?;
    let dtype = entry.get("dtype")?.as_str()?.to_owned();
    let shape = entry
        .get("shape")?
        .as_array()?
        .iter()
        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
        .collect::<Option<Vec<usize>>>()?;
    (start <= end).then_some((start, end, dtype, shape))
}

/// A shape of `n` elements, of one to four dimensions.
fn reshape(rng: &mut Rng, n: usize) -> Vec<usize> {
    // (Tensors of the seeds hold at most 12 values; a larger count comes
    // from an edited shape.)
    let divisors: Vec<usize> = (1..=n.clamp(1, 64)).filter(|d| n % d == 0).collect();
    let a = *rng.pick(&divisors);
    match rng.below(4) {
        0 => vec![n],
        1 => vec![a, n / a],
        2 => vec![1, a, n / a],
        _ => {
            let mut dims = vec![1, 1, a, n / a];
            let k = rng.below(4);
            dims.swap(k, 3);
            dims
        }
    }
}

/// Edits the parsed header (and the data with it, for edits that keep the
/// file consistent), then writes it back re-framed, padded or not, with
/// the digest brought up to date 3 times in 4 after a change of the data.
fn tree_edit(rng: &mut Rng, bytes: &mut Vec<u8>) -> bool {
    let Some((header, end)) = header_of(bytes) else {
        return false;
    };
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(header) else {
        return false;
    };
    let mut data = bytes.get(end..).unwrap_or_default().to_vec();
    let names = tensor_names(&map);
    let data_len = data.len();
    let mut data_changed = false;
    let Some(name) = (!names.is_empty()).then(|| rng.pick(&names).clone()) else {
        return false;
    };
    let info = map.get(&name).and_then(entry_info);
    let (start, stop) = info.as_ref().map_or((0, 0), |i| (i.0, i.1));
    match rng.below(17) {
        0 => {
            if let Some(Value::Object(entry)) = map.get_mut(&name) {
                let dtype = if rng.below(8) == 0 {
                    weird_value(rng)
                } else {
                    json!(rng.pick(DTYPES))
                };
                entry.insert("dtype".to_owned(), dtype);
            }
        }
        1 => {
            if let Some(Value::Object(entry)) = map.get_mut(&name) {
                entry.insert(
                    "shape".to_owned(),
                    shape_value(rng, stop.saturating_sub(start)),
                );
            }
        }
        2 => {
            if let Some(Value::Object(entry)) = map.get_mut(&name) {
                entry.insert(
                    "data_offsets".to_owned(),
                    offsets_value(rng, start, stop, data_len),
                );
            }
        }
        3 => {
            if let Some(Value::Object(entry)) = map.get_mut(&name) {
                let key = *rng.pick(&["dtype", "shape", "data_offsets"]);
                entry.remove(key);
            }
        }
        4 => {
            if let Some(Value::Object(entry)) = map.get_mut(&name) {
                let key = *rng.pick(&["extra", "dtype ", "Shape", "__metadata__"]);
                entry.insert(key.to_owned(), weird_value(rng));
            }
        }
        5 => {
            map.insert(name, weird_value(rng));
        }
        6 => {
            // Renamed.
            if let Some(entry) = map.remove(&name) {
                let new = match rng.below(3) {
                    0 => format!("optimizer.{name}"),
                    1 => format!("{name}{}", rng.below(10)),
                    _ => (*rng.pick(NAMES)).to_owned(),
                };
                map.insert(new, entry);
            }
        }
        7 => {
            // Removed, its data left behind.
            map.remove(&name);
        }
        8 => {
            // Removed with its data, the offsets after it shifted.
            let Some(_) = info else { return false };
            map.remove(&name);
            let width = stop.saturating_sub(start);
            if stop <= data.len() {
                data.drain(start..stop);
                data_changed = true;
            }
            for other in map.values_mut() {
                if let Some((s, e, _, _)) = entry_info(other) {
                    if s >= stop {
                        other["data_offsets"] = json!([s - width, e - width]);
                    }
                }
            }
        }
        9 => {
            // Copied under another name: with its own copy of the data at
            // the end, or overlapping the original.
            let Some(mut entry) = map.get(&name).cloned() else {
                return false;
            };
            if rng.below(2) == 0 && info.is_some() && stop <= data.len() {
                let copy = data.get(start..stop).unwrap_or_default().to_vec();
                entry["data_offsets"] = json!([data.len(), data.len() + copy.len()]);
                data.extend_from_slice(&copy);
                data_changed = true;
            }
            let new = match rng.below(2) {
                0 => format!("optimizer.copy.{name}"),
                _ => (*rng.pick(NAMES)).to_owned(),
            };
            map.insert(new, entry);
        }
        10..=12 => {
            let metadata = map.entry("__metadata__").or_insert_with(|| json!({}));
            match (rng.below(6), metadata) {
                (0, slot) => *slot = weird_value(rng),
                (1, Value::Object(m)) => {
                    m.remove(*rng.pick(META_KEYS));
                }
                (2, Value::Object(m)) => {
                    m.insert((*rng.pick(META_KEYS)).to_owned(), weird_value(rng));
                }
                (_, Value::Object(m)) => {
                    let value = if rng.below(8) == 0 {
                        number(rng, 1000).to_string()
                    } else {
                        (*rng.pick(META_VALUES)).to_owned()
                    };
                    m.insert((*rng.pick(META_KEYS)).to_owned(), json!(value));
                }
                _ => {}
            }
        }
        13 => {
            // Laid out in another order: the data moved along (the same
            // file), or not (each tensor reads another's bytes).
            let mut spans: Vec<(String, usize, usize)> = names
                .iter()
                .filter_map(|n| {
                    map.get(n)
                        .and_then(entry_info)
                        .map(|i| (n.clone(), i.0, i.1))
                })
                .collect();
            if spans.len() < 2 {
                return false;
            }
            for k in (1..spans.len()).rev() {
                spans.swap(k, rng.below(k + 1));
            }
            let move_data = rng.below(2) == 0;
            let mut moved = Vec::with_capacity(data.len());
            let mut offset = 0usize;
            for (n, s, e) in &spans {
                let len = e.saturating_sub(*s);
                if let Some(entry) = map.get_mut(n) {
                    entry["data_offsets"] = json!([offset, offset.saturating_add(len)]);
                }
                moved.extend_from_slice(data.get(*s..*e).unwrap_or_default());
                offset = offset.saturating_add(len);
            }
            if move_data {
                data = moved;
                data_changed = true;
            }
        }
        14 => {
            // Reshaped, keeping the element count (a valid file).
            let Some((_, _, _, shape)) = info else {
                return false;
            };
            let Some(n) = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) else {
                return false;
            };
            map[&name]["shape"] = json!(reshape(rng, n));
        }
        15 => {
            // Retyped, keeping the byte size (a valid file).
            let Some((start, stop, _, _)) = info else {
                return false;
            };
            let dtype = *rng.pick(&[
                "F32", "F64", "I32", "U64", "F16", "BF16", "U8", "BOOL", "C64",
            ]);
            let Some(w) = width(dtype) else { return false };
            let size = stop.saturating_sub(start);
            if size % w != 0 {
                return false;
            }
            map[&name]["dtype"] = json!(dtype);
            map[&name]["shape"] = json!(reshape(rng, size / w));
        }
        _ => {
            // A tensor added, with its data at the end.
            let dtype = *rng.pick(&["F32", "F32", "F64", "F64", "F16", "U8"]);
            let w = width(dtype).unwrap_or(1);
            let n = rng.below(13);
            let shape = if rng.below(4) == 0 {
                json!(reshape(rng, n))
            } else {
                json!([n])
            };
            let name = match rng.below(3) {
                0 => format!("optimizer.new.{}", rng.below(4)),
                _ => (*rng.pick(NAMES)).to_owned(),
            };
            let offsets = [data.len(), data.len() + n * w];
            let entry = json!({"dtype": dtype, "shape": shape, "data_offsets": offsets});
            map.insert(name, entry);
            let extra = data_bytes(rng, n, w);
            data.extend_from_slice(&extra);
            data_changed = true;
        }
    }
    if data_changed && rng.below(4) != 0 {
        if let Some(Value::Object(m)) = map.get_mut("__metadata__") {
            if m.contains_key("sha256") {
                m.insert("sha256".to_owned(), json!(digest(&data)));
            }
        }
    }
    let mut new = serde_json::to_vec(&Value::Object(map)).unwrap_or_default();
    if rng.below(2) == 0 {
        new.resize(new.len().next_multiple_of(8), b' ');
    }
    bytes.truncate(end);
    bytes.extend_from_slice(&data);
    reframe(rng, bytes, end, &new);
    true
}

// ---------------------------------------------------------------------------
// Running one input

/// What happened to one input.
enum Outcome {
    Accepted,
    Rejected(&'static str),
    Panicked,
    /// Refused, but the network was changed.
    ChangedOnError(&'static str),
    /// Accepted, but what was loaded is not finite or not the file's.
    Wrong(String),
}

fn kind(e: &IoError) -> &'static str {
    match e {
        IoError::DigestMismatch { .. } => "DigestMismatch",
        IoError::HeaderDigestMismatch { .. } => "HeaderDigestMismatch",
        IoError::NotSafetensors { problem, .. } => match problem {
            FormatError::Empty => "NotSafetensors(Empty)",
            FormatError::TooShort { .. } => "NotSafetensors(TooShort)",
            FormatError::HeaderBeyondFile { .. } => "NotSafetensors(HeaderBeyondFile)",
            FormatError::HeaderTooLarge { .. } => "NotSafetensors(HeaderTooLarge)",
            FormatError::HeaderNotUtf8 => "NotSafetensors(HeaderNotUtf8)",
            FormatError::BadHeader { .. } => "NotSafetensors(BadHeader)",
            FormatError::TrailingBytes { .. } => "NotSafetensors(TrailingBytes)",
            _ => "NotSafetensors(other)",
        },
        IoError::Truncated { .. } => "Truncated",
        IoError::MissingTensor { .. } => "MissingTensor",
        IoError::UnexpectedTensor { .. } => "UnexpectedTensor",
        IoError::WrongShape { .. } => "WrongShape",
        IoError::WrongDtype { .. } => "WrongDtype",
        IoError::NonFinite { .. } => "NonFinite",
        IoError::BadStateName { .. } => "BadStateName",
        IoError::UnsupportedShape { .. } => "UnsupportedShape",
        IoError::NotACheckpoint { .. } => "NotACheckpoint",
        IoError::BadMetadata { .. } => "BadMetadata",
        // Savers' errors, and the file system's: not expected here.
        _ => "other",
    }
}

/// Every value of `net`'s parameters and buffers, as bits.
fn bits<T: Scalar, N: Network<T>>(net: &N, out: &mut Vec<u64>) {
    out.clear();
    net.visit_params(&mut |p| out.extend(p.value.iter().map(|v| v.as_f64().to_bits())));
    net.visit_buffers(&mut |b| out.extend(b.value.iter().map(|v| v.as_f64().to_bits())));
}

/// Checks that `values` are finite and are the file's tensor `name`, of
/// `shape` (the file row-major, `values` column-major for a matrix).
fn compare<T: Scalar>(
    file: &SafeTensors<'_>,
    name: &str,
    shape: ParamShape,
    values: &[T],
) -> Result<(), String> {
    let view = file
        .tensor(name)
        .map_err(|_| format!("`{name}` was loaded, but the file has no such tensor"))?;
    let (width, dtype) = if T::NAME == "f32" {
        (4, Dtype::F32)
    } else {
        (8, Dtype::F64)
    };
    if view.dtype() != dtype || view.shape() != shape.dims().as_slice() {
        return Err(format!(
            "`{name}` was loaded as {shape} {}, but it is {:?} {:?} in the file",
            T::NAME,
            view.shape(),
            view.dtype()
        ));
    }
    if values.len() != shape.len() || view.data().len() != values.len() * width {
        return Err(format!(
            "`{name}`: {} values loaded for shape {shape}",
            values.len()
        ));
    }
    for (k, chunk) in view.data().chunks_exact(width).enumerate() {
        let want = match (<[u8; 4]>::try_from(chunk), <[u8; 8]>::try_from(chunk)) {
            (Ok(b), _) => f64::from(f32::from_le_bytes(b)),
            (_, Ok(b)) => f64::from_le_bytes(b),
            _ => f64::NAN,
        };
        let at = match shape {
            ParamShape::Matrix { rows, cols } => (k % cols) * rows + k / cols,
            _ => k,
        };
        let got = values.get(at).map_or(f64::NAN, |v| v.as_f64());
        if !got.is_finite() {
            return Err(format!("`{name}`[{at}] was loaded as {got}"));
        }
        if got.to_bits() != want.to_bits() {
            return Err(format!(
                "`{name}`[{at}] was loaded as {got}, but the file holds {want}"
            ));
        }
    }
    Ok(())
}

/// Checks an accepted file: the network holds the file's values, all
/// finite; the file holds nothing else but a checkpoint's state tensors,
/// which are the file's too, as is its metadata.
fn check_loaded<T: Scalar, N: Network<T>>(
    net: &N,
    loaded: &Loaded,
    state: Option<&(u64, u64, String, Vec<StateTensor<T>>)>,
    input: &[u8],
) -> Result<(), String> {
    let file = fuzz::unwinding(|| SafeTensors::deserialize(input))
        .ok_or("the safetensors crate panics on the file")?
        .map_err(|e| format!("the safetensors crate refuses the file: {e}"))?;
    let mut problem = Ok(());
    let mut names = Vec::new();
    net.visit_params(&mut |p| {
        let name = p.name.to_string();
        if problem.is_ok() {
            problem = compare(&file, &name, p.shape, p.value);
        }
        names.push(name);
    });
    net.visit_buffers(&mut |b| {
        let name = b.name.to_string();
        if problem.is_ok() && !loaded.missing_buffers.contains(&name) {
            problem = compare(&file, &name, b.shape, b.value);
        }
        names.push(name);
    });
    problem?;
    if let Some((iteration, seed, optimizer, tensors)) = state {
        for s in tensors {
            compare(&file, &s.name, s.shape, &s.values)?;
            names.push(s.name.clone());
        }
        let (_, header) = SafeTensors::read_metadata(input).map_err(|e| e.to_string())?;
        let meta = header.metadata().clone().unwrap_or_default();
        let entry = |key: &str| meta.get(key).map(String::as_str);
        if entry("format") != Some("staticnet.checkpoint")
            || entry("format_version") != Some("1")
            || entry("iteration").and_then(|v| v.parse().ok()) != Some(*iteration)
            || entry("seed").and_then(|v| v.parse().ok()) != Some(*seed)
            || entry("optimizer") != Some(optimizer.as_str())
        {
            return Err(format!(
                "checkpoint loaded as iteration {iteration}, seed {seed}, optimizer \
                 {optimizer:?}, but its metadata is {meta:?}"
            ));
        }
    }
    // The weights loader reads a checkpoint's weights alone, leaving its
    // state tensors aside.
    let state_aside = state.is_none() && {
        let (_, header) = SafeTensors::read_metadata(input).map_err(|e| e.to_string())?;
        header
            .metadata()
            .as_ref()
            .and_then(|m| m.get("format"))
            .map(String::as_str)
            == Some("staticnet.checkpoint")
    };
    let names: HashSet<&str> = names.iter().map(String::as_str).collect();
    if let Some(name) = file
        .names()
        .into_iter()
        .find(|n| !(names.contains(n) || state_aside && n.starts_with("optimizer.")))
    {
        return Err(format!(
            "the file's tensor `{name}` was accepted but not loaded"
        ));
    }
    Ok(())
}

/// A network to load into, and its values before.
struct Subject<N> {
    net: N,
    pristine: N,
    before: Vec<u64>,
    after: Vec<u64>,
}

impl<N: Clone> Subject<N> {
    fn new<T: Scalar>(net: N) -> Self
    where
        N: Network<T>,
    {
        let mut before = Vec::new();
        bits(&net, &mut before);
        Subject {
            pristine: net.clone(),
            net,
            before,
            after: Vec::new(),
        }
    }

    /// Loads `input` with `target`'s loader, and checks what it did.
    fn run<T: Scalar>(&mut self, target: Target, input: &[u8]) -> (Outcome, Usage)
    where
        N: Network<T>,
    {
        let net = &mut self.net;
        let (result, usage) = measure(|| {
            fuzz::unwinding(|| match target {
                Target::Weights => load_weights_from_bytes(net, input).map(|loaded| (loaded, None)),
                Target::Checkpoint => load_checkpoint_from_bytes(net, input).map(|c| {
                    let loaded = c.loaded.clone();
                    (loaded, Some((c.iteration, c.seed, c.optimizer, c.state)))
                }),
            })
        });
        let outcome = match result {
            None => Outcome::Panicked,
            Some(Err(e)) => {
                bits(&self.net, &mut self.after);
                if self.after == self.before {
                    Outcome::Rejected(kind(&e))
                } else {
                    Outcome::ChangedOnError(kind(&e))
                }
            }
            Some(Ok((loaded, state))) => {
                match check_loaded(&self.net, &loaded, state.as_ref(), input) {
                    Ok(()) => Outcome::Accepted,
                    Err(why) => Outcome::Wrong(why),
                }
            }
        };
        if !matches!(outcome, Outcome::Rejected(_)) {
            self.net.clone_from(&self.pristine);
        }
        (outcome, usage)
    }
}

/// The tally of one loader's run.
#[derive(Default)]
struct Stats {
    inputs: usize,
    f64_inputs: usize,
    accepted: usize,
    rejected: BTreeMap<&'static str, usize>,
    panics: usize,
    changed: usize,
    wrong: usize,
    /// The first failures: what, with which input.
    failures: Vec<(String, Vec<u8>)>,
    largest_input: usize,
    /// The most memory one load held, and the input's length.
    peak: (usize, usize),
    largest_allocation: usize,
    over_bound: usize,
}

impl Stats {
    fn record(&mut self, outcome: Outcome, usage: Usage, input: &[u8], f64: bool) {
        self.inputs += 1;
        self.f64_inputs += usize::from(f64);
        self.largest_input = self.largest_input.max(input.len());
        self.largest_allocation = self.largest_allocation.max(usage.largest);
        if usage.peak > self.peak.0 {
            self.peak = (usage.peak, input.len());
        }
        let bound = FACTOR * input.len() + SLACK;
        let dtype = if f64 { "f64" } else { "f32" };
        let mut fail = |what: String| {
            if self.failures.len() < 10 {
                self.failures
                    .push((format!("{dtype}: {what}"), input.to_vec()));
            }
        };
        if usage.peak > bound {
            self.over_bound += 1;
            fail(format!("held {} bytes at once (limit {bound})", usage.peak));
        }
        match outcome {
            Outcome::Accepted => self.accepted += 1,
            Outcome::Rejected(kind) => *self.rejected.entry(kind).or_default() += 1,
            Outcome::Panicked => {
                self.panics += 1;
                fail("panicked".to_owned());
            }
            Outcome::ChangedOnError(kind) => {
                self.changed += 1;
                fail(format!("refused ({kind}) but the network was changed"));
            }
            Outcome::Wrong(why) => {
                self.wrong += 1;
                fail(format!("accepted, but {why}"));
            }
        }
    }

    fn failed(&self) -> bool {
        self.panics + self.changed + self.wrong + self.over_bound > 0
    }
}

/// Fuzzes `target`'s loader with `iterations` inputs.
fn fuzz_target(
    target: Target,
    iterations: usize,
    rng: &mut Rng,
    seeds: &[Seed],
    mutator: &Mutator<'_>,
) -> Stats {
    let own: Vec<&Seed> = seeds.iter().filter(|s| s.target == target).collect();
    let others: Vec<&Seed> = seeds.iter().filter(|s| s.target != target).collect();
    let (ops, deep_ops) = (fuzz::weighted(&OPS), fuzz::weighted(&DEEP_OPS));
    // Loaded into networks other than those of the seeds, so that a
    // partial load would show.
    let mut net32 = Subject::new::<f32>(random_net::<f32, Net32>(1000));
    let mut net64 = Subject::new::<f64>(random_net::<f64, Net64>(1001));
    let mut stats = Stats::default();
    for _ in 0..iterations {
        // Mostly files of the loader's kind; 1 in 8 of the other kind.
        let seed = if rng.below(8) == 0 {
            *rng.pick(&others)
        } else {
            *rng.pick(&own)
        };
        let mut bytes = seed.bytes.clone();
        let ops: &[Op] = if rng.below(2) == 0 { &ops } else { &deep_ops };
        fuzz::mutate(
            rng,
            &mut bytes,
            mutator.pool,
            4,
            ops,
            &mut |rng, bytes, op| mutator.apply(rng, bytes, op),
        );
        if rng.below(4) == 0 {
            redigest(&mut bytes);
        }
        // Into a network of the file's dtype, but 1 time in 16.
        let f64 = seed.f64 != (rng.below(16) == 0);
        let (outcome, usage) = if f64 {
            net64.run::<f64>(target, &bytes)
        } else {
            net32.run::<f32>(target, &bytes)
        };
        stats.record(outcome, usage, &bytes, f64);
    }
    stats
}

/// Large inputs, made whole rather than mutated: memory that grows with
/// the input shows only past the limit's slack. (Parsing a header holds
/// about 32 bytes per JSON number, for the `safetensors` crate's
/// `#[serde(flatten)]`; loading refuses a header longer than the network
/// needs before parsing it, so these stay small.)
fn large_inputs() -> Result<Vec<(String, Vec<u8>)>, IoError> {
    let n = (1 << 20) + 1;
    let zeros = vec!["0"; n].join(",");
    let mut out = vec![
        (
            format!("a header array of {n} numbers"),
            frame(&format!("{{\"x\":[{zeros}]}}"), b""),
        ),
        (
            format!("a tensor shape of {n} zeros"),
            frame(
                &format!(
                    "{{\"W1\":{{\"dtype\":\"F32\",\"shape\":[{zeros}],\"data_offsets\":[0,0]}}}}"
                ),
                b"",
            ),
        ),
    ];
    let tensors: Vec<String> = (0..100_000)
        .map(|i| format!("\"t{i}\":{{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}"))
        .collect();
    out.push((
        "100000 empty tensors".to_owned(),
        frame(&format!("{{{}}}", tensors.join(",")), b""),
    ));
    let entries: Vec<String> = (0..200_000).map(|i| format!("\"{i}\":\"\"")).collect();
    out.push((
        "200000 metadata entries".to_owned(),
        frame(
            &format!("{{\"__metadata__\":{{{}}}}}", entries.join(",")),
            b"",
        ),
    ));
    let net: Net32 = random_net(3);
    let meta = CheckpointMeta {
        iteration: 1,
        seed: 1,
        optimizer: "adam",
        dataset: None,
        settings: None,
        evaluation: None,
    };
    let values = vec![0.5f32; 1 << 20];
    let big = [(
        "optimizer.big",
        ParamShape::Vector(values.len()),
        values.as_slice(),
    )];
    out.push((
        format!(
            "a checkpoint with a state tensor of {} values",
            values.len()
        ),
        checkpoint_to_bytes(&net, &meta, &big)?,
    ));
    let names: Vec<String> = (0..50_000).map(|i| format!("optimizer.s.{i}")).collect();
    let four = [0.25f32; 4];
    let many: Vec<(&str, ParamShape, &[f32])> = names
        .iter()
        .map(|name| (name.as_str(), ParamShape::Vector(4), &four[..]))
        .collect();
    out.push((
        "a checkpoint with 50000 state tensors".to_owned(),
        checkpoint_to_bytes(&net, &meta, &many)?,
    ));
    Ok(out)
}

/// Loads the large inputs with both loaders; prints what each held.
/// Returns whether the run fails.
fn run_large() -> bool {
    let inputs = match large_inputs() {
        Ok(inputs) => inputs,
        Err(e) => {
            println!("  the large inputs cannot be written: {e}");
            return true;
        }
    };
    let start = Instant::now();
    let mut net = Subject::new::<f32>(random_net::<f32, Net32>(1000));
    let (mut over, mut failures, mut loads) = (0, 0, 0);
    let mut lines = Vec::new();
    for (what, input) in &inputs {
        let mut line = format!("  {what} ({} bytes):", input.len());
        for target in [Target::Weights, Target::Checkpoint] {
            let (outcome, usage) = net.run::<f32>(target, input);
            loads += 1;
            failures += usize::from(!matches!(outcome, Outcome::Accepted | Outcome::Rejected(_)));
            let verdict = match outcome {
                Outcome::Accepted => "accepted".to_owned(),
                Outcome::Rejected(kind) => format!("refused, {kind}"),
                Outcome::Panicked => "PANICKED".to_owned(),
                Outcome::ChangedOnError(kind) => format!("refused, {kind}, NETWORK CHANGED"),
                Outcome::Wrong(why) => format!("accepted, WRONG: {why}"),
            };
            let bound = FACTOR * input.len() + SLACK;
            let flag = if usage.peak > bound {
                over += 1;
                ", OVER THE LIMIT"
            } else {
                ""
            };
            line += &format!(
                " {} held {} bytes ({:.1} × input{flag}), {verdict};",
                target.name(),
                usage.peak,
                usage.peak as f64 / input.len() as f64
            );
        }
        line.pop();
        lines.push(line);
    }
    println!(
        "fuzz_safetensors: large inputs: {loads} loads of {} inputs made whole, in {:.2?}",
        inputs.len(),
        start.elapsed()
    );
    for line in lines {
        println!("{line}");
    }
    println!("  over the memory limit ({FACTOR} × input + {SLACK}): {over} of {loads} loads");
    failures > 0 || over > 0
}

fn main() -> ExitCode {
    let (iterations, seed) = fuzz::iterations_and_seed(1_000_000);
    let mut rng = Rng(seed);

    let mut seeds = Vec::new();
    let made = seeds_of::<f32, Net32>(false, &mut rng, &mut seeds)
        .and_then(|()| seeds_of::<f64, Net64>(true, &mut rng, &mut seeds));
    if let Err(e) = made {
        eprintln!("the seeds cannot be written: {e}");
        return ExitCode::FAILURE;
    }
    // Sanity: every seed loads, and passes the checks.
    for s in &seeds {
        let (outcome, _) = if s.f64 {
            Subject::new::<f64>(random_net::<f64, Net64>(7)).run::<f64>(s.target, &s.bytes)
        } else {
            Subject::new::<f32>(random_net::<f32, Net32>(7)).run::<f32>(s.target, &s.bytes)
        };
        if !matches!(outcome, Outcome::Accepted) {
            eprintln!("a seed does not load: {}", s.bytes.escape_ascii());
            return ExitCode::FAILURE;
        }
    }
    let pool: Vec<Vec<u8>> = seeds.iter().map(|s| s.bytes.clone()).collect();
    let mut pieces: Vec<Vec<u8>> = PIECES.iter().map(|p| p.as_bytes().to_vec()).collect();
    // Nesting beyond serde_json's limit of 128, and a 400-digit number.
    pieces.push(format!("{}{}", "[".repeat(200), "]".repeat(200)).into_bytes());
    pieces.push(format!("{}1{}", "{\"a\":".repeat(130), "}".repeat(130)).into_bytes());
    pieces.push("9".repeat(400).into_bytes());
    let mutator = Mutator::new(&pool, pieces);

    // Silence the default panic message: panics are counted and reported.
    let panics = fuzz::quiet_panics();

    let mut failed = false;
    for target in [Target::Weights, Target::Checkpoint] {
        let start = Instant::now();
        let Some(stats) =
            fuzz::unwinding(|| fuzz_target(target, iterations, &mut rng, &seeds, &mutator))
        else {
            let message = fuzz::last_panic_message(&panics).unwrap_or_default();
            println!("fuzz_safetensors: the fuzzer itself panicked: {message}");
            return ExitCode::FAILURE;
        };
        let elapsed = start.elapsed();
        println!(
            "fuzz_safetensors: {}: {} inputs ({} into f64) in {elapsed:.2?} ({:.0} inputs/s), seed {seed:#x}",
            target.name(),
            stats.inputs,
            stats.f64_inputs,
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
            "  largest input {} bytes; most memory held by a load {} bytes (input {} bytes), \
             largest single allocation {} bytes; loads over the limit ({FACTOR} × input + \
             {SLACK} bytes) {}",
            stats.largest_input,
            stats.peak.0,
            stats.peak.1,
            stats.largest_allocation,
            stats.over_bound
        );
        if stats.failed() {
            failed = true;
            if let Some(message) = fuzz::first_panic_message(&panics) {
                println!("  first panic: {message}");
            }
            for (what, input) in &stats.failures {
                println!(
                    "  failure ({}, {what}): b\"{}\"",
                    target.name(),
                    input.escape_ascii()
                );
            }
        }
    }
    failed |= run_large();
    if failed {
        ExitCode::FAILURE
    } else {
        println!("  ok");
        ExitCode::SUCCESS
    }
}
