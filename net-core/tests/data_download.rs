//! The download path against a local HTTP server on 127.0.0.1 that the test
//! starts itself (bounded in requests and time). Needs the `download`
//! feature: `cargo test -p net-core --features download --test data_download`.
#![cfg(feature = "download")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use net_core::data::download::{DownloadLimits, download_file_with, ensure_downloaded_with};
use net_core::data::{
    DataError, Dataset, DownloadEvent, FileSpec, LoadOptions, download_file, ensure_downloaded,
    load_mnist, sha256_hex,
};
use net_core::train::StopFlag;

/// How a route answers.
#[derive(Clone)]
enum Body {
    Ok(Arc<Vec<u8>>),
    /// Announces this Content-Length but sends only the body, then closes.
    Short(Arc<Vec<u8>>, usize),
    /// Announces `announced` bytes, then sends one byte every `every`, at
    /// most `bytes` of them (or until the server stops), then closes.
    Trickle {
        announced: usize,
        every: Duration,
        bytes: usize,
    },
    /// Reads the request and answers nothing for this long (or until the
    /// server stops), then closes.
    Silent(Duration),
    /// Sends the body `chunk` bytes at a time, one chunk every `every`.
    Paced {
        body: Arc<Vec<u8>>,
        chunk: usize,
        every: Duration,
    },
}

/// A minimal HTTP/1.1 server on 127.0.0.1:0 serving fixed routes (404
/// elsewhere). It stops when dropped, after 200 requests, or after 120 s.
struct Server {
    base: String,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(routes: HashMap<String, Body>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let requests = requests.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(120);
                while !stop.load(Ordering::Relaxed)
                    && Instant::now() < deadline
                    && requests.load(Ordering::Relaxed) < 200
                {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            requests.fetch_add(1, Ordering::Relaxed);
                            let _ = serve(stream, &routes, &stop);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        Server {
            base,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Sleeps for `d`, or less when `stop` is set; says whether it was.
fn sleep_unless(stop: &AtomicBool, d: Duration) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.load(Ordering::Relaxed)
}

fn serve(
    stream: TcpStream,
    routes: &HashMap<String, Body>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let mut out = stream;
    match routes.get(path) {
        Some(Body::Ok(body)) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(body)?;
        }
        Some(Body::Short(body, announced)) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {announced}\r\nConnection: close\r\n\r\n"
            )?;
            out.write_all(body)?;
        }
        Some(Body::Trickle {
            announced,
            every,
            bytes,
        }) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {announced}\r\nConnection: close\r\n\r\n"
            )?;
            out.flush()?;
            for _ in 0..*bytes {
                // Fails once the client has gone.
                out.write_all(b"x")?;
                out.flush()?;
                if sleep_unless(stop, *every) {
                    break;
                }
            }
        }
        Some(Body::Silent(d)) => {
            sleep_unless(stop, *d);
        }
        Some(Body::Paced { body, chunk, every }) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.flush()?;
            for part in body.chunks(*chunk) {
                // Fails once the client has gone.
                out.write_all(part)?;
                out.flush()?;
                if sleep_unless(stop, *every) {
                    break;
                }
            }
        }
        None => {
            out.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
            )?;
        }
    }
    out.flush()
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("net-core-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }

    fn entries(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(&self.0) else {
            return Vec::new();
        };
        let mut names: Vec<String> = dir
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The real MNIST directory, or `None` (with the reason printed).
fn shared_mnist() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/mnist");
    if dir.join("t10k-labels-idx1-ubyte.gz").is_file() {
        Some(dir)
    } else {
        println!(
            "skipped: {} is absent (the workspace's ../shared/data/mnist)",
            dir.display()
        );
        None
    }
}

const LABELS: &str = "t10k-labels-idx1-ubyte.gz";

fn labels_spec() -> FileSpec<'static> {
    Dataset::Mnist.files()[3]
}

