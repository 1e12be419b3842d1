use staticnet::prelude::*;

// A `dyn` beside a compiled-in width takes that width, so the sizes after
// it are still checked by the compiler.
network! {
    pub struct Net<Affine<784, 50>, Relu, Affine<dyn, 30>, Relu, Affine<40, 10>, SoftmaxWithLoss>
}

fn main() {}
