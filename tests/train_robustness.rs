//! Training that goes wrong stops cleanly, and training that is interrupted
//! resumes to the same weights.

use staticnet::data::Split;
use staticnet::io::{CheckpointMeta, load_checkpoint, save_checkpoint};
use staticnet::prelude::*;
use staticnet::train::{ImageSamples, TrainConfig, TrainError, Trainer};

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

fn config(iters: usize, learning_rate: f64) -> TrainConfig {
    TrainConfig {
        iters,
        batch_size: 20,
        learning_rate,
        seed: 7,
    }
}

#[test]
fn a_diverging_loss_stops_training_at_its_iteration_without_updating() {
    let split = synthetic_split();
    let data = ImageSamples {
        split: &split,
        normalize: false,
    };
    let mut net = SmallNet::<f32>::new(&mut StdRng::seed_from_u64(1));
    let mut trainer = Trainer::new(config(100, 1e30), split.len()).expect("valid settings");
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
    for (settings, expected) in [
        (config(10, 0.0), TrainError::LearningRate(0.0)),
        (config(10, -1.0), TrainError::LearningRate(-1.0)),
        (
            TrainConfig {
                batch_size: 0,
                ..config(10, 0.1)
            },
            TrainError::EmptyBatch,
        ),
        (
            TrainConfig {
                batch_size: 301,
                ..config(10, 0.1)
            },
            TrainError::BatchLargerThanData {
                batch_size: 301,
                train_len: 300,
            },
        ),
    ] {
        let result = Trainer::<f32, Const<784>>::new(settings, len);
        assert_eq!(result.err(), Some(expected));
    }
}

#[test]
fn a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one() {
    let split = synthetic_split();
    let data = ImageSamples {
        split: &split,
        normalize: true,
    };
    let settings = config(60, 0.1);

    let mut straight = SmallNet::<f32>::new(&mut StdRng::seed_from_u64(settings.seed));
    let mut trainer = Trainer::new(settings, split.len()).expect("valid settings");
    for iteration in 0..60 {
        trainer
            .step(&mut straight, &data, iteration)
            .expect("a finite loss");
    }

    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("checkpoint.safetensors");
    {
        let mut first_leg = SmallNet::<f32>::new(&mut StdRng::seed_from_u64(settings.seed));
        let mut trainer = Trainer::new(settings, split.len()).expect("valid settings");
        for iteration in 0..25 {
            trainer
                .step(&mut first_leg, &data, iteration)
                .expect("a finite loss");
        }
        let meta = CheckpointMeta {
            iteration: 25,
            seed: settings.seed,
            optimizer: "sgd",
        };
        save_checkpoint(&first_leg, &meta, &[], &path).expect("the checkpoint saves");
    }

    // A fresh process would start from a differently seeded net: the
    // checkpoint must bring back everything.
    let mut resumed = SmallNet::<f32>::new(&mut StdRng::seed_from_u64(999));
    let checkpoint = load_checkpoint(&mut resumed, &path).expect("the checkpoint loads");
    assert_eq!((checkpoint.iteration, checkpoint.seed), (25, settings.seed));
    let resumed_settings = TrainConfig {
        seed: checkpoint.seed,
        ..settings
    };
    let mut trainer = Trainer::new(resumed_settings, split.len()).expect("valid settings");
    for iteration in checkpoint.iteration as usize..60 {
        trainer
            .step(&mut resumed, &data, iteration)
            .expect("a finite loss");
    }

    assert_eq!(
        weights(&resumed),
        weights(&straight),
        "bit-identical weights"
    );
}
