//! A frozen net straight from a file: `Net::load_frozen(path)` reads a
//! weight file or a checkpoint (the widths a declaration leaves to run time
//! included) and predicts as the net that wrote it, frozen; a file that
//! does not fit the declaration gets `load_weights`'s own error.

use std::path::PathBuf;

use staticnet::io::{
    CheckpointMeta, IoError, load_weights, read_header, save_checkpoint, save_weights,
};
use staticnet::prelude::*;

network! {
    struct Regularized<Affine<6, 8>, BatchNorm, Relu, Dropout<0.25>, Affine<8, 3>, SoftmaxWithLoss>
}

network! {
    struct Hidden<Affine<6, dyn>, Relu, Affine<dyn, 3>, SoftmaxWithLoss>
}

network! {
    struct Wider<Affine<6, 9>, Relu, Affine<9, 3>, SoftmaxWithLoss>
}

fn temp_file(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn inputs(rng: &mut StdRng, n: usize) -> Batch<f32, Const<6>> {
    let mut x = Batch::<f32, Const<6>>::zeros(n);
    for v in x.as_mut_slice() {
        *v = rng.random_range(-1.0..1.0);
    }
    x
}

/// A net trained for a few steps with Adam (so that a checkpoint holds
/// optimizer state), its BatchNorm's running statistics away from their
/// start.
fn trained(rng: &mut StdRng) -> (Regularized, Optimizer<f32>) {
    let mut net = Regularized::init(rng, Init::Auto);
    let mut adam = Optimizer::adam(0.01);
    let t: Vec<usize> = (0..20).map(|n| n % 3).collect();
    for _ in 0..10 {
        let x = inputs(rng, 20);
        adam.train_step(&mut net, &x, &t);
    }
    (net, adam)
}

#[test]
fn a_weight_file_and_a_checkpoint_load_frozen_as_the_net_that_wrote_them() {
    let mut rng = StdRng::seed_from_u64(1);
    let (net, adam) = trained(&mut rng);
    let dir = tempfile::tempdir().unwrap();
    let (weights, checkpoint) = (
        temp_file(&dir, "net.safetensors"),
        temp_file(&dir, "net.ckpt"),
    );
    save_weights(&net, &weights).unwrap();
    let meta = CheckpointMeta {
        iteration: 10,
        seed: 1,
        optimizer: "adam",
        dataset: None,
        settings: None,
        evaluation: None,
    };
    save_checkpoint(&net, &meta, &adam.state_tensors(), &checkpoint).unwrap();
    assert!(!adam.state_tensors().is_empty());

    let expected = net.freeze();
    let x = inputs(&mut rng, 30);
    let mut scratch = expected.scratch();
    let scores = expected.predict(&x, &mut scratch).clone();
    for path in [&weights, &checkpoint] {
        let model = Regularized::<f32>::load_frozen(path).expect("the file fits the declaration");
        let mut scratch = model.scratch();
        assert_eq!(
            model.predict(&x, &mut scratch),
            &scores,
            "{}",
            path.display()
        );
    }
    // The header says which file is which, and the checkpoint's iteration.
    assert_eq!(read_header(&weights).unwrap().iteration, None);
    let header = read_header(&checkpoint).unwrap();
    assert!(header.checkpoint);
    assert_eq!(header.iteration, Some(10));
}

#[test]
fn widths_left_to_run_time_are_read_from_the_file() {
    let mut rng = StdRng::seed_from_u64(2);
    let net = Hidden::<f32>::with_widths(&mut rng, Init::He, [13]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = temp_file(&dir, "hidden.safetensors");
    save_weights(&net, &path).unwrap();

    let model = Hidden::<f32>::load_frozen(&path).unwrap();
    let expected = net.freeze();
    let x = inputs(&mut rng, 7);
    let (mut mine, mut theirs) = (model.scratch(), expected.scratch());
    assert_eq!(
        model.predict(&x, &mut mine),
        expected.predict(&x, &mut theirs)
    );
}

#[test]
fn a_file_of_another_shape_gets_the_loaders_own_error() {
    let mut rng = StdRng::seed_from_u64(3);
    let dir = tempfile::tempdir().unwrap();
    let path = temp_file(&dir, "wider.safetensors");
    save_weights(&Wider::init(&mut rng, Init::He), &path).unwrap();

    let frozen = Regularized::<f32>::load_frozen(&path).expect_err("9 hidden units, not 8");
    let mut net = Regularized::init(&mut rng, Init::He);
    let loaded = load_weights(&mut net, &path).expect_err("the same file");
    assert_eq!(frozen.to_string(), loaded.to_string());
    assert!(frozen.to_string().contains("wider.safetensors"), "{frozen}");

    let missing = Hidden::<f32>::load_frozen(temp_file(&dir, "absent.safetensors"))
        .expect_err("no such file");
    assert!(matches!(missing, IoError::Read { .. }), "{missing:?}");
}
