//! The AVX2 and FMA microkernels of the blocked product (`loops.rs`), and
//! their packing of A, written once for `f32` and `f64` over [`Lanes`].
//!
//! A is copied into contiguous panels of `MR` rows, so the microkernel's
//! loads never split cache lines: a column-major A by plain (or, for a
//! last partial panel, masked) loads, a row-major A by 8 × 8 (f32) or
//! 4 × 4 (f64) blocks transposed in registers. The microkernel keeps an
//! `MR × NR` block of C (two vectors × six columns: 12 accumulators) in
//! registers for the whole block depth, or one vector × up to twelve
//! columns at the edges.
//!
//! The instructions of [`Lanes`] are inlined into the functions here,
//! which all have AVX2 and FMA enabled.

use core::arch::x86_64::*;
use core::marker::PhantomData;
use core::ops::{Add, Mul};

use super::loops::Strided;
use super::loops::{self, Columns, Microkernel, Rows};

/// The most rows of one microkernel call: two vectors of `f32`.
const MAX_MR: usize = 16;

/// A scalar type in AVX registers: its vector, and the instructions the
/// microkernel and the packing use.
///
/// Every method is only an instruction: it may be called where AVX2 and
/// FMA are enabled, which is its safety contract, besides the pointers'.
pub(in crate::kernels) trait Lanes:
    Copy + PartialEq + Add<Output = Self> + Mul<Output = Self> + 'static
{
    /// One register of `LANES` values.
    type V: Copy;
    /// `LANES` registers: a square block of values.
    type Square: IntoIterator<Item = Self::V>;
    /// Values per register.
    const LANES: usize;
    const ZERO: Self;
    const ONE: Self;

    unsafe fn zero() -> Self::V;
    unsafe fn load(p: *const Self) -> Self::V;
    unsafe fn store(p: *mut Self, v: Self::V);
    unsafe fn set1(x: Self) -> Self::V;
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn times(a: Self::V, b: Self::V) -> Self::V;
    /// The first `count` (at least 1) values at `p`, the others zero; no
    /// other value is read.
    unsafe fn load_first(p: *const Self, count: usize) -> Self::V;
    /// The block whose row `r` is `row(r)`.
    unsafe fn square(row: impl FnMut(usize) -> Self::V) -> Self::Square;
    /// The columns of a block, given its rows.
    unsafe fn transpose(rows: Self::Square) -> Self::Square;
}

/// Rows of C per microkernel call: two vectors.
pub(in crate::kernels) const fn mr<T: Lanes>() -> usize {
    2 * T::LANES
}

/// The microkernel of `T`.
pub(in crate::kernels) struct Kernel<T>(PhantomData<T>);

