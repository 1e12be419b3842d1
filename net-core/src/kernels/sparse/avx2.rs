//! The sparse loops with AVX2 and FMA, for `f32` and `f64`.
//!
//! Rows are walked in blocks of up to [`BLOCK`] vectors held in registers:
//! forward, one row of `W` meets every nonzero of its column of `x`;
//! backward, one block of a row of `dW` is summed over every nonzero of
//! its column of `x`, then stored once.

use core::arch::x86_64::*;

use super::{Loops, Nonzeros, check_transpose, portable};
use crate::kernels::avx2::{transpose4, transpose8};

/// Vectors of a row held in registers at once: eight, with the broadcast
/// value, fit AVX2's sixteen registers, and cover a row of 64 `f32` (the
/// book's hidden layer of 50 in one pass over the nonzeros).
const BLOCK: usize = 8;

/// Vectors of a row of `dW` summed at once: two sets of seven sums, with
/// the two broadcast values, fill the sixteen registers.
const PAIRED_BLOCK: usize = 7;

/// Calls `block::<B>(…, start)` for each block of at most [`BLOCK`]
/// vectors of a row of `vectors` vectors, `B` the block's length as a
/// constant, so that its values stay in registers.
macro_rules! for_each_block {
    ($vectors:expr, |$start:ident| $block:ident::<B>($($arg:expr),*)) => {
        for_each_block!($vectors, max = BLOCK, |$start| $block::<B>($($arg),*))
    };
    ($vectors:expr, max = $max:expr, |$start:ident| $block:ident::<B>($($arg:expr),*)) => {
        let mut $start = 0;
        while $start < $vectors {
            // SAFETY: forwarded from the caller; the block holds vectors
            // start..start + B ≤ vectors.
            unsafe {
                match $vectors - $start {
                    1 => $block::<1>($($arg),*),
                    2 => $block::<2>($($arg),*),
                    3 => $block::<3>($($arg),*),
                    4 => $block::<4>($($arg),*),
                    5 => $block::<5>($($arg),*),
                    6 => $block::<6>($($arg),*),
                    7 => $block::<7>($($arg),*),
                    _ => $block::<{ $max }>($($arg),*),
                }
            }
            $start += $max;
        }
    };
}

