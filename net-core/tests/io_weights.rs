//! Saving and loading weights: round trips, the file layout, and every kind
//! of bad file, each of which must fail with its own error and leave the
//! network untouched.

mod common;

use std::path::Path;

use common::{
    Net32, Net64, TwoLayer, crate_file, f32_bytes, f64_bytes, frame, random_net, snapshot,
};
use net_core::io::{
    FormatError, IoError, load_weights, load_weights_from_bytes, save_weights, to_safetensors_bytes,
};
use net_core::{Network, Scalar};
use safetensors::{Dtype, SafeTensors};

type Tensor = (String, Dtype, Vec<usize>, Vec<u8>);

/// The tensors of a file, as the `safetensors` crate reads them, sorted by
/// name.
fn tensors_of(bytes: &[u8]) -> Vec<Tensor> {
    let file = SafeTensors::deserialize(bytes).expect("a valid file");
    let mut out: Vec<Tensor> = file
        .tensors()
        .into_iter()
        .map(|(name, t)| (name, t.dtype(), t.shape().to_vec(), t.data().to_vec()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Rebuilds a file from tensors.
fn rebuild(tensors: &[Tensor]) -> Vec<u8> {
    let borrowed: Vec<_> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.as_str(), *d, s.clone(), b.clone()))
        .collect();
    crate_file(&borrowed)
}

/// Loading `bytes` into a random network fails, leaves it unchanged, and
/// the error is returned (and printed, for the record).
fn rejects<T: Scalar, N: Network<T>>(bytes: &[u8]) -> IoError {
    let mut net: N = random_net(99);
    let before = snapshot(&net);
    let err = load_weights_from_bytes(&mut net, bytes).expect_err("the load must fail");
    assert_eq!(snapshot(&net), before, "a failed load changed the network");
    eprintln!("error: {err}");
    err
}

/// What is wrong with `bytes` as a safetensors file, as the refused load
/// of a `Net64` reports it.
fn format_problem(bytes: &[u8]) -> FormatError {
    match rejects::<f64, Net64>(bytes) {
        IoError::NotSafetensors { problem, .. } => problem,
        other => panic!("not a format error: {other:?}"),
    }
}

fn valid64() -> Vec<u8> {
    to_safetensors_bytes(&random_net::<f64, Net64>(1)).expect("saves")
}

// ---------------------------------------------------------------- round trips

#[test]
fn f64_round_trip_is_bit_exact() {
    let net: Net64 = random_net(1);
    let bytes = to_safetensors_bytes(&net).expect("saves");
    let mut other: Net64 = random_net(2);
    assert_ne!(snapshot(&other), snapshot(&net));
    load_weights_from_bytes(&mut other, &bytes).expect("loads");
    assert_eq!(snapshot(&other), snapshot(&net));
}

#[test]
fn f32_round_trip_is_bit_exact() {
    let net: Net32 = random_net(1);
    let bytes = to_safetensors_bytes(&net).expect("saves");
    let mut other: Net32 = random_net(2);
    load_weights_from_bytes(&mut other, &bytes).expect("loads");
    assert_eq!(snapshot(&other), snapshot(&net));
}

#[test]
fn extreme_finite_values_round_trip_bit_exact() {
    let specials64 = [
        0.0,
        -0.0,
        f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        f64::MAX,
        f64::MIN,
        1.0 / 3.0,
    ];
    let mut net: Net64 = random_net(3);
    net.visit_params_mut(&mut |p| {
        for (v, s) in p.value.iter_mut().zip(specials64.iter().cycle()) {
            *v = *s;
        }
    });
    let mut other: Net64 = random_net(4);
    load_weights_from_bytes(&mut other, &to_safetensors_bytes(&net).unwrap()).unwrap();
    assert_eq!(snapshot(&other), snapshot(&net));

    let specials32 = [
        0.0,
        -0.0,
        f32::MIN_POSITIVE,
        1e-45,
        -1e-45,
        f32::MAX,
        f32::MIN,
        0.1,
    ];
    let mut net: Net32 = random_net(3);
    net.visit_params_mut(&mut |p| {
        for (v, s) in p.value.iter_mut().zip(specials32.iter().cycle()) {
            *v = *s;
        }
    });
    let mut other: Net32 = random_net(4);
    load_weights_from_bytes(&mut other, &to_safetensors_bytes(&net).unwrap()).unwrap();
    assert_eq!(snapshot(&other), snapshot(&net));
}

#[test]
fn file_round_trip_f32_and_f64() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");

    let net: Net32 = random_net(5);
    save_weights(&net, &path).unwrap();
    let mut other: Net32 = random_net(6);
    load_weights(&mut other, &path).unwrap();
    assert_eq!(snapshot(&other), snapshot(&net));

    // Overwriting with another dtype.
    let net: Net64 = random_net(7);
    save_weights(&net, &path).unwrap();
    let mut other: Net64 = random_net(8);
    load_weights(&mut other, &path).unwrap();
    assert_eq!(snapshot(&other), snapshot(&net));

    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names,
        ["net.safetensors"],
        "no temporary file is left behind"
    );
}

