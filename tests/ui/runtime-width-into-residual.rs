use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, dyn>, Residual<Affine<dyn, dyn>>, Affine<dyn, 10>, SoftmaxWithLoss>
}

fn main() {}
