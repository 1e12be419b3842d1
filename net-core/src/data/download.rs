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
//! No download waits forever, and none that progresses is cut short: as
//! curl's `--speed-limit`/`--speed-time`, a mirror is given up when fewer
//! than [`DownloadLimits::min_bytes`] arrived in the last
//! [`DownloadLimits::window`] (1,000 bytes in 30 s by default), or when it
//! does not answer within the window. There is no overall deadline: a
//! 10 MB file at 20 kB/s takes its eight minutes.
//!
//! A download can be interrupted with a [`StopFlag`] (Ctrl-C, SIGTERM),
//! checked between chunks and while waiting for one: its temporary file,
//! `.<name>.part-<pid>-<n>`, is removed and the error says so. The
//! temporary file is removed too when a download fails; the ones left by
//! killed runs (whose process is gone) are removed by the next run,
//! whatever its outcome.
//!
//! HTTPS uses rustls with the Mozilla roots compiled in (no OpenSSL, no
//! system certificates needed).

use std::collections::VecDeque;
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
use crate::stop::StopFlag;

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

/// How often (in bytes) progress is reported, at most.
const CHUNK: usize = 64 * 1024;
/// How many chunks the reading thread may be ahead of the writer.
const QUEUE: usize = 4;
/// How often a raised [`StopFlag`] is looked at while no chunk arrives.
const STOP_POLL: Duration = Duration::from_millis(50);
/// The number of slices the window is measured in (its resolution).
const WINDOW_SLICES: u32 = 64;

/// When a mirror is given up: a low-speed limit, as curl's
/// `--speed-limit`/`--speed-time`.
///
/// A mirror fails when fewer than [`min_bytes`](Self::min_bytes) of the
/// body arrived in the last [`window`](Self::window) — measured from the
/// response on, so a transfer always has a whole window to reach the rate
/// —, or when it does not answer (connection and response head) within the
/// window. There is no overall deadline: a transfer that keeps the rate
/// runs as long as it needs. The defaults, 1,000 bytes in 30 s, give up a
/// mirror trickling a byte every few seconds after 30 s, and let a real
/// 20 kB/s download of 10 MB finish.
///
/// ```
/// # use std::time::Duration;
/// # use net_core::data::download::DownloadLimits;
/// let mut limits = DownloadLimits::default();
/// assert_eq!((limits.min_bytes, limits.window), (1_000, Duration::from_secs(30)));
/// // At least 10 kB in every 5 s.
/// limits.min_bytes = 10_000;
/// limits.window = Duration::from_secs(5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadLimits {
    /// The fewest bytes that must arrive in every [`window`](Self::window).
    /// Default 1,000. 0 counts as 1: a window without a byte always ends
    /// the attempt.
    pub min_bytes: u64,
    /// The span [`min_bytes`](Self::min_bytes) is counted over, and the
    /// longest wait for a mirror to answer. Default 30 s; shorter than
    /// 1 ms counts as 1 ms.
    pub window: Duration,
}

impl DownloadLimits {
    /// The defaults: at least 1,000 bytes in every 30 s.
    pub const DEFAULT: Self = DownloadLimits {
        min_bytes: 1_000,
        window: Duration::from_secs(30),
    };

    /// The limits with these values (the struct is `#[non_exhaustive]`).
    pub const fn new(min_bytes: u64, window: Duration) -> Self {
        DownloadLimits { min_bytes, window }
    }

    /// `min_bytes`, at least 1.
    fn min_bytes_or_one(&self) -> u64 {
        self.min_bytes.max(1)
    }

    /// `window`, at least 1 ms.
    fn window_or_1ms(&self) -> Duration {
        self.window.max(Duration::from_millis(1))
    }
}

