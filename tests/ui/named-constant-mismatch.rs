use staticnet::prelude::*;

const HIDDEN: usize = 50;

network! {
    pub struct Net<Affine<784, HIDDEN>, Relu, Affine<60, 10>, SoftmaxWithLoss>
}

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut net = Net::<f32>::new(&mut rng);
    let x = Batch::<f32, Const<784>>::zeros(1);
    let _ = net.loss(&x, &[0]);
}
