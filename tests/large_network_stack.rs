//! Fixed-size parameters live on the heap: a net with a 784 × 2048 layer
//! (6.4 MB of weights in f32, 12.8 MB in f64) builds and trains in a debug
//! build on a thread with the default 2 MiB stack.

use staticnet::prelude::*;

network! {
    struct WideNet<Affine<784, 2048>, Relu, Affine<2048, 10>, SoftmaxWithLoss>
}

fn train_on_small_stack<T: Scalar>() -> (T, T) {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let mut net = WideNet::<T>::new(&mut StdRng::seed_from_u64(1));
            let x = Batch::<T, Const<784>>::from_fn(4, |n, j| {
                T::of_f64(((n * 7 + j) % 13) as f64 / 13.0)
            });
            let t = vec![3, 1, 4, 1];
            let before = net.backprop(&x, &t);
            net.visit_params_mut(&mut |p| p.descend(T::of_f64(0.1)));
            let after = net.loss(&x, &t);
            (before, after)
        })
        .expect("a thread starts")
        .join()
        .expect("no stack overflow")
}

#[test]
fn wide_f32_net_trains_on_a_2_mib_stack() {
    let (before, after) = train_on_small_stack::<f32>();
    assert!(after < before, "loss {before} -> {after}");
}

#[test]
fn wide_f64_net_trains_on_a_2_mib_stack() {
    let (before, after) = train_on_small_stack::<f64>();
    assert!(after < before, "loss {before} -> {after}");
}
