//! `C ← α·A·B + β·C` for a column-major `C`: the usual blocked product
//! (BLIS's loops), written once over a [`Microkernel`], which each ISA
//! (`avx2.rs`) brings with its packing of A.
//!
//! Cut to the shapes of the book's networks (batch ≈ 100, layers of tens
//! to a thousand units):
//! - B is cut into slices of columns whose depth blocks fit in L2
//!   ([`B_BLOCK_BYTES`]), and the depth `k` into equal blocks of at most
//!   [`KC`] steps;
//! - A is copied into contiguous panels of `MR` rows on the stack, so the
//!   microkernel's loads never split cache lines. When A is a batch
//!   (column-major: the forward product `x·W`), a whole block of rows is
//!   copied in one sequential pass, which the hardware prefetchers follow;
//!   when A is a transposed batch (`xᵀ·dout`), each panel is transposed in
//!   registers. Either way, the next stretch of A is prefetched while the
//!   current one is multiplied;
//! - B is read in place, one broadcast per element;
//! - the microkernel keeps an `MR × NR` block of C (two vectors × six
//!   columns: 12 accumulators) in registers for the whole block depth.
//!
//! The edges use the same kernel with fewer columns or one vector of rows,
//! so no work is wasted on padding beyond one vector. Columns are cut into
//! tiles of equal widths, and a last panel of one vector of rows takes up
//! to twelve columns, so that every call keeps ten or more sums in flight
//! (fewer cannot hide the FMA's latency: a tile of 2 × 2 vectors ran at
//! about half speed). Nothing is allocated.
//!
//! Every function here is inlined into the ISA's entry points, so that it
//! is compiled with the ISA's features, as the microkernel is.

use core::marker::PhantomData;
use core::mem::MaybeUninit;

/// A pointer with row and column strides, in elements.
pub(super) type Strided<T> = (*const T, isize, isize);

/// The most steps of `k` per block: one packed panel of A (`MR × KC`,
/// 16 KiB) then stays in L1 while it meets every column of B.
const KC: usize = 256;
/// The most bytes of B read per depth block and slice of columns: a quarter
/// of this machine's 512 KiB L2, so that the slice is read from L2 by every
/// panel of A after the first (and its copy fits on the stack).
const B_BLOCK_BYTES: usize = 128 * 1024;
/// Bytes of a depth block of B read in place, when A is packed panel by
/// panel: up to half of L1; beyond, B is copied into panels.
const B_IN_PLACE_BYTES: usize = 16 * 1024;
/// Columns of C per microkernel call, at most.
pub(super) const NR: usize = 6;
/// Columns of C per microkernel call, at most, for a last panel of one
/// vector of rows: twelve sums in flight, as in a full panel.
pub(super) const NR_WIDE: usize = 12;
/// Rows of A packed at a time: a batch of up to 112 (the book's 100) is
/// one block, in f32 (seven panels) as in f64 (fourteen), so that its
/// columns are read whole, in one sequential pass.
const MC: usize = 112;

/// What an ISA brings to the loop nest: the microkernel, the packing of A
/// into panels, and a prefetch.
pub(super) trait Microkernel {
    /// The scalar type.
    type T: Copy;
    /// One, in `T`.
    const ONE: Self::T;
    /// Values per vector.
    const LANES: usize;
    /// Rows of C per microkernel call: two vectors.
    const MR: usize;

    /// `C ← scale[0]·A·B + scale[1]·C` for the first `mr` rows and `nr`
    /// columns of the `MR × nr` block of C at `c` (column stride `c.1`),
    /// over `kc` steps: `nr ≤ NR` columns for two vectors of rows, `nr ≤
    /// NR_WIDE` for one. With `scale[1] = 0`, C is only written.
    ///
    /// # Safety
    /// The CPU has the ISA's features; `rows` and `b` hold `kc` steps of
    /// `MR` rows and `nr` columns; the block of C is valid for reads and
    /// writes.
    unsafe fn tile(
        kc: usize,
        rows: impl Rows<Self::T>,
        b: impl Columns<Self::T>,
        scale: &[Self::T; 2],
        c: (*mut Self::T, isize),
        mr: usize,
        nr: usize,
    );

