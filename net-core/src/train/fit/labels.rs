//! The data's targets checked against the network before a run's first
//! step: a label that is not one of its classes is an error naming the
//! sample, not a panic in the middle of the run.

use super::error::FitError;
use super::evaluation::EVAL_CHUNK;
use crate::data::Samples;
use crate::network::Network;
use crate::scalar::Scalar;
use crate::shape::{Batch, BatchStorage};
use crate::targets::Targets;
use crate::train::samples::TargetBatch;
use crate::train::trainer::{TrainError, in_data};

/// Checks every target of `data` (`"training"` or `"validation"`, for the
/// error) against `N`'s outputs, a chunk at a time. Targets that are rows
/// of values fit whatever they hold, so only the first chunk is gathered
/// for them.
///
/// # Errors
/// [`FitError::Targets`] for the first sample that does not fit; a chunk
/// that cannot be gathered, as the run would report it.
pub(super) fn check_targets<T, N, D>(data: &D, name: &'static str) -> Result<(), FitError>
where
    T: Scalar,
    N: Network<T>,
    D: Samples<T, N::In>,
    D::Targets: TargetBatch<T, N::Out>,
{
    let len = data.len();
    let mut x: Batch<T, N::In> = BatchStorage::zeros(EVAL_CHUNK.min(len));
    let mut targets = D::Targets::default();
    let mut indices = Vec::with_capacity(EVAL_CHUNK.min(len));
    let mut start = 0;
    while start < len {
        let end = start.saturating_add(EVAL_CHUNK).min(len);
        indices.clear();
        indices.extend(start..end);
        x.set_batch_size(end - start);
        data.gather(&indices, &mut x, &mut targets)
            .map_err(|error| match name {
                "training" => FitError::Train(TrainError::Batch(error)),
                _ => FitError::Evaluation(error),
            })?;
        let batch: Targets<'_, T, N::Out> = targets.targets();
        batch
            .check(end - start)
            .map_err(|error| FitError::Targets {
                data: name,
                source: in_data(error, &indices),
            })?;
        if let Targets::Dense(_) = batch {
            break;
        }
        start = end;
    }
    Ok(())
}
