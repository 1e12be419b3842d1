// Each mistake gets exactly one error, all in the same compile.
use staticnet::prelude::*;

network! {
    pub struct Net<
        Affine<784, 50>,
        Relu<50>,
        Affine<60, 10>,
        Conv2D,
        Affine<10, 0>,
        SoftmaxWithLoss,
    >
}

fn main() {}