    /// Copies columns `p0..p0 + kc` of the `m` rows of a column-major A at
    /// `a` into `block`, in panels of `MR` rows of `kc` steps each; the
    /// rows of a last, partial panel past `m` are zero.
    ///
    /// # Safety
    /// The CPU has the ISA's features; the block of A is inside A (column
    /// stride `csa`); `block` is valid for `⌈m / MR⌉·MR·kc` writes.
    unsafe fn pack_rows(
        block: *mut Self::T,
        a: *const Self::T,
        csa: isize,
        m: usize,
        p0: usize,
        kc: usize,
    );

    /// Copies the `mr × kc` block of A at `a` into `panel`, `MR` values per
    /// step of k, the rows past `mr` set to zero.
    ///
    /// # Safety
    /// The CPU has the ISA's features; the block is inside A; `panel` is
    /// valid for `MR · kc` writes.
    unsafe fn pack(
        panel: *mut Self::T,
        a: *const Self::T,
        rsa: isize,
        csa: isize,
        mr: usize,
        kc: usize,
    );

    /// Hints the cache line at `line` into L2. A hint only: it never
    /// faults nor changes the program's state, whatever the address.
    fn prefetch(line: *const u8);
}

/// The depth of each block when `k` is cut into the fewest blocks of at
/// most [`KC`] steps, all of equal depth but the last.
#[inline(always)]
fn depth_block(k: usize) -> usize {
    k.div_ceil(k.div_ceil(KC))
}

/// `n` columns cut into the fewest tiles of at most `width` columns, of
/// equal widths (± 1), as `(first column, width)`. A narrow last tile keeps
/// too few sums in flight to hide the FMA's latency: 50 columns in tiles of
/// six would leave one of two, which runs at half speed; here they are
/// 6 + 5 + … + 5.
#[inline(always)]
fn column_tiles(n: usize, width: usize) -> impl Iterator<Item = (usize, usize)> {
    let count = n.div_ceil(width);
    (0..count).map(move |t| {
        let start = n * t / count;
        (start, n * (t + 1) / count - start)
    })
}

/// The rows of an `m`-row block that go in panels of two vectors: all but
/// a last panel of one vector or less, which goes with [`NR_WIDE`] tiles
/// when B is read in place.
#[inline(always)]
fn two_vector_rows(m: usize, mr: usize, lanes: usize) -> usize {
    if m % mr != 0 && m % mr <= lanes {
        m - m % mr
    } else {
        m
    }
}

/// Calls `tile(first row, first column, width, index)` for every tile of an
/// `m × n` block of C cut into panels of `mr` rows: each tile of
/// [`column_tiles`]`(n, NR)` (its `index`, which names B's packed panel)
/// meets every panel below row `full`, so that the tile of B stays in L1;
/// the panels from `full` on take tiles of up to [`NR_WIDE`] columns, which
/// read B in place (their `index` counts those tiles instead).
#[inline(always)]
fn for_each_tile(
    m: usize,
    n: usize,
    mr: usize,
    full: usize,
    mut tile: impl FnMut(usize, usize, usize, usize),
) {
    for (t, (j0, nr)) in column_tiles(n, NR).enumerate() {
        for i0 in (0..full).step_by(mr) {
            tile(i0, j0, nr, t);
        }
    }
    for i0 in (full..m).step_by(mr) {
        for (t, (j0, nr)) in column_tiles(n, NR_WIDE).enumerate() {
            tile(i0, j0, nr, t);
        }
    }
}

/// Where the microkernel reads the `MR` rows of A of each step.
pub(super) trait Rows<T>: Copy {
    /// The first of the rows of step `p`.
    ///
    /// # Safety
    /// Step `p` is inside the block of A.
    unsafe fn at(self, p: usize) -> *const T;
}

