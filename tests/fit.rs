//! The training driver: a whole run on data of one's own, its schedule,
//! early stopping, checkpoints and resuming, and a stop on request.

use staticnet::io::load_checkpoint;
use staticnet::prelude::*;
use staticnet::train::{
    EarlyStopping, Fit, FitError, InMemory, Labels, Sampling, Schedule, StopFlag, Stopped,
    TrainAccuracy, ValueRows, mean_loss,
};

network! {
    /// A 1-16-1 regression net.
    pub struct Regression<Affine<1, 16>, Tanh, Affine<16, 1>, IdentityWithSquaredLoss>
}

network! {
    /// A two-class classifier of points in the plane.
    pub struct Classifier<Affine<2, 8>, Relu, Affine<8, 2>, SoftmaxWithLoss>
}

/// `y = sin(3x)` at `n` points of `[-1, 1]`.
fn sine(n: usize) -> InMemory<f64, Const<1>, ValueRows<f64, Const<1>>> {
    let x: Vec<f64> = (0..n)
        .map(|i| -1.0 + 2.0 * i as f64 / (n - 1) as f64)
        .collect();
    let y: Vec<f64> = x.iter().map(|x| (3.0 * x).sin()).collect();
    InMemory::with_values(x, y).expect("as many targets as inputs")
}

/// Points labeled by the side of the line `x₀ + x₁ = 0` they fall on.
fn halves(n: usize, seed: u64) -> InMemory<f32, Const<2>, Labels> {
    let mut rng = StdRng::seed_from_u64(seed);
    let points: Vec<f32> = (0..2 * n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let labels = points
        .chunks(2)
        .map(|p| usize::from(p[0] + p[1] > 0.0))
        .collect::<Vec<_>>();
    InMemory::with_labels(points, labels, 2).expect("one label per point")
}

#[test]
fn a_regression_learns_a_sine_from_data_in_memory() {
    let data = sine(64);
    let mut net = Regression::<f64>::init(&mut StdRng::seed_from_u64(1), Init::Xavier);
    let before = mean_loss(&mut net, &data, 64).unwrap();
    let history = Fit::new(Optimizer::adam(0.01))
        .epochs(300)
        .batch_size(16)
        .sampling(Sampling::Shuffled)
        .validation(&data)
        .progress(false)
        .run(&mut net, &data)
        .unwrap();
    let after = mean_loss(&mut net, &data, 64).unwrap();
    assert_eq!(history.stopped, Stopped::Finished);
    assert_eq!(history.iterations, 300 * 4);
    // Before the first step, after each of the 300 epochs.
    assert_eq!(history.epochs.len(), 301);
    assert_eq!(history.last().unwrap().val_loss, Some(after));
    let line = history.last().unwrap().line("test");
    assert!(
        line.starts_with("epoch 300  iter   1200  loss ") && line.contains("  test loss "),
        "{line}"
    );
    assert!(
        after < before / 20.0,
        "the loss went from {before} to {after}"
    );
}

#[test]
fn a_schedule_sets_the_rate_of_every_step() {
    let data = halves(200, 0);
    let mut net = Classifier::<f32>::init(&mut StdRng::seed_from_u64(0), Init::He);
    let history = Fit::new(Optimizer::sgd(0.5))
        .epochs(4)
        .batch_size(50)
        .schedule(Schedule::cosine().with_warmup(2))
        .progress(false)
        .run(&mut net, &data)
        .unwrap();
    let rates: Vec<f64> = history.epochs.iter().map(|e| e.learning_rate).collect();
    // Evaluations at steps 0, 4, 8, 12 and 16, each with the rate of the
    // step before it (the base rate before any step).
    let total = 16;
    let expected: Vec<f64> = [None, Some(3), Some(7), Some(11), Some(15)]
        .iter()
        .map(|step| {
            step.map_or(0.5, |s| {
                0.5 * Schedule::cosine().with_warmup(2).factor(s, total, 4)
            })
        })
        .collect();
    assert_eq!(rates, expected);
    assert!(rates[4] < 0.01, "{rates:?}");
}

#[test]
fn early_stopping_keeps_the_best_weights() {
    // Validation labels that disagree with the training labels: the
    // better the net learns, the worse the validation loss.
    let train = halves(200, 1);
    let (points, labels): (Vec<f32>, Vec<usize>) = {
        let data = halves(200, 1);
        let mut x = Batch::<f32, Const<2>>::zeros(200);
        let mut labels = Vec::new();
        use staticnet::train::Samples;
        data.gather(&(0..200).collect::<Vec<_>>(), &mut x, &mut labels)
            .unwrap();
        let points = (0..200).flat_map(|n| [x[(n, 0)], x[(n, 1)]]).collect();
        (points, labels.iter().map(|l| 1 - l).collect())
    };
    let flipped = InMemory::<f32, Const<2>, Labels>::with_labels(points, labels, 2).unwrap();
    let mut net = Classifier::<f32>::init(&mut StdRng::seed_from_u64(0), Init::He);
    let history = Fit::new(Optimizer::sgd(0.1))
        .epochs(50)
        .batch_size(20)
        .validation(&flipped)
        .early_stopping(EarlyStopping::after(2))
        .progress(false)
        .run(&mut net, &train)
        .unwrap();
    let Stopped::EarlyStopping { best_epoch } = history.stopped else {
        panic!(
            "did not stop early: {:?} {:?}",
            history.stopped,
            history
                .epochs
                .iter()
                .map(|e| e.val_loss)
                .collect::<Vec<_>>()
        );
    };
    assert!(history.iterations < 50 * 10, "{}", history.iterations);
    let best = history
        .epochs
        .iter()
        .find(|e| e.epoch == best_epoch)
        .and_then(|e| e.val_loss)
        .unwrap();
    let lowest = history
        .epochs
        .iter()
        .filter_map(|e| e.val_loss)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(best, lowest);
    // The network holds the weights of that evaluation.
    let now = mean_loss(&mut net, &flipped, 200).unwrap();
    assert!((now - best).abs() < 1e-6, "{now} vs {best}");
}

#[test]
fn a_resumed_run_ends_as_an_unbroken_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = halves(300, 2);
    let fit = |path: &std::path::Path| {
        Fit::new(Optimizer::adam(0.01))
            .steps(60)
            .batch_size(25)
            .seed(9)
            .schedule(Schedule::step_decay(1, 0.5))
            .checkpoint(path)
            .data_name("halves")
            .progress(false)
    };
    let init = || Classifier::<f32>::init(&mut StdRng::seed_from_u64(3), Init::He);

    let straight = dir.path().join("straight.safetensors");
    fit(&straight).run(&mut init(), &data).unwrap();

    let broken = dir.path().join("broken.safetensors");
    fit(&broken).steps(25).run(&mut init(), &data).unwrap();
    let mut net = init();
    let checkpoint = load_checkpoint(&mut net, &broken).unwrap();
    assert_eq!(checkpoint.iteration, 25);
    let history = fit(&broken)
        .resume(checkpoint)
        .run(&mut net, &data)
        .unwrap();
    assert_eq!((history.start, history.iterations), (25, 60));
    assert_eq!(
        std::fs::read(&straight).unwrap(),
        std::fs::read(&broken).unwrap()
    );

    // Nothing left to do, or other data: refused before any step.
    let mut net = init();
    let checkpoint = load_checkpoint(&mut net, &broken).unwrap();
    let error = fit(&broken).resume(checkpoint).run(&mut net, &data);
    assert!(matches!(
        error,
        Err(FitError::AlreadyTrained { at: 60, total: 60 })
    ));
    let checkpoint = load_checkpoint(&mut net, &broken).unwrap();
    let error = fit(&broken)
        .steps(100)
        .data_name("other")
        .resume(checkpoint)
        .run(&mut net, &data)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the checkpoint was made with other settings than this run's: dataset halves in the \
         checkpoint, other in this run; resume it with the checkpoint's settings, or allow each \
         change on purpose"
    );
}