impl<T: Lanes> Microkernel for Kernel<T> {
    type T = T;
    const ONE: T = T::ONE;
    const LANES: usize = T::LANES;
    const MR: usize = mr::<T>();

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile(
        kc: usize,
        panel: impl Rows<T>,
        b: impl Columns<T>,
        scale: &[T; 2],
        c: (*mut T, isize),
        mr: usize,
        nr: usize,
    ) {
        macro_rules! call {
            ($mv:literal, $nr:literal) => {
                // SAFETY: forwarded from the caller.
                unsafe { store::<T, $mv, $nr>(&product::<T, $mv, $nr>(kc, panel, b), scale, c, mr) }
            };
        }
        match (mr > T::LANES, nr) {
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

    #[target_feature(enable = "avx2,fma")]
    unsafe fn pack_rows(block: *mut T, a: *const T, csa: isize, m: usize, p0: usize, kc: usize) {
        let (mr, lanes) = (Self::MR, T::LANES);
        for p in 0..kc {
            // SAFETY: column p0 + p of A holds m values (the masked loads
            // read only rows below m); panel i0 / MR of the block holds kc
            // steps of MR values.
            unsafe {
                let column = a.offset((p0 + p) as isize * csa);
                let mut i0 = 0;
                while i0 < m {
                    let dst = block.add(i0 * kc + p * mr);
                    if i0 + mr <= m {
                        for v in 0..mr / lanes {
                            T::store(dst.add(v * lanes), T::load(column.add(i0 + v * lanes)));
                        }
                    } else {
                        // The last, partial panel: masked loads read only
                        // rows below m, and the rest of the panel is zero.
                        for v in 0..mr / lanes {
                            let row = i0 + v * lanes;
                            let part = if row < m {
                                T::load_first(column.add(row), m - row)
                            } else {
                                T::zero()
                            };
                            T::store(dst.add(v * lanes), part);
                        }
                    }
                    i0 += mr;
                }
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn pack(panel: *mut T, a: *const T, rsa: isize, csa: isize, mr: usize, kc: usize) {
        let (full, lanes) = (Self::MR, T::LANES);
        let mut p = 0;
        if mr == full && csa == 1 {
            // Rows of A are contiguous (A is a transposed batch): transpose
            // LANES × LANES blocks in registers; the last columns, fewer
            // than LANES, with masked loads.
            while p < kc {
                let width = lanes.min(kc - p);
                for h in 0..full / lanes {
                    // SAFETY: row h·LANES + r < MR = mr and columns p..p +
                    // width ≤ kc are inside the block; a masked load reads
                    // no other column.
                    let rows = unsafe {
                        T::square(|r| {
                            let start = a.offset((h * lanes + r) as isize * rsa + p as isize);
                            if width == lanes {
                                T::load(start)
                            } else {
                                T::load_first(start, width)
                            }
                        })
                    };
                    // SAFETY: the block's instructions.
                    let columns = unsafe { T::transpose(rows) };
                    for (q, column) in columns.into_iter().take(width).enumerate() {
                        // SAFETY: (p + q)·MR + (h + 1)·LANES ≤ kc·MR.
                        unsafe { T::store(panel.add((p + q) * full + h * lanes), column) };
                    }
                }
                p += width;
            }
        }
        for p in p..kc {
            for i in 0..full {
                let value = if i < mr {
                    // SAFETY: (i, p) is inside the block.
                    unsafe { *a.offset(i as isize * rsa + p as isize * csa) }
                } else {
                    T::ZERO
                };
                // SAFETY: p·MR + i < kc·MR.
                unsafe { panel.add(p * full + i).write(value) };
            }
        }
    }

    #[inline(always)]
    fn prefetch(line: *const u8) {
        // SAFETY: SSE is part of x86-64.
        unsafe { _mm_prefetch::<_MM_HINT_T1>(line.cast::<i8>()) };
    }
}

/// [`loops::gemm`] with the kernel of `T`.
///
/// # Safety
/// As [`loops::gemm`], on a CPU with AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(in crate::kernels) unsafe fn gemm<T: Lanes>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: Strided<T>,
    b: Strided<T>,
    beta: T,
    c: (*mut T, isize),
) {
    // SAFETY: the caller's contract.
    unsafe { loops::gemm::<Kernel<T>>(m, k, n, alpha, a, b, beta, c) }
}

/// [`loops::gemm_shifted`] with the kernel of `T`.
///
/// # Safety
/// As [`loops::gemm_shifted`], on a CPU with AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(in crate::kernels) unsafe fn gemm_shifted<T: Lanes>(
    m: usize,
    n: usize,
    alpha: T,
    a: *const T,
    offsets: &[usize],
    b: Strided<T>,
    beta: T,
    c: (*mut T, isize),
) {
    // SAFETY: the caller's contract.
    unsafe { loops::gemm_shifted::<Kernel<T>>(m, n, alpha, a, offsets, b, beta, c) }
}

/// [`loops::gemm_shifted_b`] with the kernel of `T`.
///
/// # Safety
/// As [`loops::gemm_shifted_b`], on a CPU with AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(in crate::kernels) unsafe fn gemm_shifted_b<T: Lanes>(
    m: usize,
    k: usize,
    alpha: T,
    a: Strided<T>,
    b: *const T,
    offsets: &[usize],
    beta: T,
    c: (*mut T, isize),
) {
    // SAFETY: the caller's contract.
    unsafe { loops::gemm_shifted_b::<Kernel<T>>(m, k, alpha, a, b, offsets, beta, c) }
}

/// The `MV`-vector × `N`-column block of `A·B` over `kc` steps, summed in
/// registers. Not inlined, so that nothing but the accumulators and
/// operands is live in the loop (inlined, the register allocator spills an
/// accumulator).
///
/// # Safety
/// `rows` holds `kc` steps of `MV` vectors; the `kc × N` block of B is
/// valid for reads.
#[target_feature(enable = "avx2,fma")]
#[inline(never)]
unsafe fn product<T: Lanes, const MV: usize, const N: usize>(
    kc: usize,
    rows: impl Rows<T>,
    b: impl Columns<T>,
) -> [[T::V; MV]; N] {
    // SAFETY: the instructions have their features.
    let mut acc = [[unsafe { T::zero() }; MV]; N];
    // SAFETY: columns j < N of the block.
    let columns: [*const T; N] = core::array::from_fn(|j| unsafe { b.column(j) });
    let rsb = b.row_stride();
    let mut offset = 0isize;
    for p in 0..kc {
        // SAFETY: step p < kc of the panel and of B's block.
        unsafe {
            let a = rows.at(p);
            let mut av = [T::zero(); MV];
            for (v, a_v) in av.iter_mut().enumerate() {
                *a_v = T::load(a.add(v * T::LANES));
            }
            for (acc, column) in acc.iter_mut().zip(&columns) {
                let b = T::set1(*column.offset(offset));
                for v in 0..MV {
                    acc[v] = T::fmadd(av[v], b, acc[v]);
                }
            }
        }
        offset += rsb;
    }
    acc
}

/// `C ← α·acc + β·C` for the first `mr` rows of an `MV`-vector × `N`-column
/// block (`C` only written when `β = 0`).
///
/// # Safety
/// The `mr × N` block of C at `c` with column stride `csc` is valid for
/// reads and writes, and `mr ≤ MV · LANES`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store<T: Lanes, const MV: usize, const N: usize>(
    acc: &[[T::V; MV]; N],
    &[alpha, beta]: &[T; 2],
    (c, csc): (*mut T, isize),
    mr: usize,
) {
    // SAFETY: the instructions have their features.
    let (alpha_v, beta_v) = unsafe { (T::set1(alpha), T::set1(beta)) };
    for (j, acc) in acc.iter().enumerate() {
        // SAFETY: column j < N of the block.
        let column = unsafe { c.offset(j as isize * csc) };
        if mr == MV * T::LANES {
            for (v, &acc) in acc.iter().enumerate() {
                // SAFETY: rows v·LANES.. (v + 1)·LANES ≤ mr.
                unsafe {
                    let result = T::times(acc, alpha_v);
                    let c = column.add(v * T::LANES);
                    if beta == T::ZERO {
                        T::store(c, result);
                    } else {
                        T::store(c, T::fmadd(T::load(c), beta_v, result));
                    }
                }
            }
        } else {
            let mut rows = [T::ZERO; MAX_MR];
            for (v, &acc) in acc.iter().enumerate() {
                // SAFETY: rows holds MAX_MR ≥ (v + 1)·LANES values.
                unsafe { T::store(rows.as_mut_ptr().add(v * T::LANES), T::times(acc, alpha_v)) };
            }
            for (i, &value) in rows[..mr].iter().enumerate() {
                // SAFETY: row i < mr of the block.
                unsafe {
                    let c = column.add(i);
                    *c = if beta == T::ZERO {
                        value
                    } else {
                        value + beta * *c
                    };
                }
            }
        }
    }
}

macro_rules! lanes {
    (
        $t:ty, $v:ty, lanes = $lanes:literal, load = $load:ident, store = $store:ident,
        set1 = $set1:ident, fmadd = $fmadd:ident, mul = $mul:ident, zero = $zero:ident,
        maskload = $maskload:ident, mask = $mask:ident, transpose = $transpose:ident
    ) => {
        impl Lanes for $t {
            type V = $v;
            type Square = [$v; $lanes];
            const LANES: usize = $lanes;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;

            #[inline(always)]
            unsafe fn zero() -> $v {
                unsafe { $zero() }
            }
            #[inline(always)]
            unsafe fn load(p: *const Self) -> $v {
                unsafe { $load(p) }
            }
            #[inline(always)]
            unsafe fn store(p: *mut Self, v: $v) {
                unsafe { $store(p, v) }
            }
            #[inline(always)]
            unsafe fn set1(x: Self) -> $v {
                unsafe { $set1(x) }
            }
            #[inline(always)]
            unsafe fn fmadd(a: $v, b: $v, c: $v) -> $v {
                unsafe { $fmadd(a, b, c) }
            }
            #[inline(always)]
            unsafe fn times(a: $v, b: $v) -> $v {
                unsafe { $mul(a, b) }
            }
            #[inline(always)]
            unsafe fn load_first(p: *const Self, count: usize) -> $v {
                unsafe { $maskload(p, $mask(count)) }
            }
            #[inline(always)]
            unsafe fn square(row: impl FnMut(usize) -> $v) -> [$v; $lanes] {
                core::array::from_fn(row)
            }
            #[inline(always)]
            unsafe fn transpose(rows: [$v; $lanes]) -> [$v; $lanes] {
                unsafe { $transpose(rows) }
            }
        }
    };
}

lanes!(
    f32,
    __m256,
    lanes = 8,
    load = _mm256_loadu_ps,
    store = _mm256_storeu_ps,
    set1 = _mm256_set1_ps,
    fmadd = _mm256_fmadd_ps,
    mul = _mm256_mul_ps,
    zero = _mm256_setzero_ps,
    maskload = _mm256_maskload_ps,
    mask = mask8,
    transpose = transpose8
);
lanes!(
    f64,
    __m256d,
    lanes = 4,
    load = _mm256_loadu_pd,
    store = _mm256_storeu_pd,
    set1 = _mm256_set1_pd,
    fmadd = _mm256_fmadd_pd,
    mul = _mm256_mul_pd,
    zero = _mm256_setzero_pd,
    maskload = _mm256_maskload_pd,
    mask = mask4,
    transpose = transpose4
);

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