/// A packed panel of kernel `K`: the rows of step `p` at `p·MR`.
pub(super) struct Panel<K: Microkernel>(*const K::T, PhantomData<K>);

impl<K: Microkernel> Panel<K> {
    #[inline(always)]
    fn new(panel: *const K::T) -> Self {
        Panel(panel, PhantomData)
    }
}

impl<K: Microkernel> Clone for Panel<K> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<K: Microkernel> Copy for Panel<K> {}

impl<K: Microkernel> Rows<K::T> for Panel<K> {
    #[inline(always)]
    unsafe fn at(self, p: usize) -> *const K::T {
        // SAFETY: the caller's contract.
        unsafe { self.0.add(p * K::MR) }
    }
}

/// A matrix in place whose column `p` starts at `offsets[p]`, rows
/// contiguous: a stride-1 convolution's unfolded input, as A (the rows of
/// step `p` are column `p`'s) or as B.
pub(super) struct Runs<T> {
    first_row: *const T,
    offsets: *const usize,
}

impl<T> Clone for Runs<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Runs<T> {}

impl<T> Rows<T> for Runs<T> {
    #[inline(always)]
    unsafe fn at(self, p: usize) -> *const T {
        // SAFETY: the caller's contract.
        unsafe { self.first_row.add(*self.offsets.add(p)) }
    }
}

/// Where the microkernel reads the columns of B.
pub(super) trait Columns<T>: Copy {
    /// The first value of column `j`.
    ///
    /// # Safety
    /// Column `j` is inside the block of B.
    unsafe fn column(self, j: usize) -> *const T;
    /// Values between two steps of a column.
    fn row_stride(self) -> isize;
}

/// B with a pointer and its row and column strides.
impl<T> Columns<T> for (*const T, isize, isize) {
    #[inline(always)]
    unsafe fn column(self, j: usize) -> *const T {
        // SAFETY: the caller's contract.
        unsafe { self.0.offset(j as isize * self.2) }
    }
    #[inline(always)]
    fn row_stride(self) -> isize {
        self.1
    }
}

impl<T> Columns<T> for Runs<T> {
    #[inline(always)]
    unsafe fn column(self, j: usize) -> *const T {
        // SAFETY: the caller's contract.
        unsafe { self.first_row.add(*self.offsets.add(j)) }
    }
    #[inline(always)]
    fn row_stride(self) -> isize {
        1
    }
}

/// Hints the cache lines of a stretch of memory into L2, a few at a time,
/// ahead of its use.
struct Prefetch<K> {
    next: *const u8,
    end: *const u8,
    kernel: PhantomData<K>,
}

impl<K: Microkernel> Prefetch<K> {
    /// The `len` values from `start` (which need not be valid: a prefetch
    /// never faults nor reads into the program).
    #[inline(always)]
    fn new(start: *const K::T, len: usize) -> Self {
        let next = start.cast::<u8>();
        Prefetch {
            next,
            end: next.wrapping_add(len * size_of::<K::T>()),
            kernel: PhantomData,
        }
    }

    /// How many lines to issue per call, to be done in `calls`.
    #[inline(always)]
    fn lines_per(&self, calls: usize) -> usize {
        (self.end as usize)
            .saturating_sub(self.next as usize)
            .div_ceil(64 * calls.max(1))
    }

    /// Issues the next `lines` lines.
    #[inline(always)]
    fn issue(&mut self, lines: usize) {
        for _ in 0..lines {
            if self.next >= self.end {
                return;
            }
            K::prefetch(self.next);
            self.next = self.next.wrapping_add(64);
        }
    }
}

/// The packed block of A: `kc` steps of `MR` rows, panel after panel
/// (112 KiB in f32, 224 KiB in f64, on the stack: nothing is allocated).
#[repr(C, align(32))]
struct Block<T>(MaybeUninit<[T; MC * KC]>);

impl<T> Block<T> {
    #[inline(always)]
    fn new() -> Self {
        Block(MaybeUninit::uninit())
    }

    #[inline(always)]
    fn as_mut_ptr(&mut self) -> *mut T {
        self.0.as_mut_ptr().cast::<T>()
    }
}

