//! The forms a declaration may take: docs, attributes, visibility, one
//! layer per line, a trailing comma, deep stacks, `f32` and `f64`.
#![deny(missing_docs)]

use staticnet::prelude::*;

network! {
    /// A deep net: ten layers before the loss, mixing every kind.
    ///
    /// Documented on several lines.
    #[derive(Clone)]
    #[allow(clippy::all)]
    pub(crate) struct Deep<
        Affine<8, 16>,
        Relu,
        Affine<16, 16>,
        Sigmoid,
        Affine<16, 12>,
        Relu,
        Affine<12, 12>,
        Sigmoid,
        Relu,
        Affine<12, 4>,
        SoftmaxWithLoss,
    >
}

mod inner {
    use staticnet::network;

    network! {
        /// Private to its module, on one line.
        struct Private<Affine<2, 3>, Sigmoid, Affine<3, 2>, IdentityWithSquaredLoss>
    }

    network! {
        /// Visible to the parent only.
        pub(super) struct Tiny<Affine<2, 2>, SoftmaxWithLoss,>
    }

    pub fn private_layers() -> &'static [&'static str] {
        Private::<f32>::LAYERS
    }
}

#[test]
fn a_deep_net_numbers_each_kind_separately() {
    let mut rng = StdRng::seed_from_u64(0);
    let net = Deep::<f64>::new(&mut rng);
    let mut names = Vec::new();
    net.visit_params(&mut |p| names.push(p.name.to_string()));
    assert_eq!(
        names,
        ["W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4", "W5", "b5"]
    );
    assert_eq!(Deep::<f64>::LAYERS.len(), 11);
    // The fields are named by kind and number.
    let Deep {
        affine1: _,
        relu1: _,
        affine2: _,
        sigmoid1: _,
        affine3: _,
        relu2: _,
        affine4: _,
        sigmoid2: _,
        relu3: _,
        affine5: _,
        loss: _,
    } = net;
}

#[test]
fn a_deep_net_trains_in_f32_and_f64() {
    fn train<T: Scalar>() -> (T, T) {
        let mut rng = StdRng::seed_from_u64(1);
        let mut net = Deep::<T>::init(&mut rng, Init::Normal { std: 0.5 });
        let mut x = Batch::<T, Const<8>>::zeros(8);
        for (k, v) in x.as_mut_slice().iter_mut().enumerate() {
            *v = T::of_f64(((k * 37) % 11) as f64 / 11.0 - 0.5);
        }
        let t: Vec<usize> = (0..8).map(|n| n % 4).collect();
        let before = net.loss(&x, &t);
        for _ in 0..200 {
            net.backprop(&x, &t);
            net.visit_params_mut(&mut |p| p.descend(T::of_f64(0.5)));
        }
        (before, net.loss(&x, &t))
    }
    let (before, after) = train::<f32>();
    assert!(after < before, "f32: {before} → {after}");
    let (before, after) = train::<f64>();
    assert!(after < before, "f64: {before} → {after}");
}

#[test]
fn visibility_docs_and_user_derives_are_kept() {
    assert_eq!(
        inner::private_layers(),
        [
            "Affine<2, 3>",
            "Sigmoid",
            "Affine<3, 2>",
            "IdentityWithSquaredLoss"
        ]
    );
    let mut rng = StdRng::seed_from_u64(2);
    let mut tiny = inner::Tiny::<f32>::new(&mut rng);
    let x = Batch::<f32, Const<2>>::zeros(1);
    assert!((tiny.loss(&x, &[1]) - 2f32.ln()).abs() < 1e-6);
    let copy = tiny.clone();
    assert_eq!(format!("{copy:?}").split_whitespace().next(), Some("Tiny"));
}
