//! Checkpoints: weights, optimizer state and metadata in one file.

mod common;

use common::{Net32, Net64, crate_file, f64_bytes, frame, random_net, snapshot};
use net_core::ParamShape;
use net_core::io::{
    Checkpoint, CheckpointMeta, IoError, STATE_PREFIX, checkpoint_to_bytes, load_checkpoint,
    load_checkpoint_from_bytes, load_weights, save_checkpoint, save_weights, to_safetensors_bytes,
};
use net_core::{Network, Scalar};
use safetensors::{Dtype, SafeTensors};

const META: CheckpointMeta<'static> = CheckpointMeta {
    iteration: 1234,
    seed: 42,
    optimizer: "momentum",
    dataset: None,
    settings: None,
    evaluation: None,
};

/// Momentum-like state: one velocity per parameter, `optimizer.v.<param>`.
fn velocities<T: Scalar, N: Network<T>>(net: &N) -> Vec<(String, ParamShape, Vec<T>)> {
    let mut out = Vec::new();
    net.visit_params(&mut |p| {
        let values = p
            .value
            .iter()
            .map(|&v| v * T::of_f64(0.5) + T::of_f64(0.25))
            .collect();
        out.push((format!("optimizer.v.{}", p.name), p.shape, values));
    });
    out
}

fn entries<T>(state: &[(String, ParamShape, Vec<T>)]) -> Vec<(&str, ParamShape, &[T])> {
    state
        .iter()
        .map(|(n, s, v)| (n.as_str(), *s, v.as_slice()))
        .collect()
}

/// Loading `bytes` as a checkpoint into a random network fails and leaves
/// it unchanged.
fn rejects<T: Scalar, N: Network<T>>(bytes: &[u8]) -> IoError {
    let mut net: N = random_net(99);
    let before = snapshot(&net);
    let err = load_checkpoint_from_bytes::<T, N>(&mut net, bytes).expect_err("the load must fail");
    assert_eq!(snapshot(&net), before, "a failed load changed the network");
    eprintln!("error: {err}");
    err
}

#[test]
fn round_trip_with_optimizer_state_f64() {
    let net: Net64 = random_net(1);
    let state = velocities(&net);
    let bytes = checkpoint_to_bytes(&net, &META, &entries(&state)).unwrap();

    let mut other: Net64 = random_net(2);
    let ckpt: Checkpoint<f64> = load_checkpoint_from_bytes(&mut other, &bytes).unwrap();
    assert_eq!(snapshot(&other), snapshot(&net));
    assert_eq!(ckpt.meta(), META);
    assert_eq!(
        (ckpt.iteration, ckpt.seed, ckpt.optimizer.as_str()),
        (1234, 42, "momentum")
    );
    assert_eq!(ckpt.state.len(), 4);
    for (name, shape, values) in &state {
        let t = ckpt
            .state_tensor(name)
            .expect("every state tensor comes back");
        assert_eq!(t.shape, *shape);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&t.values), bits(values), "{name}");
    }

    // Re-saving what was loaded gives the same bytes.
    let again = checkpoint_to_bytes(&other, &ckpt.meta(), &ckpt.state_entries()).unwrap();
    assert_eq!(again, bytes);
}

#[test]
fn round_trip_f32_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt.safetensors");
    let net: Net32 = random_net(3);
    let state = velocities(&net);
    let meta = CheckpointMeta {
        iteration: u64::MAX,
        seed: 0,
        optimizer: "sgd",
        dataset: None,
        settings: None,
        evaluation: None,
    };
    save_checkpoint(&net, &meta, &entries(&state), &path).unwrap();

    let mut other: Net32 = random_net(4);
    let ckpt = load_checkpoint(&mut other, &path).unwrap();
    assert_eq!(snapshot(&other), snapshot(&net));
    assert_eq!(ckpt.meta(), meta);
    assert_eq!(
        ckpt.state_tensor("optimizer.v.W2").unwrap().values,
        state[2].2
    );
}

#[test]
fn the_file_keeps_the_books_layout_and_metadata() {
    let net: Net64 = random_net(5);
    let state = velocities(&net);
    let bytes = checkpoint_to_bytes(&net, &META, &entries(&state)).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(
        names,
        [
            "W1",
            "W2",
            "b1",
            "b2",
            "optimizer.v.W1",
            "optimizer.v.W2",
            "optimizer.v.b1",
            "optimizer.v.b2"
        ]
    );
    // The state is row-major like the weights: v.W1[0, 1] is second.
    let v = file.tensor("optimizer.v.W1").unwrap();
    assert_eq!(v.shape(), &[4, 3]);
    let second = f64::from_le_bytes(v.data()[8..16].try_into().unwrap());
    assert_eq!(second, net.affine1.w.view()[(0, 1)] * 0.5 + 0.25);

    let (_, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = metadata.metadata().clone().unwrap();
    assert_eq!(metadata["iteration"], "1234");
    assert_eq!(metadata["seed"], "42");
    assert_eq!(metadata["optimizer"], "momentum");
    assert_eq!(metadata["format"], "staticnet.checkpoint");
}

#[test]
fn an_sgd_checkpoint_has_no_state_and_its_weights_load_as_weights() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sgd.safetensors");
    let net: Net64 = random_net(6);
    let meta = CheckpointMeta {
        iteration: 10,
        seed: 1,
        optimizer: "sgd",
        dataset: None,
        settings: None,
        evaluation: None,
    };
    save_checkpoint(&net, &meta, &[], &path).unwrap();
    let mut other: Net64 = random_net(7);
    load_weights(&mut other, &path).unwrap();
    assert_eq!(snapshot(&other), snapshot(&net));
    let ckpt = load_checkpoint(&mut random_net::<f64, Net64>(8), &path).unwrap();
    assert!(ckpt.state.is_empty());
}