/// Records the events as text.
fn recorder(log: &Mutex<Vec<String>>) -> impl FnMut(DownloadEvent<'_>) + '_ {
    move |event| {
        let line = match event {
            DownloadEvent::Present { file, .. } => format!("present {file}"),
            DownloadEvent::Started { file, total, .. } => format!("start {file} {total:?}"),
            DownloadEvent::Progress { bytes, total, .. } => format!("progress {bytes} {total:?}"),
            DownloadEvent::MirrorFailed { url, reason, .. } => format!("failed {url}: {reason}"),
            DownloadEvent::Finished { file, bytes, .. } => format!("finished {file} {bytes}"),
            _ => "other".to_owned(),
        };
        log.lock().unwrap().push(line);
    }
}

#[test]
fn good_file_is_accepted_after_a_404() {
    let Some(mnist) = shared_mnist() else {
        return;
    };
    let good = Arc::new(std::fs::read(mnist.join(LABELS)).unwrap());
    let server = Server::start(HashMap::from([(
        format!("/good/{LABELS}"),
        Body::Ok(good.clone()),
    )]));
    let dir = Scratch::new("dl-good");
    let mirrors = [server.url("/missing/"), server.url("/good")];
    let log = Mutex::new(Vec::new());
    let path = download_file(&mirrors, &labels_spec(), &dir.0, &mut recorder(&log)).unwrap();
    assert_eq!(path, dir.0.join(LABELS));
    assert_eq!(std::fs::read(&path).unwrap(), *good);
    assert_eq!(dir.entries(), [LABELS], "no temporary file left");

    let log = log.into_inner().unwrap();
    assert!(
        log[0].starts_with("failed") && log[0].contains("404"),
        "{log:?}"
    );
    assert_eq!(log[1], "start t10k-labels-idx1-ubyte.gz Some(4542)");
    assert_eq!(log[log.len() - 2], "progress 4542 Some(4542)");
    assert_eq!(
        log[log.len() - 1],
        "finished t10k-labels-idx1-ubyte.gz 4542"
    );
    assert_eq!(server.requests.load(Ordering::Relaxed), 2);
}

#[test]
fn corrupted_file_is_rejected_and_leaves_nothing() {
    let Some(mnist) = shared_mnist() else {
        return;
    };
    let mut bad = std::fs::read(mnist.join(LABELS)).unwrap();
    bad[100] ^= 1;
    let bad_sha = sha256_hex(&bad);
    let server = Server::start(HashMap::from([(
        format!("/bad/{LABELS}"),
        Body::Ok(Arc::new(bad)),
    )]));
    let dir = Scratch::new("dl-bad");
    let err =
        download_file(&[server.url("/bad/")], &labels_spec(), &dir.0, &mut |_| {}).unwrap_err();
    match &err {
        DataError::ChecksumMismatch {
            file,
            url,
            expected,
            actual,
        } => {
            assert_eq!(file, LABELS);
            assert_eq!(*url, server.url(&format!("/bad/{LABELS}")));
            assert_eq!(expected, labels_spec().sha256);
            assert_eq!(*actual, bad_sha);
        }
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(labels_spec().sha256) && message.contains(&bad_sha),
        "{message}"
    );
    assert!(dir.entries().is_empty(), "left behind: {:?}", dir.entries());
}

#[test]
fn a_good_mirror_after_a_corrupted_one_wins() {
    let Some(mnist) = shared_mnist() else {
        return;
    };
    let good = std::fs::read(mnist.join(LABELS)).unwrap();
    let mut bad = good.clone();
    bad[200] ^= 0x80;
    let server = Server::start(HashMap::from([
        (format!("/bad/{LABELS}"), Body::Ok(Arc::new(bad))),
        (format!("/good/{LABELS}"), Body::Ok(Arc::new(good.clone()))),
    ]));
    let dir = Scratch::new("dl-bad-good");
    let log = Mutex::new(Vec::new());
    download_file(
        &[server.url("/bad/"), server.url("/good/")],
        &labels_spec(),
        &dir.0,
        &mut recorder(&log),
    )
    .unwrap();
    assert_eq!(std::fs::read(dir.0.join(LABELS)).unwrap(), good);
    assert_eq!(dir.entries(), [LABELS]);
    let log = log.into_inner().unwrap();
    assert!(
        log.iter().any(|l| l.contains("checksum mismatch")),
        "{log:?}"
    );
}

#[test]
fn oversized_and_short_bodies_fall_through() {
    let sha = sha256_hex(b"0123456789");
    let spec = FileSpec {
        name: "small.bin",
        sha256: &sha,
        size: Some(10),
    };
    let server = Server::start(HashMap::from([
        (
            "/big/small.bin".to_owned(),
            Body::Ok(Arc::new(vec![b'x'; 100_000])),
        ),
        (
            "/short/small.bin".to_owned(),
            Body::Short(Arc::new(b"01234".to_vec()), 10),
        ),
        (
            "/ok/small.bin".to_owned(),
            Body::Ok(Arc::new(b"0123456789".to_vec())),
        ),
    ]));
    let dir = Scratch::new("dl-sizes");
    let log = Mutex::new(Vec::new());
    download_file(
        &[
            server.url("/big/"),
            server.url("/short/"),
            server.url("/ok/"),
        ],
        &spec,
        &dir.0,
        &mut recorder(&log),
    )
    .unwrap();
    assert_eq!(
        std::fs::read(dir.0.join("small.bin")).unwrap(),
        b"0123456789"
    );
    assert_eq!(dir.entries(), ["small.bin"]);
    let failures: Vec<_> = log
        .into_inner()
        .unwrap()
        .into_iter()
        .filter(|l| l.starts_with("failed"))
        .collect();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        failures[0].contains("/big/") && failures[0].contains("100000"),
        "{failures:?}"
    );
    assert!(failures[1].contains("/short/"), "{failures:?}");
}

