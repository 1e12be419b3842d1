//! Downloading the dataset files (cargo feature `download`).
//!
//! Each file is streamed from the first mirror that serves it into a
//! temporary file in the destination directory, its SHA-256 is checked, the
//! temporary file is flushed to disk (`fsync`) and renamed into place, so a
//! file under its canonical name is always complete and verified. A mirror
//! that fails (connection error, HTTP error, a body larger than the known
//! size, a stalled or too slow transfer, or a checksum mismatch) is reported
//! through the progress callback and the next one is tried; the library
//! itself never prints.
//!
//! No download waits forever: a mirror that sends nothing for
//! [`DownloadLimits::stall`] (30 s by default), or has not delivered the
//! whole file by its deadline (60 s + the size at 50 kB/s by default, see
//! [`DownloadLimits::deadline`]), is given up. The temporary file,
//! `.<name>.part-<pid>-<n>`, is removed when a download fails; the ones
//! left by killed runs (whose process is gone) are removed by the next run,
//! whatever its outcome.
//!
//! HTTPS uses rustls with the Mozilla roots compiled in (no OpenSSL, no
//! system certificates needed).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::dataset::{Dataset, FILE_STEMS, FileSpec, check_data_dir, locate_file, resolve_mirrors};
use super::{DataError, MissingFiles};
use crate::files::{
    AtomicFile, WriteError, check_writable, parse_owner, remove_files_of_dead_processes,
};

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

/// How long to wait for a connection to a mirror (at most; a shorter
/// [`DownloadLimits::stall`] applies first).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How often (in bytes) progress is reported, at most.
const CHUNK: usize = 64 * 1024;
/// How many chunks the reading thread may be ahead of the writer.
const QUEUE: usize = 4;

/// How long a download may take before its mirror is given up.
///
/// Two bounds apply to every mirror, from the request on: no byte (of the
/// response or of its body) for [`stall`](Self::stall), and the whole file
/// not received within [`deadline`](Self::deadline) of its size. The second
/// catches a mirror trickling a byte now and then, which the first does not.
///
/// ```
/// # use std::time::Duration;
/// # use net_core::data::download::DownloadLimits;
/// let mut limits = DownloadLimits::default();
/// limits.stall = Duration::from_secs(10);
/// assert_eq!(limits.deadline(9_912_422).as_secs(), 60 + 198);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadLimits {
    /// The longest wait for the next byte before the transfer is declared
    /// stalled. Default 30 s.
    pub stall: Duration,
    /// The time any transfer is allowed on top of its size at
    /// [`min_rate`](Self::min_rate). Default 60 s.
    pub base_time: Duration,
    /// The slowest average rate, in bytes per second, the deadline allows
    /// for. Default 50 000 (50 kB/s); 0 means no overall deadline.
    pub min_rate: u64,
}

impl DownloadLimits {
    /// The defaults: 30 s without a byte, 60 s + the size at 50 kB/s.
    pub const DEFAULT: Self = DownloadLimits {
        stall: Duration::from_secs(30),
        base_time: Duration::from_secs(60),
        min_rate: 50_000,
    };

    /// The time allowed to receive `size` bytes, from the request on:
    /// [`base_time`](Self::base_time) + `size` / [`min_rate`](Self::min_rate)
    /// ([`Duration::MAX`] when `min_rate` is 0). When neither the file's
    /// size nor the response's `Content-Length` is known, the bytes received
    /// so far stand for the size.
    pub fn deadline(&self, size: u64) -> Duration {
        if self.min_rate == 0 {
            return Duration::MAX;
        }
        let whole = size / self.min_rate;
        let nanos = u128::from(size % self.min_rate) * 1_000_000_000 / u128::from(self.min_rate);
        let extra = Duration::from_secs(whole).saturating_add(Duration::from_nanos(
            u64::try_from(nanos).unwrap_or(u64::MAX),
        ));
        self.base_time.saturating_add(extra)
    }
}

