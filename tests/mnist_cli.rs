//! The `mnist` example (and, for `--data`, `simple_convnet` and
//! `custom_layer`) as a user runs them, on a small synthetic dataset in the
//! MNIST layout: a resume that would take no step, an output that cannot
//! be written and a path that is not what its flag needs are usage errors
//! (exit code 2) said before any step, in words that say what is wrong.
//!
//! The examples are built once with `cargo build --example …` (the
//! executables' paths come from cargo's JSON messages), then run directly.
//!
//! Not tested here: a data directory or an output directory that exists but
//! whose permissions refuse reading or writing. The tests run as root,
//! which permission bits do not stop; `net-core/tests/data_mnist.rs` tests
//! the unreadable directory when not run as root, and says it skipped it
//! otherwise. As root, an unwritable destination is tested with `/proc`,
//! where no one can create a file.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use staticnet::data::IdxArray;

/// The examples run here.
const EXAMPLES: [&str; 3] = ["mnist", "simple_convnet", "custom_layer"];

/// The path of a built example.
fn exe(name: &str) -> &'static Path {
    static EXES: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    let exes = EXES.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        cargo.current_dir(env!("CARGO_MANIFEST_DIR")).args([
            "build",
            "--quiet",
            "--message-format=json",
        ]);
        for example in EXAMPLES {
            cargo.args(["--example", example]);
        }
        if !cfg!(debug_assertions) {
            cargo.arg("--release");
        }
        let output = cargo.output().expect("cargo runs");
        assert!(
            output.status.success(),
            "building the examples failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut exes = HashMap::new();
        for line in stdout.lines().filter(|line| {
            line.contains("\"reason\":\"compiler-artifact\"")
                && line.contains("\"kind\":[\"example\"]")
        }) {
            let Some(start) = line.find("\"executable\":\"").map(|at| at + 14) else {
                continue;
            };
            let end = start + line[start..].find('"').expect("a closing quote");
            for example in EXAMPLES {
                if line.contains(&format!("\"name\":\"{example}\"")) {
                    exes.insert(example.to_owned(), PathBuf::from(&line[start..end]));
                }
            }
        }
        exes
    });
    exes.get(name)
        .unwrap_or_else(|| panic!("cargo reports the {name} example"))
}

/// A fresh directory for one test, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("staticnet-mnist-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A dataset in the MNIST layout, raw IDX: 200 training and 50 test images
/// of 28 × 28 whose brightness says their label.
fn synthetic_mnist(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let write = |name: &str, dims: &[usize], data: Vec<u8>| {
        let bytes = IdxArray {
            dims: dims.to_vec(),
            data,
        }
        .to_bytes()
        .unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    for (prefix, n) in [("train", 200), ("t10k", 50)] {
        let labels: Vec<u8> = (0..n).map(|k| (k * 7 % 10) as u8).collect();
        let images: Vec<u8> = labels
            .iter()
            .enumerate()
            .flat_map(|(k, &label)| {
                (0..784).map(move |p| ((p * 31 + k * 17) % 64) as u8 + label * 19)
            })
            .collect();
        write(&format!("{prefix}-images-idx3-ubyte"), &[n, 28, 28], images);
        write(&format!("{prefix}-labels-idx1-ubyte"), &[n], labels);
    }
}

/// The arguments every run of `example` here takes: the synthetic data is
/// not the canonical MNIST, which `mnist` checks unless told.
fn own_data(example: &str) -> &'static [&'static str] {
    if example == "mnist" {
        &["--own-data"]
    } else {
        &[]
    }
}

fn run(example: &str, args: &[&dyn AsRef<OsStr>]) -> Output {
    Command::new(exe(example))
        .args(own_data(example))
        .args(args.iter().map(|arg| arg.as_ref()))
        .output()
        .expect("the example runs")
}

fn run_owned(example: &str, args: &[OsString]) -> Output {
    Command::new(exe(example))
        .args(own_data(example))
        .args(args)
        .output()
        .expect("the example runs")
}

