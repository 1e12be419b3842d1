use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, dyn>, Relu, Affine<dyn, 10>, SoftmaxWithLoss>
}

fn main() {
    // A network with a width chosen at run time is built with its widths.
    let _net = Net::new(&mut StdRng::seed_from_u64(0));
}
