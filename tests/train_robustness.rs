//! Training that goes wrong stops cleanly, training that is interrupted
//! resumes to the same weights, and a data set is measured in chunks as in
//! one batch.

use staticnet::data::Split;
use staticnet::io::{Checkpoint, CheckpointMeta, load_checkpoint, save_checkpoint};
use staticnet::optim::{Method, StateError};
use staticnet::prelude::*;
use staticnet::train::{
    ImageSamples, Samples, TrainError, Trainer, evaluate, loss_and_accuracy, mean_loss,
};

network! {
    struct SmallNet<Affine<784, 16>, Relu, Affine<16, 10>, SoftmaxWithLoss>
}

/// 300 images of 28 × 28 noise whose label is a function of the pixels,
/// so that there is something to learn.
fn synthetic_split() -> Split {
    let mut rng = StdRng::seed_from_u64(42);
    let images: Vec<u8> = (0..300 * 784).map(|_| rng.random()).collect();
    let labels = images.chunks(784).map(|image| image[0] % 10).collect();
    Split::new(images, labels, 28, 28).expect("a consistent split")
}

fn weights(net: &SmallNet<f32>) -> Vec<Vec<f32>> {
    let mut all = Vec::new();
    net.visit_params(&mut |p| all.push(p.value.to_vec()));
    all
}

/// Restores `optimizer` from the state `checkpoint` holds, as a resumed
/// run does.
fn restore(
    optimizer: &mut Optimizer<f32>,
    net: &SmallNet<f32>,
    checkpoint: &Checkpoint<f32>,
) -> Result<(), StateError> {
    optimizer.restore(
        net,
        &checkpoint.optimizer,
        checkpoint.iteration,
        &checkpoint.state_entries(),
    )
}

/// Samples per batch.
const BATCH: usize = 20;
/// The seed of every run's batches.
const SEED: u64 = 7;

/// A trainer of the book's random draws of `BATCH` samples from `SEED`.
fn trainer_of(optimizer: Optimizer<f32>, len: usize) -> Trainer<f32, Const<784>> {
    Trainer::new(optimizer, BATCH, Sampling::Draws, SEED, len).expect("valid settings")
}

#[test]
fn a_diverging_loss_stops_training_at_its_iteration_without_updating() {
    let split = synthetic_split();
    let data = ImageSamples {
        split: &split,
        normalize: false,
    };
    let mut net = SmallNet::<f32>::new(&mut StdRng::seed_from_u64(1));
    let mut trainer = trainer_of(Optimizer::sgd(1e30), split.len());
    let mut before = weights(&net);
    let mut stopped = None;
    for iteration in 0..100 {
        match trainer.step(&mut net, &data, iteration) {
            Ok(_) => before = weights(&net),
            Err(error) => {
                stopped = Some(error);
                break;
            }
        }
    }
    match stopped {
        Some(TrainError::NonFiniteLoss { iteration, loss }) => {
            assert!(!loss.is_finite());
            let message = TrainError::NonFiniteLoss { iteration, loss }.to_string();
            assert!(
                message.contains(&format!("iteration {iteration}")),
                "{message}"
            );
        }
        other => panic!("expected a non-finite loss, got {other:?}"),
    }
    assert_eq!(
        weights(&net),
        before,
        "the failing step must not touch the parameters"
    );
}

#[test]
fn bad_settings_are_rejected_before_any_step() {
    let len = synthetic_split().len();
    for (learning_rate, batch_size, expected) in [
        (0.0, BATCH, TrainError::LearningRate(0.0)),
        (-1.0, BATCH, TrainError::LearningRate(-1.0)),
        (0.1, 0, TrainError::EmptyBatch),
        (
            0.1,
            301,
            TrainError::BatchLargerThanData {
                batch_size: 301,
                train_len: 300,
            },
        ),
    ] {
        let optimizer = Optimizer::sgd(learning_rate);
        let result =
            Trainer::<f32, Const<784>>::new(optimizer, batch_size, Sampling::Draws, SEED, len);
        assert_eq!(result.err(), Some(expected));
    }
}

/// Trains with `optimizer` for 60 iterations straight, and again interrupted
/// after 25 with a checkpoint (weights and optimizer state) resumed into a
/// differently seeded net; returns both nets' weights.
fn straight_and_resumed(optimizer: Optimizer<f32>) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let split = synthetic_split();
    let data = ImageSamples {
        split: &split,
        normalize: true,
    };

    let mut straight = SmallNet::<f32>::new(&mut StdRng::seed_from_u64(SEED));
    let mut trainer = trainer_of(optimizer.clone(), split.len());
    for iteration in 0..60 {
        trainer
            .step(&mut straight, &data, iteration)
            .expect("a finite loss");
    }

    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("checkpoint.safetensors");
    {
        let mut first_leg = SmallNet::<f32>::new(&mut StdRng::seed_from_u64(SEED));
        let mut trainer = trainer_of(optimizer.clone(), split.len());
        for iteration in 0..25 {
            trainer
                .step(&mut first_leg, &data, iteration)
                .expect("a finite loss");
        }
        let meta = CheckpointMeta {
            iteration: 25,
            seed: SEED,
            optimizer: optimizer.method().name(),
            dataset: None,
            settings: None,
            evaluation: None,
        };
        let state = trainer.optimizer().state_tensors();
        assert_eq!(
            state.len(),
            4 * optimizer.method().state_names().len(),
            "one tensor per state and parameter"
        );
        save_checkpoint(&first_leg, &meta, &state, &path).expect("the checkpoint saves");
    }

    // A fresh process would start from a differently seeded net: the
    // checkpoint must bring back everything.
    let mut resumed = SmallNet::<f32>::new(&mut StdRng::seed_from_u64(999));
    let checkpoint = load_checkpoint(&mut resumed, &path).expect("the checkpoint loads");
    assert_eq!((checkpoint.iteration, checkpoint.seed), (25, SEED));
    let mut trainer = Trainer::new(
        optimizer,
        BATCH,
        Sampling::Draws,
        checkpoint.seed,
        split.len(),
    )
    .expect("valid settings");
    restore(trainer.optimizer_mut(), &resumed, &checkpoint).expect("the optimizer state restores");
    for iteration in checkpoint.iteration as usize..60 {
        trainer
            .step(&mut resumed, &data, iteration)
            .expect("a finite loss");
    }
    (weights(&straight), weights(&resumed))
}