/// A usage error: exit code 2, `message` in stderr, no panic, and nothing
/// on stdout (no epoch was evaluated, no step taken). Returns stderr.
fn assert_usage_error(output: &Output, message: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stderr: {stderr}\nstdout: {stdout}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains(message),
        "expected {message:?} in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stdout.is_empty(), "nothing on stdout: {stdout}");
    stderr
}

fn assert_success(output: &Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `__metadata__` of a safetensors file.
fn metadata(path: &Path) -> HashMap<String, String> {
    let bytes = std::fs::read(path).unwrap();
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    metadata.metadata().clone().unwrap_or_default()
}

#[test]
fn a_resume_to_an_iteration_already_reached_is_refused_and_leaves_the_checkpoint() {
    let dir = Scratch::new("resume");
    let data = dir.join("data");
    synthetic_mnist(&data);
    let ckpt = dir.join("ckpt.safetensors");
    // The flags every run here shares, then those of the run.
    let with = |extra: &[&dyn AsRef<OsStr>]| -> Vec<OsString> {
        let common: [&dyn AsRef<OsStr>; 4] = [&"--data", &data, &"--batch", &"10"];
        common
            .iter()
            .chain(extra)
            .map(|arg| arg.as_ref().to_owned())
            .collect()
    };

    let output = run_owned(
        "mnist",
        &with(&[&"--iters", &"30", &"--save", &ckpt, &"--quiet"]),
    );
    assert_success(&output);
    assert_eq!(metadata(&ckpt)["iteration"], "30");
    let before = std::fs::read(&ckpt).unwrap();

    for iters in ["10", "30"] {
        let expected = format!(
            "`{}` is at iteration 30; --iters {iters} is not beyond it: \
             give --iters above 30 to train further",
            ckpt.display()
        );
        // With --save on the same file, and without.
        let output = run_owned(
            "mnist",
            &with(&[&"--iters", &iters, &"--resume", &ckpt, &"--save", &ckpt]),
        );
        assert_usage_error(&output, &expected);
        let output = run_owned("mnist", &with(&[&"--iters", &iters, &"--resume", &ckpt]));
        assert_usage_error(&output, &expected);
        assert!(
            std::fs::read(&ckpt).unwrap() == before,
            "--iters {iters} rewrote the checkpoint"
        );
    }

    // Beyond it, the run trains on, and the checkpoint it writes is the one
    // an uninterrupted run writes: its iteration is that of its weights.
    let output = run_owned(
        "mnist",
        &with(&[&"--iters", &"45", &"--resume", &ckpt, &"--save", &ckpt]),
    );
    let stdout = assert_success(&output);
    assert!(
        stdout.contains("resumed from") && stdout.contains("at iteration 30"),
        "{stdout}"
    );
    assert_eq!(metadata(&ckpt)["iteration"], "45");
    let straight = dir.join("straight.safetensors");
    let output = run_owned(
        "mnist",
        &with(&[&"--iters", &"45", &"--save", &straight, &"--quiet"]),
    );
    assert_success(&output);
    assert!(
        std::fs::read(&straight).unwrap() == std::fs::read(&ckpt).unwrap(),
        "the resumed checkpoint differs from the uninterrupted one"
    );
}

#[test]
fn an_output_that_cannot_be_written_fails_before_any_step() {
    let dir = Scratch::new("outputs");
    let data = dir.join("data");
    synthetic_mnist(&data);
    let file = dir.join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let existing_dir = dir.join("existing");
    std::fs::create_dir(&existing_dir).unwrap();
    let under_file = file.join("out");
    let missing_dir = dir.join("missing").join("out");
    let with_slash = format!("{}/", existing_dir.display());

    let mut cases: Vec<(&str, PathBuf, String)> = vec![
        (
            "--save",
            under_file.with_extension("safetensors"),
            format!(
                "{} is not a directory (it is a regular file)",
                file.display()
            ),
        ),
        (
            "--plot",
            under_file.with_extension("png"),
            format!(
                "{} is not a directory (it is a regular file)",
                file.display()
            ),
        ),
        (
            "--save",
            missing_dir.with_extension("safetensors"),
            format!(
                "the directory {} does not exist",
                dir.join("missing").display()
            ),
        ),
        (
            "--save",
            existing_dir.clone(),
            format!(
                "is a directory; give a file path, such as {}",
                existing_dir.join("checkpoint.safetensors").display()
            ),
        ),
        (
            "--plot",
            PathBuf::from(&with_slash),
            "is a directory; give a file path".to_owned(),
        ),
    ];
    // Nobody, root included, creates a file in /proc.
    if Path::new("/proc/self").exists() {
        cases.push((
            "--save",
            PathBuf::from("/proc/staticnet-test.safetensors"),
            "cannot create a file in /proc".to_owned(),
        ));
        cases.push((
            "--plot",
            PathBuf::from("/proc/staticnet-test.png"),
            "cannot create a file in /proc".to_owned(),
        ));
    }
    for (flag, path, reason) in &cases {
        let output = run(
            "mnist",
            &[
                &"--data", &data, &"--batch", &"10", &"--iters", &"200", flag, path,
            ],
        );
        let expected = format!("{flag} {}: {reason}", path.display());
        assert_usage_error(&output, &expected);
    }
    assert!(
        std::fs::read_dir(&existing_dir).unwrap().next().is_none(),
        "nothing was written into the directory"
    );

    // Writable destinations: the outputs, and nothing else, are there.
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let output = run(
        "mnist",
        &[
            &"--data",
            &data,
            &"--batch",
            &"10",
            &"--iters",
            &"40",
            &"--quiet",
            &"--save",
            &out.join("ckpt.safetensors"),
            &"--plot",
            &out.join("curves.png"),
        ],
    );
    assert_success(&output);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["ckpt.safetensors", "curves.png"]);
}

