// Freezing a network that holds a layer of the user's own with no
// inference form (`Freeze`): the network trains, but `freeze` names the
// layer.
use staticnet::prelude::*;
use staticnet::FreezeNetwork;

#[path = "support/layers.rs"]
mod layers;

network! {
    pub struct Net<Affine<784, 50>, layers::Scale, Affine<50, 10>, SoftmaxWithLoss>
}

fn main() {
    let net = Net::new(&mut StdRng::seed_from_u64(1));
    let _model = net.freeze();
}
