use nalgebra::{Const, Dyn, OMatrix};

use super::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::{Affine, BatchNorm, Dropout, HeapMatrix, Init, Layer, Relu};

type Rows<const N: usize> = OMatrix<f64, Dyn, Const<N>>;

/// The chapter's Affine example, `W = [[1, 2, 3], [4, 5, 6]]`, `b = [10,
/// 20, 30]`, with a bias that makes one output negative.
fn affine() -> Affine<f64, 2, 3> {
    let w = HeapMatrix::from_fn(|i, j| (3 * i + j + 1) as f64);
    let b = HeapMatrix::from_fn(|_, j| [10.0, -100.0, 30.0][j]);
    Affine::from_params(w, b)
}

#[test]
fn a_relu_after_an_affine_is_folded_into_it_and_gives_the_same_bits() {
    let mut trained = (affine(), Relu::<f64, Const<3>>::new());
    let x = Rows::<2>::from_row_slice(&[1.0, 2.0, 3.0, 4.0, -5.0, 0.5]);
    let expected = {
        let h = trained.0.forward(&x).clone();
        trained.1.forward(&h).clone()
    };
    let mut chain = Then::new(trained.0.freeze(), trained.1.freeze());
    FoldList::fold(&mut chain);
    assert!(
        Infer::<f64>::pointwise(&chain.rest).is_none(),
        "the ReLU was folded"
    );
    let mut scratch = Default::default();
    assert_eq!(chain.infer(&x, &mut scratch), &expected);
    // x·W + b = [19, -88, 45], [29, -74, 63], [7, -107.5, 18]: masked.
    assert_eq!(
        expected.row(0).iter().copied().collect::<Vec<_>>(),
        [19.0, 0.0, 45.0]
    );
}

#[test]
fn batch_norm_and_dropout_fold_into_the_affine_before_them() {
    let mut norm = BatchNorm::<f64, Const<3>>::new();
    // Running statistics of a few training batches, so that mean and var
    // are not the initial 0 and 1 (well, 0 and 0).
    let batches = [
        Rows::<3>::from_row_slice(&[1.0, 2.0, 3.0, -1.0, 0.5, 4.0]),
        Rows::<3>::from_row_slice(&[2.0, -2.0, 1.0, 0.0, 1.5, -4.0]),
    ];
    for batch in &batches {
        norm.forward(batch);
    }
    norm.set_training(false);
    let mut dropout = Dropout::<f64, Const<3>>::new(7).with_ratio(0.25);
    dropout.set_training(false);
    let mut trained = (affine(), norm, Relu::<f64, Const<3>>::new(), dropout);
    let x = Rows::<2>::from_row_slice(&[1.0, 2.0, 3.0, 4.0, -5.0, 0.5, 0.25, -0.75]);
    let expected = {
        let h = trained.0.forward(&x).clone();
        let h = trained.1.forward(&h).clone();
        let h = trained.2.forward(&h).clone();
        trained.3.forward(&h).clone()
    };
    let mut chain = Then::new(
        trained.0.freeze(),
        Then::new(
            trained.1.freeze(),
            Then::new(trained.2.freeze(), trained.3.freeze()),
        ),
    );
    FoldList::fold(&mut chain);
    let rest = &chain.rest;
    assert!(
        Infer::<f64>::pointwise(&rest.first).is_none(),
        "batch norm folded"
    );
    assert!(
        Infer::<f64>::pointwise(&rest.rest.first).is_none(),
        "ReLU folded"
    );
    assert!(
        Infer::<f64>::pointwise(&rest.rest.rest).is_none(),
        "dropout folded"
    );
    let mut scratch = Default::default();
    let y = chain.infer(&x, &mut scratch);
    for (a, b) in y.iter().zip(expected.iter()) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn a_shift_after_a_folded_relu_is_not_folded() {
    let map = Pointwise::ScaleShift {
        scale: vec![2.0],
        shift: vec![1.0],
    };
    assert!(!map.commutes_with_relu());
    let mut frozen = affine().freeze();
    assert!(frozen.absorb(&Pointwise::Relu));
    assert!(!frozen.absorb(&map), "relu(z)·2 + 1 is not relu(2z + 1)");
    let half = Pointwise::ScaleShift {
        scale: vec![0.5],
        shift: vec![0.0],
    };
    assert!(frozen.absorb(&half));
    let wrong_length = Pointwise::ScaleShift {
        scale: vec![1.0, 2.0],
        shift: vec![0.0],
    };
    assert!(!wrong_length.fits(3));
}

#[test]
fn a_batch_of_one_is_the_same_as_a_row_of_a_batch() {
    let mut trained =
        <Affine<f64, 2, 3> as Layer<f64>>::init(&mut StdRng::seed_from_u64(5), Init::He);
    let frozen = trained.freeze();
    let x = Rows::<2>::from_row_slice(&[0.3, -1.2]);
    let expected = trained.forward(&x).clone();
    let mut scratch = Default::default();
    let y = frozen.infer(&x, &mut scratch);
    for (a, b) in y.iter().zip(expected.iter()) {
        assert!((a - b).abs() <= 1e-15, "{a} vs {b}");
    }
}