#[test]
fn offline_error_says_what_is_missing_and_how_to_get_it() {
    // A port nothing listens on, and a server that only answers 404.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/", l.local_addr().unwrap())
    };
    let server = Server::start(HashMap::new());
    let dir = Scratch::new("dl-offline");
    let mirrors = [closed.clone(), server.url("/mnist/")];
    let log = Mutex::new(Vec::new());
    let err = ensure_downloaded(&dir.0, Dataset::Mnist, &mirrors, &mut recorder(&log)).unwrap_err();
    let DataError::Missing(m) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(m.dataset, Some(Dataset::Mnist));
    assert_eq!(m.missing.len(), 4);
    assert_eq!(m.attempts.len(), 2);
    let message = err.to_string();
    for needle in [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "404",
        "load a directory that holds the four files",
        "MNIST_DIR",
        &closed,
        &dir.0.display().to_string(),
    ] {
        assert!(message.contains(needle), "{needle:?} not in:\n{message}");
    }
    // A library's message names no command-line flag of the examples.
    assert!(!message.contains("--data"), "{message}");
    // The first file failed on both mirrors: the others were not tried.
    assert_eq!(log.into_inner().unwrap().len(), 2);
    assert!(dir.entries().is_empty(), "{:?}", dir.entries());
}

/// A file where the directory should be is said to be one, before any
/// request: neither "missing files" nor an error creating the directory.
#[test]
fn nothing_is_downloaded_for_a_directory_that_is_a_file() {
    let server = Server::start(HashMap::new());
    let dir = Scratch::new("dl-not-a-dir");
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    for target in [file.clone(), file.join("mnist")] {
        let log = Mutex::new(Vec::new());
        let err = ensure_downloaded(
            &target,
            Dataset::Mnist,
            &[server.url("/m/")],
            &mut recorder(&log),
        )
        .unwrap_err();
        assert!(
            matches!(&err, DataError::NotADirectory { path, .. } if *path == file),
            "{}: {err:?}",
            target.display()
        );
        assert!(log.into_inner().unwrap().is_empty());
        let err =
            download_file(&[server.url("/m/")], &labels_spec(), &target, &mut |_| {}).unwrap_err();
        assert!(
            matches!(&err, DataError::NotADirectory { path, .. } if *path == file),
            "{err:?}"
        );
    }
    assert_eq!(server.requests.load(Ordering::Relaxed), 0);
    assert_eq!(dir.entries(), ["a-file"]);
}

