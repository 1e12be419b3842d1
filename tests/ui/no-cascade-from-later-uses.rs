// The declaration has a mistake; the code that uses the network must not
// add errors of its own.
use staticnet::prelude::*;

network! {
    pub struct Net<Affine<784, 50>, Relu, Affine<60, 10>, SoftmaxWithLoss>
}

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut net = Net::<f32>::new(&mut rng);
    let x = Batch::<f32, Const<784>>::zeros(2);
    let t = vec![1, 2];
    let loss: f32 = net.loss(&x, &t);
    let grads = net.gradient(&x, &t);
    let accuracy: f64 = net.accuracy(&x, &t);
    net.visit_params_mut(&mut |p| p.descend(0.1));
    let _ = (loss, grads, accuracy, Net::<f64>::LAYERS, net.clone());
}
