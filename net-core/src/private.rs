//! Items only the code `network!` generates uses. Not part of the API:
//! they may change in any release.

use crate::image::Window;
use crate::{Image, ParamName};

pub use crate::network::accuracy_of;

/// Whether a square window of `size` pixels, moved by `stride` over `In`
/// padded by `pad`, fits: the check `network!` emits for a `Conv2d` or
/// `MaxPool2d` whose sizes it cannot compute.
pub const fn window_fits<In: Image>(size: usize, stride: usize, pad: usize) -> bool {
    Window::over::<In>(size, size, stride, pad).is_some()
}

/// How a network names what its layers visit: each layer's unnumbered
/// names (`W`, `b`) get the layer's number among the layers whose first
/// name is the same (`W2` for the second layer with weights, `gamma1` for
/// the first `BatchNorm`); names a layer numbered itself (a network used as
/// a layer) go behind the layer's field: `block1.W1`.
pub struct Names {
    /// How many layers so far had each first name.
    counts: [(&'static str, usize); Names::KINDS],
    len: usize,
}

impl Names {
    /// Kinds of layers numbered apart; more than that are left unnumbered.
    const KINDS: usize = 32;

    /// No layer named yet.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Names {
            counts: [("", 0); Names::KINDS],
            len: 0,
        }
    }

    /// The names of the next layer, the field `field`.
    pub fn layer(&mut self, field: &'static str) -> LayerNames<'_> {
        LayerNames {
            names: self,
            field,
            number: None,
        }
    }

    /// The number of the next layer whose first name is `base`.
    fn next(&mut self, base: &'static str) -> usize {
        if let Some((_, count)) = self.counts[..self.len].iter_mut().find(|(b, _)| *b == base) {
            *count += 1;
            return *count;
        }
        if self.len == Names::KINDS {
            return 0;
        }
        self.counts[self.len] = (base, 1);
        self.len += 1;
        1
    }
}

/// The names of one layer's parameters or buffers: see [`Names`].
pub struct LayerNames<'a> {
    names: &'a mut Names,
    field: &'static str,
    number: Option<usize>,
}

impl LayerNames<'_> {
    /// The name `name`, as the layer gave it, in the network.
    pub fn name(&mut self, mut name: ParamName) -> ParamName {
        if name.is_unnumbered() {
            let names = &mut *self.names;
            name.index = *self.number.get_or_insert_with(|| names.next(name.base));
        } else {
            name.scope = name.scope.within(self.field);
        }
        name
    }
}

pub use crate::widths::{RuntimeWidth, WidthSide, check_widths, widths_from_shapes};

/// A bound no type meets: `new` and `init` of a network with widths chosen
/// at run time require it, so that calling them says how such a network
/// is built (`R`, the caller's generic, keeps the bound from being checked
/// where it is written).
#[diagnostic::on_unimplemented(
    message = "`{Self}` leaves widths to run time, so it has no `new` or `init`",
    label = "built with its widths",
    note = "build it with `with_widths(&mut rng, Init::Auto, [widths…])`, or from a weight file with `from_weights(path)`"
)]
pub trait FixedWidths<R: ?Sized> {}