impl Default for DownloadLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

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
///
/// Each download is bounded by the default [`DownloadLimits`]; the
/// temporary files of the dataset's files left in `dir` by runs that were
/// killed are removed first, even when nothing needs downloading.
pub fn ensure_downloaded(
    dir: &Path,
    dataset: Dataset,
    mirrors: &[String],
    progress: &mut dyn FnMut(DownloadEvent<'_>),
) -> Result<(), DataError> {
    ensure_downloaded_with(dir, dataset, mirrors, &DownloadLimits::DEFAULT, progress)
}

/// [`ensure_downloaded`] with other [`DownloadLimits`].
///
/// # Errors
/// As [`ensure_downloaded`]; a stalled or too slow mirror is a failed
/// attempt, listed in [`DataError::Missing`] when no mirror delivered.
pub fn ensure_downloaded_with(
    dir: &Path,
    dataset: Dataset,
    mirrors: &[String],
    limits: &DownloadLimits,
    progress: &mut dyn FnMut(DownloadEvent<'_>),
) -> Result<(), DataError> {
    let mirrors = resolve_mirrors(mirrors, dataset);
    // Nothing is downloaded into a directory that cannot be read, nor
    // beside a file that stands where the directory should be.
    check_data_dir(dir)?;
    let names: Vec<&str> = dataset.files().iter().map(|spec| spec.name).collect();
    remove_stale_parts(dir, &names);
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
    // A directory that cannot take the files is said before any mirror
    // is asked (a cache directory under a read-only home, say).
    if let Some(first) = missing.first() {
        check_can_download_into(dir, first.name)?;
    }
    for (k, spec) in missing.iter().enumerate() {
        match download_file_with(&mirrors, spec, dir, limits, progress) {
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

/// Creates `dir` if needed and checks that the file `name` can be written
/// there.
fn check_can_download_into(dir: &Path, name: &str) -> Result<(), DataError> {
    let unwritable = |reason: String| DataError::UnwritableDir {
        path: dir.to_path_buf(),
        reason,
    };
    fs::create_dir_all(dir)
        .map_err(|error| unwritable(format!("it cannot be created: {error}")))?;
    check_writable(&dir.join(name)).map_err(unwritable)
}

/// Downloads one file into `dest_dir` (created if needed), trying each
/// mirror in order (URL = mirror + `file.name`; a `/` is added to a mirror
/// lacking one), and returns its path.
///
/// The body is streamed into a temporary file `.<name>.part-<pid>-<n>` in
/// `dest_dir` while its SHA-256 is computed; when it matches `file.sha256`
/// the temporary file is synced and renamed to `<name>`, replacing any file
/// of that name. Otherwise it is removed and the next mirror is tried.
/// Temporary files of `<name>` whose process is gone (a killed run) are
/// removed before the first request. Each mirror is bounded by the default
/// [`DownloadLimits`].
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
    download_file_with(mirrors, file, dest_dir, &DownloadLimits::DEFAULT, progress)
}

/// [`download_file`] with other [`DownloadLimits`]: a mirror that sends
/// nothing for `limits.stall`, or has not delivered the file within
/// `limits.deadline(size)`, fails with a reason saying so (`stalled: no data
/// for 30 s from URL …`, `too slow: M of N bytes after T s from URL …`) and
/// its temporary file is removed.
///
/// # Errors
/// As [`download_file`].
pub fn download_file_with(
    mirrors: &[String],
    file: &FileSpec<'_>,
    dest_dir: &Path,
    limits: &DownloadLimits,
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
    remove_stale_parts(dest_dir, &[file.name]);
    // The stall and the deadline are enforced by `try_mirror`, whatever the
    // socket does. The socket's own timeouts only bound how long the
    // reading thread outlives an abandoned transfer: a read waits a little
    // longer than the stall, so that `try_mirror` is the one to notice it.
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT.min(limits.stall.max(Duration::from_millis(1))))
        .timeout_read(limits.stall.saturating_add(Duration::from_secs(1)))
        .timeout_write(limits.stall.saturating_add(Duration::from_secs(1)))
        .build();

    let mut attempts = Vec::new();
    let mut first_mismatch = None;
    for mirror in mirrors {
        let url = if mirror.ends_with('/') {
            format!("{mirror}{}", file.name)
        } else {
            format!("{mirror}/{}", file.name)
        };
        let reason = match try_mirror(&agent, &url, file, &dest, limits, progress) {
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

/// What the reading thread passes on.
enum Message {
    /// The response arrived: its `Content-Length`, or why it is refused.
    Head(Result<Option<u64>, String>),
    /// Bytes of the body.
    Data(Vec<u8>),
    /// The body is complete.
    End,
    /// Reading the body failed.
    Failed(io::Error),
}

/// Requests `url` and reads the body, passing everything on to `to`; stops
/// as soon as nobody listens. Runs on its own thread, so that a read that
/// blocks cannot hold the download past its limits.
fn fetch(agent: &ureq::Agent, url: &str, to: &SyncSender<Message>) {
    let response = match agent.get(url).call() {
        Ok(response) => response,
        Err(ureq::Error::Status(code, response)) => {
            let reason = format!("HTTP {code} {}", response.status_text());
            let _ = to.send(Message::Head(Err(reason)));
            return;
        }
        Err(e) => {
            let _ = to.send(Message::Head(Err(e.to_string())));
            return;
        }
    };
    let announced = response
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    if to.send(Message::Head(Ok(announced))).is_err() {
        return;
    }
    let mut reader = response.into_reader();
    loop {
        let mut buf = vec![0u8; CHUNK];
        let message = match reader.read(&mut buf) {
            Ok(0) => Message::End,
            Ok(n) => {
                buf.truncate(n);
                Message::Data(buf)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Message::Failed(e),
        };
        let last = !matches!(message, Message::Data(_));
        if to.send(message).is_err() || last {
            return;
        }
    }
}

/// `d` in seconds, for messages: `30 s`, `0.3 s`, `61.2 s`.
fn seconds(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// `M of N bytes`, or `M bytes` when the size is unknown.
fn bytes_of(received: u64, total: Option<u64>) -> String {
    match total {
        Some(total) => format!("{received} of {total} bytes"),
        None => format!("{received} bytes"),
    }
}

fn try_mirror(
    agent: &ureq::Agent,
    url: &str,
    file: &FileSpec<'_>,
    dest: &Path,
    limits: &DownloadLimits,
    progress: &mut dyn FnMut(DownloadEvent<'_>),
) -> Result<u64, Attempt> {
    let start = Instant::now();
    let (to, from) = mpsc::sync_channel(QUEUE);
    {
        let agent = agent.clone();
        let url = url.to_owned();
        // Detached: when the transfer is given up, the thread ends at its
        // next read (at most the stall and a second later).
        std::thread::Builder::new()
            .name("staticnet-download".to_owned())
            .spawn(move || fetch(&agent, &url, &to))
            .map_err(|e| Attempt::Failed(format!("cannot start the download thread: {e}")))?;
    }

    // `None` until the response arrives.
    let mut total: Option<Option<u64>> = None;
    let mut temp: Option<AtomicFile> = None;
    let mut hasher = Sha256::new();
    let mut received: u64 = 0;
    let mut last_data = start;
    loop {
        // The size the deadline is scaled to: the known size, else the
        // announced one, else what arrived so far.
        let size = file
            .size
            .or(total.flatten())
            .unwrap_or(received)
            .max(received);
        let deadline = start.checked_add(limits.deadline(size));
        let stall_at = last_data.checked_add(limits.stall);
        let now = Instant::now();
        if deadline.is_some_and(|at| now >= at) {
            let got = match total {
                None => "no response".to_owned(),
                Some(announced) => bytes_of(received, file.size.or(announced)),
            };
            return Err(Attempt::Failed(format!(
                "too slow: {got} after {} from {url} (the limit for {size} bytes is {})",
                seconds(now.duration_since(start)),
                seconds(limits.deadline(size))
            )));
        }
        let wake = match (stall_at, deadline) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(now + Duration::from_secs(3600)),
        };
        let message = match from.recv_timeout(wake.saturating_duration_since(now)) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => {
                if stall_at.is_some_and(|at| Instant::now() >= at) {
                    let context = match total {
                        None => " (waiting for the response)".to_owned(),
                        Some(announced) => {
                            format!(" after {}", bytes_of(received, file.size.or(announced)))
                        }
                    };
                    return Err(Attempt::Failed(format!(
                        "stalled: no data for {} from {url}{context}",
                        seconds(limits.stall)
                    )));
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Attempt::Failed(
                    "the download thread stopped unexpectedly".to_owned(),
                ));
            }
        };
        match message {
            Message::Head(Err(reason)) => return Err(Attempt::Failed(reason)),
            Message::Head(Ok(announced)) => {
                last_data = Instant::now();
                if let (Some(size), Some(announced)) = (file.size, announced) {
                    if announced > size {
                        return Err(Attempt::Failed(format!(
                            "announces {announced} bytes, expected {size}"
                        )));
                    }
                }
                let shown = announced.or(file.size);
                total = Some(announced);
                progress(DownloadEvent::Started {
                    file: file.name,
                    url,
                    total: shown,
                });
                temp = Some(AtomicFile::create_marked(dest, PART).map_err(fatal)?);
            }
            Message::Data(chunk) => {
                last_data = Instant::now();
                received = received.saturating_add(chunk.len() as u64);
                if let Some(size) = file.size {
                    if received > size {
                        return Err(Attempt::Failed(format!(
                            "sent more than the expected {size} bytes"
                        )));
                    }
                }
                hasher.update(&chunk);
                if let Some(temp) = temp.as_mut() {
                    temp.write_all(&chunk).map_err(|source| {
                        fatal(WriteError {
                            path: dest.to_path_buf(),
                            source,
                        })
                    })?;
                }
                progress(DownloadEvent::Progress {
                    file: file.name,
                    bytes: received,
                    total: total.flatten().or(file.size),
                });
            }
            Message::Failed(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                return Err(Attempt::Failed(format!(
                    "stalled: no data for {} from {url} after {}",
                    seconds(last_data.elapsed()),
                    bytes_of(received, file.size.or(total.flatten()))
                )));
            }
            Message::Failed(e) => {
                return Err(Attempt::Failed(format!(
                    "transfer failed after {received} bytes: {e}"
                )));
            }
            Message::End => break,
        }
    }
    let actual = crate::digest::to_hex(&hasher.finalize());
    if !actual.eq_ignore_ascii_case(file.sha256) {
        return Err(Attempt::Mismatch { actual });
    }
    match temp {
        Some(temp) => temp.persist().map_err(fatal)?,
        None => {
            return Err(Attempt::Failed(
                "the body ended before the response".to_owned(),
            ));
        }
    }
    Ok(received)
}

/// A local write error ends the download: no mirror can help.
fn fatal(e: WriteError) -> Attempt {
    Attempt::Fatal(DataError::Io {
        path: e.path,
        source: e.source,
    })
}

/// The marker of a download's temporary file, `.<name>.part-<pid>-<n>`.
const PART: &str = "part";

/// Removes the temporary files of `names` in `dir` whose process is gone:
/// `.<name>.part-<pid>-<n>`, and `.<name>.<pid>.<n>.part` as named before.
/// Best effort: errors are ignored, and the files of live processes, this
/// one included, are left alone. Only on Linux, where `/proc` tells whether
/// a process lives; elsewhere nothing is removed.
fn remove_stale_parts(dir: &Path, names: &[&str]) {
    remove_files_of_dead_processes(dir, |file_name| part_owner(file_name.to_str()?, names));
}

/// The pid in `file_name` when it is a temporary file of one of `names`.
fn part_owner(file_name: &str, names: &[&str]) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?;
    names.iter().find_map(|name| {
        let rest = rest.strip_prefix(name)?.strip_prefix('.')?;
        match rest.strip_prefix(PART).and_then(|r| r.strip_prefix('-')) {
            Some(pid_n) => parse_owner(pid_n.as_bytes(), b'-'),
            None => parse_owner(rest.strip_suffix(".part")?.as_bytes(), b'.'),
        }
    })
}

/// Whether `name` is a single path component (no separator, not `.`/`..`).
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && Path::new(name).file_name() == Some(name.as_ref())
}

/// The SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::digest::sha256_hex([bytes])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_of_bytes() {
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
    fn temporary_file_names() {
        let names = ["a.gz", "b.gz"];
        assert_eq!(part_owner(".a.gz.part-123-0", &names), Some(123));
        assert_eq!(part_owner(".b.gz.part-7-42", &names), Some(7));
        assert_eq!(part_owner(".a.gz.123.0.part", &names), Some(123));
        for other in [
            "a.gz",
            ".a.gz",
            ".c.gz.part-1-0",
            ".a.gz.part-1",
            ".a.gz.part-x-0",
            ".a.gz.part--0",
            ".a.gz.part-1-0x",
            ".a.gz.part-+1-0",
            ".a.gz.1.part",
            ".a.gz.tmp-1-0",
            "a.gz.part-1-0",
        ] {
            assert_eq!(part_owner(other, &names), None, "{other}");
        }
    }

    #[test]
    fn deadlines() {
        let limits = DownloadLimits::default();
        assert_eq!(limits.deadline(0), Duration::from_secs(60));
        assert_eq!(limits.deadline(75_000), Duration::from_millis(61_500));
        assert_eq!(limits.deadline(26_421_880).as_secs(), 60 + 528);
        let mut unbounded = limits;
        unbounded.min_rate = 0;
        assert_eq!(unbounded.deadline(1), Duration::MAX);
        let mut huge = limits;
        huge.min_rate = 1;
        assert_eq!(huge.deadline(u64::MAX), Duration::MAX);
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
