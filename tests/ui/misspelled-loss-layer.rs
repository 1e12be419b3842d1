// `Softmax` is a layer (probabilities for inference), not a loss: the
// network has no loss layer, and training it says so.
use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, Relu, Affine<50, 10>, Softmax>
}

fn main() {
    let _net = Net::<f32>::new(&mut StdRng::seed_from_u64(0));
}