#[test]
fn relative_path_without_directory_works() {
    // `Path::parent` of a bare name is empty: the save must use `.`.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bare.safetensors");
    let net: Net64 = random_net(9);
    save_weights(&net, &path).unwrap();
    let bare = Path::new("io_weights_bare_name_test.safetensors");
    save_weights(&net, bare).unwrap();
    let mut other: Net64 = random_net(10);
    load_weights(&mut other, bare).unwrap();
    std::fs::remove_file(bare).unwrap();
    assert_eq!(snapshot(&other), snapshot(&net));
}

// ---------------------------------------------------------------- layout

#[test]
fn the_file_holds_the_books_names_and_row_major_layout() {
    let net: Net64 = random_net(11);
    let tensors = tensors_of(&to_safetensors_bytes(&net).unwrap());
    let names: Vec<_> = tensors.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(names, ["W1", "W2", "b1", "b2"]);
    for (name, dtype, shape, data) in &tensors {
        assert_eq!(*dtype, Dtype::F64, "{name}");
        let values: Vec<f64> = data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        match name.as_str() {
            "W1" => {
                assert_eq!(shape, &[4, 3]);
                for i in 0..4 {
                    for j in 0..3 {
                        assert_eq!(
                            values[i * 3 + j],
                            net.affine1.w.view()[(i, j)],
                            "W1[{i}, {j}]"
                        );
                    }
                }
            }
            "W2" => {
                assert_eq!(shape, &[3, 2]);
                for i in 0..3 {
                    for j in 0..2 {
                        assert_eq!(
                            values[i * 2 + j],
                            net.affine2.w.view()[(i, j)],
                            "W2[{i}, {j}]"
                        );
                    }
                }
            }
            "b1" => {
                assert_eq!(shape, &[3]);
                assert_eq!(values, net.affine1.b.as_slice());
            }
            "b2" => {
                assert_eq!(shape, &[2]);
                assert_eq!(values, net.affine2.b.as_slice());
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn f32_networks_write_f32_tensors() {
    let net: Net32 = random_net(12);
    let tensors = tensors_of(&to_safetensors_bytes(&net).unwrap());
    assert!(tensors.iter().all(|t| t.1 == Dtype::F32));
    let w1 = &tensors[0];
    let first = f32::from_le_bytes(w1.3[4..8].try_into().unwrap());
    assert_eq!(first, net.affine1.w.view()[(0, 1)]);
}

#[test]
fn a_file_written_by_the_safetensors_crate_loads() {
    // W1 = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]] in NumPy's layout.
    let w1: Vec<f64> = (0..12).map(f64::from).collect();
    let bytes = crate_file(&[
        ("W1", Dtype::F64, vec![4, 3], f64_bytes(&w1)),
        ("b1", Dtype::F64, vec![3], f64_bytes(&[0.5, 1.5, 2.5])),
        (
            "W2",
            Dtype::F64,
            vec![3, 2],
            f64_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        ),
        ("b2", Dtype::F64, vec![2], f64_bytes(&[-1.0, -2.0])),
    ]);
    let mut net: Net64 = random_net(13);
    load_weights_from_bytes(&mut net, &bytes).unwrap();
    assert_eq!(net.affine1.w.view()[(2, 1)], 7.0);
    assert_eq!(net.affine1.w.view()[(3, 0)], 9.0);
    assert_eq!(net.affine2.w.view()[(2, 1)], 6.0);
    assert_eq!(net.affine1.b.as_slice(), &[0.5, 1.5, 2.5]);
    assert_eq!(net.affine2.b.as_slice(), &[-1.0, -2.0]);
}

// ---------------------------------------------------------------- the network's side

#[test]
fn missing_tensor() {
    let tensors: Vec<_> = tensors_of(&valid64())
        .into_iter()
        .filter(|t| t.0 != "W2")
        .collect();
    let err = rejects::<f64, Net64>(&rebuild(&tensors));
    assert!(
        matches!(&err, IoError::MissingTensor { name, .. } if name == "W2"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "`<memory>` has no tensor `W2`, which the network needs"
    );
}

#[test]
fn unexpected_extra_tensor() {
    let mut tensors = tensors_of(&valid64());
    tensors.push(("W3".into(), Dtype::F64, vec![2, 2], f64_bytes(&[1.0; 4])));
    let err = rejects::<f64, Net64>(&rebuild(&tensors));
    assert!(
        matches!(&err, IoError::UnexpectedTensor { name, .. } if name == "W3"),
        "{err:?}"
    );
}

#[test]
fn wrong_shape_names_both_shapes() {
    let mut tensors = tensors_of(&valid64());
    tensors[0] = ("W1".into(), Dtype::F64, vec![4, 4], f64_bytes(&[0.5; 16]));
    let err = rejects::<f64, Net64>(&rebuild(&tensors));
    assert!(
        matches!(&err, IoError::WrongShape { name, file_shape, net_shape, .. }
            if name == "W1" && file_shape == &[4, 4] && net_shape == &[4, 3]),
        "{err:?}"
    );
}

#[test]
fn wrong_shape_message_on_the_books_network() {
    // The book's TwoLayerNet(784, 50, 10), with a file whose W1 is [784, 60].
    type Book = TwoLayer<f32, 784, 50, 10>;
    let bytes = crate_file(&[
        (
            "W1",
            Dtype::F32,
            vec![784, 60],
            f32_bytes(&vec![0.0; 784 * 60]),
        ),
        ("b1", Dtype::F32, vec![50], f32_bytes(&[0.0; 50])),
        ("W2", Dtype::F32, vec![50, 10], f32_bytes(&[0.0; 500])),
        ("b2", Dtype::F32, vec![10], f32_bytes(&[0.0; 10])),
    ]);
    let err = rejects::<f32, Book>(&bytes);
    assert_eq!(
        err.to_string(),
        "`W1` has shape [784, 60] in the file `<memory>`, but the network's `W1` is [784, 50]"
    );
}

#[test]
fn transposed_weight_is_a_wrong_shape() {
    let mut tensors = tensors_of(&valid64());
    tensors[0].2 = vec![3, 4]; // same number of values
    let err = rejects::<f64, Net64>(&rebuild(&tensors));
    assert!(matches!(&err, IoError::WrongShape { file_shape, .. } if file_shape == &[3, 4]));
}

#[test]
fn bias_as_a_row_matrix_is_a_wrong_shape() {
    let mut tensors = tensors_of(&valid64());
    tensors[2].2 = vec![1, 3]; // b1
    let err = rejects::<f64, Net64>(&rebuild(&tensors));
    assert!(
        matches!(&err, IoError::WrongShape { name, file_shape, net_shape, .. }
            if name == "b1" && file_shape == &[1, 3] && net_shape == &[3]),
        "{err:?}"
    );
}

#[test]
fn f64_file_into_f32_network_is_refused() {
    let err = rejects::<f32, Net32>(&valid64());
    assert!(
        matches!(&err, IoError::WrongDtype { name, file_dtype, net_dtype: "f32", expected_dtype: "F32", .. }
            if name == "W1" && file_dtype == "F64"),
        "{err:?}"
    );
}

#[test]
fn f32_file_into_f64_network_is_refused() {
    let bytes = to_safetensors_bytes(&random_net::<f32, Net32>(1)).unwrap();
    let err = rejects::<f64, Net64>(&bytes);
    assert!(
        matches!(
            &err,
            IoError::WrongDtype {
                net_dtype: "f64",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn integer_and_half_dtypes_are_refused() {
    let mut tensors = tensors_of(&valid64());
    tensors[3] = ("b2".into(), Dtype::I64, vec![2], vec![0; 16]);
    let err = rejects::<f64, Net64>(&rebuild(&tensors));
    assert!(
        matches!(&err, IoError::WrongDtype { name, file_dtype, .. } if name == "b2" && file_dtype == "I64"),
        "{err:?}"
    );

    let mut tensors = tensors_of(&valid64());
    tensors[2] = ("b1".into(), Dtype::BF16, vec![3], vec![0; 6]);
    let err = rejects::<f64, Net64>(&rebuild(&tensors));
    assert!(matches!(&err, IoError::WrongDtype { file_dtype, .. } if file_dtype == "BF16"));
}

#[test]
fn nan_in_the_file_is_refused_with_its_position() {
    let mut tensors = tensors_of(&valid64());
    // W1[2, 1] in row-major order.
    let k = 2 * 3 + 1;
    tensors[0].3[8 * k..8 * k + 8].copy_from_slice(&f64::NAN.to_le_bytes());
    let err = rejects::<f64, Net64>(&rebuild(&tensors));
    assert!(
        matches!(&err, IoError::NonFinite { name, position, value, .. }
            if name == "W1" && position == &[2, 1] && value.is_nan()),
        "{err:?}"
    );
}

#[test]
fn infinity_in_the_file_is_refused() {
    let mut tensors = tensors_of(&to_safetensors_bytes(&random_net::<f32, Net32>(1)).unwrap());
    tensors[3].3[4..8].copy_from_slice(&f32::NEG_INFINITY.to_le_bytes()); // b2[1]
    let err = rejects::<f32, Net32>(&rebuild(&tensors));
    assert!(
        matches!(&err, IoError::NonFinite { name, position, value, .. }
            if name == "b2" && position == &[1] && *value == f64::NEG_INFINITY),
        "{err:?}"
    );
}

#[test]
fn saving_non_finite_weights_is_refused_and_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let good: Net64 = random_net(1);
    save_weights(&good, &path).unwrap();
    let before = std::fs::read(&path).unwrap();

    let mut bad = good.clone();
    bad.affine2.w.view_mut()[(1, 0)] = f64::INFINITY;
    let err = save_weights(&bad, &path).expect_err("must refuse");
    eprintln!("error: {err}");
    assert!(
        matches!(&err, IoError::NonFinite { name, position, .. } if name == "W2" && position == &[1, 0]),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(matches!(
        to_safetensors_bytes(&bad),
        Err(IoError::NonFinite { .. })
    ));
}

// ---------------------------------------------------------------- damaged files

#[test]
fn truncated_data() {
    let bytes = valid64();
    let err = rejects::<f64, Net64>(&bytes[..bytes.len() - 10]);
    assert!(matches!(err, IoError::Truncated { .. }), "{err:?}");
    if let IoError::Truncated {
        expected, actual, ..
    } = err
    {
        assert_eq!(expected, actual + 10);
    }
}

#[test]
fn truncated_inside_the_header() {
    let bytes = valid64();
    let problem = format_problem(&bytes[..20]);
    assert!(
        matches!(problem, FormatError::HeaderBeyondFile { available: 12, .. }),
        "{problem:?}"
    );
}

#[test]
fn trailing_bytes() {
    let mut bytes = valid64();
    bytes.extend_from_slice(&[0; 4]);
    let problem = format_problem(&bytes);
    assert!(
        matches!(problem, FormatError::TrailingBytes { .. }),
        "{problem:?}"
    );
}

#[test]
fn empty_file() {
    let problem = format_problem(&[]);
    assert!(matches!(problem, FormatError::Empty), "{problem:?}");
}

#[test]
fn shorter_than_the_length_prefix() {
    let problem = format_problem(b"abc");
    assert!(
        matches!(problem, FormatError::TooShort { len: 3 }),
        "{problem:?}"
    );
}

#[test]
fn garbage_text() {
    let problem = format_problem(b"hello, this is certainly not a tensor file\n");
    assert!(
        matches!(problem, FormatError::HeaderBeyondFile { .. }),
        "{problem:?}"
    );
}

#[test]
fn header_length_larger_than_the_file() {
    let mut bytes = 1000u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{}");
    let problem = format_problem(&bytes);
    assert!(
        matches!(
            problem,
            FormatError::HeaderBeyondFile {
                declared: 1000,
                available: 2,
                looks_like: None,
            }
        ),
        "{problem:?}"
    );
}

#[test]
fn header_length_of_u64_max() {
    let mut bytes = u64::MAX.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{}");
    let problem = format_problem(&bytes);
    assert!(
        matches!(problem, FormatError::HeaderBeyondFile { .. }),
        "{problem:?}"
    );
}

#[test]
fn a_png_image() {
    // The signature and IHDR chunk of a 1×1 PNG.
    let png: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0, b'I', b'E', b'N',
        b'D', 0xae, 0x42, 0x60, 0x82,
    ];
    let err = rejects::<f64, Net64>(png);
    assert!(
        matches!(
            err,
            IoError::NotSafetensors {
                problem: FormatError::HeaderBeyondFile {
                    looks_like: Some("a PNG image"),
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().ends_with("(it looks like a PNG image)"),
        "{err}"
    );
}

#[test]
fn other_known_formats_are_named() {
    let cases: [(&[u8], &str); 5] = [
        (b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}", "pickle"),
        (b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'}", "NumPy .npy"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "zip archive"),
        (
            b"\x00\x00\x08\x03\x00\x00\xea\x60\x00\x00\x00\x1c",
            "IDX file",
        ),
        (b"W1,b1,W2,b2\n0.1,0.2\n", "text"),
    ];
    for (bytes, kind) in cases {
        let err = rejects::<f64, Net64>(bytes);
        assert!(err.to_string().contains(kind), "{kind}: {err}");
    }
}

#[test]
fn header_not_utf8() {
    let mut bytes = 4u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, 0x7b, 0x7d]);
    let problem = format_problem(&bytes);
    assert!(matches!(problem, FormatError::HeaderNotUtf8), "{problem:?}");
}

#[test]
fn header_not_json() {
    let problem = format_problem(&frame("{not json at all", &[]));
    assert!(
        matches!(problem, FormatError::BadHeader { .. }),
        "{problem:?}"
    );
    let problem = format_problem(&frame("[1, 2, 3]", &[]));
    assert!(
        matches!(problem, FormatError::BadHeader { .. }),
        "{problem:?}"
    );
}

#[test]
fn header_with_unknown_dtype() {
    let header = r#"{"W1":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}"#;
    let problem = format_problem(&frame(header, &[0; 16]));
    assert!(
        matches!(problem, FormatError::BadHeader { .. }),
        "{problem:?}"
    );
}

#[test]
fn header_whose_offsets_do_not_match_the_shape() {
    let header = r#"{"b2":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}"#;
    let problem = format_problem(&frame(header, &[0; 8]));
    assert!(
        matches!(problem, FormatError::BadHeader { .. }),
        "{problem:?}"
    );
}

#[test]
fn header_with_overlapping_offsets() {
    let header = r#"{"b1":{"dtype":"F64","shape":[3],"data_offsets":[0,24]},"b2":{"dtype":"F64","shape":[2],"data_offsets":[8,24]}}"#;
    let problem = format_problem(&frame(header, &[0; 24]));
    assert!(
        matches!(problem, FormatError::BadHeader { .. }),
        "{problem:?}"
    );
}

#[test]
fn header_with_bad_metadata_map() {
    let header = r#"{"__metadata__":{"a":1}}"#;
    let problem = format_problem(&frame(header, &[]));
    assert!(
        matches!(problem, FormatError::BadHeader { .. }),
        "{problem:?}"
    );
}

#[test]
fn offsets_that_would_overflow_the_length_arithmetic() {
    // Eight u8 tensors of 2^61 - 1 bytes each end 8 bytes short of 2^64:
    // adding the 8-byte prefix and the header overflows a u64. This must be
    // an error, not an arithmetic-overflow panic.
    let size: u64 = (1 << 61) - 1;
    let entries: Vec<String> = (0..8u64)
        .map(|i| {
            format!(
                r#""t{i}":{{"dtype":"U8","shape":[{size}],"data_offsets":[{},{}]}}"#,
                i * size,
                (i + 1) * size
            )
        })
        .collect();
    let header = format!("{{{}}}", entries.join(","));
    let err = rejects::<f64, Net64>(&frame(&header, &[0; 16]));
    assert!(matches!(err, IoError::Truncated { .. }), "{err:?}");
}

#[test]
fn a_valid_safetensors_file_of_another_model() {
    let bytes = crate_file(&[(
        "embedding.weight",
        Dtype::F32,
        vec![2, 2],
        f32_bytes(&[0.0; 4]),
    )]);
    let err = rejects::<f64, Net64>(&bytes);
    assert!(
        matches!(&err, IoError::MissingTensor { name, .. } if name == "W1"),
        "{err:?}"
    );
}

// ---------------------------------------------------------------- paths

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.safetensors");
    let mut net: Net64 = random_net(1);
    let before = snapshot(&net);
    let err = load_weights(&mut net, &path).expect_err("no such file");
    eprintln!("error: {err}");
    assert!(
        matches!(&err, IoError::Read { path: p, .. } if p == &path),
        "{err:?}"
    );
    assert!(err.to_string().contains("nope.safetensors"));
    assert_eq!(snapshot(&net), before);
}

#[test]
fn a_directory_is_not_a_weights_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut net: Net64 = random_net(1);
    let err = load_weights(&mut net, dir.path()).expect_err("a directory");
    eprintln!("error: {err}");
    assert!(matches!(err, IoError::Read { .. }), "{err:?}");
}

#[cfg(unix)]
#[test]
fn a_device_is_not_a_weights_file() {
    // Reading /dev/zero whole would never end.
    let mut net: Net64 = random_net(1);
    let before = snapshot(&net);
    let err = load_weights(&mut net, Path::new("/dev/zero")).expect_err("a device");
    eprintln!("error: {err}");
    assert!(matches!(err, IoError::Read { .. }), "{err:?}");
    assert_eq!(snapshot(&net), before);
}

#[test]
fn a_large_file_that_is_not_safetensors_is_refused_from_its_first_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    let mut bytes = vec![0xAB; 1 << 20];
    bytes[..8].copy_from_slice(&(2u64 << 20).to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let mut net: Net64 = random_net(1);
    let err = load_weights(&mut net, &path).expect_err("not safetensors");
    eprintln!("error: {err}");
    assert!(
        matches!(err, IoError::NotSafetensors {
            problem: FormatError::HeaderBeyondFile { declared, available, .. }, .. }
            if declared == 2 << 20 && available == (1 << 20) - 8),
        "{err:?}"
    );
}

#[test]
fn errors_from_files_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.safetensors");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\n").unwrap();
    let mut net: Net64 = random_net(1);
    let err = load_weights(&mut net, &path).expect_err("a PNG signature");
    eprintln!("error: {err}");
    assert!(matches!(&err, IoError::NotSafetensors { path: p, .. } if p == &path));
    assert!(err.to_string().contains("image.safetensors"), "{err}");
}

#[test]
fn saving_into_a_missing_directory_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no").join("such").join("net.safetensors");
    let err = save_weights(&random_net::<f64, Net64>(1), &path).expect_err("no directory");
    eprintln!("error: {err}");
    assert!(
        matches!(&err, IoError::Write { path: p, .. } if p == &path),
        "{err:?}"
    );
}

#[test]
fn saving_to_an_empty_path_fails() {
    let err = save_weights(&random_net::<f64, Net64>(1), Path::new("")).expect_err("no name");
    eprintln!("error: {err}");
    assert!(matches!(err, IoError::Write { .. }), "{err:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn stale_temporary_files_of_dead_processes_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    // A pid above the kernel's maximum (2^22) belongs to no process.
    let dead = dir.path().join(".net.safetensors.tmp-4000000000-0");
    std::fs::write(&dead, b"torn").unwrap();
    // One with this process's pid may be in use by another thread: kept.
    let own = dir.path().join(format!(
        ".net.safetensors.tmp-{}-999999",
        std::process::id()
    ));
    std::fs::write(&own, b"busy").unwrap();
    // Another file's temporary files are none of this save's business.
    let other = dir.path().join(".other.safetensors.tmp-4000000000-0");
    std::fs::write(&other, b"other").unwrap();

    let net: Net64 = random_net(1);
    save_weights(&net, &path).unwrap();
    assert!(!dead.exists());
    assert!(own.exists());
    assert!(other.exists());
    let mut loaded: Net64 = random_net(2);
    load_weights(&mut loaded, &path).unwrap();
    assert_eq!(snapshot(&loaded), snapshot(&net));
}