#[test]
fn a_path_that_is_not_what_its_flag_needs_is_said_to_be_so() {
    let dir = Scratch::new("kinds");
    let data = dir.join("data");
    synthetic_mnist(&data);
    let file = dir.join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();

    // --data naming a regular file, in every example that takes --data.
    for example in EXAMPLES {
        let output = run(example, &[&"--data", &file]);
        let stderr = assert_usage_error(
            &output,
            &format!(
                "--data {}: not a directory (it is a regular file)",
                file.display()
            ),
        );
        assert!(!stderr.contains("no such"), "{example}: {stderr}");
    }
    // A file on the way: the message names it.
    let output = run("mnist", &[&"--data", &file.join("mnist")]);
    assert_usage_error(
        &output,
        &format!("{}: not a directory (it is a regular file)", file.display()),
    );
    // A missing directory is still said to be missing.
    let nowhere = dir.join("nowhere");
    let output = run("mnist", &[&"--data", &nowhere]);
    assert_usage_error(
        &output,
        &format!("--data {}: no such directory", nowhere.display()),
    );

    // --resume of something that is not a regular file.
    if Path::new("/dev/zero").exists() {
        let output = run("mnist", &[&"--data", &data, &"--resume", &"/dev/zero"]);
        let stderr = assert_usage_error(
            &output,
            "--resume /dev/zero: not a regular file (it is a character device)",
        );
        assert!(!stderr.contains("no such"), "{stderr}");
    }
    let output = run("mnist", &[&"--data", &data, &"--resume", &dir.0]);
    assert_usage_error(
        &output,
        &format!(
            "--resume {}: not a regular file (it is a directory)",
            dir.0.display()
        ),
    );
    let missing = dir.join("missing.safetensors");
    let output = run("mnist", &[&"--data", &data, &"--resume", &missing]);
    assert_usage_error(
        &output,
        &format!("--resume {}: no such file", missing.display()),
    );

    // --save naming an existing directory, with a trailing slash.
    let with_slash = format!("{}/", data.display());
    let output = run("mnist", &[&"--data", &data, &"--save", &with_slash]);
    let stderr = assert_usage_error(
        &output,
        &format!("--save {with_slash}: is a directory; give a file path"),
    );
    assert!(!stderr.contains("Not a directory"), "{stderr}");
}

/// Sends SIGINT to `child`, as Ctrl-C does.
fn interrupt(child: &std::process::Child) {
    send(child, "INT");
}

