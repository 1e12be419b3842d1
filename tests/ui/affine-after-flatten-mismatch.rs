// The book's SimpleConvNet with the wrong input size for its first Affine:
// the macro computes what `Flatten` outputs, 30×12×12 = 4320.
use staticnet::prelude::*;

network! {
    pub struct SimpleConvNet<
        Input<1, 28, 28>,
        Conv2d<30, 5>,
        Relu,
        MaxPool2d<2, stride = 2>,
        Flatten,
        Affine<4000, 100>,
        Relu,
        Affine<100, 10>,
        SoftmaxWithLoss,
    >
}

fn main() {}
