//! The `try_` methods and checked constructors: runtime misuse is a
//! `Result` naming both numbers, never a panic.

use staticnet::prelude::*;
use staticnet::{TargetsError, batch_from_slice};

network! {
    pub struct Net<Affine<4, 3>, Relu, Affine<3, 3>, SoftmaxWithLoss>
}

#[test]
fn targets_that_do_not_fit_are_errors() {
    let mut net = Net::init(&mut StdRng::seed_from_u64(0), Init::He);
    let x = batch_from_slice::<f32, Const<4>>(&[0.5; 8]).unwrap();
    assert!(net.try_loss(&x, &[0, 2]).unwrap().is_finite());
    assert_eq!(
        net.try_loss(&x, &[0, 1, 2]),
        Err(TargetsError::Count {
            targets: 3,
            batch: 2
        })
    );
    let error = net.try_accuracy(&x, &[0, 3]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "sample 1 is labeled class 3, but the network scores 3 classes (0 to 2)"
    );
    let empty = batch_from_slice::<f32, Const<4>>(&[]).unwrap();
    assert_eq!(net.try_backprop(&empty, &[]), Err(TargetsError::EmptyBatch));
}

#[test]
fn a_slice_that_is_not_whole_samples_is_an_error() {
    let error = batch_from_slice::<f32, Const<4>>(&[0.0; 6]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "6 values are not a whole number of samples of 4 values"
    );
}