/// Sends the signal `name` (`TERM`, `HUP`, …) to `child`.
fn send(child: &std::process::Child, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// The iteration the interruption line of `stderr` names, after checking
/// it names the signal and the checkpoint `save`.
fn interrupted_at(stderr: &str, signal: &str, save: &Path) -> u64 {
    let start = format!("interrupted by {signal}: stopped after iteration ");
    let line = stderr
        .lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no interruption line in: {stderr}"));
    let iteration: u64 = line
        .trim_start_matches(&start)
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(iteration > 0, "{line}");
    assert!(
        line.ends_with(&format!("the checkpoint is in {}", save.display())),
        "{line}"
    );
    assert_eq!(metadata(save)["iteration"], iteration.to_string());
    iteration
}

/// Starts a long run with `--save`, and waits until it has begun to train
/// (its first epoch line); a thread reads the rest of its output.
fn long_run(data: &Path, save: &Path) -> std::process::Child {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let mut child = Command::new(exe("mnist"))
        .args(own_data("mnist"))
        .args([OsStr::new("--data"), data.as_os_str()])
        .args(["--batch", "10", "--iters", "100000000", "--save"])
        .arg(save)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok);
    assert!(
        lines.any(|line| line.starts_with("epoch")),
        "training began"
    );
    std::thread::spawn(move || lines.for_each(drop));
    child
}

/// Ctrl-C stops the training after the step under way, writes the
/// checkpoint with the steps taken, says where it stopped and where the
/// checkpoint is, and exits with 130; a second Ctrl-C exits at once.
#[test]
fn ctrl_c_saves_says_where_and_exits_130() {
    let dir = Scratch::new("ctrl-c");
    let data = dir.join("data");
    synthetic_mnist(&data);
    let save = dir.join("ckpt.safetensors");

    let child = long_run(&data, &save);
    std::thread::sleep(std::time::Duration::from_millis(300));
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    interrupted_at(&stderr, "SIGINT (Ctrl-C)", &save);

    // Twice: at once, and the checkpoint of the last epoch (if any) is left.
    std::fs::remove_file(&save).unwrap();
    let child = long_run(&data, &save);
    interrupt(&child);
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
}

/// A checkpoint at the last iteration a run can count to (`u64::MAX`):
/// the refusal says so, and blames no flag that was not given.
#[test]
fn a_checkpoint_at_the_last_iteration_is_refused_without_blaming_a_flag() {
    use staticnet::io::{CheckpointMeta, load_checkpoint, save_checkpoint};
    use staticnet::prelude::*;

    network! {
        struct TwoLayerNet<Affine<784, dyn>, Relu, Affine<dyn, 10>, SoftmaxWithLoss>
    }

    let dir = Scratch::new("last-iteration");
    let data = dir.join("data");
    synthetic_mnist(&data);
    let ckpt = dir.join("ckpt.safetensors");
    let common: [&dyn AsRef<OsStr>; 4] = [&"--data", &data, &"--batch", &"10"];
    let mut args: Vec<&dyn AsRef<OsStr>> = common.to_vec();
    args.extend([
        &"--iters" as &dyn AsRef<OsStr>,
        &"5",
        &"--save",
        &ckpt,
        &"--quiet",
    ]);
    assert_success(&run("mnist", &args));
    // The same checkpoint, its iteration the largest there is.
    let mut net = TwoLayerNet::<f32>::from_weights(&ckpt).unwrap();
    let checkpoint = load_checkpoint(&mut net, &ckpt).unwrap();
    let meta = CheckpointMeta {
        iteration: u64::MAX,
        ..checkpoint.meta()
    };
    save_checkpoint(&net, &meta, &checkpoint.state_entries(), &ckpt).unwrap();

    let mut args: Vec<&dyn AsRef<OsStr>> = common.to_vec();
    args.extend([&"--resume" as &dyn AsRef<OsStr>, &ckpt]);
    // A usage error (the resume line is on stdout before it).
    let refused = |args: &[&dyn AsRef<OsStr>]| {
        let output = run("mnist", args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("no run can go on from it"), "{stderr}");
        stderr
    };
    let stderr = refused(&args);
    assert!(stderr.contains("(the example's default length"), "{stderr}");
    assert!(!stderr.contains("--epochs)"), "{stderr}");
    args.extend([&"--epochs" as &dyn AsRef<OsStr>, &"2"]);
    assert!(refused(&args).contains("(--epochs 2)"));
}

