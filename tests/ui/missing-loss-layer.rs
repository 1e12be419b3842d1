// Without a loss layer, a network is a layer of other networks, not one
// that trains: using it as one says so.
use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, Relu, Affine<50, 10>>
}

fn main() {
    let _net = Net::<f32>::new(&mut StdRng::seed_from_u64(0));
}