macro_rules! sparse_loops {
    (
        $name:ident: $t:ty, $v:ty, lanes = $lanes:expr,
        load = $load:ident, store = $store:ident, set1 = $set1:ident,
        fmadd = $fmadd:ident, add = $add:ident, zero = $zero:ident,
        cmp = $cmp:ident, movemask = $movemask:ident, transpose = $transpose:ident
    ) => {
        pub(super) mod $name {
            use super::*;

            type T = $t;
            type V = $v;
            const LANES: usize = $lanes;

            /// The loops of this type.
            pub(in crate::kernels) static LOOPS: Loops<T> = Loops {
                scan_column,
                add_product,
                transposed_product,
                transpose,
            };

            /// One word of 64 entries at a time: a whole word is 64 / LANES
            /// compares whose masks go in at fixed shifts (the per-vector
            /// bookkeeping this replaced cost 12% of the MNIST step).
            ///
            /// # Safety
            /// The CPU has AVX2 and POPCNT; `words` has a bit for each
            /// entry of `column`.
            #[target_feature(enable = "avx2,fma,popcnt")]
            unsafe fn scan_column(column: &[T], words: &mut [u64]) -> usize {
                let rows = column.len();
                if rows < LANES {
                    return portable::scan_column(column, words);
                }
                // The bits of the LANES entries from `at`: NaN counts as
                // nonzero (unordered), so it spreads as through a dense product.
                let bits_at = |at: usize| {
                    // SAFETY: at + LANES ≤ rows, checked by the callers.
                    let v = unsafe { $load(column.as_ptr().add(at)) };
                    u64::from($movemask($cmp::<_CMP_NEQ_UQ>(v, $zero())) as u32)
                };
                let mut count = 0;
                for (w, word) in words.iter_mut().enumerate().take(rows.div_ceil(64)) {
                    let start = 64 * w;
                    let end = rows.min(start + 64);
                    let mut bits = 0;
                    if end - start == 64 {
                        for v in 0..64 / LANES {
                            bits |= bits_at(start + v * LANES) << (v * LANES);
                        }
                    } else {
                        let mut at = start;
                        while at + LANES <= end {
                            bits |= bits_at(at) << (at - start);
                            at += LANES;
                        }
                        if at < end {
                            // The column's last entries, fewer than LANES: the
                            // vector that ends with the column, shifted.
                            bits |= (bits_at(rows - LANES) >> (LANES - (end - at))) << (at - start);
                        }
                    }
                    *word = bits;
                    count += bits.count_ones() as usize;
                }
                count
            }

            /// # Safety
            /// The CPU has AVX2 and FMA; the lengths are as [`Loops`] says.
            #[target_feature(enable = "avx2,fma")]
            unsafe fn add_product(
                nonzeros: &Nonzeros,
                x: &[T],
                w_rows: &[T],
                y_rows: &mut [T],
                stride: usize,
            ) {
                let (rows, inputs) = (nonzeros.rows, nonzeros.columns());
                assert!(
                    stride % LANES == 0
                        && x.len() == rows * inputs
                        && w_rows.len() == inputs * stride
                        && y_rows.len() == rows * stride
                );
                // W is read a band of 64 rows at a time, block by block, for
                // every sample: the band's block (16 KB) stays in L1, where
                // a whole W (175 KB for the book's first layer) would not.
                for band in 0..nonzeros.bands() {
                    for_each_block!(stride / LANES, |start| add_band::<B>(
                        nonzeros,
                        band,
                        x,
                        w_rows.as_ptr(),
                        y_rows.as_mut_ptr(),
                        stride,
                        start
                    ));
                }
            }

            /// Vectors `start..start + B` of every row `n` of `y`, summed in
            /// registers over the nonzeros `x[n, p]·W[p, :]` of sample `n`
            /// in band `band` (`p` in `64·band … 64·band + 63`), then stored.
            ///
            /// # Safety
            /// As `add_product`, with `y` the rows of `y`, and the block
            /// inside the rows.
            #[target_feature(enable = "avx2,fma")]
            #[inline]
            unsafe fn add_band<const B: usize>(
                nonzeros: &Nonzeros,
                band: usize,
                x: &[T],
                w: *const T,
                y: *mut T,
                stride: usize,
                start: usize,
            ) {
                let rows = nonzeros.rows;
                for n in 0..rows {
                    // SAFETY: the block lies in row n.
                    let y = unsafe { y.add(n * stride + start * LANES) };
                    // SAFETY: as above.
                    let mut sums: [V; B] =
                        core::array::from_fn(|k| unsafe { $load(y.add(k * LANES)) });
                    nonzeros.for_each_column_in_band(n, band, |p| {
                        // Column-major: the samples that follow read the
                        // same cache lines of `x`, so these stay in L1.
                        let x = &x[p * rows + n];
                        // SAFETY: p < inputs, so the block lies in row p of W.
                        sums = unsafe { add_row(sums, x, w.add(p * stride + start * LANES)) };
                    });
                    for (k, &sum) in sums.iter().enumerate() {
                        // SAFETY: as above.
                        unsafe { $store(y.add(k * LANES), sum) };
                    }
                }
            }

            /// # Safety
            /// The CPU has AVX2 and FMA; the lengths are as [`Loops`] says.
            #[target_feature(enable = "avx2,fma")]
            unsafe fn transposed_product(
                nonzeros: &Nonzeros,
                x: &[T],
                dout_rows: &[T],
                dw_rows: &mut [T],
                stride: usize,
            ) {
                let (rows, inputs) = (nonzeros.rows, nonzeros.columns());
                assert!(
                    stride % LANES == 0
                        && x.len() == rows * inputs
                        && dout_rows.len() == rows * stride
                        && dw_rows.len() == inputs * stride
                );
                let dw = dw_rows.as_mut_ptr();
                for_each_block!(
                    stride / LANES,
                    max = PAIRED_BLOCK,
                    |start| transposed_block::<B>(
                        nonzeros,
                        x.as_ptr(),
                        dout_rows.as_ptr(),
                        dw,
                        stride,
                        start
                    )
                );
            }

            /// Vectors `start..start + B` of every row `p` of `dW`, summed
            /// in registers over the nonzeros of column `p` of `x`, then
            /// stored. The nonzeros are taken two at a time into two sets
            /// of sums, so that `2·B` FMAs are in flight (`B` alone cannot
            /// hide the FMA's latency); the block of `dout`'s rows stays in
            /// L1 for every row of `dW`.
            ///
            /// # Safety
            /// As `transposed_product`, with the block inside the rows.
            #[target_feature(enable = "avx2,fma")]
            #[inline]
            unsafe fn transposed_block<const B: usize>(
                nonzeros: &Nonzeros,
                x: *const T,
                dout: *const T,
                dw: *mut T,
                stride: usize,
                start: usize,
            ) {
                let (rows, inputs) = (nonzeros.rows, nonzeros.columns());
                let dout = dout.wrapping_add(start * LANES);
                for p in 0..inputs {
                    // SAFETY: column p < inputs of x.
                    let x = unsafe { x.add(p * rows) };
                    let mut even = [$zero(); B];
                    let mut odd = [$zero(); B];
                    for (w, &word) in nonzeros.column_words(p).iter().enumerate() {
                        let mut word = word;
                        while word != 0 {
                            let n = 64 * w + word.trailing_zeros() as usize;
                            // SAFETY: n < rows (a bit of column p), so x[n]
                            // is in the column and the block in row n of dout.
                            even = unsafe { add_row(even, x.add(n), dout.add(n * stride)) };
                            word &= word - 1;
                            if word == 0 {
                                break;
                            }
                            let n = 64 * w + word.trailing_zeros() as usize;
                            // SAFETY: as above.
                            odd = unsafe { add_row(odd, x.add(n), dout.add(n * stride)) };
                            word &= word - 1;
                        }
                    }
                    // SAFETY: p < inputs, so the block lies in row p of dW.
                    let dw = unsafe { dw.add(p * stride + start * LANES) };
                    for (k, (&even, &odd)) in even.iter().zip(&odd).enumerate() {
                        // SAFETY: as above.
                        unsafe { $store(dw.add(k * LANES), $add(even, odd)) };
                    }
                }
            }

            /// `sums + x·row`, the `B` vectors of `row` scaled by the value at
            /// `x`.
            ///
            /// # Safety
            /// `x` is valid for one read, `row` for `B` vectors.
            #[target_feature(enable = "avx2,fma")]
            #[inline]
            unsafe fn add_row<const B: usize>(sums: [V; B], x: *const T, row: *const T) -> [V; B] {
                // SAFETY: the caller's contract.
                unsafe {
                    let v = $set1(*x);
                    core::array::from_fn(|k| $fmadd(v, $load(row.add(k * LANES)), sums[k]))
                }
            }

            /// As [`Loops`] says, by `LANES × LANES` tiles transposed in
            /// registers; the edges by the portable loop.
            ///
            /// # Safety
            /// The CPU has AVX2.
            #[target_feature(enable = "avx2,fma")]
            unsafe fn transpose(
                from: &[T],
                from_ld: usize,
                to: &mut [T],
                to_ld: usize,
                count: usize,
                len: usize,
                added: Option<T>,
            ) {
                check_transpose(from, from_ld, to, to_ld, count, len);
                let alpha = $set1(added.unwrap_or(0.0));
                let (whole_runs, whole_len) = (count / LANES * LANES, len / LANES * LANES);
                for k in (0..whole_runs).step_by(LANES) {
                    for m in (0..whole_len).step_by(LANES) {
                        // SAFETY: runs k..k + LANES, entries m..m + LANES,
                        // inside `from` as checked; the same transposed
                        // inside `to`.
                        unsafe {
                            let tile: [V; LANES] = core::array::from_fn(|r| {
                                $load(from.as_ptr().add((k + r) * from_ld + m))
                            });
                            for (c, run) in $transpose(tile).into_iter().enumerate() {
                                let to = to.as_mut_ptr().add((m + c) * to_ld + k);
                                match added {
                                    None => $store(to, run),
                                    Some(_) => $store(to, $fmadd(run, alpha, $load(to))),
                                }
                            }
                        }
                    }
                    if whole_len < len {
                        let (from, to) = (
                            &from[k * from_ld + whole_len..],
                            &mut to[whole_len * to_ld + k..],
                        );
                        portable::transpose(
                            from,
                            from_ld,
                            to,
                            to_ld,
                            LANES,
                            len - whole_len,
                            added,
                        );
                    }
                }
                if whole_runs < count {
                    let (from, to) = (&from[whole_runs * from_ld..], &mut to[whole_runs..]);
                    portable::transpose(from, from_ld, to, to_ld, count - whole_runs, len, added);
                }
            }
        }
    };
}

sparse_loops!(
    f32: f32, __m256, lanes = 8,
    load = _mm256_loadu_ps, store = _mm256_storeu_ps, set1 = _mm256_set1_ps,
    fmadd = _mm256_fmadd_ps, add = _mm256_add_ps, zero = _mm256_setzero_ps,
    cmp = _mm256_cmp_ps, movemask = _mm256_movemask_ps, transpose = transpose8
);
sparse_loops!(
    f64: f64, __m256d, lanes = 4,
    load = _mm256_loadu_pd, store = _mm256_storeu_pd, set1 = _mm256_set1_pd,
    fmadd = _mm256_fmadd_pd, add = _mm256_add_pd, zero = _mm256_setzero_pd,
    cmp = _mm256_cmp_pd, movemask = _mm256_movemask_pd, transpose = transpose4
);
