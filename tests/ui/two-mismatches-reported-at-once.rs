use staticnet::prelude::*;

network! {
    /// Two mistakes, both reported by one compile.
    pub struct Net<
        Affine<784, 100>,
        Relu,
        Affine<50, 20>,
        Sigmoid,
        Affine<25, 10>,
        SoftmaxWithLoss,
    >
}

fn main() {}
