use staticnet::prelude::*;

network! {
    pub struct Block<Affine<784, dyn>, Relu, Affine<dyn, 10>>
}

fn main() {}