/// SIGTERM (what `timeout`, `systemctl stop` and `docker stop` send) and
/// SIGHUP stop the run as Ctrl-C does — saved, saying where — and exit with
/// 128 + the signal; the checkpoint resumes.
#[test]
fn sigterm_and_sighup_save_say_where_and_the_checkpoint_resumes() {
    let dir = Scratch::new("sigterm");
    let data = dir.join("data");
    synthetic_mnist(&data);
    for (signal, name, status) in [("TERM", "SIGTERM", 143), ("HUP", "SIGHUP", 129)] {
        let save = dir.join(&format!("{signal}.safetensors"));
        let child = long_run(&data, &save);
        std::thread::sleep(std::time::Duration::from_millis(300));
        send(&child, signal);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(status), "{stderr}");
        let iteration = interrupted_at(&stderr, name, &save);
        // The checkpoint resumes, to a few steps further.
        let further = (iteration + 5).to_string();
        let output = run(
            "mnist",
            &[
                &"--data",
                &data,
                &"--batch",
                &"10",
                &"--resume",
                &save,
                &"--iters",
                &further,
                &"--save",
                &save,
            ],
        );
        assert_success(&output);
        assert_eq!(metadata(&save)["iteration"], further);
    }
}

/// Files that are not the canonical dataset's are refused before the first
/// step, unless they are said to be data of one's own.
#[test]
fn data_that_is_not_the_canonical_files_is_refused_unless_own() {
    let dir = Scratch::new("canonical");
    let data = dir.join("data");
    synthetic_mnist(&data);
    let output = Command::new(exe("mnist"))
        .args([OsStr::new("--data"), data.as_os_str()])
        .args(["--batch", "10", "--iters", "20", "--quiet"])
        .output()
        .expect("the example runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not the canonical MNIST file"), "{stderr}");
    assert!(stderr.contains("--own-data"), "{stderr}");
    assert!(output.stdout.is_empty(), "no step was taken");
    let output = run(
        "mnist",
        &[
            &"--data", &data, &"--batch", &"10", &"--iters", &"20", &"--quiet",
        ],
    );
    assert_success(&output);
}

/// A checkpoint records what it was trained on; resuming it on other data
/// is refused, and the file is left as it was.
#[test]
fn a_checkpoint_is_not_resumed_on_other_data() {
    let dir = Scratch::new("other-data");
    let data = dir.join("data");
    synthetic_mnist(&data);
    let ckpt = dir.join("ckpt.safetensors");
    let common: [&dyn AsRef<OsStr>; 4] = [&"--data", &data, &"--batch", &"10"];
    let first: Vec<&dyn AsRef<OsStr>> = common
        .iter()
        .copied()
        .chain([
            &"--iters" as &dyn AsRef<OsStr>,
            &"20",
            &"--save",
            &ckpt,
            &"--quiet",
        ])
        .collect();
    assert_success(&run("mnist", &first));
    assert_eq!(metadata(&ckpt)["dataset"], "own data (--dataset mnist)");
    let before = std::fs::read(&ckpt).unwrap();
    let second: Vec<&dyn AsRef<OsStr>> = common
        .iter()
        .copied()
        .chain([
            &"--iters" as &dyn AsRef<OsStr>,
            &"40",
            &"--resume",
            &ckpt,
            &"--save",
            &ckpt,
            &"--dataset",
            &"fashion",
        ])
        .collect();
    let output = run("mnist", &second);
    assert_usage_error(
        &output,
        "dataset: own data (--dataset mnist) in the checkpoint, own data (--dataset fashion) in this run (--dataset, --own-data)",
    );
    assert_eq!(
        std::fs::read(&ckpt).unwrap(),
        before,
        "the checkpoint is untouched"
    );
}
