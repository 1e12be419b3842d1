//! `C ← α·A·B + β·C` with AVX2 and FMA, for a column-major `C`.
//!
//! The usual blocked product (BLIS's loops), cut to the shapes of the
//! book's networks (batch ≈ 100, layers of tens to a thousand units):
//! - B is cut into slices of columns whose depth blocks fit in L2
//!   ([`B_BLOCK_BYTES`]), and the depth `k` into equal blocks of at most
//!   [`KC`] steps;
//! - A is copied into contiguous panels of `MR` rows on the stack, so the
//!   microkernel's loads never split cache lines. When A is a batch
//!   (column-major: the forward product `x·W`), a whole block of rows is
//!   copied in one sequential pass, which the hardware prefetchers follow;
//!   when A is a transposed batch (`xᵀ·dout`), each panel is transposed by
//!   8 × 8 (f32) or 4 × 4 (f64) register blocks. Either way, the next
//!   stretch of A is prefetched while the current one is multiplied;
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

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

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
const NR_WIDE: usize = 12;

/// The depth of each block when `k` is cut into the fewest blocks of at
/// most [`KC`] steps, all of equal depth but the last.
fn depth_block(k: usize) -> usize {
    k.div_ceil(k.div_ceil(KC))
}

/// `n` columns cut into the fewest tiles of at most `width` columns, of
/// equal widths (± 1), as `(first column, width)`. A narrow last tile keeps
/// too few sums in flight to hide the FMA's latency: 50 columns in tiles of
/// six would leave one of two, which runs at half speed; here they are
/// 6 + 5 + … + 5.
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

