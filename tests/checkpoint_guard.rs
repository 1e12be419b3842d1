//! What a run does to the checkpoint file it writes: it records how the
//! weights were made and refuses a resume that changes it, refuses to
//! write over a checkpoint it did not resume, keeps the better checkpoint
//! when it ends worse, and locks the file against a second run.

use std::path::Path;
use std::sync::mpsc;

use staticnet::io::{RecordedEvaluation, load_checkpoint, read_header, save_checkpoint};
use staticnet::prelude::*;
use staticnet::train::{
    Fit, FitError, InMemory, Labels, Replacement, Sampling, Setting, SettingChange, Stopped,
    previous_path,
};

network! {
    /// A two-class classifier of points in the plane.
    pub struct Classifier<Affine<2, 8>, Relu, Affine<8, 2>, SoftmaxWithLoss>
}

/// `n` points, labeled by the sign of x·y: a problem a small net learns.
fn points(n: usize) -> InMemory<f32, Const<2>, Labels> {
    let values: Vec<f32> = (0..2 * n).map(|i| (i as f32 * 0.737).sin()).collect();
    let labels: Vec<usize> = values
        .chunks(2)
        .map(|p| usize::from(p[0] * p[1] > 0.0))
        .collect();
    InMemory::with_labels(values, labels, 2).expect("labels below 2")
}

fn net() -> Classifier<f32> {
    Classifier::<f32>::init(&mut StdRng::seed_from_u64(0), Init::He)
}

/// A run of `steps` steps at `lr`, validated on `data`, checkpointed at
/// `path`.
fn fit<'a>(
    lr: f64,
    steps: usize,
    path: &Path,
    data: &'a InMemory<f32, Const<2>, Labels>,
) -> Fit<'a, f32, InMemory<f32, Const<2>, Labels>> {
    Fit::new(Optimizer::momentum(lr))
        .steps(steps)
        .batch_size(20)
        .progress(false)
        .validation(data)
        .validation_name("test")
        .data_name("points")
        .checkpoint(path)
}

/// The checkpoint at `path` after a good run of 300 steps.
fn good_checkpoint(path: &Path, data: &InMemory<f32, Const<2>, Labels>) -> RecordedEvaluation {
    let history = fit(0.1, 300, path, data).run(&mut net(), data).unwrap();
    assert_eq!(history.replacement, None, "no file was there");
    let header = read_header(path).unwrap();
    let evaluation = header.evaluation.expect("the last evaluation is recorded");
    assert_eq!(evaluation.data, "test");
    assert!(evaluation.accuracy.unwrap() > 0.8, "{evaluation:?}");
    evaluation
}

#[test]
fn a_resume_that_changes_settings_is_refused_naming_each() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");
    let data = points(400);
    good_checkpoint(&path, &data);

    let mut resumed = net();
    let checkpoint = load_checkpoint(&mut resumed, &path).unwrap();
    assert_eq!(checkpoint.settings["batch_size"], "20");
    assert_eq!(checkpoint.settings["optimizer"], "momentum (momentum 0.9)");
    // Saved again from what it loaded, a checkpoint keeps its record.
    let copy = dir.path().join("copy.ckpt");
    save_checkpoint(
        &resumed,
        &checkpoint.meta(),
        &checkpoint.state_entries(),
        &copy,
    )
    .unwrap();
    let reloaded = load_checkpoint(&mut net(), &copy).unwrap();
    assert_eq!(
        (&reloaded.settings, &reloaded.evaluation),
        (&checkpoint.settings, &checkpoint.evaluation)
    );
    let error = fit(0.1, 600, &path, &data)
        .batch_size(50)
        .seed(3)
        .sampling(Sampling::Shuffled)
        .resume(checkpoint.clone())
        .run(&mut resumed, &data)
        .expect_err("three settings changed");
    let FitError::SettingsChanged { changes } = &error else {
        panic!("{error:?}");
    };
    let change = |setting, recorded: &str, this_run: &str| SettingChange {
        setting,
        recorded: recorded.to_owned(),
        this_run: this_run.to_owned(),
    };
    assert_eq!(
        changes,
        &[
            change(Setting::BatchSize, "20", "50"),
            change(Setting::Sampling, "random draws", "shuffled epochs"),
            change(Setting::Seed, "0", "3"),
        ]
    );
    assert!(
        error
            .to_string()
            .contains("batch size 20 in the checkpoint, 50 in this run; sampling"),
        "{error}"
    );
    // Other data, a smaller rate: refused too, unless allowed on purpose.
    let error = fit(0.01, 600, &path, &data)
        .data_name("other points")
        .resume(checkpoint.clone())
        .check_settings()
        .expect_err("rate and data changed");
    assert!(
        matches!(&error, FitError::SettingsChanged { changes }
            if changes.iter().map(|c| c.setting).eq([Setting::LearningRate, Setting::Dataset])),
        "{error:?}"
    );
    let history = fit(0.01, 600, &path, &data)
        .resume(checkpoint)
        .allow_change(Setting::LearningRate)
        .run(&mut resumed, &data)
        .expect("the change is allowed");
    assert_eq!((history.start, history.iterations), (300, 600));
}