#[test]
fn a_stop_request_ends_the_run_after_its_step_and_saves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stopped.safetensors");
    let data = halves(100, 4);
    let stop = StopFlag::new();
    let raise = stop.clone();
    let mut net = Classifier::<f32>::init(&mut StdRng::seed_from_u64(0), Init::He);
    let history = Fit::new(Optimizer::sgd(0.1))
        .epochs(1000)
        .batch_size(10)
        .checkpoint(&path)
        .stop_flag(stop)
        .train_accuracy(TrainAccuracy::EachEpoch)
        .on_epoch(move |record| {
            if record.epoch == 3 {
                raise.raise();
            }
        })
        .progress(false)
        .run(&mut net, &data)
        .unwrap();
    assert_eq!(history.stopped, Stopped::Interrupted);
    assert!(history.iterations >= 30 && history.iterations < 10_000);
    let mut saved = Classifier::<f32>::init(&mut StdRng::seed_from_u64(5), Init::He);
    let checkpoint = load_checkpoint(&mut saved, &path).unwrap();
    assert_eq!(checkpoint.iteration, history.iterations as u64);
}

#[test]
fn bad_settings_and_destinations_are_refused_before_any_step() {
    let dir = tempfile::tempdir().unwrap();
    let data = halves(200, 5);
    let mut net = Classifier::<f32>::init(&mut StdRng::seed_from_u64(0), Init::He);
    let before = net.clone();
    let unchanged = |net: &Classifier<f32>| {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        net.visit_params(&mut |p| a.extend_from_slice(p.value));
        before.visit_params(&mut |p| b.extend_from_slice(p.value));
        a == b
    };
    let quiet = |fit: Fit<'static, f32>| fit.progress(false);

    let error = quiet(Fit::new(Optimizer::sgd(0.1)).checkpoint(dir.path()))
        .run(&mut net, &data)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("cannot be written: is a directory; give a file path"),
        "{error}"
    );
    let error = quiet(Fit::new(Optimizer::sgd(0.1)).batch_size(201))
        .run(&mut net, &data)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the batch size 201 is larger than the training set (200 samples)"
    );
    let error = quiet(Fit::new(Optimizer::sgd(-1.0)))
        .run(&mut net, &data)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the learning rate must be a positive number, not -1"
    );
    let error = quiet(Fit::new(Optimizer::sgd(0.1)).schedule(Schedule::step_decay(0, 0.1)))
        .run(&mut net, &data)
        .unwrap_err();
    assert!(error.to_string().contains("at least 1 epoch"), "{error}");
    assert!(unchanged(&net));
}