#[test]
fn ensure_downloaded_fetches_the_missing_files_and_they_load() {
    let Some(mnist) = shared_mnist() else {
        return;
    };
    let mut routes = HashMap::new();
    for spec in Dataset::Mnist.files() {
        let bytes = std::fs::read(mnist.join(spec.name)).unwrap();
        routes.insert(format!("/m/{}", spec.name), Body::Ok(Arc::new(bytes)));
    }
    let server = Server::start(routes);
    let dir = Scratch::new("dl-all");
    // One file is already there (raw, without .gz): it is not fetched.
    std::fs::create_dir_all(&dir.0).unwrap();
    let raw_labels = net_core::data::read_idx(&mnist.join(LABELS)).unwrap();
    std::fs::write(
        dir.0.join("t10k-labels-idx1-ubyte"),
        raw_labels.to_bytes().unwrap(),
    )
    .unwrap();

    let log = Mutex::new(Vec::new());
    let start = Instant::now();
    ensure_downloaded(
        &dir.0,
        Dataset::Mnist,
        &[server.url("/m")],
        &mut recorder(&log),
    )
    .unwrap();
    println!(
        "downloaded 3 files from 127.0.0.1 in {:.2?}",
        start.elapsed()
    );
    let log = log.into_inner().unwrap();
    assert_eq!(log[0], "present t10k-labels-idx1-ubyte.gz");
    assert_eq!(log.iter().filter(|l| l.starts_with("finished")).count(), 3);
    assert_eq!(server.requests.load(Ordering::Relaxed), 3);

    let m = load_mnist(&dir.0, &LoadOptions::default()).unwrap();
    assert_eq!((m.train.len(), m.test.len()), (60_000, 10_000));

    // Everything present: no request at all.
    let log = Mutex::new(Vec::new());
    ensure_downloaded(
        &dir.0,
        Dataset::Mnist,
        &[server.url("/m")],
        &mut recorder(&log),
    )
    .unwrap();
    assert_eq!(server.requests.load(Ordering::Relaxed), 3);
    assert!(
        log.into_inner()
            .unwrap()
            .iter()
            .all(|l| l.starts_with("present"))
    );
}

/// A small file of our own: its spec and its content.
fn small_file() -> (FileSpec<'static>, Vec<u8>) {
    let content = b"0123456789".to_vec();
    let sha: &'static str = Box::leak(sha256_hex(&content).into_boxed_str());
    let spec = FileSpec {
        name: "small.bin",
        sha256: sha,
        size: Some(10),
    };
    (spec, content)
}

/// Limits small enough for a test: at least `min_bytes` in every
/// `window_ms`.
fn limits(min_bytes: u64, window_ms: u64) -> DownloadLimits {
    DownloadLimits::new(min_bytes, Duration::from_millis(window_ms))
}

/// A file of `len` bytes of our own: its spec and its content.
fn big_file(name: &'static str, len: usize) -> (FileSpec<'static>, Vec<u8>) {
    let content: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
    let sha: &'static str = Box::leak(sha256_hex(&content).into_boxed_str());
    let spec = FileSpec {
        name,
        sha256: sha,
        size: Some(len as u64),
    };
    (spec, content)
}

/// The single failed attempt of a [`DataError::Missing`].
fn only_attempt(err: &DataError) -> &str {
    let DataError::Missing(m) = err else {
        panic!("{err:?}")
    };
    assert_eq!(m.attempts.len(), 1, "{:?}", m.attempts);
    &m.attempts[0]
}

