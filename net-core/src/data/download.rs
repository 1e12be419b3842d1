//! Downloading the dataset files (cargo feature `download`).
//!
//! Each file is streamed from the first mirror that serves it into a
//! temporary file in the destination directory, its SHA-256 is checked, the
//! temporary file is flushed to disk (`fsync`) and renamed into place, so a
//! file under its canonical name is always complete and verified. A mirror
//! that fails (connection error, HTTP error, a body larger than the known
//! size, or a checksum mismatch) is reported through the progress callback
//! and the next one is tried; the library itself never prints.
//!
//! HTTPS uses rustls with the Mozilla roots compiled in (no OpenSSL, no
//! system certificates needed).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::dataset::{Dataset, FILE_STEMS, FileSpec, check_data_dir, locate_file, resolve_mirrors};
use super::{DataError, MissingFiles};

/// What a download is doing, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownloadEvent<'a> {
    /// The file is already in the directory (gzip or raw): nothing to do.
    Present {
        /// The canonical file name.
        file: &'a str,
        /// Where it is.
        path: &'a Path,
    },
    /// A mirror answered and the body starts.
    Started {
        /// The file name.
        file: &'a str,
        /// The URL it comes from.
        url: &'a str,
        /// Its size, from `Content-Length` or else the known size.
        total: Option<u64>,
    },
    /// More bytes arrived.
    Progress {
        /// The file name.
        file: &'a str,
        /// The bytes received so far.
        bytes: u64,
        /// The total size, when known.
        total: Option<u64>,
    },
    /// A mirror failed; the next one will be tried.
    MirrorFailed {
        /// The file name.
        file: &'a str,
        /// The URL that failed.
        url: &'a str,
        /// Why.
        reason: &'a str,
    },
    /// The file was verified and moved into place.
    Finished {
        /// The file name.
        file: &'a str,
        /// Where it is now.
        path: &'a Path,
        /// Its size.
        bytes: u64,
    },
}

/// How long to wait for a connection to a mirror.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a read may stall before the mirror is given up.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// How often (in bytes) progress is reported.
const CHUNK: usize = 64 * 1024;

