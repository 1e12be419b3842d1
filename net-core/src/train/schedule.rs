//! Learning-rate schedules: the rate of each step, as a factor of the
//! optimizer's base rate.

use core::f64::consts::PI;

/// How the learning rate changes over a run: an optional linear warm-up,
/// then a decay. Each step's rate is the base rate times
/// [`factor`](Schedule::factor).
///
/// ```
/// use net_core::train::Schedule;
///
/// // Cosine from the base rate down to 0 over 1000 steps, after 100 steps
/// // of warm-up.
/// let schedule = Schedule::cosine().with_warmup(100);
/// assert_eq!(schedule.factor(0, 1000, 100), 0.01);
/// assert_eq!(schedule.factor(100, 1000, 100), 1.0);
/// assert!(schedule.factor(999, 1000, 100) < 1e-4);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Schedule {
    /// Steps over which the rate climbs linearly to the base rate, from
    /// `1/warmup` of it.
    pub warmup: usize,
    /// What happens after the warm-up.
    pub decay: Decay,
}

/// The decay of a [`Schedule`] after its warm-up.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub enum Decay {
    /// The base rate throughout.
    #[default]
    Constant,
    /// The rate is multiplied by `factor` every `epochs` epochs (Keras'
    /// and PyTorch's `StepLR`).
    Step {
        /// Epochs between two decays.
        epochs: usize,
        /// The factor of each decay, such as 0.1.
        factor: f64,
    },
    /// Half a cosine from the base rate down to `floor` times it, over the
    /// steps after the warm-up (PyTorch's `CosineAnnealingLR`).
    Cosine {
        /// The final factor, such as 0.
        floor: f64,
    },
}

impl Schedule {
    /// The base rate throughout.
    pub const fn constant() -> Self {
        Schedule {
            warmup: 0,
            decay: Decay::Constant,
        }
    }

    /// Half a cosine from the base rate down to zero over the run.
    pub const fn cosine() -> Self {
        Schedule {
            warmup: 0,
            decay: Decay::Cosine { floor: 0.0 },
        }
    }

    /// The rate times `factor` every `epochs` epochs.
    pub const fn step_decay(epochs: usize, factor: f64) -> Self {
        Schedule {
            warmup: 0,
            decay: Decay::Step { epochs, factor },
        }
    }

    /// The same schedule after `steps` steps of linear warm-up.
    pub const fn with_warmup(mut self, steps: usize) -> Self {
        self.warmup = steps;
        self
    }

    /// The factor of the base rate at `step` (from 0) of a run of `total`
    /// steps with `per_epoch` steps an epoch.
    pub fn factor(&self, step: usize, total: usize, per_epoch: usize) -> f64 {
        if step < self.warmup {
            return (step + 1) as f64 / self.warmup as f64;
        }
        match self.decay {
            Decay::Constant => 1.0,
            Decay::Step { epochs, factor } => {
                let decays = step / per_epoch.max(1) / epochs.max(1);
                factor.powi(i32::try_from(decays).unwrap_or(i32::MAX))
            }
            Decay::Cosine { floor } => {
                let span = total.saturating_sub(self.warmup).max(1);
                let progress = ((step - self.warmup) as f64 / span as f64).min(1.0);
                floor + (1.0 - floor) * 0.5 * (1.0 + (PI * progress).cos())
            }
        }
    }

    /// Checks the settings: a step decay needs at least one epoch between
    /// decays and a positive finite factor, a cosine a finite floor in
    /// `[0, 1]`.
    pub fn validate(&self) -> Result<(), String> {
        match self.decay {
            Decay::Step { epochs: 0, .. } => {
                Err("a step decay needs at least 1 epoch between decays".into())
            }
            Decay::Step { factor, .. } if !(factor > 0.0 && factor.is_finite()) => Err(format!(
                "a step decay's factor must be a positive number, not {factor}"
            )),
            Decay::Cosine { floor } if !(0.0..=1.0).contains(&floor) => Err(format!(
                "a cosine schedule's floor must be between 0 and 1, not {floor}"
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_decay_divides_every_few_epochs() {
        // 10 steps an epoch, ×0.5 every 2 epochs.
        let schedule = Schedule::step_decay(2, 0.5);
        assert_eq!(schedule.factor(0, 100, 10), 1.0);
        assert_eq!(schedule.factor(19, 100, 10), 1.0);
        assert_eq!(schedule.factor(20, 100, 10), 0.5);
        assert_eq!(schedule.factor(45, 100, 10), 0.25);
    }

    #[test]
    fn cosine_runs_from_one_to_the_floor() {
        let schedule = Schedule {
            warmup: 0,
            decay: Decay::Cosine { floor: 0.1 },
        };
        assert_eq!(schedule.factor(0, 100, 10), 1.0);
        assert!((schedule.factor(50, 100, 10) - 0.55).abs() < 1e-12);
        assert!((schedule.factor(100, 100, 10) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn warmup_climbs_linearly() {
        let schedule = Schedule::constant().with_warmup(4);
        let factors: Vec<f64> = (0..6).map(|s| schedule.factor(s, 100, 10)).collect();
        assert_eq!(factors, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(Schedule::step_decay(0, 0.5).validate().is_err());
        assert!(Schedule::step_decay(1, -0.5).validate().is_err());
        assert!(Schedule::cosine().validate().is_ok());
    }
}
