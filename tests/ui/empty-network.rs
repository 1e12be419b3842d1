use staticnet::prelude::*;

network! {
    pub struct Net<>
}

fn main() {}
