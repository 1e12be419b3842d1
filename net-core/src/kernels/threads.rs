//! Work cut between the pool's threads (`threads/pool.rs`): a range of
//! items per part, and the part's own piece of the output, cut off with
//! `split_at_mut`, so that the layers write in parallel without `unsafe`.

use core::ops::{Deref, DerefMut, Range};
use std::sync::{Mutex, PoisonError};

mod pool;

pub(super) use pool::run;
pub(crate) use pool::{alone, threads};

/// Values below which an element-wise pass stays on one thread: waking
/// the other costs about as much as passing over this many.
const PARALLEL_VALUES: usize = 1 << 15;

/// Output that the parts of one job share out, each part its own piece.
pub(crate) trait Split: Send + Sized {
    /// The piece of the first `items` items, and the rest.
    ///
    /// # Panics
    /// When there are fewer than `items` items.
    fn split_at(self, items: usize) -> (Self, Self);
}

/// One value per item.
impl<T: Send> Split for &mut [T] {
    fn split_at(self, items: usize) -> (Self, Self) {
        self.split_at_mut(items)
    }
}

/// A slice of items of `len` values each: the planes of a batch of
/// images, or its samples.
pub(crate) struct Items<'a, T> {
    values: &'a mut [T],
    len: usize,
}

impl<'a, T> Items<'a, T> {
    /// `values` as items of `len` values.
    pub(crate) fn new(values: &'a mut [T], len: usize) -> Self {
        Items { values, len }
    }
}

impl<T> Deref for Items<'_, T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.values
    }
}

impl<T> DerefMut for Items<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.values
    }
}

impl<T: Send> Split for Items<'_, T> {
    fn split_at(self, items: usize) -> (Self, Self) {
        let (piece, rest) = self.values.split_at_mut(items * self.len);
        (Items::new(piece, self.len), Items::new(rest, self.len))
    }
}

impl<A: Split, B: Split> Split for (A, B) {
    fn split_at(self, items: usize) -> (Self, Self) {
        let ((a, rest_a), (b, rest_b)) = (self.0.split_at(items), self.1.split_at(items));
        ((a, b), (rest_a, rest_b))
    }
}

impl<A: Split> Split for Option<A> {
    fn split_at(self, items: usize) -> (Self, Self) {
        self.map(|a| a.split_at(items)).unzip()
    }
}

/// One state per part, whatever its number of items.
struct PerPart<'a, I>(&'a mut [I]);

impl<I: Send> Split for PerPart<'_, I> {
    fn split_at(self, _items: usize) -> (Self, Self) {
        let (state, rest) = self.0.split_at_mut(1);
        (PerPart(state), PerPart(rest))
    }
}

/// The items of part `part` when `len` items are cut into `parts`.
fn part_range(len: usize, parts: usize, part: usize) -> Range<usize> {
    len * part / parts..len * (part + 1) / parts
}

/// Calls `job(range, piece)` for `parts` ranges that cut `0..len` items
/// ([`part_range`]), `piece` being `out`'s piece of the range's items, on
/// the pool's threads when it is free.
fn for_each_piece<S: Split>(
    len: usize,
    parts: usize,
    out: S,
    job: &(dyn Fn(Range<usize>, S) + Sync),
) {
    if parts <= 1 {
        if parts == 1 {
            job(0..len, out);
        }
        return;
    }
    if parts > pool::MAX_THREADS {
        // More parts than threads: one after the other, here.
        let mut rest = out;
        for part in 0..parts {
            let range = part_range(len, parts, part);
            let (piece, after) = rest.split_at(range.len());
            rest = after;
            job(range, piece);
        }
        return;
    }
    // The pieces are cut here, in order; each part takes its own. Slots
    // on the stack, so that nothing is allocated.
    let mut rest = Some(out);
    let pieces: [Mutex<Option<S>>; pool::MAX_THREADS] = core::array::from_fn(|part| {
        Mutex::new((part < parts).then(|| {
            let whole = rest.take().expect("one piece per part");
            let (piece, after) = whole.split_at(part_range(len, parts, part).len());
            rest = Some(after);
            piece
        }))
    });
    run(parts, &|part| {
        let piece = pieces[part]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .expect("each part runs once");
        job(part_range(len, parts, part), piece);
    });
}

/// Calls `job(range, piece)` for ranges that cut `0..len` items of
/// `item_len` values each into one part per thread
/// (`STATICNET_NUM_THREADS`), in parallel, or `job(0..len, out)` when
/// they are too few values to share; `piece` is `out`'s share of the
/// range's items.
pub(crate) fn for_each_chunk<S: Split>(
    len: usize,
    item_len: usize,
    out: S,
    job: &(dyn Fn(Range<usize>, S) + Sync),
) {
    let parts = if len.saturating_mul(item_len) < PARALLEL_VALUES {
        1
    } else {
        threads().min(len)
    };
    for_each_piece(len, parts, out, job);
}

/// Calls `job(state, range, piece)` for one part per state, on the pool's
/// threads when it is free: `range` is the part's share of `0..len` items
/// and `piece` `out`'s share of them.
pub(crate) fn for_each_part<I: Send, S: Split>(
    states: &mut [I],
    len: usize,
    out: S,
    job: &(dyn Fn(&mut I, Range<usize>, S) + Sync),
) {
    let parts = states.len();
    for_each_piece(
        len,
        parts,
        (PerPart(states), out),
        &|range, (state, out)| {
            job(&mut state.0[0], range, out);
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every part gets its own range and the piece of it, for every
    /// number of parts up to past the slots.
    #[test]
    fn pieces_match_their_ranges() {
        for parts in [0, 1, 2, 3, 7, 64, 65] {
            for len in [0, 1, 5, 100] {
                let mut values = vec![usize::MAX; 2 * len];
                let mut states = vec![0; parts];
                let out = Items::new(&mut values, 2);
                for_each_part(&mut states, len, out, &|state, range, mut piece| {
                    assert_eq!(piece.len(), 2 * range.len());
                    *state = range.len();
                    for (value, item) in piece.iter_mut().zip(range.flat_map(|i| [i, i])) {
                        *value = item;
                    }
                });
                let expected: Vec<usize> = (0..len).flat_map(|i| [i, i]).collect();
                if parts > 0 {
                    assert_eq!(values, expected, "{parts} parts of {len}");
                    assert_eq!(states.iter().sum::<usize>(), len);
                }
            }
        }
    }
}