/// The pid of a process that was started, killed and reaped: what a
/// killed download leaves behind.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let pid = child.id();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    pid
}

/// A mirror that sends a byte, then nothing for longer than the window
/// (one byte every 2 s against at least 1 byte in 0.3 s, as a mirror
/// sending one byte every 40 s against the default 30 s), is given up a
/// window after its last byte with a message saying so, and leaves no
/// temporary file; the next mirror is then tried.
#[test]
fn a_stalled_mirror_is_given_up_after_the_bound_and_leaves_no_part() {
    let (spec, content) = small_file();
    let trickle = || {
        Server::start(HashMap::from([(
            "/slow/small.bin".to_owned(),
            Body::Trickle {
                announced: 10,
                every: Duration::from_secs(2),
                bytes: 5,
            },
        )]))
    };
    let limits = limits(1, 300);
    let dir = Scratch::new("dl-stalled");

    let slow = trickle();
    let url = slow.url("/slow/small.bin");
    let start = Instant::now();
    let err = download_file_with(
        &[slow.url("/slow/")],
        &spec,
        &dir.0,
        &limits,
        None,
        &mut |_| {},
    )
    .unwrap_err();
    let took = start.elapsed();
    println!("stalled mirror given up after {took:.2?}: {err}");
    let attempt = only_attempt(&err);
    let expected = format!("stalled: no data for 0.3 s from {url} after 1 of 10 bytes");
    assert!(attempt.contains(&expected), "{attempt:?}");
    assert!(err.to_string().contains(&expected), "{err}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert!(dir.entries().is_empty(), "left behind: {:?}", dir.entries());

    // With a good mirror after it, the file arrives, and only it.
    let slow = trickle();
    let good = Server::start(HashMap::from([(
        "/ok/small.bin".to_owned(),
        Body::Ok(Arc::new(content.clone())),
    )]));
    let log = Mutex::new(Vec::new());
    download_file_with(
        &[slow.url("/slow/"), good.url("/ok/")],
        &spec,
        &dir.0,
        &limits,
        None,
        &mut recorder(&log),
    )
    .unwrap();
    assert_eq!(std::fs::read(dir.0.join("small.bin")).unwrap(), content);
    assert_eq!(dir.entries(), ["small.bin"]);
    let log = log.into_inner().unwrap();
    assert!(
        log.iter()
            .any(|l| l.starts_with("failed") && l.contains("stalled: no data for 0.3 s")),
        "{log:?}"
    );
}

/// A mirror that accepts the request and never answers is given up after
/// the window too.
#[test]
fn a_mirror_that_never_answers_is_given_up_after_the_bound() {
    let (spec, _) = small_file();
    let server = Server::start(HashMap::from([(
        "/mute/small.bin".to_owned(),
        Body::Silent(Duration::from_secs(5)),
    )]));
    let url = server.url("/mute/small.bin");
    let dir = Scratch::new("dl-mute");
    let start = Instant::now();
    let err = download_file_with(
        &[server.url("/mute/")],
        &spec,
        &dir.0,
        &limits(1_000, 300),
        None,
        &mut |_| {},
    )
    .unwrap_err();
    let took = start.elapsed();
    println!("silent mirror given up after {took:.2?}: {err}");
    let expected = format!("no response within 0.3 s from {url}");
    assert!(only_attempt(&err).contains(&expected), "{err}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert!(dir.entries().is_empty(), "left behind: {:?}", dir.entries());
}

/// A mirror serving 100 kB at 20 kB/s takes 5 s, more than twice the
/// window (1,000 bytes in 2 s), and completes: there is no overall
/// deadline. The former deadline, 60 s + the size at 50 kB/s, gave up a
/// real 20 kB/s download of 9.9 MB at 258 s; scaled to this test (1 s +
/// the size at 50 kB/s = 3 s), it gave this one up too.
#[test]
fn a_slow_but_steady_mirror_completes_however_long_it_takes() {
    let (spec, content) = big_file("steady.bin", 100_000);
    let server = Server::start(HashMap::from([(
        "/slow/steady.bin".to_owned(),
        Body::Paced {
            body: Arc::new(content.clone()),
            chunk: 1_000,
            every: Duration::from_millis(50),
        },
    )]));
    let dir = Scratch::new("dl-steady");
    let log = Mutex::new(Vec::new());
    let start = Instant::now();
    download_file_with(
        &[server.url("/slow/")],
        &spec,
        &dir.0,
        &limits(1_000, 2_000),
        None,
        &mut recorder(&log),
    )
    .unwrap();
    let took = start.elapsed();
    println!("100 kB at 20 kB/s downloaded in {took:.2?}");
    assert!(took >= Duration::from_secs(4), "{took:?}");
    assert_eq!(std::fs::read(dir.0.join("steady.bin")).unwrap(), content);
    assert_eq!(dir.entries(), ["steady.bin"]);
    let log = log.into_inner().unwrap();
    assert!(!log.iter().any(|l| l.starts_with("failed")), "{log:?}");
    let progress = log.iter().filter(|l| l.starts_with("progress")).count();
    assert!(progress >= 20, "{progress} progress events");
    assert_eq!(log.last().unwrap(), "finished steady.bin 100000");
}

/// A mirror trickling a byte a second (as one sending a byte every 5 s
/// against the default 30 s window) is given up once a window (2 s) holds
/// fewer than 1,000 bytes, within the window and a margin, with a message
/// saying how much arrived; the next mirror is then tried and delivers.
#[test]
fn a_trickling_mirror_is_given_up_after_the_window_and_the_next_one_tried() {
    let (spec, content) = big_file("trickle.bin", 1_000);
    let slow = Server::start(HashMap::from([(
        "/drip/trickle.bin".to_owned(),
        Body::Trickle {
            announced: 1_000,
            every: Duration::from_secs(1),
            bytes: 60,
        },
    )]));
    let good = Server::start(HashMap::from([(
        "/ok/trickle.bin".to_owned(),
        Body::Ok(Arc::new(content.clone())),
    )]));
    let url = slow.url("/drip/trickle.bin");
    let dir = Scratch::new("dl-trickle");
    let log = Mutex::new(Vec::new());
    let start = Instant::now();
    download_file_with(
        &[slow.url("/drip/"), good.url("/ok/")],
        &spec,
        &dir.0,
        &limits(1_000, 2_000),
        None,
        &mut recorder(&log),
    )
    .unwrap();
    let took = start.elapsed();
    println!("trickling mirror given up, the next one used, after {took:.2?}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_eq!(std::fs::read(dir.0.join("trickle.bin")).unwrap(), content);
    assert_eq!(dir.entries(), ["trickle.bin"]);
    let log = log.into_inner().unwrap();
    let failed: Vec<_> = log.iter().filter(|l| l.starts_with("failed")).collect();
    assert_eq!(failed.len(), 1, "{log:?}");
    let reason = failed[0];
    let got: u64 = reason
        .split("too slow: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{reason}"));
    assert!((1..=4).contains(&got), "{reason}");
    assert!(
        reason.contains(&format!(
            " in the last 2 s from {url} (at least 1000 needed) after "
        )) && reason.ends_with(" of 1000 bytes"),
        "{reason}"
    );
    assert_eq!(log.last().unwrap(), "finished trickle.bin 1000");
}

/// A stop flag raised mid-download ends it at once with the interrupted
/// error, which names the partial file it removed; no other mirror is
/// tried.
#[test]
fn a_raised_stop_flag_interrupts_and_removes_the_partial_file() {
    let (spec, content) = big_file("stopped.bin", 100_000);
    let slow = Server::start(HashMap::from([(
        "/slow/stopped.bin".to_owned(),
        Body::Paced {
            body: Arc::new(content.clone()),
            chunk: 1_000,
            every: Duration::from_millis(50),
        },
    )]));
    let good = Server::start(HashMap::from([(
        "/ok/stopped.bin".to_owned(),
        Body::Ok(Arc::new(content)),
    )]));
    let dir = Scratch::new("dl-stopped");
    let stop = StopFlag::new();
    let mut parts_seen = Vec::new();
    let start = Instant::now();
    let err = download_file_with(
        &[slow.url("/slow/"), good.url("/ok/")],
        &spec,
        &dir.0,
        &limits(1_000, 2_000),
        Some(&stop),
        &mut |event| {
            if let DownloadEvent::Progress { bytes, .. } = event {
                if bytes >= 10_000 && !stop.is_raised() {
                    parts_seen = dir.entries();
                    stop.raise();
                }
            }
        },
    )
    .unwrap_err();
    let took = start.elapsed();
    println!("interrupted after {took:.2?}: {err}");
    assert!(err.is_interrupted(), "{err:?}");
    assert_eq!(parts_seen.len(), 1, "{parts_seen:?}");
    assert!(
        parts_seen[0].starts_with(&format!(".stopped.bin.part-{}-", std::process::id())),
        "{parts_seen:?}"
    );
    let part = dir.0.join(&parts_seen[0]);
    let message = err.to_string();
    assert!(
        message.contains(&format!(
            "interrupted: the partial download `{}` was removed",
            part.display()
        )),
        "{message}"
    );
    assert!(dir.entries().is_empty(), "left behind: {:?}", dir.entries());
    assert_eq!(good.requests.load(Ordering::Relaxed), 0);
    assert!(took < Duration::from_secs(3), "{took:?}");
}

/// A stop flag raised while a mirror sends nothing is seen without waiting
/// for the window; one raised before the call asks no mirror at all.
#[test]
fn a_stop_flag_is_seen_while_waiting_and_before_any_request() {
    let (spec, _) = small_file();
    let server = Server::start(HashMap::from([(
        "/mute/small.bin".to_owned(),
        Body::Silent(Duration::from_secs(10)),
    )]));
    let dir = Scratch::new("dl-stop-wait");
    let stop = StopFlag::new();
    let raiser = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            stop.raise();
        })
    };
    let start = Instant::now();
    let err = download_file_with(
        &[server.url("/mute/")],
        &spec,
        &dir.0,
        &limits(1_000, 30_000),
        Some(&stop),
        &mut |_| {},
    )
    .unwrap_err();
    let took = start.elapsed();
    raiser.join().unwrap();
    println!("interrupted while waiting after {took:.2?}: {err}");
    assert!(err.is_interrupted(), "{err:?}");
    assert!(
        err.to_string()
            .contains("interrupted before any of it was downloaded"),
        "{err}"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(dir.entries().is_empty(), "left behind: {:?}", dir.entries());

    let requests = server.requests.load(Ordering::Relaxed);
    let err = ensure_downloaded_with(
        &dir.0,
        Dataset::Mnist,
        &[server.url("/m/")],
        &DownloadLimits::default(),
        Some(&stop),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.is_interrupted(), "{err:?}");
    assert_eq!(server.requests.load(Ordering::Relaxed), requests);
}

