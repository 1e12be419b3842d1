// Output sizes round down, as in the book and PyTorch: 2×2 windows at
// stride 2 over 7×7 pixels give 3×3, and the message names them.
use staticnet::prelude::*;

network! {
    pub struct Net<Input<64, 7, 7>, MaxPool2d<2, stride = 2>, Flatten, Affine<1024, 10>, SoftmaxWithLoss>
}

fn main() {}
