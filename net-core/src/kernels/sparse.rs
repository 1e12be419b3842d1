//! The two products of an [`Affine`](crate::Affine) layer whose input is
//! mostly zeros, as MNIST's images are (81% of their pixels are 0).
//!
//! A dense product spends the same work on a zero as on any other entry;
//! here only the nonzero entries of `x` are visited:
//! - forward, `y[n, :] += x[n, p]·W[p, :]` for each nonzero `x[n, p]`;
//! - backward, `dW[p, :] = Σₙ x[n, p]·dout[n, :]` over the nonzeros of
//!   column `p` of `x`.
//!
//! Both read rows of `W`, `y` and `dout` (one sample's or one input's
//! values), so those are handed over row-major; the layer transposes them,
//! which costs far less than the zeros it skips. On one core, at MNIST's
//! density, the two products of the book's first layer take about a third
//! of the time of the dense ones (`examples/bench.rs --density 0.19`).

use core::any::{Any, TypeId};

use crate::kernels::dispatch::Kernels;

#[cfg(target_arch = "x86_64")]
mod avx2;

/// Densities above this go to the dense kernels: per nonzero, the sparse
/// loops do about twice the work of the dense kernel per entry.
const MAX_DENSITY: f64 = 1.0 / 3.0;

/// The first `1 / SAMPLE_FRACTION` of the columns is scanned first, to
/// estimate the density.
const SAMPLE_FRACTION: usize = 8;

/// A sample denser than this decides for the dense kernels without scanning
/// the rest: with a margin over [`MAX_DENSITY`], as the sample is only an
/// estimate (a wrong call costs time, never correctness).
const DENSE_SAMPLE: f64 = 1.5 * MAX_DENSITY;

/// Rows handed over row-major are padded to a multiple of this many
/// entries (one AVX vector of `f32`, two of `f64`), so that no loop has a
/// scalar tail.
const PAD: usize = 8;

/// Which entries of a column-major matrix are not zero: one bit per entry,
/// each column's bits in whole 64-bit words.
#[derive(Clone, Debug, Default)]
pub(crate) struct Nonzeros {
    rows: usize,
    words_per_column: usize,
    bits: Vec<u64>,
    /// The same bits row by row (`words_per_row` words per row), for the
    /// forward product, which walks each sample's nonzeros.
    row_bits: Vec<u64>,
    words_per_row: usize,
    count: usize,
    /// Whether every column was scanned (else the sample was too dense).
    complete: bool,
    /// The address and length of the matrix scanned last.
    scanned: (usize, usize),
}

impl Nonzeros {
    /// Records the nonzero entries of `values`, a column-major matrix with
    /// `rows` rows. The words are reused from the last call.
    ///
    /// The first columns ([`SAMPLE_FRACTION`]) are scanned first; when they
    /// are clearly too dense for the sparse loops ([`DENSE_SAMPLE`]), the
    /// rest is not scanned and the matrix goes to the dense kernels.
    /// Scanning all of a dense input cost a tenth of the book's training
    /// step, mostly waiting on memory; the first columns are the ones the
    /// dense kernel reads first, so their wait is not lost. (MNIST's first
    /// columns are the top rows of the images, blank: fully scanned.)
    fn scan<T: Kernels>(&mut self, values: &[T], rows: usize) {
        self.rows = rows;
        self.words_per_column = rows.div_ceil(64);
        self.bits.clear();
        self.count = 0;
        self.complete = false;
        self.scanned = (values.as_ptr() as usize, values.len());
        if rows == 0 {
            return;
        }
        let scan_column = loops::<T>().scan_column;
        let columns = values.len() / rows;
        self.bits.resize(columns * self.words_per_column, 0);
        let words_per_column = self.words_per_column;
        let bits = &mut self.bits;
        let mut scan = |p: usize| {
            let words = &mut bits[p * words_per_column..][..words_per_column];
            // SAFETY: `words` holds one bit per entry of column `p`, and the
            // loops' CPU features were checked by `loops`.
            unsafe { scan_column(&values[p * rows..][..rows], words) }
        };
        let sample = columns.div_ceil(SAMPLE_FRACTION);
        let sampled: usize = (0..sample).map(&mut scan).sum();
        if sampled as f64 > DENSE_SAMPLE * (sample * rows) as f64 {
            return;
        }
        let rest: usize = (sample..columns).map(scan).sum();
        self.count = sampled + rest;
        self.complete = true;
    }