/// The temporary files a killed download left (its process is gone) are
/// removed by the next run; those of a live process, and those of other
/// files, are left alone.
#[cfg(target_os = "linux")]
#[test]
fn a_killed_runs_part_is_removed_by_the_next_run() {
    let (spec, content) = small_file();
    let server = Server::start(HashMap::from([(
        "/ok/small.bin".to_owned(),
        Body::Ok(Arc::new(content.clone())),
    )]));
    let dir = Scratch::new("dl-stale");
    std::fs::create_dir_all(&dir.0).unwrap();
    let dead = dead_pid();
    let stale = [
        format!(".small.bin.part-{dead}-0"),
        // As named before this change.
        format!(".small.bin.{dead}.3.part"),
    ];
    let kept = [
        // Pid 1 is alive.
        ".small.bin.part-1-0".to_owned(),
        format!(".other.bin.part-{dead}-0"),
    ];
    for name in stale.iter().chain(&kept) {
        std::fs::write(dir.0.join(name), b"01234").unwrap();
    }
    let start = Instant::now();
    download_file(&[server.url("/ok/")], &spec, &dir.0, &mut |_| {}).unwrap();
    println!("downloaded in {:.2?}", start.elapsed());
    let mut expected = vec![kept[1].clone(), kept[0].clone(), "small.bin".to_owned()];
    expected.sort();
    assert_eq!(dir.entries(), expected);
    assert_eq!(std::fs::read(dir.0.join("small.bin")).unwrap(), content);
}

