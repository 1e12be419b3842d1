//! Atomicity: a process saving checkpoints in a loop is killed with SIGKILL
//! at random moments, many times; after every kill the checkpoint on disk
//! loads and is, bit for bit, either the last one the process reported
//! saved or the one it was saving.
//!
//! The writer is this very test binary, re-executed with
//! [`WRITER_ENV`] set so that [`checkpoint_writer_child`] runs the loop.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TwoLayer;
use net_core::io::{CheckpointMeta, load_checkpoint, save_checkpoint};
use net_core::rand::rngs::StdRng;
use net_core::rand::{Rng, SeedableRng};
use net_core::{Affine, HeapMatrix, Network, ParamShape, Relu, SoftmaxWithLoss};

/// Set to a directory, this makes [`checkpoint_writer_child`] the writer.
const WRITER_ENV: &str = "STATICNET_IO_KILL_WRITER_DIR";
const FILE: &str = "run.ckpt.safetensors";
const ROUNDS: usize = 32;

/// 256·512 + 512 + 512·16 + 16 parameters, plus a 256 × 512 state tensor:
/// about 1 MB of f32 per checkpoint, which a debug build takes some 50 ms
/// to encode and write.
type Big = TwoLayer<f32, 256, 512, 16>;
const STATE: &str = "optimizer.v.W1";
const STATE_SHAPE: ParamShape = ParamShape::Matrix {
    rows: 256,
    cols: 512,
};

fn zeros() -> Big {
    TwoLayer {
        affine1: Affine::from_params(HeapMatrix::zeros(), HeapMatrix::zeros()),
        relu1: Relu::new(),
        affine2: Affine::from_params(HeapMatrix::zeros(), HeapMatrix::zeros()),
        loss: SoftmaxWithLoss::new(),
    }
}

/// Value `k` of tensor `tensor` in generation `g`: finite, and different
/// from one generation to the next almost everywhere.
fn value(g: u64, tensor: u64, k: usize) -> f32 {
    let h = g.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (k as u64).wrapping_mul(40503) ^ (tensor * 977);
    ((h >> 7) % 4096) as f32 / 256.0 - 8.0
}

fn fill(net: &mut Big, g: u64) {
    let mut tensor = 0;
    net.visit_params_mut(&mut |p| {
        for (k, v) in p.value.iter_mut().enumerate() {
            *v = value(g, tensor, k);
        }
        tensor += 1;
    });
}

fn state(g: u64) -> Vec<f32> {
    (0..STATE_SHAPE.len()).map(|k| value(g, 100, k)).collect()
}

fn save(net: &mut Big, g: u64, path: &Path) {
    fill(net, g);
    let state = state(g);
    let meta = CheckpointMeta {
        iteration: g,
        seed: 7,
        optimizer: "momentum",
        dataset: None,
        settings: None,
        evaluation: None,
    };
    save_checkpoint(net, &meta, &[(STATE, STATE_SHAPE, &state)], path).expect("saves");
}

/// Loads the checkpoint and checks it is exactly generation `iteration`.
/// Returns the iteration.
fn load_and_verify(path: &Path) -> u64 {
    let mut net = zeros();
    let ckpt =
        load_checkpoint(&mut net, path).unwrap_or_else(|e| panic!("the checkpoint must load: {e}"));
    let g = ckpt.iteration;
    assert_eq!((ckpt.seed, ckpt.optimizer.as_str()), (7, "momentum"));
    let mut tensor = 0;
    net.visit_params(&mut |p| {
        for (k, v) in p.value.iter().enumerate() {
            assert_eq!(
                v.to_bits(),
                value(g, tensor, k).to_bits(),
                "{}[{k}] of generation {g}",
                p.name
            );
        }
        tensor += 1;
    });
    let s = ckpt.state_tensor(STATE).expect("the state tensor");
    assert_eq!(s.shape, STATE_SHAPE);
    assert!(
        s.values
            .iter()
            .zip(state(g))
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "state of {g}"
    );
    g
}

fn has_file_starting_with(dir: &Path, prefix: &str) -> bool {
    std::fs::read_dir(dir)
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().starts_with(prefix))
}

fn temp_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp-")
        })
        .count()
}

/// The writer: resumes from the checkpoint, then saves generation after
/// generation until killed, reporting each on stdout. A no-op unless
/// [`WRITER_ENV`] is set. It stops by itself if its parent dies or after a
/// minute, so that a failing test leaves no process behind.
#[test]
fn checkpoint_writer_child() {
    let Some(dir) = std::env::var_os(WRITER_ENV) else {
        return;
    };
    let parent = std::os::unix::process::parent_id();
    let start = Instant::now();
    let path = Path::new(&dir).join(FILE);
    let mut net = zeros();
    let mut g = load_checkpoint(&mut net, &path)
        .expect("the writer resumes")
        .iteration;
    let mut out = std::io::stdout().lock();
    // libtest prints `test checkpoint_writer_child ... ` first: start a line.
    writeln!(out, "\nWRITER ready {g}").unwrap();
    out.flush().unwrap();
    while std::os::unix::process::parent_id() == parent && start.elapsed() < Duration::from_secs(60)
    {
        g += 1;
        save(&mut net, g, &path);
        writeln!(out, "WRITER saved {g}").unwrap();
        out.flush().unwrap();
    }
}