    /// As [`scan`](Self::scan), unless `values` is the matrix scanned last
    /// (the backward pass gets the input the forward pass scanned).
    fn rescan<T: Kernels>(&mut self, values: &[T], rows: usize) {
        if self.scanned != (values.as_ptr() as usize, values.len()) || self.rows != rows {
            self.scan(values, rows);
        }
    }

    /// Whether the sparse loops beat the dense kernels on the scanned
    /// matrix.
    fn is_sparse(&self) -> bool {
        let entries = self.columns() * self.rows;
        self.complete && entries > 0 && (self.count as f64) <= MAX_DENSITY * entries as f64
    }

    /// The number of columns scanned.
    fn columns(&self) -> usize {
        self.bits.len() / self.words_per_column.max(1)
    }

    /// Fills the row-by-row bits from the column-by-column ones, 64 × 64
    /// bits at a time.
    fn index_rows(&mut self) {
        let (rows, columns) = (self.rows, self.columns());
        self.words_per_row = columns.div_ceil(64);
        self.row_bits.clear();
        self.row_bits.resize(rows * self.words_per_row, 0);
        for row_word in 0..self.words_per_column {
            for column_word in 0..self.words_per_row {
                // Word i of the block: column 64·column_word + i, rows
                // 64·row_word … (bit j: row 64·row_word + j).
                let mut block = [0u64; 64];
                let first = 64 * column_word;
                for (i, word) in block
                    .iter_mut()
                    .enumerate()
                    .take(columns - first.min(columns))
                {
                    *word = self.bits[(first + i) * self.words_per_column + row_word];
                }
                transpose_bits(&mut block);
                let first_row = 64 * row_word;
                for (j, &word) in block.iter().enumerate().take(rows - first_row) {
                    self.row_bits[(first_row + j) * self.words_per_row + column_word] = word;
                }
            }
        }
    }

    /// Calls `f` with the column of each nonzero entry of row `n`, in
    /// order; [`index_rows`](Self::index_rows) must have run since the
    /// last scan.
    #[inline(always)]
    fn for_each_column(&self, n: usize, f: impl FnMut(usize)) {
        for_each_bit(
            &self.row_bits[n * self.words_per_row..][..self.words_per_row],
            f,
        );
    }

    /// The number of bands of 64 columns ([`for_each_column_in_band`]).
    ///
    /// [`for_each_column_in_band`]: Self::for_each_column_in_band
    #[cfg(target_arch = "x86_64")]
    fn bands(&self) -> usize {
        self.words_per_row
    }

    /// As [`for_each_column`](Self::for_each_column), for the columns
    /// `64·band … 64·band + 63` only.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn for_each_column_in_band(&self, n: usize, band: usize, mut f: impl FnMut(usize)) {
        let word = self.row_bits[n * self.words_per_row + band];
        for_each_bit(&[word], |i| f(64 * band + i));
    }

    /// The words of column `p`'s bits.
    #[inline(always)]
    fn column_words(&self, p: usize) -> &[u64] {
        &self.bits[p * self.words_per_column..][..self.words_per_column]
    }

    /// Calls `f` with the row of each nonzero entry of column `p`, in
    /// order.
    #[inline(always)]
    fn for_each_row(&self, p: usize, f: impl FnMut(usize)) {
        for_each_bit(self.column_words(p), f);
    }
}