/// `ensure_downloaded` removes the dataset's stale temporary files even
/// when every file is present and nothing is fetched.
#[cfg(target_os = "linux")]
#[test]
fn ensure_downloaded_removes_stale_parts_when_nothing_is_missing() {
    let dir = Scratch::new("dl-stale-present");
    std::fs::create_dir_all(&dir.0).unwrap();
    for spec in Dataset::Mnist.files() {
        std::fs::write(dir.0.join(spec.name), b"present").unwrap();
    }
    let dead = dead_pid();
    let stale = format!(".{LABELS}.part-{dead}-0");
    std::fs::write(dir.0.join(&stale), b"half").unwrap();
    let log = Mutex::new(Vec::new());
    ensure_downloaded_with(
        &dir.0,
        Dataset::Mnist,
        // Never contacted.
        &["http://127.0.0.1:9/".to_owned()],
        &DownloadLimits::default(),
        None,
        &mut recorder(&log),
    )
    .unwrap();
    assert_eq!(log.into_inner().unwrap().len(), 4);
    let mut expected: Vec<String> = Dataset::Mnist
        .files()
        .iter()
        .map(|s| s.name.to_owned())
        .collect();
    expected.sort();
    assert_eq!(dir.entries(), expected);
}

/// A download that fails its checksum leaves no temporary file, neither its
/// own nor one a killed run had left.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_checksum_leaves_no_part() {
    let (spec, _) = small_file();
    let server = Server::start(HashMap::from([(
        "/bad/small.bin".to_owned(),
        Body::Ok(Arc::new(b"9876543210".to_vec())),
    )]));
    let dir = Scratch::new("dl-bad-part");
    std::fs::create_dir_all(&dir.0).unwrap();
    let stale = format!(".small.bin.part-{}-0", dead_pid());
    std::fs::write(dir.0.join(&stale), b"01234").unwrap();
    let err = download_file(&[server.url("/bad/")], &spec, &dir.0, &mut |_| {}).unwrap_err();
    assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{err:?}");
    assert!(dir.entries().is_empty(), "left behind: {:?}", dir.entries());
}

/// A directory that cannot take the files is said before any mirror is
/// asked: no request is made.
#[test]
fn an_unwritable_directory_is_refused_before_any_request() {
    if !Path::new("/proc/self").is_dir() {
        return; // Nobody, root included, creates a file in /proc.
    }
    let server = Server::start(HashMap::new());
    let log = Mutex::new(Vec::new());
    for dir in ["/proc/staticnet-mnist", "/proc"] {
        let err = ensure_downloaded(
            Path::new(dir),
            Dataset::Mnist,
            &[server.url("/mnist/")],
            &mut recorder(&log),
        )
        .unwrap_err();
        assert!(
            matches!(&err, DataError::UnwritableDir { path, .. } if path == Path::new(dir)),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("cannot be downloaded here"),
            "{err}"
        );
    }
    assert!(log.into_inner().unwrap().is_empty(), "a mirror was asked");
}
