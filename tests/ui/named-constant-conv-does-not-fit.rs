// With a named filter size the macro cannot check the geometry; the
// compiler does, at the layer.
use staticnet::prelude::*;

const FILTER: usize = 29;

network! {
    pub struct Net<Input<1, 28, 28>, Conv2d<30, FILTER>, Relu, Flatten, Affine<30, 10>, SoftmaxWithLoss>
}

fn main() {}