/// Calls `f` with the position of each set bit of `words`, in order.
/// (Plain loops rather than an iterator: the callers' sums then stay in
/// registers.)
#[inline(always)]
fn for_each_bit(words: &[u64], mut f: impl FnMut(usize)) {
    for (w, &word) in words.iter().enumerate() {
        let mut word = word;
        while word != 0 {
            f(64 * w + word.trailing_zeros() as usize);
            word &= word - 1;
        }
    }
}

/// Transposes a 64 × 64 matrix of bits in place: bit `j` of word `i`
/// trades places with bit `i` of word `j` (Hacker's Delight, 7-3: swap the
/// off-diagonal halves of ever smaller blocks).
fn transpose_bits(block: &mut [u64; 64]) {
    let mut width = 32;
    let mut mask: u64 = 0x0000_0000_FFFF_FFFF;
    while width != 0 {
        let mut k = 0;
        while k < 64 {
            let swap = ((block[k] >> width) ^ block[k + width]) & mask;
            block[k] ^= swap << width;
            block[k + width] ^= swap;
            k = (k + width + 1) & !width;
        }
        width >>= 1;
        mask ^= mask << width;
    }
}

/// `transpose(from, from_ld, to, to_ld, count, len, added)`: `from` holds
/// `count` runs of `len` entries, `from_ld` apart; entry `m` of run `k`
/// goes to entry `k` of run `m` of `to`, whose runs are `to_ld` apart; with
/// `added = Some(α)`, `α` times the entry is added to it instead.
type Transpose<T> = unsafe fn(&[T], usize, &mut [T], usize, usize, usize, Option<T>);

/// One scalar type's loops: AVX2, FMA and POPCNT when the CPU has them
/// (`avx2.rs`), else the portable loops below.
///
/// The products take a [`Nonzeros`] of a column-major `x` with
/// `rows × inputs` entries, and rows of `stride` entries (a multiple of
/// [`PAD`]).
struct Loops<T: 'static> {
    /// Sets one bit per nonzero entry of a column (`⌈len / 64⌉` words);
    /// returns their number.
    scan_column: unsafe fn(&[T], &mut [u64]) -> usize,
    /// `y_rows[n, :] += x[n, :]·W`, with `x` column-major (`rows ×
    /// inputs`), `W` (`w_rows`, `inputs × stride`) and `y_rows` (`rows ×
    /// stride`) row-major; needs the row-by-row bits.
    add_product: unsafe fn(&Nonzeros, &[T], &[T], &mut [T], usize),
    /// `dw_rows ← xᵀ·dout`, with `dout_rows` (`rows × stride`) and
    /// `dw_rows` (`inputs × stride`) row-major.
    transposed_product: unsafe fn(&Nonzeros, &[T], &[T], &mut [T], usize),
    /// See [`Transpose`].
    transpose: Transpose<T>,
}

impl<T> Clone for Loops<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Loops<T> {}

/// The loops for `T` on this CPU.
fn loops<T: Kernels>() -> Loops<T> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
        && std::arch::is_x86_feature_detected!("popcnt")
    {
        let avx2: &dyn Any = if TypeId::of::<T>() == TypeId::of::<f32>() {
            &avx2::f32::LOOPS
        } else {
            &avx2::f64::LOOPS
        };
        if let Some(&loops) = avx2.downcast_ref::<Loops<T>>() {
            return loops;
        }
    }
    portable::loops()
}

/// The buffers of an `Affine` layer's sparse path, sized at first use and
/// reused after.
#[derive(Clone, Debug, Default)]
pub(crate) struct SparseAffine<T> {
    nonzeros: Nonzeros,
    /// `W` (forward) or `dW` (backward) row-major, each row padded to a
    /// multiple of [`PAD`] with zeros.
    weight_rows: Vec<T>,
    /// `y` (forward) or `dout` (backward) row-major, padded the same way.
    sample_rows: Vec<T>,
}

impl<T: Kernels> SparseAffine<T> {
    /// Sizes the row-major buffers for the scanned `x` and `outputs`
    /// outputs; returns their row length, padded to a multiple of [`PAD`].
    /// The padding is never written, so it stays zero.
    fn size_rows(&mut self, outputs: usize) -> usize {
        let stride = outputs.next_multiple_of(PAD);
        let (rows, inputs) = (self.nonzeros.rows, self.nonzeros.columns());
        self.weight_rows.resize(inputs * stride, T::zero());
        self.sample_rows.resize(rows * stride, T::zero());
        stride
    }

