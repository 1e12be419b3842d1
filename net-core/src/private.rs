//! Items only the code `network!` generates uses. Not part of the API:
//! they may change in any release.

use crate::kernels::conv::Window;
use crate::{Image, ParamName};

pub use crate::network::accuracy_of;

/// Whether a square window of `size` pixels, moved by `stride` over `In`
/// padded by `pad`, fits: the check `network!` emits for a `Conv2d` or
/// `MaxPool2d` whose sizes it cannot compute.
pub const fn window_fits<In: Image>(size: usize, stride: usize, pad: usize) -> bool {
    Window::over::<In>(size, size, stride, pad).is_some()
}

/// How a network names what its layers visit: each layer's unnumbered
/// names (`W`, `b`) get one number, the layer's, one more than the highest
/// number any of those names had so far — so the book's names come out
/// (`W1`, `b1`, `gamma1`, `W2`, `b2`: the second layer with weights, the
/// first `BatchNorm`), and no two parameters share a name whatever names a
/// layer gives its own (`U1`, `V1`, `b1`, then an `Affine`'s `W2`, `b2`).
/// Names a layer numbered itself (a network used as a layer) go behind the
/// layer's field: `block1.W1`.
pub struct Names {
    /// The highest number each name has had so far.
    counts: [(&'static str, usize); Names::KINDS],
    len: usize,
}

impl Names {
    /// Names numbered apart; more than that are left unnumbered.
    const KINDS: usize = 32;

    /// No layer named yet.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Names {
            counts: [("", 0); Names::KINDS],
            len: 0,
        }
    }

    /// The names of the next layer, the field `field`; `names` calls its
    /// argument on each name the layer will give, so that the layer's
    /// number is known before the first.
    pub fn layer(
        &mut self,
        field: &'static str,
        names: &dyn Fn(&mut NameSink<'_>),
    ) -> LayerNames<'_> {
        let mut highest = 0;
        names(&mut |name| {
            if name.is_unnumbered() {
                highest = highest.max(self.count(name.base));
            }
        });
        LayerNames {
            names: self,
            field,
            number: highest + 1,
        }
    }

    /// The highest number `base` has had so far (0 for none).
    fn count(&self, base: &str) -> usize {
        self.counts[..self.len]
            .iter()
            .find(|(b, _)| *b == base)
            .map_or(0, |&(_, count)| count)
    }

    /// Records that `base` has had `number`; `false` when there is no room
    /// left to record it.
    fn record(&mut self, base: &'static str, number: usize) -> bool {
        if let Some((_, count)) = self.counts[..self.len].iter_mut().find(|(b, _)| *b == base) {
            *count = number;
            return true;
        }
        if self.len == Names::KINDS {
            return false;
        }
        self.counts[self.len] = (base, number);
        self.len += 1;
        true
    }
}

/// What receives a layer's names, one by one.
pub type NameSink<'a> = dyn FnMut(ParamName) + 'a;

/// The names of one layer's parameters or buffers: see [`Names`].
pub struct LayerNames<'a> {
    names: &'a mut Names,
    field: &'static str,
    number: usize,
}

impl LayerNames<'_> {
    /// The name `name`, as the layer gave it, in the network.
    pub fn name(&mut self, mut name: ParamName) -> ParamName {
        if name.is_unnumbered() {
            if self.names.record(name.base, self.number) {
                name.index = self.number;
            }
        } else {
            name.scope = name.scope.within(self.field);
        }
        name
    }
}

pub use crate::widths::{
    RuntimeWidth, WidthSide, check_widths, name_width_error, widths_from_shapes,
};

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
