// `Residual` wraps one layer; several are declared as a network first.
use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, Residual<Affine<50, 50>, Relu>, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