    /// Scans `x` (column-major, `rows` rows): its number of inputs when it
    /// is sparse enough for these loops.
    fn sparse_inputs(&mut self, x: &[T], rows: usize) -> Option<usize> {
        self.nonzeros.scan(x, rows);
        self.nonzeros.is_sparse().then(|| self.nonzeros.columns())
    }

    /// `y ← x·W + b`, when `x` (column-major, `rows` rows) is sparse enough;
    /// `w` and `y` are column-major. Returns whether it was.
    pub(crate) fn try_forward(
        &mut self,
        x: &[T],
        rows: usize,
        w: &[T],
        bias: &[T],
        y: &mut [T],
    ) -> bool {
        let Some(inputs) = self.sparse_inputs(x, rows) else {
            return false;
        };
        let outputs = bias.len();
        assert!(w.len() == inputs * outputs);
        let stride = self.size_rows(outputs);
        // SAFETY: the lengths were checked above and set by the resize;
        // `loops` checked the CPU's features.
        unsafe {
            (loops::<T>().transpose)(
                w,
                inputs,
                &mut self.weight_rows,
                stride,
                outputs,
                inputs,
                None,
            );
        }
        self.forward_rows(x, rows, None, stride, bias, y);
        true
    }

    /// As [`try_forward`](Self::try_forward), with `W` already row by row
    /// ([`weight_rows`]): a frozen layer's, prepared once.
    pub(crate) fn try_forward_rows(
        &mut self,
        x: &[T],
        rows: usize,
        weight_rows: &[T],
        bias: &[T],
        y: &mut [T],
    ) -> bool {
        let Some(inputs) = self.sparse_inputs(x, rows) else {
            return false;
        };
        let stride = row_stride(bias.len());
        assert!(weight_rows.len() == inputs * stride);
        self.sample_rows.resize(rows * stride, T::zero());
        self.forward_rows(x, rows, Some(weight_rows), stride, bias, y);
        true
    }

    /// The sparse product over the scanned `x`, with `W` row by row in
    /// `weight_rows` (or in `self.weight_rows`), and `y` back column-major.
    fn forward_rows(
        &mut self,
        x: &[T],
        rows: usize,
        weight_rows: Option<&[T]>,
        stride: usize,
        bias: &[T],
        y: &mut [T],
    ) {
        let outputs = bias.len();
        assert!(y.len() == rows * outputs && self.sample_rows.len() >= rows * stride);
        let loops = loops::<T>();
        for row in self.sample_rows.chunks_exact_mut(stride) {
            row[..outputs].copy_from_slice(bias);
        }
        self.nonzeros.index_rows();
        let weight_rows = weight_rows.unwrap_or(&self.weight_rows);
        // SAFETY: the callers checked the lengths and sized the rows;
        // `loops` checked the CPU's features.
        unsafe {
            (loops.add_product)(
                &self.nonzeros,
                x,
                weight_rows,
                &mut self.sample_rows,
                stride,
            );
            (loops.transpose)(&self.sample_rows, stride, y, rows, rows, outputs, None);
        }
    }