#[test]
fn a_run_does_not_write_over_a_checkpoint_it_did_not_resume_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");
    let data = points(400);
    good_checkpoint(&path, &data);
    let before = std::fs::read(&path).unwrap();

    let error = fit(0.1, 10, &path, &data)
        .run(&mut net(), &data)
        .expect_err("a fresh run over a checkpoint");
    assert!(
        matches!(
            &error,
            FitError::WouldOverwrite {
                iteration: Some(300),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("at iteration 300 that this run does not resume from")
    );
    assert_eq!(std::fs::read(&path).unwrap(), before, "untouched");

    // Allowed: it writes, and says the file was replaced.
    let history = fit(0.1, 300, &path, &data)
        .overwrite(true)
        .seed(1)
        .run(&mut net(), &data)
        .unwrap();
    assert_eq!(history.replacement, Some(Replacement::Replaced));
    assert!(!previous_path(&path).exists(), "the kept file is gone");
}

#[test]
fn a_run_that_ends_worse_keeps_the_better_checkpoint_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");
    let data = points(400);
    let good = good_checkpoint(&path, &data);
    let good_bytes = std::fs::read(&path).unwrap();

    // A rate that wrecks the weights without a NaN loss.
    let mut resumed = net();
    let checkpoint = load_checkpoint(&mut resumed, &path).unwrap();
    let history = fit(30.0, 400, &path, &data)
        .resume(checkpoint)
        .allow_change(Setting::LearningRate)
        .run(&mut resumed, &data)
        .expect("a finite run");
    let Some(Replacement::KeptPrevious {
        this_run,
        previous,
        ended,
    }) = &history.replacement
    else {
        panic!("{:?} {:?}", history.replacement, history.last());
    };
    assert_eq!(previous, &good);
    assert!(
        ended.accuracy.unwrap() < good.accuracy.unwrap() - 0.01,
        "{ended:?}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        good_bytes,
        "the good one is back"
    );
    assert_eq!(this_run, &dir.path().join("run.worse.ckpt"));
    assert_eq!(read_header(this_run).unwrap().iteration, Some(400));
    assert!(!previous_path(&path).exists());
}

#[test]
fn an_interrupted_run_leaves_its_checkpoint_and_the_one_it_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");
    let data = points(400);
    good_checkpoint(&path, &data);
    let good_bytes = std::fs::read(&path).unwrap();

    let mut resumed = net();
    let checkpoint = load_checkpoint(&mut resumed, &path).unwrap();
    let stop = staticnet::train::StopFlag::new();
    let raise = stop.clone();
    // Raised at the first evaluation after the start: the run stops
    // within its second epoch, after a checkpoint over the file.
    let history = fit(0.1, 2000, &path, &data)
        .resume(checkpoint)
        .stop_flag(stop)
        .on_epoch(move |record| {
            if record.iteration >= 320 {
                raise.raise();
            }
        })
        .run(&mut resumed, &data)
        .unwrap();
    assert_eq!(history.stopped, Stopped::Interrupted);
    assert_eq!(
        history.replacement,
        Some(Replacement::Pending {
            previous: previous_path(&path)
        })
    );
    assert_eq!(std::fs::read(previous_path(&path)).unwrap(), good_bytes);
    let at = read_header(&path).unwrap().iteration.unwrap();
    assert!(at > 300, "the run's own checkpoint, resumable: {at}");

    // The resumed run ends well: its checkpoint replaces the kept one.
    let mut again = net();
    let checkpoint = load_checkpoint(&mut again, &path).unwrap();
    let history = fit(0.1, 2000, &path, &data)
        .resume(checkpoint)
        .run(&mut again, &data)
        .unwrap();
    assert_eq!(history.replacement, Some(Replacement::Replaced));
    assert!(!previous_path(&path).exists());
}

#[test]
fn a_second_run_on_the_same_checkpoint_is_refused_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");
    let data = points(400);
    let (started, wait) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let first = scope.spawn(|| {
            let mut net = net();
            fit(0.1, 100, &path, &data)
                .on_epoch(move |_| {
                    // Holds the run (and its lock) at its first evaluation
                    // until the second run has tried.
                    let _ = started.send(());
                    let _ = released.recv();
                })
                .run(&mut net, &data)
        });
        wait.recv().unwrap();
        let error = fit(0.1, 100, &path, &data)
            .run(&mut net(), &data)
            .expect_err("the file is locked");
        release.send(()).unwrap();
        drop(release);
        let message = error.to_string();
        assert!(
            message.contains("is being written by another run (process ")
                && message.contains(&std::process::id().to_string()),
            "{message}"
        );
        first.join().unwrap().expect("the first run goes on");
    });
    // The lock is let go with the run.
    assert!(!dir.path().join("run.ckpt.lock").exists());
}