impl Default for DownloadLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl DataError {
    /// Whether this is the error of a download interrupted by a raised
    /// [`StopFlag`] (an [`DataError::Io`] of kind
    /// [`io::ErrorKind::Interrupted`]); its partial file was removed.
    pub fn is_interrupted(&self) -> bool {
        matches!(self, DataError::Io { source, .. } if source.kind() == io::ErrorKind::Interrupted)
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
    ensure_downloaded_with(
        dir,
        dataset,
        mirrors,
        &DownloadLimits::DEFAULT,
        None,
        progress,
    )
}

/// [`ensure_downloaded`] with other [`DownloadLimits`], and a `stop` flag
/// that interrupts the download under way (see [`download_file_with`]);
/// the files already downloaded stay.
///
/// # Errors
/// As [`ensure_downloaded`]; a stalled or too slow mirror is a failed
/// attempt, listed in [`DataError::Missing`] when no mirror delivered. A
/// raised `stop` gives the error of [`download_file_with`]
/// ([`DataError::is_interrupted`]).
pub fn ensure_downloaded_with(
    dir: &Path,
    dataset: Dataset,
    mirrors: &[String],
    limits: &DownloadLimits,
    stop: Option<&StopFlag>,
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
        match download_file_with(&mirrors, spec, dir, limits, stop, progress) {
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
    download_file_with(
        mirrors,
        file,
        dest_dir,
        &DownloadLimits::DEFAULT,
        None,
        progress,
    )
}

/// [`download_file`] with other [`DownloadLimits`], and a `stop` flag.
///
/// A mirror that delivers fewer than `limits.min_bytes` in the last
/// `limits.window` fails with a reason saying so (`stalled: no data for
/// 30 s from URL after M of N bytes`, `too slow: 12 bytes in the last 30 s
/// from URL (at least 1000 needed) after M of N bytes`, `no response within
/// 30 s from URL`), its temporary file is removed and the next mirror is
/// tried.
///
/// `stop` is looked at between chunks and, while none arrives, every
/// 50 ms: once raised, the temporary file is removed and no other mirror
/// is tried.
///
/// # Errors
/// As [`download_file`]; when `stop` is raised, a [`DataError::Io`] for the
/// file of kind [`io::ErrorKind::Interrupted`]
/// ([`DataError::is_interrupted`]) whose message says so: `interrupted by
/// SIGTERM: the partial download `DIR/.NAME.part-PID-N` was removed`.
pub fn download_file_with(
    mirrors: &[String],
    file: &FileSpec<'_>,
    dest_dir: &Path,
    limits: &DownloadLimits,
    stop: Option<&StopFlag>,
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
    // The limits are enforced by `try_mirror`, whatever the socket does.
    // The socket's own timeouts only bound how long the reading thread
    // outlives an abandoned transfer: they are a little longer than the
    // window, so that `try_mirror` is the one to notice.
    let window = limits.window_or_1ms();
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(window)
        .timeout_read(window.saturating_add(Duration::from_secs(1)))
        .timeout_write(window.saturating_add(Duration::from_secs(1)))
        .build();

    let mut attempts = Vec::new();
    let mut first_mismatch = None;
    for mirror in mirrors {
        let url = if mirror.ends_with('/') {
            format!("{mirror}{}", file.name)
        } else {
            format!("{mirror}/{}", file.name)
        };
        let reason = match try_mirror(&agent, &url, file, &dest, limits, stop, progress) {
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

/// The bytes received over time, to tell whether the last window holds
/// enough of them: `(when, bytes received by then)`, oldest first, about a
/// slice of the window apart (the newest is always current), so that a
/// window holds some 64 samples whatever the rate.
struct Rate {
    window: Duration,
    slice: Duration,
    samples: VecDeque<(Instant, u64)>,
}

impl Rate {
    /// From the response on, at `at`, with nothing received.
    fn new(window: Duration, at: Instant) -> Self {
        Rate {
            window,
            slice: window / WINDOW_SLICES,
            samples: VecDeque::from([(at, 0)]),
        }
    }

    /// `received` bytes in all at `now`.
    fn record(&mut self, now: Instant, received: u64) {
        // The newest sample moves on until it is a slice past the one
        // before it; the first one stays: it is when the window starts.
        let n = self.samples.len();
        if n > 1 && now.duration_since(self.samples[n - 2].0) < self.slice {
            self.samples[n - 1] = (now, received);
        } else {
            self.samples.push_back((now, received));
        }
    }

    /// Forgets the samples older than the latest one at least a window
    /// before `now`, which is the start of the last window.
    fn prune(&mut self, now: Instant) {
        while self.samples.len() > 1 && self.samples[1].0 + self.window <= now {
            self.samples.pop_front();
        }
    }

    /// When the last window will hold fewer than `min_bytes`, if no more
    /// bytes arrive: a window after the first sample that less than
    /// `min_bytes` separate from the bytes received by now.
    fn fails_at(&self, min_bytes: u64) -> Instant {
        let received = self.samples.back().map_or(0, |s| s.1);
        let (at, _) = self
            .samples
            .iter()
            .find(|(_, bytes)| received - bytes < min_bytes)
            .copied()
            .unwrap_or((Instant::now(), 0));
        at + self.window
    }

    /// The bytes received in the last window, as of `now` (after
    /// [`prune`](Self::prune)).
    fn in_window(&self) -> u64 {
        match (self.samples.front(), self.samples.back()) {
            (Some(first), Some(last)) => last.1 - first.1,
            _ => 0,
        }
    }
}

/// The signal that raised `stop`, for messages: ` by SIGTERM`, or nothing.
fn raised_by(stop: &StopFlag) -> String {
    stop.signal_name()
        .map_or(String::new(), |name| format!(" by {name}"))
}

/// The temporary files of `dest` this process has in its directory.
fn own_parts(dest: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (dest.parent(), dest.file_name()) else {
        return Vec::new();
    };
    let prefix = format!(".{}.{PART}-{}-", name.to_string_lossy(), std::process::id());
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| {
            let e = e.ok()?;
            e.file_name()
                .to_str()?
                .starts_with(&prefix)
                .then(|| e.path())
        })
        .collect()
}

/// The error of a download that `stop` interrupted: its temporary file
/// (at `part`, when known) is removed first.
fn interrupted(
    stop: &StopFlag,
    dest: &Path,
    temp: Option<AtomicFile>,
    part: Option<&Path>,
) -> Attempt {
    let started = temp.is_some();
    drop(temp);
    let by = raised_by(stop);
    let message = match (started, part) {
        (false, _) => format!("interrupted{by} before any of it was downloaded"),
        (true, Some(part)) if part.exists() => format!(
            "interrupted{by}: the partial download `{}` could not be removed",
            part.display()
        ),
        (true, Some(part)) => format!(
            "interrupted{by}: the partial download `{}` was removed",
            part.display()
        ),
        (true, None) => format!("interrupted{by}: the partial download was removed"),
    };
    Attempt::Fatal(DataError::Io {
        path: dest.to_path_buf(),
        source: io::Error::new(io::ErrorKind::Interrupted, message),
    })
}

fn try_mirror(
    agent: &ureq::Agent,
    url: &str,
    file: &FileSpec<'_>,
    dest: &Path,
    limits: &DownloadLimits,
    stop: Option<&StopFlag>,
    progress: &mut dyn FnMut(DownloadEvent<'_>),
) -> Result<u64, Attempt> {
    if let Some(stop) = stop.filter(|s| s.is_raised()) {
        return Err(interrupted(stop, dest, None, None));
    }
    let window = limits.window_or_1ms();
    let min_bytes = limits.min_bytes_or_one();
    let start = Instant::now();
    let (to, from) = mpsc::sync_channel(QUEUE);
    {
        let agent = agent.clone();
        let url = url.to_owned();
        // Detached: when the transfer is given up, the thread ends at its
        // next read (at most the window and a second later).
        std::thread::Builder::new()
            .name("staticnet-download".to_owned())
            .spawn(move || fetch(&agent, &url, &to))
            .map_err(|e| Attempt::Failed(format!("cannot start the download thread: {e}")))?;
    }

    // `None` until the response arrives.
    let mut total: Option<Option<u64>> = None;
    let mut temp: Option<AtomicFile> = None;
    let mut part: Option<PathBuf> = None;
    let mut hasher = Sha256::new();
    let mut received: u64 = 0;
    // From the response on.
    let mut rate: Option<Rate> = None;
    loop {
        let now = Instant::now();
        if let Some(stop) = stop.filter(|s| s.is_raised()) {
            return Err(interrupted(stop, dest, temp, part.as_deref()));
        }
        let give_up_at = match rate.as_mut() {
            None => start + window,
            Some(rate) => {
                rate.prune(now);
                rate.fails_at(min_bytes)
            }
        };
        if now >= give_up_at {
            let reason = match (&rate, total) {
                (Some(rate), Some(announced)) => {
                    let got = bytes_of(received, file.size.or(announced));
                    match rate.in_window() {
                        0 => format!(
                            "stalled: no data for {} from {url} after {got}",
                            seconds(window)
                        ),
                        n => format!(
                            "too slow: {n} byte{} in the last {} from {url} \
                             (at least {min_bytes} needed) after {got}",
                            if n == 1 { "" } else { "s" },
                            seconds(window)
                        ),
                    }
                }
                _ => format!("no response within {} from {url}", seconds(window)),
            };
            return Err(Attempt::Failed(reason));
        }
        let mut wake = give_up_at;
        if stop.is_some() {
            wake = wake.min(now + STOP_POLL);
        }
        let message = match from.recv_timeout(wake.saturating_duration_since(now)) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Attempt::Failed(
                    "the download thread stopped unexpectedly".to_owned(),
                ));
            }
        };
        match message {
            Message::Head(Err(reason)) => return Err(Attempt::Failed(reason)),
            Message::Head(Ok(announced)) => {
                rate = Some(Rate::new(window, Instant::now()));
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
                let before = own_parts(dest);
                temp = Some(AtomicFile::create_marked(dest, PART).map_err(fatal)?);
                part = own_parts(dest).into_iter().find(|p| !before.contains(p));
            }
            Message::Data(chunk) => {
                received = received.saturating_add(chunk.len() as u64);
                if let Some(rate) = rate.as_mut() {
                    rate.record(Instant::now(), received);
                }
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
                    "stalled: the connection timed out from {url} after {}",
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
    // A flag raised after the last chunk stops the next file, not this
    // one, which is whole.
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
    fn the_last_window_is_measured() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut rate = Rate::new(ms(1000), t0);
        // Nothing yet: given up a window after the response.
        assert_eq!(rate.fails_at(100), t0 + ms(1000));
        rate.record(t0 + ms(100), 60);
        rate.record(t0 + ms(500), 120);
        // 120 bytes by 0.5 s; under 100 bytes are left once the window
        // starts after the sample at 0.1 s (60 bytes).
        assert_eq!(rate.fails_at(100), t0 + ms(1100));
        // One byte a window is met until a window after the last byte.
        assert_eq!(rate.fails_at(1), t0 + ms(1500));
        rate.prune(t0 + ms(1200));
        assert_eq!(rate.in_window(), 60);
        rate.prune(t0 + ms(1600));
        assert_eq!(rate.in_window(), 0);
        // Samples closer than a slice are merged, the first one kept.
        let mut rate = Rate::new(ms(640), t0);
        for k in 1..=100 {
            rate.record(t0 + ms(k), k);
        }
        assert!(rate.samples.len() <= 13, "{}", rate.samples.len());
        assert_eq!(rate.samples.front(), Some(&(t0, 0)));
        assert_eq!(rate.samples.back(), Some(&(t0 + ms(100), 100)));
    }

    #[test]
    fn limits_defaults_and_bounds() {
        let limits = DownloadLimits::default();
        assert_eq!(limits, DownloadLimits::new(1_000, Duration::from_secs(30)));
        let tiny = DownloadLimits::new(0, Duration::ZERO);
        assert_eq!(
            (tiny.min_bytes_or_one(), tiny.window_or_1ms()),
            (1, Duration::from_millis(1))
        );
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
