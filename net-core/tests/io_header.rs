//! The header's digest and repeated keys: a header changed after the file
//! was saved (tensors' offsets swapped, a shape rewritten, a tensor
//! renamed, a metadata entry edited) is refused although the tensor data
//! are untouched; a header that repeats a key is refused, naming it; files
//! written before the header digest was recorded load as they did.

mod common;

use common::{Net64, TwoLayer, frame, random_net, snapshot};
use net_core::io::{
    CheckpointMeta, FormatError, IoError, checkpoint_to_bytes, load_checkpoint_from_bytes,
    load_weights_from_bytes, tensor_shapes, to_safetensors_bytes,
};
use net_core::{Network, ParamShape, Scalar};
use serde_json::{Map, Value, json};

/// A network whose two weights have the same shape, and so do its biases.
type Square = TwoLayer<f64, 3, 3, 3>;
/// The book's network, in f32.
type Book = TwoLayer<f32, 784, 50, 10>;

const META: CheckpointMeta<'static> = CheckpointMeta {
    iteration: 1234,
    seed: 42,
    optimizer: "momentum",
    dataset: Some("mnist"),
    settings: None,
    evaluation: None,
};

/// The header of a file as a JSON object, and the tensor data after it.
fn split(bytes: &[u8]) -> (Map<String, Value>, Vec<u8>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (header, bytes[8 + n..].to_vec())
}

/// The file of `header` and `data`.
fn join(header: &Map<String, Value>, data: &[u8]) -> Vec<u8> {
    frame(&serde_json::to_string(header).unwrap(), data)
}

/// `bytes` with its header changed by `edit`, the data untouched.
fn edited(bytes: &[u8], edit: impl FnOnce(&mut Map<String, Value>)) -> Vec<u8> {
    let (mut header, data) = split(bytes);
    edit(&mut header);
    join(&header, &data)
}

/// The `__metadata__` map of a header.
fn metadata(header: &mut Map<String, Value>) -> &mut Map<String, Value> {
    header["__metadata__"].as_object_mut().unwrap()
}

/// `bytes` as the code before the header digest wrote it: the same header
/// without `header_sha256`.
fn as_written_before(bytes: &[u8]) -> Vec<u8> {
    edited(bytes, |header| {
        assert!(metadata(header).remove("header_sha256").is_some());
    })
}

/// Loading `bytes` as weights into a random `N` fails and leaves it as it
/// was; the error is returned.
fn rejects<T: Scalar, N: Network<T>>(bytes: &[u8]) -> IoError {
    let mut net: N = random_net(99);
    let before = snapshot(&net);
    let err = load_weights_from_bytes(&mut net, bytes).expect_err("the load must fail");
    assert_eq!(snapshot(&net), before, "a failed load changed the network");
    eprintln!("error: {err}");
    err
}

fn is_header_changed(err: &IoError) -> bool {
    matches!(err, IoError::HeaderDigestMismatch { path, recorded, actual }
        if path.to_str() == Some("<memory>") && recorded.len() == 64 && actual.len() == 64
            && recorded != actual)
}

/// Swaps the `data_offsets` of two tensors of a header.
fn swap_offsets(header: &mut Map<String, Value>, a: &str, b: &str) {
    let offsets_a = header[a]["data_offsets"].take();
    let offsets_b = std::mem::replace(&mut header[b]["data_offsets"], offsets_a);
    header[a]["data_offsets"] = offsets_b;
}

/// The problem of a refused header, which must be a repeated key.
fn bad_header(bytes: &[u8]) -> String {
    match rejects::<f64, Net64>(bytes) {
        IoError::NotSafetensors {
            problem: FormatError::BadHeader { detail },
            ..
        } => detail,
        other => panic!("not a bad header: {other:?}"),
    }
}

// ------------------------------------------------------------ what is saved