/// Makes sure the four files of `dataset` are in `dir` (each either as
/// `.gz` or raw, as [`load_mnist`](super::load_mnist) accepts them),
/// downloading the missing ones; files already present are left alone and
/// not verified (they are validated when loaded).
///
/// `mirrors` are base URLs (the `--mirror` arguments); when empty, the
/// comma-separated `$STATICNET_MIRROR`, else [`Dataset::default_mirrors`]
/// (see [`resolve_mirrors`]). `dir` is created if needed.
///
/// # Errors
/// [`DataError::Missing`] when a file could not be had from any mirror: its
/// message lists the files still missing, the directory, each failed
/// attempt and how to get the files by hand; [`DataError::ChecksumMismatch`]
/// when mirrors served a file with another SHA-256 (and none served the
/// right one); [`DataError::Io`] when the directory or a file in it cannot
/// be written; [`DataError::NotADirectory`] or [`DataError::UnreadableDir`]
/// before any download when `dir` is a file or cannot be read (see
/// [`check_data_dir`]).
pub fn ensure_downloaded(
    dir: &Path,
    dataset: Dataset,
    mirrors: &[String],
    progress: &mut dyn FnMut(DownloadEvent<'_>),
) -> Result<(), DataError> {
    let mirrors = resolve_mirrors(mirrors, dataset);
    // Nothing is downloaded into a directory that cannot be read, nor
    // beside a file that stands where the directory should be.
    check_data_dir(dir)?;
    let mut missing = Vec::new();
    for (spec, stem) in dataset.files().iter().zip(FILE_STEMS) {
        match locate_file(dir, stem)? {
            Some(path) => progress(DownloadEvent::Present {
                file: spec.name,
                path: &path,
            }),
            None => missing.push(spec),
        }
    }
    for (k, spec) in missing.iter().enumerate() {
        match download_file(&mirrors, spec, dir, progress) {
            Ok(_) => {}
            Err(DataError::Missing(mut m)) => {
                m.dataset = Some(dataset);
                m.missing = missing.iter().skip(k).map(|s| s.name.to_owned()).collect();
                return Err(DataError::Missing(m));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Downloads one file into `dest_dir` (created if needed), trying each
/// mirror in order (URL = mirror + `file.name`; a `/` is added to a mirror
/// lacking one), and returns its path.
///
/// The body is streamed into a temporary file `.<name>.<pid>.<n>.part` in
/// `dest_dir` while its SHA-256 is computed; when it matches `file.sha256`
/// the temporary file is synced and renamed to `<name>`, replacing any file
/// of that name. Otherwise it is removed and the next mirror is tried.
///
/// # Errors
/// [`DataError::ChecksumMismatch`] when a mirror served different content
/// and no mirror served the right one; [`DataError::Missing`] when every
/// mirror failed otherwise (or `mirrors` is empty); [`DataError::Io`] when
/// `dest_dir` cannot be written, or `file.name` is not a plain file name;
/// [`DataError::NotADirectory`] when `dest_dir` is a file, and
/// [`DataError::UnreadableDir`] when it cannot be read.
pub fn download_file(
    mirrors: &[String],
    file: &FileSpec<'_>,
    dest_dir: &Path,
    progress: &mut dyn FnMut(DownloadEvent<'_>),
) -> Result<PathBuf, DataError> {
    let dest = dest_dir.join(file.name);
    if !is_plain_file_name(file.name) {
        return Err(DataError::Io {
            path: dest,
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a plain file name"),
        });
    }
    check_data_dir(dest_dir)?;
    fs::create_dir_all(dest_dir).map_err(|source| DataError::Io {
        path: dest_dir.to_path_buf(),
        source,
    })?;
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .build();

    let mut attempts = Vec::new();
    let mut first_mismatch = None;
    for mirror in mirrors {
        let url = if mirror.ends_with('/') {
            format!("{mirror}{}", file.name)
        } else {
            format!("{mirror}/{}", file.name)
        };
        let reason = match try_mirror(&agent, &url, file, dest_dir, &dest, progress) {
            Ok(bytes) => {
                progress(DownloadEvent::Finished {
                    file: file.name,
                    path: &dest,
                    bytes,
                });
                return Ok(dest);
            }
            Err(Attempt::Fatal(e)) => return Err(e),
            Err(Attempt::Failed(reason)) => reason,
            Err(Attempt::Mismatch { actual }) => {
                let reason = format!(
                    "checksum mismatch: expected SHA-256 {}, got {actual}",
                    file.sha256.to_ascii_lowercase()
                );
                first_mismatch.get_or_insert(DataError::ChecksumMismatch {
                    file: file.name.to_owned(),
                    url: url.clone(),
                    expected: file.sha256.to_ascii_lowercase(),
                    actual,
                });
                reason
            }
        };
        progress(DownloadEvent::MirrorFailed {
            file: file.name,
            url: &url,
            reason: &reason,
        });
        attempts.push(format!("{url}: {reason}"));
    }
    if let Some(mismatch) = first_mismatch {
        return Err(mismatch);
    }
    Err(DataError::Missing(Box::new(MissingFiles {
        dataset: None,
        dir: dest_dir.to_path_buf(),
        missing: vec![file.name.to_owned()],
        mirrors: mirrors.to_vec(),
        attempts,
    })))
}

/// Why one mirror did not deliver.
enum Attempt {
    /// The mirror failed: try the next one.
    Failed(String),
    /// The mirror served other content: try the next one.
    Mismatch { actual: String },
    /// A local error (the directory cannot be written): give up.
    Fatal(DataError),
}

fn try_mirror(
    agent: &ureq::Agent,
    url: &str,
    file: &FileSpec<'_>,
    dest_dir: &Path,
    dest: &Path,
    progress: &mut dyn FnMut(DownloadEvent<'_>),
) -> Result<u64, Attempt> {
    let response = match agent.get(url).call() {
        Ok(response) => response,
        Err(ureq::Error::Status(code, response)) => {
            return Err(Attempt::Failed(format!(
                "HTTP {code} {}",
                response.status_text()
            )));
        }
        Err(e) => return Err(Attempt::Failed(e.to_string())),
    };
    let total = response
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .or(file.size);
    if let (Some(size), Some(announced)) = (file.size, total) {
        if announced > size {
            return Err(Attempt::Failed(format!(
                "announces {announced} bytes, expected {size}"
            )));
        }
    }
    progress(DownloadEvent::Started {
        file: file.name,
        url,
        total,
    });

    let mut temp = TempFile::create(dest_dir, file.name).map_err(Attempt::Fatal)?;
    let mut reader = response.into_reader();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut received: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Attempt::Failed(format!(
                    "transfer failed after {received} bytes: {e}"
                )));
            }
        };
        let chunk = buf.get(..n).unwrap_or_default();
        received = received.saturating_add(chunk.len() as u64);
        if let Some(size) = file.size {
            if received > size {
                return Err(Attempt::Failed(format!(
                    "sent more than the expected {size} bytes"
                )));
            }
        }
        hasher.update(chunk);
        temp.write_all(chunk)?;
        progress(DownloadEvent::Progress {
            file: file.name,
            bytes: received,
            total,
        });
    }
    let actual = to_hex(&hasher.finalize());
    if !actual.eq_ignore_ascii_case(file.sha256) {
        return Err(Attempt::Mismatch { actual });
    }
    temp.persist(dest)?;
    Ok(received)
}

/// A temporary file, removed on drop unless persisted.
struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    fn create(dir: &Path, name: &str) -> Result<Self, DataError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let pid = std::process::id();
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".{name}.{pid}.{n}.part"));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(TempFile {
                        path,
                        file: Some(file),
                    });
                }
                // A leftover of an earlier process with the same pid.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(DataError::Io { path, source }),
            }
        }
    }

    fn io_error(&self, source: io::Error) -> Attempt {
        Attempt::Fatal(DataError::Io {
            path: self.path.clone(),
            source,
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Attempt> {
        match self.file.as_mut() {
            Some(file) => file.write_all(bytes).map_err(|e| self.io_error(e)),
            None => Ok(()),
        }
    }

    /// Syncs the file to disk and renames it to `dest`, then syncs the
    /// directory (where the platform allows) so the rename is durable.
    fn persist(mut self, dest: &Path) -> Result<(), Attempt> {
        if let Some(file) = self.file.take() {
            file.sync_all().map_err(|e| self.io_error(e))?;
        }
        fs::rename(&self.path, dest).map_err(|source| {
            Attempt::Fatal(DataError::Io {
                path: dest.to_path_buf(),
                source,
            })
        })?;
        // Renamed: nothing left to remove.
        self.path = PathBuf::new();
        #[cfg(unix)]
        if let Some(dir) = dest.parent() {
            // Best effort: the data itself is already synced.
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        drop(self.file.take());
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Whether `name` is a single path component (no separator, not `.`/`..`).
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && Path::new(name).file_name() == Some(name.as_ref())
}

/// Lowercase hex of `bytes`.
fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// The SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_sha() {
        assert_eq!(to_hex(&[0x00, 0xab, 0x0f]), "00ab0f");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn plain_file_names() {
        assert!(is_plain_file_name("train-images-idx3-ubyte.gz"));
        for bad in ["", ".", "..", "a/b", "../x", "/abs", "a\\b"] {
            assert!(!is_plain_file_name(bad), "{bad}");
        }
    }

    #[test]
    fn empty_mirror_list_is_missing() {
        let dir = std::env::temp_dir().join(format!("net-core-dl-empty-{}", std::process::id()));
        let spec = Dataset::Mnist.files()[3];
        let err = download_file(&[], &spec, &dir, &mut |_| {}).unwrap_err();
        assert!(matches!(err, DataError::Missing(_)), "{err:?}");
        let _ = fs::remove_dir_all(&dir);
    }
}
