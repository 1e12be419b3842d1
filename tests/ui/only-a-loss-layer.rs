use staticnet::prelude::*;

network! {
    pub struct Net<SoftmaxWithLoss>
}

fn main() {}
