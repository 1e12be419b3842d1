// With named constants the macro cannot compute what `Flatten` outputs;
// the compiler does, and rejects the `Affine` after it.
use staticnet::prelude::*;

const FILTERS: usize = 30;
const SIDE: usize = 28;

network! {
    pub struct Net<
        Input<1, SIDE, SIDE>,
        Conv2d<FILTERS, 5>,
        Relu,
        MaxPool2d<2, stride = 2>,
        Flatten,
        Affine<4000, 10>,
        SoftmaxWithLoss,
    >
}

fn main() {}