/// A running writer, killed with SIGKILL and reaped when dropped (also when
/// the test fails).
struct Writer(Child);

impl Writer {
    fn kill(&mut self) {
        let _ = self.0.kill(); // SIGKILL
        let _ = self.0.wait();
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The generation in a writer's report `WRITER <what> <g>`, wherever the
/// report sits in the line.
fn report(line: &str, what: &str) -> Option<u64> {
    let marker = format!("WRITER {what} ");
    line.find(&marker)
        .and_then(|i| line[i + marker.len()..].trim().parse().ok())
}

#[test]
fn sigkill_during_saves_never_tears_the_checkpoint() {
    let start = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE);
    let mut net = zeros();
    save(&mut net, 1, &path);
    // How long one save takes here, to spread the kills over a few.
    let timer = Instant::now();
    save(&mut net, 2, &path);
    let save_time = timer.elapsed();
    assert_eq!(load_and_verify(&path), 2);
    // How long writing and syncing the file takes (the shortest of three).
    let bytes = std::fs::read(&path).unwrap();
    let scratch = dir.path().join("scratch");
    let write_time = (0..3)
        .map(|_| {
            let timer = Instant::now();
            let mut file = std::fs::File::create(&scratch).unwrap();
            file.write_all(&bytes).unwrap();
            file.sync_all().unwrap();
            timer.elapsed()
        })
        .min()
        .unwrap_or_default()
        .max(Duration::from_millis(1));
    std::fs::remove_file(&scratch).unwrap();

    let seed: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut rng = StdRng::seed_from_u64(seed);
    let exe = std::env::current_exe().unwrap();
    let (mut kept_old, mut got_new, mut torn_temps, mut completed) = (0, 0, 0, 0);

    for round in 0..ROUNDS {
        let mut writer = Writer(
            Command::new(&exe)
                .args([
                    "--exact",
                    "checkpoint_writer_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(WRITER_ENV, dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap(),
        );
        let mut lines = BufReader::new(writer.0.stdout.take().unwrap()).lines();
        let resumed: u64 = loop {
            let line = lines
                .next()
                .expect("the writer reports it is ready")
                .unwrap();
            if let Some(g) = report(&line, "ready") {
                break g;
            }
        };
        let own_temp = format!(".{FILE}.tmp-{}-", writer.0.id());
        if round % 2 == 0 {
            // Anywhere within the first few saves: while encoding, writing,
            // syncing or renaming.
            std::thread::sleep(save_time.mul_f64(rng.random_range(0.0..3.0)));
        } else {
            // Aimed at the write: as soon as this writer's temporary file
            // appears, then anywhere within the time writing and syncing
            // it take.
            let since = Instant::now();
            while !has_file_starting_with(dir.path(), &own_temp)
                && since.elapsed() < Duration::from_secs(5)
            {
                std::thread::sleep(Duration::from_micros(200));
            }
            std::thread::sleep(write_time.mul_f64(rng.random_range(0.0..1.0)));
        }
        writer.kill();

        let mut last_saved = resumed;
        for line in lines {
            if let Some(g) = report(&line.unwrap(), "saved") {
                last_saved = g;
            }
        }
        completed += last_saved - resumed;
        torn_temps += usize::from(has_file_starting_with(dir.path(), &own_temp));
        let on_disk = load_and_verify(&path);
        assert!(
            on_disk == last_saved || on_disk == last_saved + 1,
            "round {round} (seed {seed}): the writer last reported generation {last_saved}, \
             the file holds {on_disk}"
        );
        if on_disk == last_saved {
            kept_old += 1;
        } else {
            got_new += 1;
        }
    }

    // The next save removes the temporary files the killed writers left.
    let g = load_and_verify(&path) + 1;
    save(&mut net, g, &path);
    assert_eq!(load_and_verify(&path), g);
    assert_eq!(
        temp_files(dir.path()),
        0,
        "stale temporary files are cleaned up"
    );

    eprintln!(
        "{ROUNDS} kills in {:.1} s (one save: {:.1} ms, of which writing {:.1} ms; seed \
         {seed}): {completed} saves completed, {kept_old} kills left the previous checkpoint, \
         {got_new} the one being saved, {torn_temps} left a torn temporary file",
        start.elapsed().as_secs_f64(),
        save_time.as_secs_f64() * 1e3,
        write_time.as_secs_f64() * 1e3,
    );
}
