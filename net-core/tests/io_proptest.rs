//! Random damage to valid files: the loaders never panic, and a network is
//! either loaded in full (exactly as the damaged file says) or untouched.

mod common;

use common::{Net64, random_net, snapshot};
use net_core::io::{
    CheckpointMeta, checkpoint_to_bytes, load_checkpoint_from_bytes, load_weights_from_bytes,
    to_safetensors_bytes,
};
use net_core::{Network, ParamShape};
use proptest::prelude::*;
use safetensors::SafeTensors;

fn weights() -> Vec<u8> {
    to_safetensors_bytes(&random_net::<f64, Net64>(1)).unwrap()
}

/// `bytes` as a file without digests (one written before digests were, or
/// by another tool): the same bytes with the metadata keys of the data's
/// digest and of the header's renamed, so that a changed value reaches the
/// checks of the values themselves.
fn without_digest(mut bytes: Vec<u8>) -> Vec<u8> {
    let end = header_end(&bytes);
    for (key, renamed) in [
        (&b"\"sha256\""[..], &b"\"digest\""[..]),
        (b"\"header_sha256\"", b"\"header_digest\""),
    ] {
        let at = bytes[..end]
            .windows(key.len())
            .position(|w| w == key)
            .expect("staticnet's files record both digests");
        bytes[at..at + key.len()].copy_from_slice(renamed);
    }
    bytes
}

fn checkpoint() -> Vec<u8> {
    let net: Net64 = random_net(1);
    let v = [0.25, -0.5, 1.0];
    let meta = CheckpointMeta {
        iteration: 77,
        seed: 3,
        optimizer: "momentum",
        dataset: None,
        settings: None,
        evaluation: None,
    };
    checkpoint_to_bytes(
        &net,
        &meta,
        &[("optimizer.v.b1", ParamShape::Vector(3), &v)],
    )
    .unwrap()
}

/// The length of the header (with its 8-byte prefix) of a valid file.
fn header_end(bytes: &[u8]) -> usize {
    8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
}

/// One change to a file.
#[derive(Clone, Debug)]
enum Damage {
    /// Sets a byte anywhere (the position is taken modulo the length).
    Set(usize, u8),
    /// Sets a byte of the header to a character that means something in
    /// JSON or a number.
    SetHeader(usize, u8),
    /// Cuts the file at this position.
    Truncate(usize),
    /// Inserts a byte.
    Insert(usize, u8),
    /// Removes a byte.
    Remove(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    let json = prop::sample::select(b"0123456789[]{}\",:-.eE FU_ ".to_vec());
    prop_oneof![
        3 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Damage::Set(i, b)),
        3 => (any::<usize>(), json).prop_map(|(i, b)| Damage::SetHeader(i, b)),
        1 => any::<usize>().prop_map(Damage::Truncate),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Damage::Insert(i, b)),
        1 => any::<usize>().prop_map(Damage::Remove),
    ]
}

fn apply(mut bytes: Vec<u8>, damages: &[Damage]) -> Vec<u8> {
    let header = header_end(&bytes);
    for d in damages {
        let len = bytes.len().max(1);
        match *d {
            Damage::Set(i, b) => {
                if let Some(x) = bytes.get_mut(i % len) {
                    *x = b;
                }
            }
            Damage::SetHeader(i, b) => {
                let end = header.min(bytes.len()).max(1);
                if let Some(x) = bytes.get_mut(i % end) {
                    *x = b;
                }
            }
            Damage::Truncate(i) => bytes.truncate(i % len),
            Damage::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Damage::Remove(i) => {
                if !bytes.is_empty() {
                    bytes.remove(i % len);
                }
            }
        }
    }
    bytes
}

