//! How a layer's weights are drawn: the initializations of the book's
//! chapter 6, and what a layer says about the layer before it.

/// How a layer's weights are drawn when the network is built; biases
/// start at zero.
///
/// The book's chapter 6 compares a fixed standard deviation with Xavier's
/// and He's, which scale with the number of inputs `n` of the layer so
/// that the activations keep their spread from layer to layer: Xavier's
/// `√(1/n)` suits sigmoid (and tanh), He's `√(2/n)` suits ReLU, which
/// zeroes half its inputs.
///
/// Each layer can be drawn its own way after the network is built, since
/// the layers are public fields:
///
/// ```
/// use net_core::{Affine, Init, Layer};
/// # let mut rng = <net_core::rand::rngs::StdRng as net_core::rand::SeedableRng>::seed_from_u64(0);
/// let affine = Affine::<f32, 784, 100>::init(&mut rng, Init::He);
/// # assert_eq!(affine.w.as_slice().len(), 78_400);
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Each weight from `N(0, std²)`. The book's `weight_init_std`.
    Normal {
        /// The standard deviation.
        std: f64,
    },
    /// Xavier (Glorot): each weight from `N(0, 1/n)` for `n` inputs.
    Xavier,
    /// He: each weight from `N(0, 2/n)` for `n` inputs.
    He,
    /// He for a layer followed by ReLU, Xavier otherwise: `network!` asks
    /// the layers after each layer ([`Layer::INIT_BEFORE`](crate::Layer::INIT_BEFORE), past those that
    /// leave it to the next, such as dropout) and
    /// [resolves](Init::resolve_auto) `Auto` for it.
    /// A layer built on its own, with nothing known about what follows,
    /// takes Xavier.
    Auto,
}

impl Init {
    /// The book's choice for the two-layer net: `0.01 · N(0, 1)`.
    pub const BOOK: Init = Init::Normal { std: 0.01 };

    /// What this choice means for a layer for which [`Init::Auto`] means
    /// `auto`: `auto` for `Auto`, every other choice as it is. `network!`
    /// passes what the layers after it say ([`InitBefore::resolve`]).
    pub fn resolve_auto(self, auto: Init) -> Init {
        match self {
            Init::Auto => auto,
            init => init,
        }
    }

    /// The standard deviation of the weights of a layer with `fan_in`
    /// inputs.
    pub fn std(self, fan_in: usize) -> f64 {
        let n = fan_in.max(1) as f64;
        match self {
            Init::Normal { std } => std,
            Init::Xavier | Init::Auto => (1.0 / n).sqrt(),
            Init::He => (2.0 / n).sqrt(),
        }
    }
}

impl Default for Init {
    fn default() -> Self {
        Init::BOOK
    }
}

/// What [`Init::Auto`] means for the layer before a layer: see
/// [`Layer::INIT_BEFORE`](crate::Layer::INIT_BEFORE).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InitBefore {
    /// The layer before is drawn this way: He before a ReLU, Xavier before
    /// a sigmoid or tanh.
    Is(Init),
    /// This layer leaves the choice to the layers after it (dropout, batch
    /// normalization): look past it.
    LookPast,
    /// Nothing to say: the layer before takes Xavier.
    Unknown,
}

impl InitBefore {
    /// What `Init::Auto` means for a layer followed by layers that say
    /// `after`, in order: the first that says something, looking past
    /// those that leave it to the next; Xavier when none does.
    pub const fn resolve(after: &[InitBefore]) -> Init {
        let mut k = 0;
        while k < after.len() {
            match after[k] {
                InitBefore::Is(init) => return init,
                InitBefore::LookPast => k += 1,
                InitBefore::Unknown => break,
            }
        }
        Init::Xavier
    }
}