/// The copy of a depth block of B, in panels of NR columns.
#[repr(C, align(32))]
struct BPanels(MaybeUninit<[u8; B_BLOCK_BYTES]>);

/// `C ← α·A·B + β·C`: `A` is `m × k` with strides `(rsa, csa)`, `B` is
/// `k × n` with strides `(rsb, csb)`, `C` is `m × n`, column-major with
/// column stride `csc`. With `β = 0`, `C` is only written. `k` must be at
/// least 1.
///
/// # Safety
/// The CPU has the kernel's features; every element addressed by the
/// shapes and strides is valid for reads (`A`, `B`) and writes (`C`); `C`
/// overlaps neither `A` nor `B`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm<K: Microkernel>(
    m: usize,
    k: usize,
    n: usize,
    alpha: K::T,
    (a, rsa, csa): Strided<K::T>,
    (b, rsb, csb): Strided<K::T>,
    beta: K::T,
    (c, csc): (*mut K::T, isize),
) {
    // Slices of B of at most NC columns, so that a depth block of the
    // slice (read once per panel of A) stays in L2.
    let kc_max = depth_block(k);
    let nc = (B_BLOCK_BYTES / (kc_max * size_of::<K::T>()) / NR * NR).max(NR);
    let mut j0 = 0;
    while j0 < n {
        let nb = nc.min(n - j0);
        // SAFETY: columns j0..j0 + nb of B and C are inside them; the rest
        // is the caller's contract.
        unsafe {
            let (b, c) = (b.offset(j0 as isize * csb), c.offset(j0 as isize * csc));
            columns::<K>(
                m,
                k,
                nb,
                alpha,
                (a, rsa, csa),
                (b, rsb, csb),
                beta,
                (c, csc),
            );
        }
        j0 += nc;
    }
}

/// [`gemm`] for one slice of B's columns.
///
/// # Safety
/// As [`gemm`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn columns<K: Microkernel>(
    m: usize,
    k: usize,
    n: usize,
    alpha: K::T,
    (a, rsa, csa): Strided<K::T>,
    (b, rsb, csb): Strided<K::T>,
    beta: K::T,
    (c, csc): (*mut K::T, isize),
) {
    if rsa == 1 {
        // Columns of A are contiguous (A is a batch): pack a whole block of
        // up to MC rows in one sequential pass over A, which the
        // prefetchers follow, instead of one strided pass per panel, which
        // waits on memory for every line (measured: 15% of a training
        // step).
        let mut block = Block::new();
        // SAFETY: the block holds MC·KC values; the rest is the caller's
        // contract.
        unsafe {
            blocked::<K>(
                m,
                k,
                n,
                alpha,
                (a, csa),
                (b, rsb, csb),
                beta,
                (c, csc),
                block.as_mut_ptr(),
            );
        }
    } else {
        // SAFETY: the caller's contract.
        unsafe { panelled::<K>(m, k, n, alpha, (a, rsa, csa), (b, rsb, csb), beta, (c, csc)) }
    }
}