macro_rules! avx2_gemm {
    (
        $name:ident: $t:ty, $v:ty, lanes = $lanes:expr,
        load = $load:ident, store = $store:ident, set1 = $set1:ident,
        fmadd = $fmadd:ident, mul = $mul:ident, zero = $zero:ident,
        maskload = $maskload:ident, mask = $mask:ident, transpose = $transpose:ident
    ) => {
        pub(super) mod $name {
            use super::*;

            type T = $t;
            type V = $v;
            const LANES: usize = $lanes;
            /// Rows of C per microkernel call: two vectors.
            pub(in crate::kernels) const MR: usize = 2 * LANES;

            /// `C ← α·A·B + β·C`: `A` is `m × k` with strides `(rsa, csa)`,
            /// `B` is `k × n` with strides `(rsb, csb)`, `C` is `m × n`,
            /// column-major with column stride `csc`. With `β = 0`, `C` is
            /// only written. `k` must be at least 1.
            ///
            /// # Safety
            /// The CPU supports AVX2 and FMA; every element addressed by
            /// the shapes and strides is valid for reads (`A`, `B`) and
            /// writes (`C`); `C` overlaps neither `A` nor `B`.
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            pub(in crate::kernels) unsafe fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: T,
                (a, rsa, csa): (*const T, isize, isize),
                (b, rsb, csb): (*const T, isize, isize),
                beta: T,
                (c, csc): (*mut T, isize),
            ) {
                // Slices of B of at most NC columns, so that a depth block
                // of the slice (read once per panel of A) stays in L2.
                let kc_max = depth_block(k);
                let nc = (B_BLOCK_BYTES / (kc_max * size_of::<T>()) / NR * NR).max(NR);
                let mut j0 = 0;
                while j0 < n {
                    let nb = nc.min(n - j0);
                    // SAFETY: columns j0..j0 + nb of B and C are inside them;
                    // the rest is the caller's contract.
                    unsafe {
                        let (b, c) = (b.offset(j0 as isize * csb), c.offset(j0 as isize * csc));
                        columns(
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
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn columns(
                m: usize,
                k: usize,
                n: usize,
                alpha: T,
                (a, rsa, csa): (*const T, isize, isize),
                (b, rsb, csb): (*const T, isize, isize),
                beta: T,
                (c, csc): (*mut T, isize),
            ) {
                if rsa == 1 {
                    // Columns of A are contiguous (A is a batch): pack a
                    // whole block of up to MC rows in one sequential pass
                    // over A, which the prefetchers follow, instead of one
                    // strided pass per panel, which waits on memory for
                    // every line (measured: 15% of a training step).
                    let mut block = Block(MaybeUninit::uninit());
                    // SAFETY: the block holds MC·KC values; the rest is the
                    // caller's contract.
                    unsafe {
                        blocked(
                            m,
                            k,
                            n,
                            alpha,
                            (a, csa),
                            (b, rsb, csb),
                            beta,
                            (c, csc),
                            block.0.as_mut_ptr().cast::<T>(),
                        );
                    }
                } else {
                    // SAFETY: the caller's contract.
                    unsafe {
                        panelled(m, k, n, alpha, (a, rsa, csa), (b, rsb, csb), beta, (c, csc))
                    }
                }
            }

            /// Hints the cache lines of a stretch of memory into L2, a few
            /// at a time, ahead of its use.
            struct Prefetch {
                next: *const u8,
                end: *const u8,
            }

            impl Prefetch {
                /// The `len` values from `start` (which need not be valid:
                /// a prefetch never faults nor reads into the program).
                fn new(start: *const T, len: usize) -> Self {
                    let next = start.cast::<u8>();
                    Prefetch {
                        next,
                        end: next.wrapping_add(len * size_of::<T>()),
                    }
                }

                /// How many lines to issue per call, to be done in `calls`.
                fn lines_per(&self, calls: usize) -> usize {
                    (self.end as usize)
                        .saturating_sub(self.next as usize)
                        .div_ceil(64 * calls.max(1))
                }

                /// Issues the next `lines` lines.
                #[target_feature(enable = "avx2,fma")]
                #[inline]
                fn issue(&mut self, lines: usize) {
                    for _ in 0..lines {
                        if self.next >= self.end {
                            return;
                        }
                        // A hint only: it never faults nor changes the
                        // program's state, whatever the address.
                        _mm_prefetch::<_MM_HINT_T1>(self.next.cast::<i8>());
                        self.next = self.next.wrapping_add(64);
                    }
                }
            }

            /// Rows of A packed at a time: a batch of up to 112 (the book's
            /// 100) is one block, in f32 (seven panels) as in f64 (fourteen),
            /// so that its columns are read whole, in one sequential pass.
            const MC: usize = 112;

            /// The packed block of A: `kc` steps of `MR` rows, panel after
            /// panel (112 KiB in f32, 224 KiB in f64, on the stack: nothing
            /// is allocated).
            #[repr(C, align(32))]
            struct Block(MaybeUninit<[T; MC * KC]>);

            /// [`gemm`] for a column-major A, packed one `mc × kc` block at a
            /// time (up to MC rows) into `block`. The depth blocks are the
            /// outer loop, so that a depth block of B, read by every block
            /// of rows, is still in L2 for the next (rows outside, a batch
            /// of two blocks read all of B from L3 twice: 20% of `x·W`).
            ///
            /// # Safety
            /// As [`gemm`], with `rsa = 1`; `block` is valid for `MC · KC`
            /// writes.
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn blocked(
                m: usize,
                k: usize,
                n: usize,
                alpha: T,
                (a, csa): (*const T, isize),
                (b, rsb, csb): (*const T, isize, isize),
                beta: T,
                (c, csc): (*mut T, isize),
                block: *mut T,
            ) {
                let kc_max = depth_block(k);
                let mut p0 = 0;
                while p0 < k {
                    let kc = kc_max.min(k - p0);
                    let scale = [alpha, if p0 == 0 { beta } else { 1.0 }];
                    // While this depth block is multiplied, bring the next
                    // one towards L2: its columns are the next stretch of A.
                    let next = kc_max.min(k - (p0 + kc).min(k));
                    let start = a.wrapping_offset((p0 + kc) as isize * csa);
                    let mut prefetch = Prefetch::new(start, next * csa.unsigned_abs());
                    let per_tile = prefetch.lines_per(m.div_ceil(MR) * n.div_ceil(NR));
                    let mut i0 = 0;
                    while i0 < m {
                        let mc = MC.min(m - i0);
                        // SAFETY: rows i0..i0 + mc of A and C are inside
                        // them; the block holds MC·KC ≥ ⌈mc / MR⌉·MR·kc
                        // values.
                        unsafe {
                            pack_rows(block, a.add(i0), csa, mc, p0, kc);
                        }
                        let full = two_vector_rows(mc, MR, LANES);
                        for_each_tile(mc, n, MR, full, |ip, j0, nr, _| {
                            prefetch.issue(per_tile);
                            // SAFETY: the kc × nr block at (p0, j0) is inside
                            // B, the block of rows i0 + ip.. and columns
                            // j0..j0 + nr inside C, and panel ip / MR, packed
                            // above, holds kc steps.
                            unsafe {
                                let panel = block.add(ip * kc);
                                let b = b.offset(p0 as isize * rsb + j0 as isize * csb);
                                let c = c.offset((i0 + ip) as isize + j0 as isize * csc);
                                let mr = MR.min(mc - ip);
                                tile(kc, Panel(panel), (b, rsb, csb), &scale, (c, csc), mr, nr);
                            }
                        });
                        i0 += MC;
                    }
                    p0 += kc;
                }
            }

            /// Copies columns `p0..p0 + kc` of the `m` rows of a column-major
            /// A at `a` into `block`, in panels of `MR` rows of `kc` steps
            /// each; the rows of a last, partial panel past `m` are zero.
            ///
            /// # Safety
            /// The block of A is inside A (column stride `csa`); `block` is
            /// valid for `⌈m / MR⌉·MR·kc` writes.
            #[target_feature(enable = "avx2,fma")]
            unsafe fn pack_rows(
                block: *mut T,
                a: *const T,
                csa: isize,
                m: usize,
                p0: usize,
                kc: usize,
            ) {
                for p in 0..kc {
                    // SAFETY: column p0 + p of A holds m values (the masked
                    // loads read only rows below m); panel i0 / MR of the
                    // block holds kc steps of MR values.
                    unsafe {
                        let column = a.offset((p0 + p) as isize * csa);
                        let mut i0 = 0;
                        while i0 < m {
                            let dst = block.add(i0 * kc + p * MR);
                            if i0 + MR <= m {
                                for v in 0..MR / LANES {
                                    $store(dst.add(v * LANES), $load(column.add(i0 + v * LANES)));
                                }
                            } else {
                                // The last, partial panel: masked loads read
                                // only rows below m, and the rest of the
                                // panel is zero.
                                for v in 0..MR / LANES {
                                    let row = i0 + v * LANES;
                                    let part = if row < m {
                                        $maskload(column.add(row), $mask(m - row))
                                    } else {
                                        $zero()
                                    };
                                    $store(dst.add(v * LANES), part);
                                }
                            }
                            i0 += MR;
                        }
                    }
                }
            }

            /// [`gemm`] for any A: blocks of up to MC rows are packed panel
            /// by panel (transposed in registers when A's rows are
            /// contiguous), then every slice of NR columns of B meets every
            /// panel of the block.
            ///
            /// # Safety
            /// As [`gemm`].
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn panelled(
                m: usize,
                k: usize,
                n: usize,
                alpha: T,
                (a, rsa, csa): (*const T, isize, isize),
                (b, rsb, csb): (*const T, isize, isize),
                beta: T,
                (c, csc): (*mut T, isize),
            ) {
                let mut block = Block(MaybeUninit::uninit());
                let block = block.0.as_mut_ptr().cast::<T>();
                let kc_max = depth_block(k);
                // When a depth block of B overflows L1, it is copied into
                // contiguous NR-column panels: the microkernel then reads
                // one stream instead of NR short columns.
                let mut b_panels = BPanels(MaybeUninit::uninit());
                let b_panels = b_panels.0.as_mut_ptr().cast::<T>();
                // A single panel of A reads B once: a copy would not pay.
                let pack_b = m > MR && kc_max * n * size_of::<T>() > B_IN_PLACE_BYTES;
                let mut p0 = 0;
                while p0 < k {
                    let kc = kc_max.min(k - p0);
                    let scale = [alpha, if p0 == 0 { beta } else { 1.0 }];
                    if pack_b {
                        // SAFETY: the kc × n block at (p0, 0) is inside B;
                        // the panels hold ⌈n / NR⌉·NR·kc ≤ B_BLOCK_BYTES of
                        // values (`gemm` slices B so).
                        unsafe {
                            pack_b_panels(b_panels, b.offset(p0 as isize * rsb), rsb, csb, kc, n)
                        };
                    }
                    let mut i0 = 0;
                    while i0 < m {
                        let mc = MC.min(m - i0);
                        // SAFETY: the mc × kc block at (i0, p0) is inside A.
                        unsafe { pack_panels(block, (a, rsa, csa), (i0, mc), (p0, kc)) };
                        // Tile t of B's columns: its packed panel, or its
                        // columns in place (always, for the wide tiles:
                        // `full` is the whole block when B is packed).
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
                        // While this block is multiplied, bring the next
                        // one towards L2, when A's rows are contiguous (A is
                        // a transposed batch: the next block's rows are then
                        // one stretch of the batch).
                        let next_rows = MC.min(m.saturating_sub(i0 + MC));
                        let span = match (csa, rsa.unsigned_abs()) {
                            (1, stride) if next_rows > 0 => (next_rows - 1) * stride + kc,
                            _ => 0,
                        };
                        let start = a.wrapping_offset((i0 + MC) as isize * rsa + p0 as isize);
                        let mut prefetch = Prefetch::new(start, span);
                        let per_tile = prefetch.lines_per(mc.div_ceil(MR) * n.div_ceil(NR));
                        let full = if pack_b {
                            mc
                        } else {
                            two_vector_rows(mc, MR, LANES)
                        };
                        for_each_tile(mc, n, MR, full, |ip, j0, nr, t| {
                            prefetch.issue(per_tile);
                            let b = b_tile(t, j0);
                            // SAFETY: the kc × nr block of B, the block of
                            // rows i0 + ip.. and columns j0..j0 + nr of C,
                            // and panel ip / MR, packed above, with kc steps.
                            unsafe {
                                let c = c.offset((i0 + ip) as isize + j0 as isize * csc);
                                let mr = MR.min(mc - ip);
                                tile(kc, Panel(block.add(ip * kc)), b, &scale, (c, csc), mr, nr);
                            }
                        });
                        i0 += MC;
                    }
                    p0 += kc;
                }
            }

            /// The copy of a depth block of B, in panels of NR columns.
            #[repr(C, align(32))]
            struct BPanels(MaybeUninit<[T; B_BLOCK_BYTES / size_of::<T>()]>);

            /// Copies the `kc × n` block of B at `b` into `panels`: panel
            /// `t` holds tile `t` of [`column_tiles`]`(n, NR)` as `kc` steps
            /// of `NR` values (the values past the tile's width are not
            /// written, nor read).
            ///
            /// # Safety
            /// The block is inside B; `panels` is valid for `⌈n / NR⌉·NR·kc`
            /// writes.
            #[target_feature(enable = "avx2,fma")]
            unsafe fn pack_b_panels(
                panels: *mut T,
                b: *const T,
                rsb: isize,
                csb: isize,
                kc: usize,
                n: usize,
            ) {
                for (t, (j0, nr)) in column_tiles(n, NR).enumerate() {
                    for j in 0..nr {
                        // SAFETY: column j0 + j < n of the block, and the
                        // panel's entries (p, j) for p < kc.
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

            /// Copies the `mr × kc` block of A at `a` into `panel`, `MR`
            /// values per step of k, the rows past `mr` set to zero.
            ///
            /// # Safety
            /// The block is inside A; `panel` is valid for `MR · kc` writes.
            /// Copies rows `i0..i0 + mc` and steps `p0..p0 + kc` of A into
            /// `block`, one panel of `MR` rows after the other.
            ///
            /// # Safety
            /// That block is inside A, and `block` holds `MC·KC` values
            /// (`mc ≤ MC`, `kc ≤ KC`).
            #[target_feature(enable = "avx2,fma")]
            unsafe fn pack_panels(
                block: *mut T,
                (a, rsa, csa): (*const T, isize, isize),
                (i0, mc): (usize, usize),
                (p0, kc): (usize, usize),
            ) {
                for ip in (0..mc).step_by(MR) {
                    // SAFETY: the block of MR.min(mc − ip) × kc at
                    // (i0 + ip, p0) is inside A, and panel ip / MR of
                    // the block holds MR·kc values (MC·KC in all).
                    unsafe {
                        let at = (i0 + ip) as isize * rsa + p0 as isize * csa;
                        pack(
                            block.add(ip * kc),
                            a.offset(at),
                            rsa,
                            csa,
                            MR.min(mc - ip),
                            kc,
                        );
                    }
                }
            }

            #[target_feature(enable = "avx2,fma")]
            unsafe fn pack(
                panel: *mut T,
                a: *const T,
                rsa: isize,
                csa: isize,
                mr: usize,
                kc: usize,
            ) {
                let mut p = 0;
                if mr == MR && csa == 1 {
                    // Rows of A are contiguous (A is a transposed batch):
                    // transpose LANES × LANES blocks in registers; the last
                    // columns, fewer than LANES, with masked loads.
                    while p < kc {
                        let width = LANES.min(kc - p);
                        for h in 0..MR / LANES {
                            let mut rows = [$zero(); LANES];
                            for (r, row) in rows.iter_mut().enumerate() {
                                // SAFETY: row h·LANES + r < MR = mr and
                                // columns p..p + width ≤ kc are inside the
                                // block; a masked load reads no other column.
                                *row = unsafe {
                                    let start =
                                        a.offset((h * LANES + r) as isize * rsa + p as isize);
                                    if width == LANES {
                                        $load(start)
                                    } else {
                                        $maskload(start, $mask(width))
                                    }
                                };
                            }
                            for (q, column) in $transpose(rows).into_iter().take(width).enumerate()
                            {
                                // SAFETY: (p + q)·MR + (h + 1)·LANES ≤ kc·MR.
                                unsafe { $store(panel.add((p + q) * MR + h * LANES), column) };
                            }
                        }
                        p += width;
                    }
                }
                for p in p..kc {
                    for i in 0..MR {
                        let value = if i < mr {
                            // SAFETY: (i, p) is inside the block.
                            unsafe { *a.offset(i as isize * rsa + p as isize * csa) }
                        } else {
                            0.0
                        };
                        // SAFETY: p·MR + i < kc·MR.
                        unsafe { panel.add(p * MR + i).write(value) };
                    }
                }
            }

            /// One `mr × nr` block of C from a packed panel of A and a block
            /// of B: `nr ≤ NR` columns for two vectors of rows, `nr ≤
            /// NR_WIDE` for one.
            ///
            /// # Safety
            /// As [`product`] and [`store`].
            /// Where the microkernel reads the `MR` rows of A of each step.
            trait Rows: Copy {
                /// The first of the rows of step `p`.
                ///
                /// # Safety
                /// Step `p` is inside the block of A.
                unsafe fn at(self, p: usize) -> *const T;
            }

            /// A packed panel: the rows of step `p` at `p·MR`.
            #[derive(Clone, Copy)]
            struct Panel(*const T);

            impl Rows for Panel {
                #[inline(always)]
                unsafe fn at(self, p: usize) -> *const T {
                    // SAFETY: the caller's contract.
                    unsafe { self.0.add(p * MR) }
                }
            }

            /// A matrix in place whose column `p` starts at `offsets[p]`,
            /// rows contiguous: a stride-1 convolution's unfolded input, as
            /// A (the rows of step `p` are column `p`'s) or as B.
            #[derive(Clone, Copy)]
            struct Runs {
                first_row: *const T,
                offsets: *const usize,
            }

            impl Rows for Runs {
                #[inline(always)]
                unsafe fn at(self, p: usize) -> *const T {
                    // SAFETY: the caller's contract.
                    unsafe { self.first_row.add(*self.offsets.add(p)) }
                }
            }

            /// Where the microkernel reads the columns of B.
            trait Columns: Copy {
                /// The first value of column `j`.
                ///
                /// # Safety
                /// Column `j` is inside the block of B.
                unsafe fn column(self, j: usize) -> *const T;
                /// Values between two steps of a column.
                fn row_stride(self) -> isize;
            }

            /// B with a pointer and its row and column strides.
            impl Columns for (*const T, isize, isize) {
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

            impl Columns for Runs {
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

            /// `C ← α·A·B + β·C`, where `A` is `m × k` with strides
            /// `(rsa, csa)`, column `j` of the `k × n` matrix B is
            /// `b[offsets[j]..][..k]` (`n = offsets.len()`), and C is
            /// column-major with column stride `csc`: the filters'
            /// gradient of a stride-1 convolution, `doutᵀ` times the runs
            /// of the padded image ([`gemm_shifted`]). A is packed panel by
            /// panel; B is read in place.
            ///
            /// # Safety
            /// As [`gemm`], and every run `b[offsets[j]..][..k]` is
            /// readable.
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            pub(in crate::kernels) unsafe fn gemm_shifted_b(
                m: usize,
                k: usize,
                alpha: T,
                (a, rsa, csa): (*const T, isize, isize),
                b: *const T,
                offsets: &[usize],
                beta: T,
                (c, csc): (*mut T, isize),
            ) {
                let n = offsets.len();
                let mut block = Block(MaybeUninit::uninit());
                let block = block.0.as_mut_ptr().cast::<T>();
                let kc_max = depth_block(k);
                let mut p0 = 0;
                while p0 < k {
                    let kc = kc_max.min(k - p0);
                    let scale = [alpha, if p0 == 0 { beta } else { 1.0 }];
                    let mut i0 = 0;
                    while i0 < m {
                        let mc = MC.min(m - i0);
                        // SAFETY: the mc × kc block at (i0, p0) is inside A.
                        unsafe { pack_panels(block, (a, rsa, csa), (i0, mc), (p0, kc)) };
                        for_each_tile(mc, n, MR, mc, |ip, j0, nr, _| {
                            // SAFETY: steps p0..p0 + kc of the runs j0..j0 +
                            // nr (the caller's contract), the rows i0 + ip..
                            // of those columns of C, and panel ip / MR, packed
                            // above.
                            unsafe {
                                let columns = Runs {
                                    first_row: b.add(p0),
                                    offsets: offsets.as_ptr().add(j0),
                                };
                                let c = c.offset((i0 + ip) as isize + j0 as isize * csc);
                                let panel = Panel(block.add(ip * kc));
                                tile(kc, panel, columns, &scale, (c, csc), MR.min(mc - ip), nr);
                            }
                        });
                        i0 += MC;
                    }
                    p0 += kc;
                }
            }

            /// `C ← α·A·B + β·C`, where column `p` of the `m × k` matrix A
            /// is `a[offsets[p]..][..m]` (`k = offsets.len()`, at least 1),
            /// B is `k × n` with strides `(rsb, csb)` and C is column-major
            /// with column stride `csc`. Nothing is packed: the rows of a
            /// step are one unaligned load.
            ///
            /// # Safety
            /// As [`gemm`]; moreover `a` is readable up to
            /// `max(offsets) + ⌈m / MR⌉·MR` (a last panel is read whole).
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            pub(in crate::kernels) unsafe fn gemm_shifted(
                m: usize,
                n: usize,
                alpha: T,
                a: *const T,
                offsets: &[usize],
                (b, rsb, csb): (*const T, isize, isize),
                beta: T,
                (c, csc): (*mut T, isize),
            ) {
                let k = offsets.len();
                let kc_max = depth_block(k);
                let mut p0 = 0;
                while p0 < k {
                    let kc = kc_max.min(k - p0);
                    let scale = [alpha, if p0 == 0 { beta } else { 1.0 }];
                    for (j0, nr) in column_tiles(n, NR) {
                        for i0 in (0..m).step_by(MR) {
                            // SAFETY: steps p0..p0 + kc of rows i0.. of A
                            // (read whole, the caller's contract), the
                            // kc × nr block of B at (p0, j0) and rows
                            // i0..min(i0 + MR, m) of columns j0..j0 + nr
                            // of C are inside them.
                            unsafe {
                                let rows = Runs {
                                    first_row: a.add(i0),
                                    offsets: offsets.as_ptr().add(p0),
                                };
                                let b = b.offset(p0 as isize * rsb + j0 as isize * csb);
                                let c = c.offset(i0 as isize + j0 as isize * csc);
                                tile(
                                    kc,
                                    rows,
                                    (b, rsb, csb),
                                    &scale,
                                    (c, csc),
                                    MR.min(m - i0),
                                    nr,
                                );
                            }
                        }
                    }
                    p0 += kc;
                }
            }

            #[target_feature(enable = "avx2,fma")]
            #[inline]
            unsafe fn tile(
                kc: usize,
                panel: impl Rows,
                b: impl Columns,
                scale: &[T; 2],
                c: (*mut T, isize),
                mr: usize,
                nr: usize,
            ) {
                macro_rules! call {
                    ($mv:literal, $nr:literal) => {
                        // SAFETY: forwarded from the caller.
                        unsafe {
                            store::<$mv, $nr>(&product::<$mv, $nr>(kc, panel, b), scale, c, mr)
                        }
                    };
                }
                match (mr > LANES, nr) {
                    (true, 6) => call!(2, 6),
                    (true, 5) => call!(2, 5),
                    (true, 4) => call!(2, 4),
                    (true, 3) => call!(2, 3),
                    (true, 2) => call!(2, 2),
                    (true, _) => call!(2, 1),
                    (false, 12) => call!(1, 12),
                    (false, 11) => call!(1, 11),
                    (false, 10) => call!(1, 10),
                    (false, 9) => call!(1, 9),
                    (false, 8) => call!(1, 8),
                    (false, 7) => call!(1, 7),
                    (false, 6) => call!(1, 6),
                    (false, 5) => call!(1, 5),
                    (false, 4) => call!(1, 4),
                    (false, 3) => call!(1, 3),
                    (false, 2) => call!(1, 2),
                    (false, _) => call!(1, 1),
                }
            }

            /// The `MV`-vector × `N`-column block of `A·B` over `kc` steps,
            /// summed in registers. Not inlined, so that nothing but the
            /// accumulators and operands is live in the loop (inlined, the
            /// register allocator spills an accumulator).
            ///
            /// # Safety
            /// `panel` holds `kc` steps of `MR` values; the `kc × N` block
            /// of B at `b` with strides `(rsb, csb)` is valid for reads.
            #[target_feature(enable = "avx2,fma")]
            #[inline(never)]
            unsafe fn product<const MV: usize, const N: usize>(
                kc: usize,
                rows: impl Rows,
                b: impl Columns,
            ) -> [[V; MV]; N] {
                let mut acc = [[$zero(); MV]; N];
                // SAFETY: columns j < N of the block.
                let columns: [*const T; N] = core::array::from_fn(|j| unsafe { b.column(j) });
                let rsb = b.row_stride();
                let mut offset = 0isize;
                for p in 0..kc {
                    // SAFETY: step p < kc of the panel and of B's block.
                    unsafe {
                        let a = rows.at(p);
                        let mut av = [$zero(); MV];
                        for (v, a_v) in av.iter_mut().enumerate() {
                            *a_v = $load(a.add(v * LANES));
                        }
                        for (acc, column) in acc.iter_mut().zip(&columns) {
                            let b = $set1(*column.offset(offset));
                            for v in 0..MV {
                                acc[v] = $fmadd(av[v], b, acc[v]);
                            }
                        }
                    }
                    offset += rsb;
                }
                acc
            }

            /// `C ← α·acc + β·C` for the first `mr` rows of an `MV`-vector ×
            /// `N`-column block (`C` only written when `β = 0`).
            ///
            /// # Safety
            /// The `mr × N` block of C at `c` with column stride `csc` is
            /// valid for reads and writes, and `mr ≤ MV · LANES`.
            #[target_feature(enable = "avx2,fma")]
            #[inline]
            unsafe fn store<const MV: usize, const N: usize>(
                acc: &[[V; MV]; N],
                &[alpha, beta]: &[T; 2],
                (c, csc): (*mut T, isize),
                mr: usize,
            ) {
                let (alpha_v, beta_v) = ($set1(alpha), $set1(beta));
                for (j, acc) in acc.iter().enumerate() {
                    // SAFETY: column j < N of the block.
                    let column = unsafe { c.offset(j as isize * csc) };
                    if mr == MV * LANES {
                        for (v, &acc) in acc.iter().enumerate() {
                            let result = $mul(acc, alpha_v);
                            // SAFETY: rows v·LANES.. (v + 1)·LANES ≤ mr.
                            unsafe {
                                let c = column.add(v * LANES);
                                if beta == 0.0 {
                                    $store(c, result);
                                } else {
                                    $store(c, $fmadd($load(c), beta_v, result));
                                }
                            }
                        }
                    } else {
                        let mut rows = [0.0 as T; MR];
                        for (v, &acc) in acc.iter().enumerate() {
                            // SAFETY: rows holds MR ≥ (v + 1)·LANES values.
                            unsafe { $store(rows.as_mut_ptr().add(v * LANES), $mul(acc, alpha_v)) };
                        }
                        for (i, &value) in rows[..mr].iter().enumerate() {
                            // SAFETY: row i < mr of the block.
                            unsafe {
                                let c = column.add(i);
                                *c = if beta == 0.0 {
                                    value
                                } else {
                                    value + beta * *c
                                };
                            }
                        }
                    }
                }
            }
        }
    };
}

/// The mask of the first `count` (at least 1) of 8 lanes of 32 bits.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn mask8(count: usize) -> __m256i {
    let count = _mm256_set1_epi32(count.min(8) as i32);
    _mm256_cmpgt_epi32(count, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
}

/// The mask of the first `count` (at least 1) of 4 lanes of 64 bits.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn mask4(count: usize) -> __m256i {
    let count = _mm256_set1_epi64x(count.min(4) as i64);
    _mm256_cmpgt_epi64(count, _mm256_setr_epi64x(0, 1, 2, 3))
}

/// The columns of an 8 × 8 block of `f32`, given its rows.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(in crate::kernels) fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(s0, s4),
        _mm256_permute2f128_ps::<0x20>(s1, s5),
        _mm256_permute2f128_ps::<0x20>(s2, s6),
        _mm256_permute2f128_ps::<0x20>(s3, s7),
        _mm256_permute2f128_ps::<0x31>(s0, s4),
        _mm256_permute2f128_ps::<0x31>(s1, s5),
        _mm256_permute2f128_ps::<0x31>(s2, s6),
        _mm256_permute2f128_ps::<0x31>(s3, s7),
    ]
}

/// The columns of a 4 × 4 block of `f64`, given its rows.
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(in crate::kernels) fn transpose4(r: [__m256d; 4]) -> [__m256d; 4] {
    let t0 = _mm256_unpacklo_pd(r[0], r[1]);
    let t1 = _mm256_unpackhi_pd(r[0], r[1]);
    let t2 = _mm256_unpacklo_pd(r[2], r[3]);
    let t3 = _mm256_unpackhi_pd(r[2], r[3]);
    [
        _mm256_permute2f128_pd::<0x20>(t0, t2),
        _mm256_permute2f128_pd::<0x20>(t1, t3),
        _mm256_permute2f128_pd::<0x31>(t0, t2),
        _mm256_permute2f128_pd::<0x31>(t1, t3),
    ]
}

avx2_gemm!(
    f32: f32, __m256, lanes = 8,
    load = _mm256_loadu_ps, store = _mm256_storeu_ps, set1 = _mm256_set1_ps,
    fmadd = _mm256_fmadd_ps, mul = _mm256_mul_ps, zero = _mm256_setzero_ps,
    maskload = _mm256_maskload_ps, mask = mask8, transpose = transpose8
);
avx2_gemm!(
    f64: f64, __m256d, lanes = 4,
    load = _mm256_loadu_pd, store = _mm256_storeu_pd, set1 = _mm256_set1_pd,
    fmadd = _mm256_fmadd_pd, mul = _mm256_mul_pd, zero = _mm256_setzero_pd,
    maskload = _mm256_maskload_pd, mask = mask4, transpose = transpose4
);
