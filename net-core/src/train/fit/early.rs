//! Early stopping: its settings, and its watch over the validation loss
//! during a run.

use super::records::{EpochRecord, Stopped};

/// When a run stops before its end: after `patience` evaluations in a row
/// whose validation loss is not below the best by more than `min_delta`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    /// Evaluations without improvement before stopping.
    pub patience: usize,
    /// The least decrease of the validation loss that counts.
    pub min_delta: f64,
    /// Whether the network gets back the weights of its best evaluation.
    pub restore_best: bool,
}

impl EarlyStopping {
    /// Stops after `patience` evaluations without improvement and restores
    /// the best weights.
    pub fn after(patience: usize) -> Self {
        EarlyStopping {
            patience,
            min_delta: 0.0,
            restore_best: true,
        }
    }
}

/// Early stopping's watch over the validation loss: the best evaluation so
/// far, its network, and how many evaluations have not improved on it.
pub(super) struct EarlyWatch<N> {
    settings: Option<EarlyStopping>,
    best: Option<(f64, usize, Option<N>)>,
    stale: usize,
}

impl<N> EarlyWatch<N> {
    /// A watch by `settings`; without them, one that never stops the run.
    pub(super) fn new(settings: Option<EarlyStopping>) -> Self {
        EarlyWatch {
            settings,
            best: None,
            stale: 0,
        }
    }

    /// Takes in an evaluation of the network `evaluated`.
    pub(super) fn see(&mut self, record: &EpochRecord, evaluated: N) {
        let (Some(settings), Some(loss)) = (self.settings, record.val_loss) else {
            return;
        };
        let improved = match &self.best {
            Some((best, ..)) => loss < best - settings.min_delta,
            None => true,
        };
        if improved {
            let kept = settings.restore_best.then_some(evaluated);
            self.best = Some((loss, record.epoch, kept));
            self.stale = 0;
        } else {
            self.stale += 1;
        }
    }

    /// The stop, with the best epoch, once `patience` evaluations in a row
    /// have not improved on it.
    pub(super) fn exhausted(&self) -> Option<Stopped> {
        let settings = self.settings?;
        let (_, best_epoch, _) = self.best.as_ref()?;
        (self.stale >= settings.patience.max(1)).then_some(Stopped::EarlyStopping {
            best_epoch: *best_epoch,
        })
    }

    /// The best network, kept when the settings say to restore it.
    pub(super) fn take_best(&mut self) -> Option<N> {
        self.best.take().and_then(|(_, _, net)| net)
    }
}