#[test]
fn a_weights_file_is_not_a_checkpoint() {
    let bytes = to_safetensors_bytes(&random_net::<f64, Net64>(1)).unwrap();
    let err = rejects::<f64, Net64>(&bytes);
    assert!(matches!(err, IoError::NotACheckpoint { .. }), "{err:?}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.safetensors");
    save_weights(&random_net::<f64, Net64>(1), &path).unwrap();
    let err = load_checkpoint::<f64, Net64>(&mut random_net(2), &path).expect_err("weights only");
    assert!(matches!(&err, IoError::NotACheckpoint { path: p } if p == &path));
}

/// A checkpoint with its metadata map replaced.
fn with_metadata(entries: &[(&str, &str)]) -> Vec<u8> {
    let net: Net64 = random_net(1);
    let bytes = checkpoint_to_bytes(&net, &META, &[]).unwrap();
    let (n, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
    let data = &bytes[8 + n..];
    let mut header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let map: serde_json::Map<_, _> = entries
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    header.insert("__metadata__".into(), map.into());
    let _ = metadata;
    frame(&serde_json::to_string(&header).unwrap(), data)
}

#[test]
fn bad_metadata_entries() {
    let base = [
        ("format", "staticnet.checkpoint"),
        ("format_version", "1"),
        ("seed", "1"),
        ("optimizer", "sgd"),
    ];

    let mut missing = base.to_vec();
    missing.retain(|(k, _)| *k != "seed");
    missing.push(("iteration", "5"));
    let err = rejects::<f64, Net64>(&with_metadata(&missing));
    assert!(
        matches!(err, IoError::BadMetadata { key: "seed", .. }),
        "{err:?}"
    );

    for bad in ["-1", "abc", "", "18446744073709551616", "1.5"] {
        let mut entries = base.to_vec();
        entries.push(("iteration", bad));
        let err = rejects::<f64, Net64>(&with_metadata(&entries));
        assert!(
            matches!(
                err,
                IoError::BadMetadata {
                    key: "iteration",
                    ..
                }
            ),
            "{bad}: {err:?}"
        );
    }

    let mut future = base.to_vec();
    future[1] = ("format_version", "2");
    future.push(("iteration", "5"));
    let err = rejects::<f64, Net64>(&with_metadata(&future));
    assert!(
        matches!(
            err,
            IoError::BadMetadata {
                key: "format_version",
                ..
            }
        ),
        "{err:?}"
    );

    let mut good = base.to_vec();
    good.push(("iteration", "5"));
    let ckpt = load_checkpoint_from_bytes::<f64, Net64>(&mut random_net(3), &with_metadata(&good))
        .unwrap();
    assert_eq!(ckpt.iteration, 5);
}

#[test]
fn state_names_must_start_with_the_prefix() {
    let net: Net64 = random_net(1);
    for name in ["v.W1", "optimizer.", "W1", "", "Optimizer.v.W1"] {
        let values = [0.0; 3];
        let err = checkpoint_to_bytes(&net, &META, &[(name, ParamShape::Vector(3), &values)])
            .expect_err("a bad state name");
        eprintln!("error: {err}");
        assert!(
            matches!(&err, IoError::BadStateName { name: n, .. } if n == name),
            "{name}: {err:?}"
        );
    }
    assert_eq!(STATE_PREFIX, "optimizer.");
}

#[test]
fn duplicate_state_names_and_bad_lengths_are_refused() {
    let net: Net64 = random_net(1);
    let v = [0.0; 3];
    let err = checkpoint_to_bytes(
        &net,
        &META,
        &[
            ("optimizer.v.b1", ParamShape::Vector(3), &v),
            ("optimizer.v.b1", ParamShape::Vector(3), &v),
        ],
    )
    .expect_err("a duplicate");
    eprintln!("error: {err}");
    assert!(
        matches!(&err, IoError::DuplicateName { name, .. } if name == "optimizer.v.b1"),
        "{err:?}"
    );

    let err = checkpoint_to_bytes(
        &net,
        &META,
        &[(
            "optimizer.v.W1",
            ParamShape::Matrix { rows: 4, cols: 3 },
            &v,
        )],
    )
    .expect_err("too few values");
    eprintln!("error: {err}");
    assert!(
        matches!(&err, IoError::LengthMismatch { name, shape, len: 3, .. } if name == "optimizer.v.W1" && shape == &[4, 3]),
        "{err:?}"
    );

    let nan = [0.0, f64::NAN, 0.0];
    let err = checkpoint_to_bytes(
        &net,
        &META,
        &[("optimizer.v.b1", ParamShape::Vector(3), &nan)],
    )
    .expect_err("NaN state");
    assert!(
        matches!(&err, IoError::NonFinite { name, position, .. } if name == "optimizer.v.b1" && position == &[1])
    );
}

/// A valid checkpoint of `Net64` plus `extra` tensors.
fn checkpoint_with(extra: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let bytes = checkpoint_to_bytes(&random_net::<f64, Net64>(1), &META, &[]).unwrap();
    let (n, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut views: Vec<(String, safetensors::tensor::TensorView<'_>)> = file.tensors();
    for (name, dtype, shape, data) in extra {
        views.push((
            name.to_string(),
            safetensors::tensor::TensorView::new(*dtype, shape.clone(), data).unwrap(),
        ));
    }
    let _ = n;
    // Written as another tool would: the metadata without staticnet's
    // digests of the tensor data and of the header, which these tensors
    // no longer match.
    let mut metadata = metadata.metadata().clone();
    if let Some(metadata) = &mut metadata {
        metadata.remove("sha256");
        metadata.remove("header_sha256");
    }
    safetensors::serialize(views, metadata).unwrap()
}

#[test]
fn state_tensors_of_other_ranks_are_refused() {
    let err = rejects::<f64, Net64>(&checkpoint_with(&[(
        "optimizer.t",
        Dtype::F64,
        vec![],
        f64_bytes(&[3.0]),
    )]));
    assert!(
        matches!(&err, IoError::UnsupportedShape { name, shape, .. } if name == "optimizer.t" && shape.is_empty()),
        "{err:?}"
    );
    let err = rejects::<f64, Net64>(&checkpoint_with(&[(
        "optimizer.m.W1",
        Dtype::F64,
        vec![2, 2, 3],
        f64_bytes(&[0.0; 12]),
    )]));
    assert!(matches!(err, IoError::UnsupportedShape { .. }), "{err:?}");
}

#[test]
fn state_tensors_of_another_dtype_are_refused() {
    let err = rejects::<f64, Net64>(&checkpoint_with(&[(
        "optimizer.v.b2",
        Dtype::F32,
        vec![2],
        vec![0; 8],
    )]));
    assert!(
        matches!(&err, IoError::WrongDtype { name, .. } if name == "optimizer.v.b2"),
        "{err:?}"
    );
}

#[test]
fn non_finite_state_in_a_file_is_refused() {
    let err = rejects::<f64, Net64>(&checkpoint_with(&[(
        "optimizer.v.b2",
        Dtype::F64,
        vec![2],
        f64_bytes(&[0.0, f64::INFINITY]),
    )]));
    assert!(
        matches!(&err, IoError::NonFinite { name, .. } if name == "optimizer.v.b2"),
        "{err:?}"
    );
}

#[test]
fn a_bare_prefix_in_a_file_is_refused() {
    let err = rejects::<f64, Net64>(&checkpoint_with(&[(
        "optimizer.",
        Dtype::F64,
        vec![1],
        f64_bytes(&[0.0]),
    )]));
    assert!(matches!(err, IoError::BadStateName { .. }), "{err:?}");
}

#[test]
fn other_extra_tensors_are_unexpected() {
    let err = rejects::<f64, Net64>(&checkpoint_with(&[(
        "W3",
        Dtype::F64,
        vec![1],
        f64_bytes(&[0.0]),
    )]));
    assert!(
        matches!(&err, IoError::UnexpectedTensor { name, .. } if name == "W3"),
        "{err:?}"
    );
}

#[test]
fn a_checkpoint_of_another_dtype_is_refused() {
    let bytes = checkpoint_to_bytes(&random_net::<f64, Net64>(1), &META, &[]).unwrap();
    let err = rejects::<f32, Net32>(&bytes);
    assert!(matches!(err, IoError::WrongDtype { .. }), "{err:?}");
}

#[test]
fn damaged_checkpoints_are_refused() {
    let net: Net64 = random_net(1);
    let state = velocities(&net);
    let bytes = checkpoint_to_bytes(&net, &META, &entries(&state)).unwrap();
    let err = rejects::<f64, Net64>(&bytes[..bytes.len() - 1]);
    assert!(matches!(err, IoError::Truncated { .. }), "{err:?}");
    let err = rejects::<f64, Net64>(&crate_file(&[]));
    assert!(matches!(err, IoError::NotACheckpoint { .. }), "{err:?}");
}