/// [`gemm`] for a column-major A, packed one `mc × kc` block at a time (up
/// to MC rows) into `block`. The depth blocks are the outer loop, so that
/// a depth block of B, read by every block of rows, is still in L2 for the
/// next (rows outside, a batch of two blocks read all of B from L3 twice:
/// 20% of `x·W`).
///
/// # Safety
/// As [`gemm`], with `rsa = 1`; `block` is valid for `MC · KC` writes.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn blocked<K: Microkernel>(
    m: usize,
    k: usize,
    n: usize,
    alpha: K::T,
    (a, csa): (*const K::T, isize),
    (b, rsb, csb): Strided<K::T>,
    beta: K::T,
    (c, csc): (*mut K::T, isize),
    block: *mut K::T,
) {
    let kc_max = depth_block(k);
    let mut p0 = 0;
    while p0 < k {
        let kc = kc_max.min(k - p0);
        let scale = [alpha, if p0 == 0 { beta } else { K::ONE }];
        // While this depth block is multiplied, bring the next one towards
        // L2: its columns are the next stretch of A.
        let next = kc_max.min(k - (p0 + kc).min(k));
        let start = a.wrapping_offset((p0 + kc) as isize * csa);
        let mut prefetch = Prefetch::<K>::new(start, next * csa.unsigned_abs());
        let per_tile = prefetch.lines_per(m.div_ceil(K::MR) * n.div_ceil(NR));
        let mut i0 = 0;
        while i0 < m {
            let mc = MC.min(m - i0);
            // SAFETY: rows i0..i0 + mc of A and C are inside them; the
            // block holds MC·KC ≥ ⌈mc / MR⌉·MR·kc values.
            unsafe {
                K::pack_rows(block, a.add(i0), csa, mc, p0, kc);
            }
            let full = two_vector_rows(mc, K::MR, K::LANES);
            for_each_tile(mc, n, K::MR, full, |ip, j0, nr, _| {
                prefetch.issue(per_tile);
                // SAFETY: the kc × nr block at (p0, j0) is inside B, the
                // block of rows i0 + ip.. and columns j0..j0 + nr inside C,
                // and panel ip / MR, packed above, holds kc steps.
                unsafe {
                    let panel = Panel::<K>::new(block.add(ip * kc));
                    let b = b.offset(p0 as isize * rsb + j0 as isize * csb);
                    let c = c.offset((i0 + ip) as isize + j0 as isize * csc);
                    let mr = K::MR.min(mc - ip);
                    K::tile(kc, panel, (b, rsb, csb), &scale, (c, csc), mr, nr);
                }
            });
            i0 += MC;
        }
        p0 += kc;
    }
}

/// [`gemm`] for any A: blocks of up to MC rows are packed panel by panel
/// (transposed in registers when A's rows are contiguous), then every
/// slice of NR columns of B meets every panel of the block.
///
/// # Safety
/// As [`gemm`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn panelled<K: Microkernel>(
    m: usize,
    k: usize,
    n: usize,
    alpha: K::T,
    (a, rsa, csa): Strided<K::T>,
    (b, rsb, csb): Strided<K::T>,
    beta: K::T,
    (c, csc): (*mut K::T, isize),
) {
    let mut block = Block::new();
    let block = block.as_mut_ptr();
    let kc_max = depth_block(k);
    // When a depth block of B overflows L1, it is copied into contiguous
    // NR-column panels: the microkernel then reads one stream instead of
    // NR short columns.
    let mut b_panels = BPanels(MaybeUninit::uninit());
    let b_panels = b_panels.0.as_mut_ptr().cast::<K::T>();
    // A single panel of A reads B once: a copy would not pay.
    let pack_b = m > K::MR && kc_max * n * size_of::<K::T>() > B_IN_PLACE_BYTES;
    let mut p0 = 0;
    while p0 < k {
        let kc = kc_max.min(k - p0);
        let scale = [alpha, if p0 == 0 { beta } else { K::ONE }];
        if pack_b {
            // SAFETY: the kc × n block at (p0, 0) is inside B; the panels
            // hold ⌈n / NR⌉·NR·kc ≤ B_BLOCK_BYTES of values (`gemm` slices
            // B so).
            unsafe { pack_b_panels(b_panels, b.offset(p0 as isize * rsb), rsb, csb, kc, n) };
        }
        let mut i0 = 0;
        while i0 < m {
            let mc = MC.min(m - i0);
            // SAFETY: the mc × kc block at (i0, p0) is inside A.
            unsafe { pack_panels::<K>(block, (a, rsa, csa), (i0, mc), (p0, kc)) };
            // Tile t of B's columns: its packed panel, or its columns in
            // place (always, for the wide tiles: `full` is the whole block
            // when B is packed).
            let b_tile = |t: usize, j0: usize| {
                if pack_b {
                    // SAFETY: panel t of the copy of B.
                    let panel = unsafe { b_panels.add(t * NR * kc) };
                    (panel.cast_const(), NR as isize, 1)
                } else {
                    // SAFETY: (p0, j0) is inside B.
                    let at = p0 as isize * rsb + j0 as isize * csb;
                    (unsafe { b.offset(at) }, rsb, csb)
                }
            };
            // While this block is multiplied, bring the next one towards
            // L2, when A's rows are contiguous (A is a transposed batch:
            // the next block's rows are then one stretch of the batch).
            let next_rows = MC.min(m.saturating_sub(i0 + MC));
            let span = match (csa, rsa.unsigned_abs()) {
                (1, stride) if next_rows > 0 => (next_rows - 1) * stride + kc,
                _ => 0,
            };
            let start = a.wrapping_offset((i0 + MC) as isize * rsa + p0 as isize);
            let mut prefetch = Prefetch::<K>::new(start, span);
            let per_tile = prefetch.lines_per(mc.div_ceil(K::MR) * n.div_ceil(NR));
            let full = if pack_b {
                mc
            } else {
                two_vector_rows(mc, K::MR, K::LANES)
            };
            for_each_tile(mc, n, K::MR, full, |ip, j0, nr, t| {
                prefetch.issue(per_tile);
                let b = b_tile(t, j0);
                // SAFETY: the kc × nr block of B, the block of rows i0 + ip..
                // and columns j0..j0 + nr of C, and panel ip / MR, packed
                // above, with kc steps.
                unsafe {
                    let c = c.offset((i0 + ip) as isize + j0 as isize * csc);
                    let mr = K::MR.min(mc - ip);
                    let panel = Panel::<K>::new(block.add(ip * kc));
                    K::tile(kc, panel, b, &scale, (c, csc), mr, nr);
                }
            });
            i0 += MC;
        }
        p0 += kc;
    }
}

