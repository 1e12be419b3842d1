//! What the fuzz examples share: a deterministic generator, the generic
//! byte mutations (each fuzzer adds those of its format), a panic catcher
//! and a counting allocator.
//!
//! Included by each fuzzer with `#[path = "fuzz_common/mod.rs"] mod fuzz;`
//! (a directory without `main.rs`, so cargo does not take it for an
//! example of its own).

// Each fuzzer uses a part of it.
#![allow(dead_code)]

pub mod alloc;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

/// A fuzzer's command line, `[ITERATIONS [SEED]]`: the iterations
/// (`default` when not given) and the seed of the run (`0x5EED` when not
/// given).
pub fn iterations_and_seed(default: usize) -> (usize, u64) {
    let mut args = std::env::args().skip(1);
    let iterations = args.next().and_then(|a| a.parse().ok()).unwrap_or(default);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(0x5EED);
    (iterations, seed)
}

/// SplitMix64: a tiny deterministic generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn byte(&mut self) -> u8 {
        self.next() as u8
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Flips one bit.
    Flip,
    /// Sets one byte to a random value.
    Set,
    /// Cuts the input at a random length.
    Truncate,
    /// Inserts a random byte.
    Insert,
    /// Removes one byte.
    Remove,
    /// Appends 1 to 8 random bytes.
    Append,
    /// Inserts a slice of an input of the pool.
    Splice,
    /// A mutation of the fuzzer's format, by its number.
    Format(u8),
}

/// A list of operations in which each appears as many times as its
/// weight, for [`mutate`].
pub fn weighted(table: &[(Op, usize)]) -> Vec<Op> {
    table
        .iter()
        .flat_map(|&(op, weight)| std::iter::repeat_n(op, weight))
        .collect()
}

/// Applies `1 + below(rounds)` mutations to `bytes`, each drawn uniformly
/// from `ops` (list one several times to weight it). `format` applies the
/// [`Op::Format`] ones and says whether it could; an operation that does
/// not apply (a bit flip in an empty input, a format mutation that found
/// nothing to edit) becomes a splice from `pool`.
pub fn mutate(
    rng: &mut Rng,
    bytes: &mut Vec<u8>,
    pool: &[Vec<u8>],
    rounds: usize,
    ops: &[Op],
    format: &mut dyn FnMut(&mut Rng, &mut Vec<u8>, u8) -> bool,
) {
    for _ in 0..1 + rng.below(rounds) {
        let len = bytes.len();
        let done = match ops[rng.below(ops.len())] {
            Op::Flip if len > 0 => {
                let at = rng.below(len);
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 1 << rng.below(8);
                }
                true
            }
            Op::Set if len > 0 => {
                let at = rng.below(len);
                let v = rng.byte();
                if let Some(b) = bytes.get_mut(at) {
                    *b = v;
                }
                true
            }
            Op::Truncate => {
                bytes.truncate(rng.below(len + 1));
                true
            }
            Op::Insert => {
                let at = rng.below(len + 1);
                let v = rng.byte();
                bytes.insert(at, v);
                true
            }
            Op::Remove if len > 0 => {
                bytes.remove(rng.below(len));
                true
            }
            Op::Append => {
                // Trailing garbage.
                for _ in 0..1 + rng.below(8) {
                    let v = rng.byte();
                    bytes.push(v);
                }
                true
            }
            Op::Format(k) => format(rng, bytes, k),
            _ => false,
        };
        if !done {
            splice(rng, bytes, pool);
        }
    }
}

/// Inserts a random slice of a random input of `pool` (not empty) at a
/// random place.
pub fn splice(rng: &mut Rng, bytes: &mut Vec<u8>, pool: &[Vec<u8>]) {
    let other = &pool[rng.below(pool.len())];
    let from = rng.below(other.len() + 1);
    let to = from + rng.below(other.len() - from + 1);
    let at = rng.below(bytes.len() + 1);
    let piece: Vec<u8> = other.get(from..to).unwrap_or_default().to_vec();
    bytes.splice(at..at, piece);
}

/// The first and the last panic messages of the run, kept by the panic
/// hook that [`quiet_panics`] installs.
pub type Panics = Arc<Mutex<(Option<String>, Option<String>)>>;

/// Silences the default panic message (panics are counted and reported by
/// the fuzzer) and keeps the first and the last.
pub fn quiet_panics() -> Panics {
    let panics: Panics = Arc::new(Mutex::new((None, None)));
    let slot = panics.clone();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut slot) = slot.lock() {
            let message = info.to_string();
            slot.0.get_or_insert_with(|| message.clone());
            slot.1 = Some(message);
        }
    }));
    panics
}

/// The first panic message, if any.
pub fn first_panic_message(panics: &Panics) -> Option<String> {
    panics.lock().ok().and_then(|slot| slot.0.clone())
}

/// The last panic message, if any.
pub fn last_panic_message(panics: &Panics) -> Option<String> {
    panics.lock().ok().and_then(|slot| slot.1.clone())
}

/// Runs `f`, turning a panic into `None`.
pub fn unwinding<R>(f: impl FnOnce() -> R) -> Option<R> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}