    /// `dW ← xᵀ·dout`, or with `added = Some(α)`, `dW ← dW + α·xᵀ·dout`
    /// (SGD's update, on `W` itself), when `x` (column-major, `rows` rows)
    /// is sparse enough; `dout` and `dw` are column-major. Returns whether
    /// it was.
    pub(crate) fn try_weight_gradient(
        &mut self,
        x: &[T],
        rows: usize,
        dout: &[T],
        dw: &mut [T],
        added: Option<T>,
    ) -> bool {
        self.nonzeros.rescan(x, rows);
        if !self.nonzeros.is_sparse() {
            return false;
        }
        let (inputs, outputs) = (self.nonzeros.columns(), dout.len() / rows);
        assert!(dout.len() == rows * outputs && dw.len() == inputs * outputs);
        let stride = self.size_rows(outputs);
        let loops = loops::<T>();
        // SAFETY: as in `try_forward`.
        unsafe {
            (loops.transpose)(
                dout,
                rows,
                &mut self.sample_rows,
                stride,
                outputs,
                rows,
                None,
            );
            (loops.transposed_product)(
                &self.nonzeros,
                x,
                &self.sample_rows,
                &mut self.weight_rows,
                stride,
            );
            (loops.transpose)(
                &self.weight_rows,
                stride,
                dw,
                inputs,
                inputs,
                outputs,
                added,
            );
        }
        true
    }
}

/// `W` (column-major, `inputs × outputs`) row by row, each row padded with
/// zeros to a multiple of [`PAD`]: what the sparse forward product reads.
pub(crate) fn weight_rows<T: Kernels>(w: &[T], inputs: usize, outputs: usize) -> Vec<T> {
    let stride = outputs.next_multiple_of(PAD);
    let mut rows = vec![T::zero(); inputs * stride];
    transpose(w, inputs, &mut rows, stride, outputs, inputs);
    rows
}

/// The length of a row of [`weight_rows`] for `outputs` outputs.
pub(crate) fn row_stride(outputs: usize) -> usize {
    outputs.next_multiple_of(PAD)
}

/// `to[m·to_ld + k] = from[k·from_ld + m]` for `count` runs of `len`
/// entries: a row-major batch into a column-major one, or back.
///
/// # Panics
/// When the runs do not fit in `from` or `to`.
pub(crate) fn transpose<T: Kernels>(
    from: &[T],
    from_ld: usize,
    to: &mut [T],
    to_ld: usize,
    count: usize,
    len: usize,
) {
    // SAFETY: both implementations check the lengths; `loops` checked the
    // CPU's features.
    unsafe { (loops::<T>().transpose)(from, from_ld, to, to_ld, count, len, None) }
}

/// Checks the lengths `transpose` reads and writes.
fn check_transpose<T>(
    from: &[T],
    from_ld: usize,
    to: &[T],
    to_ld: usize,
    count: usize,
    len: usize,
) {
    if count > 0 && len > 0 {
        assert!(len <= from_ld && count <= to_ld);
        assert!(from.len() >= (count - 1) * from_ld + len && to.len() >= (len - 1) * to_ld + count);
    }
}

/// The loops in plain Rust, for CPUs without AVX2 and FMA.
mod portable {
    use super::{Loops, Nonzeros, check_transpose};
    use crate::kernels::dispatch::Kernels;

    pub(super) fn loops<T: Kernels>() -> Loops<T> {
        Loops {
            scan_column: scan_column::<T>,
            add_product: add_product::<T>,
            transposed_product: transposed_product::<T>,
            transpose: transpose::<T>,
        }
    }

    pub(super) fn scan_column<T: Kernels>(column: &[T], words: &mut [u64]) -> usize {
        let mut count = 0;
        for (chunk, word) in column.chunks(64).zip(words) {
            *word = chunk
                .iter()
                .enumerate()
                .fold(0, |bits, (k, &v)| bits | (u64::from(v != T::zero()) << k));
            count += word.count_ones() as usize;
        }
        count
    }

    pub(super) fn add_product<T: Kernels>(
        nonzeros: &Nonzeros,
        x: &[T],
        w_rows: &[T],
        y_rows: &mut [T],
        stride: usize,
    ) {
        let rows = nonzeros.rows;
        for (n, y) in y_rows.chunks_exact_mut(stride).take(rows).enumerate() {
            nonzeros.for_each_column(n, |p| {
                let v = x[p * rows + n];
                for (y, &w) in y.iter_mut().zip(&w_rows[p * stride..][..stride]) {
                    *y += v * w;
                }
            });
        }
    }