#[test]
fn a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one() {
    let (straight, resumed) = straight_and_resumed(Optimizer::sgd(0.1));
    assert_eq!(resumed, straight, "bit-identical weights");
}

#[test]
fn a_resumed_adam_run_with_weight_decay_ends_with_the_same_weights() {
    let adam = Method::from_name("adam").expect("a known optimizer");
    let optimizer = Optimizer::new(adam, 0.001).with_weight_decay(1e-3);
    let (straight, resumed) = straight_and_resumed(optimizer);
    assert_eq!(resumed, straight, "bit-identical weights");
}

#[test]
fn a_checkpoint_resumes_only_with_its_own_optimizer() {
    let split = synthetic_split();
    let data = ImageSamples {
        split: &split,
        normalize: true,
    };
    let momentum = Optimizer::new(
        Method::from_name("momentum").expect("a known optimizer"),
        0.1,
    );
    let mut net = SmallNet::<f32>::new(&mut StdRng::seed_from_u64(1));
    let mut trainer = trainer_of(momentum.clone(), split.len());
    trainer.step(&mut net, &data, 0).expect("a finite loss");
    let meta = CheckpointMeta {
        iteration: 1,
        seed: 7,
        optimizer: "momentum",
        dataset: None,
        settings: None,
        evaluation: None,
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("momentum.safetensors");
    save_checkpoint(&net, &meta, &trainer.optimizer().state_tensors(), &path)
        .expect("the checkpoint saves");
    let checkpoint = load_checkpoint(&mut net, &path).expect("the checkpoint loads");

    let adam = Optimizer::new(Method::from_name("adam").expect("a known optimizer"), 0.001);
    let mut trainer = trainer_of(adam, split.len());
    assert_eq!(
        restore(trainer.optimizer_mut(), &net, &checkpoint),
        Err(StateError::OtherMethod {
            saved: "momentum".to_owned(),
            current: "adam"
        })
    );
    let mut truncated = checkpoint.clone();
    truncated.state.pop();
    let mut trainer = trainer_of(momentum, split.len());
    assert_eq!(
        restore(trainer.optimizer_mut(), &net, &truncated),
        Err(StateError::Missing("optimizer.v.b2".to_owned()))
    );
    let entries = checkpoint.state_entries();
    let (name, shape, values) = entries[0];
    let short = [(name, shape, &values[1..])];
    assert_eq!(
        trainer.optimizer_mut().restore(&net, "momentum", 1, &short),
        Err(StateError::Length {
            name: name.to_owned(),
            shape,
            len: values.len() - 1
        }),
        "a tensor shorter than its shape is refused, not copied"
    );
    assert_eq!(trainer.optimizer().steps(), 0, "left unchanged on error");
    restore(trainer.optimizer_mut(), &net, &checkpoint).expect("its own optimizer restores");
    assert_eq!(trainer.optimizer().steps(), 1);
}

#[test]
fn a_data_set_measured_in_chunks_matches_one_batch() {
    let split = synthetic_split();
    let data = ImageSamples {
        split: &split,
        normalize: true,
    };
    let mut net = SmallNet::<f32>::new(&mut StdRng::seed_from_u64(3));
    let mut trainer = trainer_of(Optimizer::sgd(0.5), split.len());
    for iteration in 0..60 {
        trainer
            .step(&mut net, &data, iteration)
            .expect("a finite loss");
    }
    let mut x = Batch::<f32, Const<784>>::zeros(split.len());
    let mut labels = Vec::new();
    let all: Vec<usize> = (0..split.len()).collect();
    Samples::<f32, Const<784>>::gather(&data, &all, &mut x, &mut labels).expect("every sample");
    let (loss, accuracy) = net.loss_and_accuracy(&x, &labels);
    // Chunks of 64: four whole ones and one of 44, weighted by their sizes.
    let (chunked_loss, chunked_accuracy) =
        loss_and_accuracy(&mut net, &data, 64).expect("every sample");
    assert!(
        (chunked_loss - f64::from(loss)).abs() < 1e-5,
        "{chunked_loss} vs {loss}"
    );
    assert!((chunked_accuracy - accuracy).abs() < 1e-12);
    assert!(accuracy > 0.1, "trained past chance: {accuracy}");
    // The one-pass measure and the two separate ones agree exactly.
    assert_eq!(
        mean_loss(&mut net, &data, 64).expect("every sample"),
        chunked_loss
    );
    assert_eq!(
        evaluate(&mut net, &data, 64).expect("every sample"),
        chunked_accuracy
    );
}
