use staticnet::prelude::*;

network! {
    pub struct Net<Affine<dyn, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {}
