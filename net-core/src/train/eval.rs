//! Measuring a network on a whole set of samples, a chunk at a time.

use super::TargetBatch;
use crate::data::BatchError;
use crate::data::Samples;
use crate::{Batch, BatchStorage, Network, Scalar, Shape};

/// The accuracy of `net` on all of `data`, in chunks of `chunk` samples
/// (0 for no samples).
pub fn evaluate<T, S, N, D>(net: &mut N, data: &D, chunk: usize) -> Result<f64, BatchError>
where
    T: Scalar,
    S: Shape,
    N: Network<T, In = S>,
    D: Samples<T, S>,
    D::Targets: TargetBatch<T, N::Out>,
{
    let [accuracy] = mean_over_chunks(data, chunk, |x, t| [net.accuracy(x, t.targets())])?;
    Ok(accuracy)
}

/// The mean loss of `net` on all of `data`, in chunks of `chunk` samples
/// (0 for no samples).
pub fn mean_loss<T, S, N, D>(net: &mut N, data: &D, chunk: usize) -> Result<f64, BatchError>
where
    T: Scalar,
    S: Shape,
    N: Network<T, In = S>,
    D: Samples<T, S>,
    D::Targets: TargetBatch<T, N::Out>,
{
    let [loss] = mean_over_chunks(data, chunk, |x, t| [net.loss(x, t.targets()).as_f64()])?;
    Ok(loss)
}

/// The mean loss and the accuracy of `net` on all of `data`, in chunks of
/// `chunk` samples, from one forward pass per chunk (0 and 0 for no
/// samples).
pub fn loss_and_accuracy<T, S, N, D>(
    net: &mut N,
    data: &D,
    chunk: usize,
) -> Result<(f64, f64), BatchError>
where
    T: Scalar,
    S: Shape,
    N: Network<T, In = S>,
    D: Samples<T, S>,
    D::Targets: TargetBatch<T, N::Out>,
{
    let [loss, accuracy] = mean_over_chunks(data, chunk, |x, t| {
        let (loss, accuracy) = net.loss_and_accuracy(x, t.targets());
        [loss.as_f64(), accuracy]
    })?;
    Ok((loss, accuracy))
}

/// The means of `per_chunk` (`K` per-sample means over one chunk) over all
/// of `data`, each chunk weighted by its size.
fn mean_over_chunks<T, S, D, const K: usize>(
    data: &D,
    chunk: usize,
    mut per_chunk: impl FnMut(&Batch<T, S>, &D::Targets) -> [f64; K],
) -> Result<[f64; K], BatchError>
where
    T: Scalar,
    S: Shape,
    D: Samples<T, S>,
{
    let len = data.len();
    let chunk = chunk.max(1);
    let mut x: Batch<T, S> = BatchStorage::zeros(chunk.min(len));
    let mut targets = D::Targets::default();
    let mut indices = Vec::with_capacity(chunk);
    let mut totals = [0.0; K];
    let mut start = 0;
    while start < len {
        let end = (start + chunk).min(len);
        indices.clear();
        indices.extend(start..end);
        x.set_batch_size(end - start);
        data.gather(&indices, &mut x, &mut targets)?;
        for (total, mean) in totals.iter_mut().zip(per_chunk(&x, &targets)) {
            *total += mean * (end - start) as f64;
        }
        start = end;
    }
    Ok(totals.map(|total| if len == 0 { 0.0 } else { total / len as f64 }))
}
