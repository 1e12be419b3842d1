//! What a training run refuses before its first step: labels the network
//! does not score, and a run of no length. Each is an error, never a
//! panic in the middle of the run.

use staticnet::TargetsError;
use staticnet::prelude::*;
use staticnet::train::{Fit, FitError, InMemory, Labels};

network! {
    /// A two-class classifier of points in the plane.
    pub struct Classifier<Affine<2, 8>, Relu, Affine<8, 2>, SoftmaxWithLoss>
}

/// `n` points labeled 0 or 1, but sample `bad` labeled `label` (the data
/// holds 5 classes, the network scores 2).
fn points(n: usize, bad: usize, label: usize) -> InMemory<f32, Const<2>, Labels> {
    let values: Vec<f32> = (0..2 * n).map(|i| (i as f32 * 0.37).sin()).collect();
    let mut labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
    labels[bad] = label;
    InMemory::with_labels(values, labels, 5).expect("labels below 5")
}

fn net() -> Classifier<f32> {
    Classifier::<f32>::init(&mut StdRng::seed_from_u64(0), Init::He)
}

#[test]
fn fit_with_labels_beyond_the_classes_is_an_error() {
    let (bad, good) = (points(1200, 777, 4), points(1200, 0, 0));
    let mut net = net();
    let before = net.clone();
    let error = Fit::new(Optimizer::sgd(0.1))
        .progress(false)
        .run(&mut net, &bad)
        .expect_err("label 4 of 2 classes");
    let expected = TargetsError::ClassOutOfRange {
        sample: 777,
        class: 4,
        classes: 2,
    };
    assert!(
        matches!(&error, FitError::Targets { data: "training", source } if *source == expected),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the training data does not fit the network: sample 777 is labeled class 4, but the \
         network scores 2 classes (0 to 1)"
    );
    // Refused before the first step: the network is untouched.
    let x = Batch::<f32, Const<2>>::from_row_slice(&[0.5, -0.25]);
    assert_eq!(net.clone().predict(&x), before.clone().predict(&x));

    let error = Fit::new(Optimizer::sgd(0.1))
        .progress(false)
        .validation(&points(600, 599, 3))
        .run(&mut net, &good)
        .expect_err("validation label 3 of 2 classes");
    assert_eq!(
        error.to_string(),
        "the validation data does not fit the network: sample 599 is labeled class 3, but the \
         network scores 2 classes (0 to 1)"
    );
}

#[test]
fn a_trainer_step_with_a_label_beyond_the_classes_is_an_error() {
    use staticnet::train::{Sampling, TrainError, Trainer};
    let data = points(4, 2, 4);
    let mut net = net();
    let mut trainer =
        Trainer::<f32, Const<2>>::new(Optimizer::sgd(0.1), 4, Sampling::Shuffled, 0, 4)
            .expect("settings");
    let error = trainer.step(&mut net, &data, 0).expect_err("label 4");
    assert_eq!(
        error,
        TrainError::Targets {
            iteration: 0,
            source: TargetsError::ClassOutOfRange {
                sample: 2,
                class: 4,
                classes: 2
            },
        }
    );
}

#[test]
fn fit_of_zero_epochs_or_zero_steps_is_an_error() {
    let data = points(100, 0, 0);
    let mut net = net();
    for (fit, unit) in [
        (Fit::new(Optimizer::sgd(0.1)).epochs(0), "epochs"),
        (Fit::new(Optimizer::sgd(0.1)).steps(0), "steps"),
    ] {
        let settings = fit.check_settings().expect_err("nothing to train");
        assert!(
            matches!(settings, FitError::NothingToTrain { unit: u } if u == unit),
            "{settings:?}"
        );
        let error = fit.progress(false).run(&mut net, &data).expect_err("0");
        assert_eq!(
            error.to_string(),
            format!("a run of 0 {unit} trains nothing: ask for at least 1")
        );
    }
    assert!(
        Fit::new(Optimizer::<f32>::sgd(0.1))
            .steps(1)
            .check_settings()
            .is_ok()
    );
}