/// What the `safetensors` crate reads in a file the loader accepted, as
/// the network would hold it (column-major bit patterns), by name.
fn expected_from_crate(bytes: &[u8], net: &Net64) -> Vec<(String, Vec<u64>)> {
    let file = SafeTensors::deserialize(bytes).expect("the loader accepted it");
    let mut out = Vec::new();
    net.visit_params(&mut |p| {
        let name = p.name.to_string();
        let t = file
            .tensor(&name)
            .expect("accepted files have every tensor");
        let row_major: Vec<u64> = t
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()).to_bits())
            .collect();
        let values = match p.shape {
            ParamShape::Vector(_) | ParamShape::Filters { .. } => row_major,
            ParamShape::Matrix { rows, cols } => (0..rows * cols)
                .map(|k| row_major[(k % rows) * cols + k / rows])
                .collect(),
        };
        out.push((name, values));
    });
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn damaged_weights_never_panic_nor_load_partly(
        damages in prop::collection::vec(damage(), 1..6)
    ) {
        let bytes = apply(weights(), &damages);
        let mut net: Net64 = random_net(99);
        let before = snapshot(&net);
        match load_weights_from_bytes(&mut net, &bytes) {
            Err(_) => prop_assert_eq!(snapshot(&net), before),
            Ok(_) => prop_assert_eq!(snapshot(&net), expected_from_crate(&bytes, &net)),
        }
    }

    #[test]
    fn damaged_checkpoints_never_panic_nor_load_partly(
        damages in prop::collection::vec(damage(), 1..6)
    ) {
        let bytes = apply(checkpoint(), &damages);
        let mut net: Net64 = random_net(99);
        let before = snapshot(&net);
        match load_checkpoint_from_bytes(&mut net, &bytes) {
            Err(_) => prop_assert_eq!(snapshot(&net), before),
            Ok(ckpt) => {
                prop_assert_eq!(snapshot(&net), expected_from_crate(&bytes, &net));
                prop_assert!(ckpt.state.iter().all(|s| s.values.iter().all(|v| v.is_finite())));
            }
        }
    }

    /// Damage to the values only: a non-finite value anywhere (even in the
    /// last tensor) must leave every parameter untouched; finite values
    /// load in full.
    #[test]
    fn damaged_values_load_all_or_nothing(
        changes in prop::collection::vec(
            (any::<usize>(), prop_oneof![
                any::<u64>(),
                Just(f64::NAN.to_bits()),
                Just(f64::INFINITY.to_bits()),
                Just(f64::NEG_INFINITY.to_bits()),
            ]),
            1..4,
        )
    ) {
        let mut bytes = without_digest(weights());
        let data = header_end(&bytes);
        let values = (bytes.len() - data) / 8;
        for (i, bits) in &changes {
            let at = data + 8 * (i % values);
            bytes[at..at + 8].copy_from_slice(&bits.to_le_bytes());
        }
        let finite = bytes[data..]
            .chunks_exact(8)
            .all(|c| f64::from_le_bytes(c.try_into().unwrap()).is_finite());
        let mut net: Net64 = random_net(99);
        let before = snapshot(&net);
        match load_weights_from_bytes(&mut net, &bytes) {
            Err(_) => {
                prop_assert!(!finite);
                prop_assert_eq!(snapshot(&net), before);
            }
            Ok(_) => {
                prop_assert!(finite);
                prop_assert_eq!(snapshot(&net), expected_from_crate(&bytes, &net));
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut net: Net64 = random_net(99);
        let before = snapshot(&net);
        prop_assert!(load_weights_from_bytes(&mut net, &bytes).is_err());
        prop_assert!(load_checkpoint_from_bytes(&mut net, &bytes).is_err());
        prop_assert_eq!(snapshot(&net), before);
    }

    #[test]
    fn random_headers_never_panic(header in "[ -~]{0,200}", data in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&data);
        let mut net: Net64 = random_net(99);
        let before = snapshot(&net);
        prop_assert!(load_weights_from_bytes(&mut net, &bytes).is_err());
        prop_assert_eq!(snapshot(&net), before);
    }
}

/// The mutations do reach the loader's success path: a byte of a weight
/// changed to another finite value loads, and the network then holds the
/// new value.
#[test]
fn a_changed_value_loads_in_full() {
    let mut bytes = without_digest(weights());
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01; // the sign-and-exponent byte of the last b2 value, still finite
    let mut net: Net64 = random_net(99);
    load_weights_from_bytes(&mut net, &bytes).unwrap();
    assert_eq!(snapshot(&net), expected_from_crate(&bytes, &net));
    assert_ne!(snapshot(&net), snapshot(&random_net::<f64, Net64>(1)));
}

/// With its digest, a file whose tensor data changed by one bit, to a value
/// just as finite, is refused as damaged, naming the file, and the network
/// is left as it was.
#[test]
fn a_changed_value_is_caught_by_the_digest() {
    let mut bytes = weights();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let mut net: Net64 = random_net(99);
    let before = snapshot(&net);
    let err = load_weights_from_bytes(&mut net, &bytes).unwrap_err();
    assert!(
        matches!(err, net_core::io::IoError::DigestMismatch { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("is damaged"), "{err}");
    assert_eq!(snapshot(&net), before);
    let mut ckpt = checkpoint();
    let at = header_end(&ckpt) + 3;
    ckpt[at] ^= 0x10;
    let err = load_checkpoint_from_bytes(&mut net, &ckpt).unwrap_err();
    assert!(
        matches!(err, net_core::io::IoError::DigestMismatch { .. }),
        "{err:?}"
    );
    assert_eq!(snapshot(&net), before);
}
