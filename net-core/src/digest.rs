//! SHA-256 in lowercase hex: of downloaded files, dataset files, and the
//! tensor data of weight files and checkpoints.

use sha2::{Digest, Sha256};

/// Lowercase hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// The SHA-256 of `chunks`, one after the other, in lowercase hex.
pub(crate) fn sha256_hex<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    for chunk in chunks {
        hasher.update(chunk);
    }
    to_hex(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_sha() {
        assert_eq!(to_hex(&[0x00, 0xab, 0x0f]), "00ab0f");
        // FIPS 180-2's example, whole and in pieces.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex([&b"abc"[..]]), abc);
        assert_eq!(sha256_hex([&b"a"[..], b"", b"bc"]), abc);
    }
}