    pub(super) fn transposed_product<T: Kernels>(
        nonzeros: &Nonzeros,
        x: &[T],
        dout_rows: &[T],
        dw_rows: &mut [T],
        stride: usize,
    ) {
        let rows = nonzeros.rows;
        for (p, (x, dw)) in x
            .chunks_exact(rows)
            .zip(dw_rows.chunks_exact_mut(stride))
            .enumerate()
        {
            dw.fill(T::zero());
            nonzeros.for_each_row(p, |n| {
                for (dw, &d) in dw.iter_mut().zip(&dout_rows[n * stride..][..stride]) {
                    *dw += x[n] * d;
                }
            });
        }
    }

    pub(super) fn transpose<T: Kernels>(
        from: &[T],
        from_ld: usize,
        to: &mut [T],
        to_ld: usize,
        count: usize,
        len: usize,
        added: Option<T>,
    ) {
        check_transpose(from, from_ld, to, to_ld, count, len);
        // Run by run of `to`: the writes are sequential, and the lines of
        // the runs being read stay in L1 from one to the next.
        for m in 0..len {
            for k in 0..count {
                let (to, from) = (&mut to[m * to_ld + k], from[k * from_ld + m]);
                *to = match added {
                    None => from,
                    Some(alpha) => *to + alpha * from,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scalar;

    /// A column-major `rows × cols` matrix with about `density` nonzeros.
    fn sparse_matrix<T: Scalar>(rows: usize, cols: usize, density: f64, seed: &mut u64) -> Vec<T> {
        (0..rows * cols)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let u = (*seed >> 11) as f64 / (1u64 << 53) as f64;
                T::of_f64(if u < density { u * 10.0 - 1.0 } else { 0.0 })
            })
            .collect()
    }

    /// The loops this CPU runs, and the portable ones.
    fn every_loops<T: Scalar>() -> [Loops<T>; 2] {
        [loops::<T>(), portable::loops()]
    }

    #[test]
    fn the_scan_counts_and_finds_every_nonzero() {
        check_scan::<f32>();
        check_scan::<f64>();
    }

    fn check_scan<T: Scalar>() {
        let mut seed = 3;
        for rows in [1, 3, 5, 8, 63, 64, 65, 100, 128, 130] {
            // Enough columns that the sampled ones (the first eighth) are
            // sparse too, so that the whole matrix is scanned.
            let columns = 70;
            let mut x = sparse_matrix::<T>(rows, columns, 0.2, &mut seed);
            x[rows] = T::from_subset(&f64::NAN);
            x[rows * columns - 1] = T::of_f64(-0.0);
            for loops in every_loops::<T>() {
                let mut words = vec![0; rows.div_ceil(64)];
                for (p, column) in x.chunks_exact(rows).enumerate() {
                    // SAFETY: one bit per entry; the CPU has the loops' features.
                    let count = unsafe { (loops.scan_column)(column, &mut words) };
                    let expected: Vec<usize> =
                        (0..rows).filter(|&n| column[n] != T::zero()).collect();
                    assert_eq!(count, expected.len(), "column {p}");
                    let found: Vec<usize> = (0..rows)
                        .filter(|&n| words[n / 64] >> (n % 64) & 1 == 1)
                        .collect();
                    assert_eq!(found, expected, "column {p}");
                }
            }
            let mut nonzeros = Nonzeros::default();
            nonzeros.scan(&x, rows);
            assert_eq!(
                nonzeros.count,
                x.iter().filter(|&&v| v != T::zero()).count()
            );
            for p in 0..columns {
                let mut found = Vec::new();
                nonzeros.for_each_row(p, |n| found.push(n));
                assert_eq!(
                    found,
                    (0..rows)
                        .filter(|&n| x[p * rows + n] != T::zero())
                        .collect::<Vec<_>>()
                );
            }
        }
    }

    #[test]
    fn bit_blocks_transpose() {
        let mut seed = 9u64;
        let mut block = [0u64; 64];
        for word in &mut block {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            *word = seed;
        }
        let original = block;
        transpose_bits(&mut block);
        for (i, word) in block.iter().enumerate() {
            for (j, before) in original.iter().enumerate() {
                assert_eq!(word >> j & 1, before >> i & 1, "bit {j} of word {i}");
            }
        }
    }

    #[test]
    fn rows_are_indexed_from_columns() {
        let mut seed = 4;
        for (rows, columns) in [(1, 1), (100, 784), (65, 70), (3, 130)] {
            let x = sparse_matrix::<f64>(rows, columns, 0.2, &mut seed);
            let mut nonzeros = Nonzeros::default();
            nonzeros.scan(&x, rows);
            nonzeros.index_rows();
            for n in 0..rows {
                let mut found = Vec::new();
                nonzeros.for_each_column(n, |p| found.push(p));
                let expected: Vec<usize> =
                    (0..columns).filter(|&p| x[p * rows + n] != 0.0).collect();
                assert_eq!(found, expected, "{rows}×{columns}, row {n}");
            }
        }
    }

    #[test]
    fn density_decides_the_path() {
        let mut nonzeros = Nonzeros::default();
        nonzeros.scan(&[0.0, 0.0, 1.0, 0.0, 0.0, 0.0], 3);
        assert!(nonzeros.is_sparse());
        nonzeros.scan(&[0.0, 1.0, 1.0, 0.0, 1.0, 0.0], 3);
        assert!(!nonzeros.is_sparse());
        nonzeros.scan::<f64>(&[], 0);
        assert!(!nonzeros.is_sparse());
    }

    #[test]
    fn a_dense_sample_decides_without_the_rest() {
        let (rows, columns) = (10, 32);
        let sample = columns / SAMPLE_FRACTION;
        // Dense in the sampled columns, zero elsewhere: 1/8 of the entries
        // are nonzero, but the sample says dense.
        let x: Vec<f32> = (0..rows * columns)
            .map(|e| f32::from(u8::from(e / rows < sample)))
            .collect();
        let mut nonzeros = Nonzeros::default();
        nonzeros.scan(&x, rows);
        assert!(!nonzeros.is_sparse());
        // Zero in the sampled columns, dense elsewhere: the whole matrix is
        // scanned and found too dense.
        let x: Vec<f32> = x.iter().map(|&v| 1.0 - v).collect();
        nonzeros.scan(&x, rows);
        assert_eq!(nonzeros.count, rows * (columns - sample));
        assert!(!nonzeros.is_sparse());
    }

    /// Both products and the transposition of every set of loops against
    /// the triple loop, over widths that end in every kind of block.
    fn check_products<T: Scalar>(tolerance: f64) {
        let mut seed = 11;
        let shapes = [
            (1, 1, 1),
            (3, 5, 2),
            (100, 78, 13),
            (70, 9, 50),
            (65, 4, 40),
            (9, 3, 100),
        ];
        for (rows, inputs, outputs) in shapes {
            let x = sparse_matrix::<T>(rows, inputs, 0.2, &mut seed);
            let w = sparse_matrix::<T>(inputs, outputs, 1.0, &mut seed);
            let dout = sparse_matrix::<T>(rows, outputs, 1.0, &mut seed);
            let mut nonzeros = Nonzeros::default();
            nonzeros.scan(&x, rows);
            nonzeros.index_rows();
            let stride = outputs.next_multiple_of(PAD);
            let close = |got: T, expected: f64| {
                (got.as_f64() - expected).abs() <= tolerance * (1.0 + expected.abs())
            };
            for loops in every_loops::<T>() {
                let mut w_rows = vec![T::zero(); inputs * stride];
                let mut dout_rows = vec![T::zero(); rows * stride];
                let mut y_rows = vec![T::one(); rows * stride];
                let mut dw_rows = vec![T::from_subset(&f64::NAN); inputs * stride];
                let mut back = vec![T::zero(); w.len()];
                let mut halved = w.clone();
                // SAFETY: the lengths are as `Loops` says; the CPU has the
                // loops' features.
                unsafe {
                    (loops.transpose)(&w, inputs, &mut w_rows, stride, outputs, inputs, None);
                    (loops.transpose)(&dout, rows, &mut dout_rows, stride, outputs, rows, None);
                    (loops.add_product)(&nonzeros, &x, &w_rows, &mut y_rows, stride);
                    (loops.transposed_product)(&nonzeros, &x, &dout_rows, &mut dw_rows, stride);
                    (loops.transpose)(&w_rows, stride, &mut back, inputs, inputs, outputs, None);
                    let minus_half = Some(T::of_f64(-0.5));
                    (loops.transpose)(
                        &w_rows,
                        stride,
                        &mut halved,
                        inputs,
                        inputs,
                        outputs,
                        minus_half,
                    );
                }
                assert_eq!(
                    back, w,
                    "{rows}×{inputs}×{outputs}: W through two transpositions"
                );
                // w − ½·w is exact in binary floating point.
                let half: Vec<T> = w.iter().map(|&w| w * T::of_f64(0.5)).collect();
                assert_eq!(
                    halved, half,
                    "{rows}×{inputs}×{outputs}: ½·W added back onto W"
                );
                for n in 0..rows {
                    for j in 0..outputs {
                        let dot: f64 = (0..inputs)
                            .map(|p| (x[p * rows + n] * w[p + j * inputs]).as_f64())
                            .sum();
                        assert!(
                            close(y_rows[n * stride + j], 1.0 + dot),
                            "{rows}×{inputs}×{outputs}: y[{n}, {j}]"
                        );
                    }
                }
                for p in 0..inputs {
                    for j in 0..stride {
                        let dot: f64 = (0..rows)
                            .filter(|_| j < outputs)
                            .map(|n| (x[p * rows + n] * dout[n + j * rows]).as_f64())
                            .sum();
                        assert!(
                            close(dw_rows[p * stride + j], dot),
                            "{rows}×{inputs}×{outputs}: dW[{p}, {j}]"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn sparse_products_match_the_triple_loop_in_f32() {
        check_products::<f32>(1e-5);
    }

    #[test]
    fn sparse_products_match_the_triple_loop_in_f64() {
        check_products::<f64>(1e-12);
    }

    #[test]
    fn the_layer_path_adds_the_bias_and_reuses_the_scan() {
        let mut seed = 2;
        let (rows, inputs, outputs) = (20, 30, 3);
        let x = sparse_matrix::<f64>(rows, inputs, 0.2, &mut seed);
        let w = sparse_matrix::<f64>(inputs, outputs, 1.0, &mut seed);
        let bias = [1.0, -2.0, 0.5];
        let mut sparse = SparseAffine::default();
        let mut y = vec![f64::NAN; rows * outputs];
        assert!(sparse.try_forward(&x, rows, &w, &bias, &mut y));
        for n in 0..rows {
            for j in 0..outputs {
                let dot: f64 = (0..inputs)
                    .map(|p| x[p * rows + n] * w[p + j * inputs])
                    .sum();
                assert!((y[n + j * rows] - (bias[j] + dot)).abs() < 1e-12);
            }
        }
        let dout = vec![1.0; rows * outputs];
        let mut dw = vec![f64::NAN; w.len()];
        assert!(sparse.try_weight_gradient(&x, rows, &dout, &mut dw, None));
        for p in 0..inputs {
            let column_sum: f64 = x[p * rows..][..rows].iter().sum();
            assert!((dw[p] - column_sum).abs() < 1e-12);
        }
    }

    #[test]
    fn a_dense_input_is_left_to_the_dense_kernels() {
        let mut seed = 5;
        let x = sparse_matrix::<f64>(10, 6, 0.9, &mut seed);
        let mut sparse = SparseAffine::default();
        let mut y = vec![0.0; 10 * 3];
        assert!(!sparse.try_forward(&x, 10, &[0.0; 18], &[0.0; 3], &mut y));
        assert!(!sparse.try_weight_gradient(&x, 10, &y, &mut [0.0; 18], None));
    }
}