#[test]
fn both_digests_are_recorded_and_the_bytes_are_deterministic() {
    let net: Net64 = random_net(1);
    let bytes = to_safetensors_bytes(&net).unwrap();
    assert_eq!(bytes, to_safetensors_bytes(&net).unwrap());
    let (mut header, _) = split(&bytes);
    let meta = metadata(&mut header);
    for key in ["sha256", "header_sha256"] {
        let digest = meta[key].as_str().unwrap();
        assert_eq!(digest.len(), 64, "{key}");
        assert!(
            digest
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
    assert_ne!(meta["sha256"], meta["header_sha256"]);
}

#[test]
fn the_json_text_may_change_as_long_as_what_it_says_does_not() {
    // Spacing and key order are not covered: a tool that pretty-prints the
    // header keeps a loadable file.
    let net: Net64 = random_net(1);
    let bytes = to_safetensors_bytes(&net).unwrap();
    let (header, data) = split(&bytes);
    let pretty = frame(&serde_json::to_string_pretty(&header).unwrap(), &data);
    let mut loaded: Net64 = random_net(99);
    load_weights_from_bytes(&mut loaded, &pretty).unwrap();
    assert_eq!(snapshot(&loaded), snapshot(&net));
}

// --------------------------------------------------- headers changed since

#[test]
fn swapped_offsets_of_two_tensors_of_one_size_are_refused() {
    let net: Square = random_net(1);
    let bytes = to_safetensors_bytes(&net).unwrap();
    for (a, b) in [("W1", "W2"), ("b1", "b2")] {
        let swapped = edited(&bytes, |h| swap_offsets(h, a, b));
        // The data digest still matches: the data did not move.
        assert!(
            is_header_changed(&rejects::<f64, Square>(&swapped)),
            "{a} ↔ {b}"
        );

        // What the header digest prevents: a file of before loads W2's
        // values into W1 without a word.
        let old = edited(&as_written_before(&bytes), |h| swap_offsets(h, a, b));
        let mut loaded: Square = random_net(99);
        load_weights_from_bytes(&mut loaded, &old).unwrap();
        assert_ne!(snapshot(&loaded), snapshot(&net));
    }
}

#[test]
fn a_shape_rewritten_with_the_data_untouched_is_refused() {
    let net: Book = random_net(1);
    let bytes = to_safetensors_bytes(&net).unwrap();
    let reshaped = edited(&bytes, |h| {
        assert_eq!(h["W1"]["shape"], json!([784, 50]));
        h["W1"]["shape"] = json!([50, 784]);
    });
    assert!(is_header_changed(&rejects::<f32, Book>(&reshaped)));

    // Reading the shapes alone (to pick a network's widths) checks it too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reshaped.safetensors");
    std::fs::write(&path, &reshaped).unwrap();
    let err = tensor_shapes(&path).unwrap_err();
    assert!(
        matches!(&err, IoError::HeaderDigestMismatch { path: p, .. } if p == &path),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("the header was changed after it was saved")
            && message.contains("reshaped.safetensors"),
        "{message}"
    );

    // Another dtype of the same width is a change of the header too.
    let retyped = edited(&bytes, |h| h["b1"]["dtype"] = json!("I32"));
    assert!(is_header_changed(&rejects::<f32, Book>(&retyped)));
}

#[test]
fn a_renamed_tensor_is_refused() {
    let net: Square = random_net(1);
    let bytes = to_safetensors_bytes(&net).unwrap();
    // W1 and W2 trade names: the network would take each for the other.
    let traded = edited(&bytes, |h| {
        let w1 = h.remove("W1").unwrap();
        let w2 = h.insert("W2".to_owned(), w1).unwrap();
        h.insert("W1".to_owned(), w2);
    });
    assert!(is_header_changed(&rejects::<f64, Square>(&traded)));

    // A state tensor of a checkpoint given another state's name.
    let v = [0.25, -0.5, 1.0];
    let state = [("optimizer.v.b1", ParamShape::Vector(3), &v[..])];
    let ckpt = checkpoint_to_bytes(&net, &META, &state).unwrap();
    let renamed = edited(&ckpt, |h| {
        let entry = h.remove("optimizer.v.b1").unwrap();
        h.insert("optimizer.m.b1".to_owned(), entry);
    });
    let mut loaded: Square = random_net(99);
    let err = load_checkpoint_from_bytes(&mut loaded, &renamed).unwrap_err();
    assert!(is_header_changed(&err), "{err:?}");
}

/// A change to a metadata map.
type Edit = fn(&mut Map<String, Value>);

#[test]
fn edited_metadata_is_refused() {
    let net: Net64 = random_net(1);
    let ckpt = checkpoint_to_bytes(&net, &META, &[]).unwrap();
    let edits: [(&str, Edit); 4] = [
        ("iteration", |m| {
            m.insert("iteration".into(), json!("999999"));
        }),
        ("an entry added", |m| {
            m.insert("note".into(), json!("hello"));
        }),
        ("dataset removed", |m| {
            m.remove("dataset");
        }),
        // The data digest removed, the header one kept: not a file of before.
        ("data digest removed", |m| {
            m.remove("sha256");
        }),
    ];
    for (what, edit) in edits {
        let bytes = edited(&ckpt, |h| edit(metadata(h)));
        let mut loaded: Net64 = random_net(99);
        let before = snapshot(&loaded);
        let err = load_checkpoint_from_bytes(&mut loaded, &bytes).unwrap_err();
        assert!(is_header_changed(&err), "{what}: {err:?}");
        assert_eq!(snapshot(&loaded), before);
    }
}

#[test]
fn changed_data_are_still_reported_as_such() {
    // Data changed: the data digest speaks first, as before.
    let mut bytes = to_safetensors_bytes(&random_net::<f64, Net64>(1)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    assert!(matches!(
        rejects::<f64, Net64>(&bytes),
        IoError::DigestMismatch { .. }
    ));
}

// ------------------------------------------------------------ repeated keys

/// A header of `Net64` written by hand, with `extra` entries after the
/// real ones (JSON object members, text), and its data.
fn with_extra_entries(extra: &str) -> Vec<u8> {
    let bytes = as_written_before(&to_safetensors_bytes(&random_net::<f64, Net64>(1)).unwrap());
    let (header, data) = split(&bytes);
    let text = serde_json::to_string(&header).unwrap();
    let text = format!("{},{extra}}}", text.strip_suffix('}').unwrap());
    frame(&text, &data)
}

#[test]
fn a_tensor_named_twice_is_refused_naming_it() {
    let (header, _) = split(&to_safetensors_bytes(&random_net::<f64, Net64>(1)).unwrap());
    // b1 again, with W1's place: the parser alone would keep the last.
    let w1 = serde_json::to_string(&header["W1"]).unwrap();
    let detail = bad_header(&with_extra_entries(&format!("\"b1\":{w1}")));
    assert_eq!(detail, "it names the tensor `b1` twice");
    let err = rejects::<f64, Net64>(&with_extra_entries(&format!("\"b1\":{w1}")));
    assert!(err.to_string().contains("`b1` twice"), "{err}");

    // The same name spelled with an escape is the same name.
    let detail = bad_header(&with_extra_entries(&format!("\"\\u0057\\u0031\":{w1}")));
    assert_eq!(detail, "it names the tensor `W1` twice");
}

#[test]
fn other_repeated_keys_are_refused_naming_them() {
    let (header, _) = split(&to_safetensors_bytes(&random_net::<f64, Net64>(1)).unwrap());
    let data = split(&to_safetensors_bytes(&random_net::<f64, Net64>(1)).unwrap()).1;
    let body = |header: &Map<String, Value>| {
        let text = serde_json::to_string(header).unwrap();
        text.strip_prefix('{').unwrap().to_owned()
    };

    // A metadata entry twice: the first `sha256` would be ignored.
    let mut meta = header["__metadata__"].as_object().unwrap().clone();
    let sha = meta.remove("sha256").unwrap();
    let mut rest = header.clone();
    rest.remove("__metadata__");
    let text = format!(
        "{{\"__metadata__\":{{\"sha256\":\"{}\",\"sha256\":{sha}}},{}",
        "0".repeat(64),
        body(&rest)
    );
    assert_eq!(
        bad_header(&frame(&text, &data)),
        "its metadata entry `sha256` appears twice"
    );

    // A field of a tensor's entry twice.
    let mut rest = header.clone();
    let w1 = rest.remove("W1").unwrap();
    let text = format!(
        "{{\"W1\":{{\"shape\":[3,4],{},{}",
        serde_json::to_string(&w1)
            .unwrap()
            .strip_prefix('{')
            .unwrap(),
        body(&rest)
    );
    let detail = bad_header(&frame(&text, &data));
    assert!(detail.contains("`shape`"), "{detail}");
}

#[test]
fn equal_keys_in_different_objects_are_not_repeats() {
    // Every tensor's entry has its own `dtype`, `shape` and `data_offsets`,
    // and a metadata entry may share a tensor's name.
    let net: Net64 = random_net(1);
    let bytes = as_written_before(&to_safetensors_bytes(&net).unwrap());
    let bytes = edited(&bytes, |h| {
        metadata(h).insert("W1".into(), json!("a note"));
    });
    let mut loaded: Net64 = random_net(99);
    load_weights_from_bytes(&mut loaded, &bytes).unwrap();
    assert_eq!(snapshot(&loaded), snapshot(&net));
}

// ----------------------------------------------------------- files of before

#[test]
fn files_written_before_the_header_digest_load_as_they_did() {
    let net: Net64 = random_net(1);
    let old = as_written_before(&to_safetensors_bytes(&net).unwrap());
    let mut loaded: Net64 = random_net(99);
    load_weights_from_bytes(&mut loaded, &old).unwrap();
    assert_eq!(snapshot(&loaded), snapshot(&net));

    // Their data digest is checked as before.
    let mut damaged = old.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    assert!(matches!(
        rejects::<f64, Net64>(&damaged),
        IoError::DigestMismatch { .. }
    ));

    // A version-1 checkpoint of before, with optimizer state.
    let v = [0.25, -0.5, 1.0];
    let state = [("optimizer.v.b1", ParamShape::Vector(3), &v[..])];
    let old = as_written_before(&checkpoint_to_bytes(&net, &META, &state).unwrap());
    let mut loaded: Net64 = random_net(99);
    let ckpt = load_checkpoint_from_bytes(&mut loaded, &old).unwrap();
    assert_eq!(snapshot(&loaded), snapshot(&net));
    assert_eq!(ckpt.meta(), META);
    assert_eq!(ckpt.state_tensor("optimizer.v.b1").unwrap().values, v);
}

#[test]
fn a_file_of_before_built_by_hand_loads() {
    // A file as the code before wrote it, spelt out: the data digest alone
    // in the metadata.
    let net: Net64 = random_net(3);
    let mut data = Vec::new();
    let mut entries = Vec::new();
    let mut values = Vec::new();
    net.visit_params(&mut |p| values.push((p.name.to_string(), p.shape, p.value.to_vec())));
    for (name, shape, column_major) in &values {
        let start = data.len();
        let dims = shape.dims();
        let (rows, cols) = match *shape {
            ParamShape::Matrix { rows, cols } => (rows, cols),
            _ => (1, shape.len()),
        };
        for i in 0..rows {
            for j in 0..cols {
                data.extend_from_slice(&column_major[j * rows + i].to_le_bytes());
            }
        }
        entries.push((name.clone(), dims, start, data.len()));
    }
    entries.sort();
    let sha = {
        use sha2::Digest;
        sha2::Sha256::digest(&data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut header = format!("{{\"__metadata__\":{{\"sha256\":\"{sha}\"}}");
    for (name, dims, start, end) in &entries {
        header += &format!(
            ",\"{name}\":{{\"data_offsets\":[{start},{end}],\"dtype\":\"F64\",\"shape\":{dims:?}}}"
        );
    }
    header.push('}');
    let padded = format!("{header:<width$}", width = header.len().next_multiple_of(8));
    let bytes = frame(&padded, &data);
    let mut loaded: Net64 = random_net(99);
    load_weights_from_bytes(&mut loaded, &bytes).unwrap();
    assert_eq!(snapshot(&loaded), snapshot(&net));
}
