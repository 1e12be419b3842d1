//! Bytes into floats: a batch of images (one run of pixels each) into the
//! columns of a column-major batch, for `data/`.

#[cfg(target_arch = "x86_64")]
use core::any::{Any, TypeId};

use crate::kernels::dispatch::Kernels;

#[cfg(target_arch = "x86_64")]
mod avx2;

/// `convert(runs, divisor, to, to_ld)`: see [`transpose_bytes`].
type Convert<T> = unsafe fn(&[&[u8]], f64, &mut [T], usize);

/// `to[m·to_ld + k] = T::of_f64(f64::from(runs[k][m]) / divisor)`: runs of
/// bytes (images, one per run) converted into the columns of `to`.
///
/// `divisor` is 1 or 255 (raw or normalized pixels). For `f32` the vector
/// loop divides in `f32`, which rounds each byte's quotient by these
/// divisors exactly as the division in `f64` and rounding to `f32` does
/// (the tests check every byte).
///
/// # Panics
/// When the runs differ in length, or do not fit in `to`.
pub(crate) fn transpose_bytes<T: Kernels>(
    runs: &[&[u8]],
    divisor: f64,
    to: &mut [T],
    to_ld: usize,
) {
    // SAFETY: both implementations check the lengths; `converter` checked
    // the CPU's features.
    unsafe { converter::<T>()(runs, divisor, to, to_ld) }
}

/// The conversion for `T` on this CPU: AVX2 and FMA when it has them.
fn converter<T: Kernels>() -> Convert<T> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        let avx2: &dyn Any = if TypeId::of::<T>() == TypeId::of::<f32>() {
            &avx2::f32::CONVERT
        } else {
            &avx2::f64::CONVERT
        };
        if let Some(&convert) = avx2.downcast_ref::<Convert<T>>() {
            return convert;
        }
    }
    portable::<T>
}

/// Checks the lengths `transpose_bytes` reads and writes; returns the
/// length of the runs.
fn check_lengths<T>(runs: &[&[u8]], to: &[T], to_ld: usize) -> usize {
    let len = runs.first().map_or(0, |run| run.len());
    assert!(runs.iter().all(|run| run.len() == len));
    if len > 0 && !runs.is_empty() {
        assert!(runs.len() <= to_ld && to.len() >= (len - 1) * to_ld + runs.len());
    }
    len
}

/// The conversion in plain Rust, for CPUs without AVX2 and FMA, and for
/// the edges of the vector loop.
fn portable<T: Kernels>(runs: &[&[u8]], divisor: f64, to: &mut [T], to_ld: usize) {
    let len = check_lengths(runs, to, to_ld);
    for m in 0..len {
        for (k, run) in runs.iter().enumerate() {
            to[m * to_ld + k] = nalgebra::convert(f64::from(run[m]) / divisor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scalar;

    /// Every byte value, in runs of every length around the vector widths,
    /// converted exactly as `T::of_f64(f64::from(byte) / divisor)`.
    fn check_transpose_bytes<T: Scalar>(divisor: f64) {
        for count in [1, 3, 4, 7, 8, 9, 16, 17, 32] {
            for len in [1, 4, 5, 8, 13, 784] {
                let runs: Vec<Vec<u8>> = (0..count)
                    .map(|k| (0..len).map(|m| ((k * 37 + m * 11) % 256) as u8).collect())
                    .collect();
                let runs: Vec<&[u8]> = runs.iter().map(Vec::as_slice).collect();
                let to_ld = count + 2;
                let portable: Convert<T> = portable::<T>;
                for convert in [converter::<T>(), portable] {
                    let mut to = vec![T::from_subset(&f64::NAN); len * to_ld];
                    // SAFETY: the runs fit in `to`; the CPU has the
                    // conversion's features.
                    unsafe { convert(&runs, divisor, &mut to, to_ld) };
                    for m in 0..len {
                        for (k, run) in runs.iter().enumerate() {
                            let expected = T::of_f64(f64::from(run[m]) / divisor);
                            assert!(to[m * to_ld + k] == expected, "{count}×{len}: ({k}, {m})");
                        }
                        assert!(
                            to[m * to_ld + count].as_f64().is_nan(),
                            "{count}×{len}: gap written"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn bytes_are_converted_into_columns() {
        for divisor in [1.0, 255.0] {
            check_transpose_bytes::<f32>(divisor);
            check_transpose_bytes::<f64>(divisor);
        }
    }
}