/// Copies the `kc × n` block of B at `b` into `panels`: panel `t` holds
/// tile `t` of [`column_tiles`]`(n, NR)` as `kc` steps of `NR` values (the
/// values past the tile's width are not written, nor read).
///
/// # Safety
/// The block is inside B; `panels` is valid for `⌈n / NR⌉·NR·kc` writes.
#[inline(always)]
unsafe fn pack_b_panels<T: Copy>(
    panels: *mut T,
    b: *const T,
    rsb: isize,
    csb: isize,
    kc: usize,
    n: usize,
) {
    for (t, (j0, nr)) in column_tiles(n, NR).enumerate() {
        for j in 0..nr {
            // SAFETY: column j0 + j < n of the block, and the panel's
            // entries (p, j) for p < kc.
            unsafe {
                let column = b.offset((j0 + j) as isize * csb);
                let dst = panels.add(t * NR * kc + j);
                for p in 0..kc {
                    dst.add(p * NR).write(*column.offset(p as isize * rsb));
                }
            }
        }
    }
}

/// Copies rows `i0..i0 + mc` and steps `p0..p0 + kc` of A into `block`,
/// one panel of `MR` rows after the other.
///
/// # Safety
/// That block is inside A, and `block` holds `MC·KC` values (`mc ≤ MC`,
/// `kc ≤ KC`).
#[inline(always)]
unsafe fn pack_panels<K: Microkernel>(
    block: *mut K::T,
    (a, rsa, csa): Strided<K::T>,
    (i0, mc): (usize, usize),
    (p0, kc): (usize, usize),
) {
    for ip in (0..mc).step_by(K::MR) {
        // SAFETY: the block of MR.min(mc − ip) × kc at (i0 + ip, p0) is
        // inside A, and panel ip / MR of the block holds MR·kc values
        // (MC·KC in all).
        unsafe {
            let at = (i0 + ip) as isize * rsa + p0 as isize * csa;
            K::pack(
                block.add(ip * kc),
                a.offset(at),
                rsa,
                csa,
                K::MR.min(mc - ip),
                kc,
            );
        }
    }
}

