//! The conversion with AVX2, for `f32` and `f64`: `LANES × LANES` tiles
//! converted and transposed in registers; the edges by the portable loop.

use core::arch::x86_64::*;

use super::{Convert, check_lengths, portable};
use crate::kernels::avx2::{transpose4, transpose8};

macro_rules! convert {
    (
        $name:ident: $t:ty, $v:ty, lanes = $lanes:expr,
        store = $store:ident, set1 = $set1:ident, transpose = $transpose:ident,
        bytes = $bytes:ident
    ) => {
        pub(super) mod $name {
            use super::*;

            type T = $t;
            type V = $v;
            const LANES: usize = $lanes;

            /// The conversion of this type.
            pub(in crate::kernels) static CONVERT: Convert<T> = transpose_bytes;

            /// As [`transpose_bytes`](super::super::transpose_bytes) says.
            ///
            /// # Safety
            /// The CPU has AVX2.
            #[target_feature(enable = "avx2,fma")]
            unsafe fn transpose_bytes(runs: &[&[u8]], divisor: f64, to: &mut [T], to_ld: usize) {
                let len = check_lengths(runs, to, to_ld);
                let count = runs.len();
                let whole_len = len / LANES * LANES;
                let divisor_v = $set1(divisor as T);
                for k in (0..count).step_by(LANES) {
                    // A last block of fewer runs repeats its last run; only
                    // its own entries are stored.
                    let width = LANES.min(count - k);
                    let block: [&[u8]; LANES] =
                        core::array::from_fn(|r| runs[k + r.min(width - 1)]);
                    for m in (0..whole_len).step_by(LANES) {
                        // SAFETY: entries m..m + LANES of the runs, inside
                        // them as checked; the transposed entries of runs
                        // k..k + width inside `to`.
                        unsafe {
                            let tile: [V; LANES] = core::array::from_fn(|r| {
                                $bytes(block[r].as_ptr().add(m), divisor_v)
                            });
                            for (c, column) in $transpose(tile).into_iter().enumerate() {
                                let to = to.as_mut_ptr().add((m + c) * to_ld + k);
                                if width == LANES {
                                    $store(to, column);
                                } else {
                                    let mut entries = [0.0; LANES];
                                    $store(entries.as_mut_ptr(), column);
                                    core::ptr::copy_nonoverlapping(entries.as_ptr(), to, width);
                                }
                            }
                        }
                    }
                    if whole_len < len {
                        let tails: [&[u8]; LANES] =
                            core::array::from_fn(|r| &block[r][whole_len..]);
                        portable(
                            &tails[..width],
                            divisor,
                            &mut to[whole_len * to_ld + k..],
                            to_ld,
                        );
                    }
                }
            }
        }
    };
}

/// Eight bytes at `bytes` as `f32`, each divided by `divisor`.
///
/// # Safety
/// The CPU has AVX2; eight bytes can be read at `bytes`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn bytes_f32(bytes: *const u8, divisor: __m256) -> __m256 {
    // SAFETY: eight bytes are readable.
    let ints = _mm256_cvtepu8_epi32(unsafe { _mm_loadl_epi64(bytes.cast()) });
    _mm256_div_ps(_mm256_cvtepi32_ps(ints), divisor)
}

/// Four bytes at `bytes` as `f64`, each divided by `divisor`.
///
/// # Safety
/// The CPU has AVX2; four bytes can be read at `bytes`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn bytes_f64(bytes: *const u8, divisor: __m256d) -> __m256d {
    // SAFETY: four bytes are readable.
    let word = unsafe { bytes.cast::<i32>().read_unaligned() };
    let ints = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(word));
    _mm256_div_pd(_mm256_cvtepi32_pd(ints), divisor)
}

convert!(
    f32: f32, __m256, lanes = 8,
    store = _mm256_storeu_ps, set1 = _mm256_set1_ps, transpose = transpose8,
    bytes = bytes_f32
);
convert!(
    f64: f64, __m256d, lanes = 4,
    store = _mm256_storeu_pd, set1 = _mm256_set1_pd, transpose = transpose4,
    bytes = bytes_f64
);
