// `Residual` adds its input to its inner layer's output: the layer must
// keep the shape.
use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, Residual<Affine<50, 60>>, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