/// `C ← α·A·B + β·C`, where `A` is `m × k` with strides `(rsa, csa)`,
/// column `j` of the `k × n` matrix B is `b[offsets[j]..][..k]` (`n =
/// offsets.len()`), and C is column-major with column stride `csc`: the
/// filters' gradient of a stride-1 convolution, `doutᵀ` times the runs of
/// the padded image (`conv/runs.rs`). A is packed panel by panel; B is
/// read in place.
///
/// # Safety
/// As [`gemm`], and every run `b[offsets[j]..][..k]` is readable.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm_shifted_b<K: Microkernel>(
    m: usize,
    k: usize,
    alpha: K::T,
    (a, rsa, csa): Strided<K::T>,
    b: *const K::T,
    offsets: &[usize],
    beta: K::T,
    (c, csc): (*mut K::T, isize),
) {
    let n = offsets.len();
    let mut block = Block::new();
    let block = block.as_mut_ptr();
    let kc_max = depth_block(k);
    let mut p0 = 0;
    while p0 < k {
        let kc = kc_max.min(k - p0);
        let scale = [alpha, if p0 == 0 { beta } else { K::ONE }];
        let mut i0 = 0;
        while i0 < m {
            let mc = MC.min(m - i0);
            // SAFETY: the mc × kc block at (i0, p0) is inside A.
            unsafe { pack_panels::<K>(block, (a, rsa, csa), (i0, mc), (p0, kc)) };
            for_each_tile(mc, n, K::MR, mc, |ip, j0, nr, _| {
                // SAFETY: steps p0..p0 + kc of the runs j0..j0 + nr (the
                // caller's contract), the rows i0 + ip.. of those columns of
                // C, and panel ip / MR, packed above.
                unsafe {
                    let columns = Runs {
                        first_row: b.add(p0),
                        offsets: offsets.as_ptr().add(j0),
                    };
                    let c = c.offset((i0 + ip) as isize + j0 as isize * csc);
                    let panel = Panel::<K>::new(block.add(ip * kc));
                    K::tile(kc, panel, columns, &scale, (c, csc), K::MR.min(mc - ip), nr);
                }
            });
            i0 += MC;
        }
        p0 += kc;
    }
}

/// `C ← α·A·B + β·C`, where column `p` of the `m × k` matrix A is
/// `a[offsets[p]..][..m]` (`k = offsets.len()`, at least 1), B is `k × n`
/// with strides `(rsb, csb)` and C is column-major with column stride
/// `csc`. Nothing is packed: the rows of a step are one unaligned load.
///
/// # Safety
/// As [`gemm`]; moreover `a` is readable up to `max(offsets) + ⌈m /
/// MR⌉·MR` (a last panel is read whole).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm_shifted<K: Microkernel>(
    m: usize,
    n: usize,
    alpha: K::T,
    a: *const K::T,
    offsets: &[usize],
    (b, rsb, csb): Strided<K::T>,
    beta: K::T,
    (c, csc): (*mut K::T, isize),
) {
    let k = offsets.len();
    let kc_max = depth_block(k);
    let mut p0 = 0;
    while p0 < k {
        let kc = kc_max.min(k - p0);
        let scale = [alpha, if p0 == 0 { beta } else { K::ONE }];
        for (j0, nr) in column_tiles(n, NR) {
            for i0 in (0..m).step_by(K::MR) {
                // SAFETY: steps p0..p0 + kc of rows i0.. of A (read whole,
                // the caller's contract), the kc × nr block of B at (p0, j0)
                // and rows i0..min(i0 + MR, m) of columns j0..j0 + nr of C
                // are inside them.
                unsafe {
                    let rows = Runs {
                        first_row: a.add(i0),
                        offsets: offsets.as_ptr().add(p0),
                    };
                    let b = b.offset(p0 as isize * rsb + j0 as isize * csb);
                    let c = c.offset(i0 as isize + j0 as isize * csc);
                    K::tile(
                        kc,
                        rows,
                        (b, rsb, csb),
                        &scale,
                        (c, csc),
                        K::MR.min(m - i0),
                        nr,
                    );
                }
            }
        }
        p0 += kc;
    }
}
