//! The MNIST loader: validation errors on synthetic directories, and the
//! real MNIST and Fashion-MNIST files when they are present (the workspace's
//! `../shared/data`; skipped with a printed reason when absent).

#[path = "common/scratch.rs"]
mod scratch;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use flate2::Compression;
use flate2::write::GzEncoder;
use net_core::data::{
    BatchLayout, DataError, IdxArray, LoadOptions, Mnist, NUM_CLASSES, check_data_dir, load_mnist,
};
use net_core::{Const, Dyn, OMatrix};
use scratch::Scratch;

fn idx(dims: &[usize], data: Vec<u8>) -> Vec<u8> {
    IdxArray {
        dims: dims.to_vec(),
        data,
    }
    .to_bytes()
    .unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A tiny valid dataset: `n_train` / `n_test` images of 4 × 3, written with
/// the train files gzip-compressed and the test files raw without `.gz`.
fn tiny(tag: &str, n_train: usize, n_test: usize) -> Scratch {
    let s = Scratch::new(tag);
    let images = |n: usize| idx(&[n, 4, 3], (0..n * 12).map(|x| (x % 256) as u8).collect());
    let labels = |n: usize| idx(&[n], (0..n).map(|x| (x % 10) as u8).collect());
    s.write("train-images-idx3-ubyte.gz", &gzip(&images(n_train)));
    s.write("train-labels-idx1-ubyte.gz", &gzip(&labels(n_train)));
    s.write("t10k-images-idx3-ubyte", &images(n_test));
    s.write("t10k-labels-idx1-ubyte", &labels(n_test));
    s
}

#[test]
fn loads_a_tiny_dataset_gz_and_raw() {
    let s = tiny("mnist-tiny", 25, 7);
    let options = LoadOptions {
        one_hot_label: true,
        ..LoadOptions::default()
    };
    let m = load_mnist(&s.0, &options).unwrap();
    assert_eq!(m.options, options);
    assert_eq!((m.train.len(), m.test.len()), (25, 7));
    assert_eq!((m.train.rows(), m.train.cols()), (4, 3));
    assert_eq!(
        m.train.image(1).unwrap(),
        &(12..24).collect::<Vec<u8>>()[..]
    );
    assert_eq!(m.test.label(6), Some(6));
    assert_eq!(m.train.class_counts(), [3, 3, 3, 3, 3, 2, 2, 2, 2, 2]);
}

#[test]
fn missing_files_are_listed_with_how_to_get_them() {
    let s = tiny("mnist-missing", 3, 3);
    std::fs::remove_file(s.0.join("train-labels-idx1-ubyte.gz")).unwrap();
    std::fs::remove_file(s.0.join("t10k-images-idx3-ubyte")).unwrap();
    let err = load_mnist(&s.0, &LoadOptions::default()).unwrap_err();
    let DataError::Missing(m) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        m.missing,
        ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
    );
    let message = err.to_string();
    for needle in [
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "load a directory that holds the four files",
        "MNIST_DIR",
        "FASHION_MNIST_DIR",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        &s.0.display().to_string(),
    ] {
        assert!(message.contains(needle), "{needle:?} not in:\n{message}");
    }
    // A library's message names no command-line flag of the examples.
    assert!(!message.contains("--data"), "{message}");
}

#[test]
fn wrong_shapes_name_the_file() {
    // Images 2-D.
    let s = tiny("mnist-shape-img", 3, 3);
    let bad = s.write("t10k-images-idx3-ubyte", &idx(&[3, 12], vec![0; 36]));
    let err = load_mnist(&s.0, &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(&err, DataError::WrongShape { path, dims, .. } if *path == bad && dims == &[3, 12]),
        "{err:?}"
    );
    assert!(err.to_string().contains("t10k-images-idx3-ubyte"), "{err}");

    // Images with no pixels.
    let s = tiny("mnist-shape-empty", 3, 3);
    let bad = s.write("t10k-images-idx3-ubyte", &idx(&[3, 0, 5], vec![]));
    let err = load_mnist(&s.0, &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(&err, DataError::WrongShape { path, .. } if *path == bad),
        "{err:?}"
    );

    // Labels 2-D (gzip content behind a raw name).
    let s = tiny("mnist-shape-lbl", 3, 3);
    let bad = s.write("t10k-labels-idx1-ubyte", &gzip(&idx(&[3, 1], vec![0; 3])));
    let err = load_mnist(&s.0, &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(&err, DataError::WrongShape { path, .. } if *path == bad),
        "{err:?}"
    );
}

#[test]
fn count_mismatch_names_both_files() {
    let s = tiny("mnist-count", 3, 3);
    s.write("train-labels-idx1-ubyte.gz", &gzip(&idx(&[4], vec![0; 4])));
    let err = load_mnist(&s.0, &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(
            &err,
            DataError::CountMismatch {
                images: 3,
                labels: 4,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("train-images-idx3-ubyte.gz"), "{message}");
    assert!(message.contains("train-labels-idx1-ubyte.gz"), "{message}");
}

#[test]
fn label_out_of_range_names_index_and_value() {
    let s = tiny("mnist-label", 3, 5);
    let bad = s.write("t10k-labels-idx1-ubyte", &idx(&[5], vec![1, 2, 3, 10, 255]));
    let err = load_mnist(&s.0, &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(&err, DataError::LabelOutOfRange { path, index: 3, value: 10 } if *path == bad),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("index 3") && message.contains("label 10"),
        "{message}"
    );
}

#[test]
fn image_sizes_of_train_and_test_must_agree() {
    let s = tiny("mnist-size", 3, 3);
    s.write("t10k-images-idx3-ubyte", &idx(&[3, 3, 4], vec![0; 36]));
    let err = load_mnist(&s.0, &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(err, DataError::ImageSizeMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn corrupt_file_names_the_file() {
    let s = tiny("mnist-corrupt", 3, 3);
    let gz = std::fs::read(s.0.join("train-images-idx3-ubyte.gz")).unwrap();
    let bad = s.write("train-images-idx3-ubyte.gz", &gz[..gz.len() / 2]);
    let err = load_mnist(&s.0, &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(&err, DataError::Idx { path, .. } if *path == bad),
        "{err:?}"
    );
}

#[test]
fn a_data_path_that_is_not_a_directory_is_said_to_be_so() {
    let s = tiny("mnist-not-a-dir", 3, 3);
    let file = s.write("a-file", b"not a directory");
    // The directory itself, and a directory under the file.
    for dir in [file.clone(), file.join("mnist")] {
        let err = load_mnist(&dir, &LoadOptions::default()).unwrap_err();
        assert!(
            matches!(&err, DataError::NotADirectory { path, what: "a regular file" } if *path == file),
            "{}: {err:?}",
            dir.display()
        );
        assert_eq!(
            err.to_string(),
            format!("{}: not a directory (it is a regular file)", file.display())
        );
        assert!(check_data_dir(&dir).is_err());
    }
    // A directory that does not exist is still missing its four files.
    let nowhere = s.0.join("nowhere");
    assert!(!check_data_dir(&nowhere).unwrap());
    let err = load_mnist(&nowhere, &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(&err, DataError::Missing(m) if m.missing.len() == 4),
        "{err:?}"
    );
    assert!(check_data_dir(&s.0).unwrap());
}

/// A directory whose permissions refuse reading (mode 000), or looking at
/// its files (mode 644: no search permission), is said to be unreadable,
/// not to be missing its files. Root reads it all the same: the test says
/// it skipped itself then.
#[cfg(unix)]
#[test]
fn an_unreadable_data_directory_is_said_to_be_unreadable() {
    use std::os::unix::fs::PermissionsExt;

    let s = tiny("mnist-unreadable", 3, 3);
    let set_mode = |mode: u32| {
        std::fs::set_permissions(&s.0, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    for mode in [0o000, 0o644] {
        set_mode(mode);
        if std::fs::metadata(s.0.join("train-images-idx3-ubyte.gz")).is_ok() {
            set_mode(0o755);
            println!(
                "skipped: permission bits do not stop this process (root?), \
                 so an unreadable directory cannot be made"
            );
            return;
        }
        let err = load_mnist(&s.0, &LoadOptions::default()).unwrap_err();
        set_mode(0o755);
        assert!(
            matches!(&err, DataError::UnreadableDir { path, .. } if *path == s.0),
            "mode {mode:o}: {err:?}"
        );
        assert!(
            err.to_string()
                .contains("the data directory cannot be read"),
            "{err}"
        );
    }
}

/// `<workspace>/../shared/data/<name>`, or `None` (with the reason printed)
/// when the files are not there.
fn shared_data(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(name);
    let complete = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    .iter()
    .all(|f| dir.join(f).is_file());
    if complete {
        Some(dir)
    } else {
        println!(
            "skipped: the {name} files are not in {} (the workspace's ../shared/data/{name})",
            dir.display()
        );
        None
    }
}

fn check_real(m: &Mnist, train_counts: [usize; NUM_CLASSES], test_counts: [usize; NUM_CLASSES]) {
    assert_eq!((m.train.len(), m.test.len()), (60_000, 10_000));
    for split in [&m.train, &m.test] {
        assert_eq!(
            (split.rows(), split.cols(), split.pixels_per_image()),
            (28, 28, 784)
        );
    }
    assert_eq!(m.train.class_counts(), train_counts);
    assert_eq!(m.test.class_counts(), test_counts);
    // Kept as u8: 60,000 × 784 bytes + 60,000 labels, no slack.
    assert_eq!(m.train.heap_bytes(), 60_000 * 784 + 60_000);
    assert_eq!(m.test.heap_bytes(), 10_000 * 784 + 10_000);

    // A batch gathered straight into the layers' matrix type.
    let indices = [0, 59_999, 12_345, 0];
    let mut x = OMatrix::<f32, Dyn, Const<784>>::zeros(indices.len());
    m.train
        .gather_batch(&indices, true, x.as_mut_slice(), BatchLayout::ColumnMajor)
        .unwrap();
    for (n, &i) in indices.iter().enumerate() {
        let image = m.train.image(i).unwrap();
        for f in 0..784 {
            assert_eq!(x[(n, f)], f32::from(image[f]) / 255.0);
        }
    }
    assert!(x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert!(x.max() > 0.99);
    let mut t = OMatrix::<f32, Dyn, Const<10>>::zeros(indices.len());
    m.train
        .gather_one_hot(&indices, t.as_mut_slice(), BatchLayout::ColumnMajor)
        .unwrap();
    let mut classes = Vec::new();
    m.train.gather_labels_vec(&indices, &mut classes).unwrap();
    for (n, &c) in classes.iter().enumerate() {
        assert_eq!(t[(n, c)], 1.0);
        assert_eq!(t.row(n).sum(), 1.0);
    }
}

/// The peak resident memory of this process, in kB (Linux only).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn real_mnist() {
    let Some(dir) = shared_data("mnist") else {
        return;
    };
    let start = Instant::now();
    let m = load_mnist(&dir, &LoadOptions::default()).unwrap();
    println!(
        "loaded MNIST in {:.2?}: train {} bytes, test {} bytes; peak RSS {:?} kB",
        start.elapsed(),
        m.train.heap_bytes(),
        m.test.heap_bytes(),
        peak_rss_kb()
    );
    check_real(
        &m,
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
    );
    // MNIST training image 0 is a 5.
    assert_eq!(m.train.label(0), Some(5));
}

#[test]
fn real_fashion_mnist() {
    let Some(dir) = shared_data("fashion-mnist") else {
        return;
    };
    let start = Instant::now();
    let m = load_mnist(&dir, &LoadOptions::default()).unwrap();
    println!("loaded Fashion-MNIST in {:.2?}", start.elapsed());
    check_real(&m, [6000; NUM_CLASSES], [1000; NUM_CLASSES]);
}

/// The shared copies of the canonical files, when this machine has them.
fn shared(dataset: &str) -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(dataset);
    if dir.join("train-images-idx3-ubyte.gz").is_file() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}

/// A directory of links to the four files of `sources`, stem by stem.
#[cfg(unix)]
fn linked(name: &str, sources: [&std::path::Path; 4]) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("staticnet-canonical-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let stems = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ];
    for (stem, source) in stems.iter().zip(sources) {
        std::os::unix::fs::symlink(source.join(stem), dir.join(stem)).unwrap();
    }
    dir
}

/// The canonical files pass; the other dataset's, a mix of the two, and a
/// changed file are refused, naming the files.
#[cfg(unix)]
#[test]
fn dataset_files_are_checked_against_the_canonical_digests() {
    use net_core::data::{DataError, Dataset, check_canonical};

    let (Some(mnist), Some(fashion)) = (shared("mnist"), shared("fashion-mnist")) else {
        return;
    };
    check_canonical(&mnist, Dataset::Mnist).unwrap();
    check_canonical(&fashion, Dataset::Fashion).unwrap();

    let err = check_canonical(&fashion, Dataset::Mnist).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::OtherDataset {
                found: Dataset::Fashion,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("this is the Fashion-MNIST file, not the MNIST one"),
        "{err}"
    );

    // Fashion-MNIST's images with MNIST's labels.
    let mixed = linked("mixed", [&fashion, &mnist, &fashion, &mnist]);
    let err = check_canonical(&mixed, Dataset::Mnist).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, DataError::MixedDatasets { .. }), "{message}");
    assert!(
        message.contains("train-images-idx3-ubyte.gz holds Fashion-MNIST images")
            && message.contains("train-labels-idx1-ubyte.gz holds MNIST labels"),
        "{message}"
    );
    std::fs::remove_dir_all(&mixed).unwrap();

    // One changed byte in a copy of the test labels.
    let changed = linked("changed", [&mnist, &mnist, &mnist, &mnist]);
    let labels = changed.join("t10k-labels-idx1-ubyte.gz");
    let mut bytes = std::fs::read(&labels).unwrap();
    std::fs::remove_file(&labels).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&labels, &bytes).unwrap();
    let err = check_canonical(&changed, Dataset::Mnist).unwrap_err();
    assert!(matches!(err, DataError::NotCanonical { .. }), "{err}");
    assert!(
        err.to_string().contains("not the canonical MNIST file"),
        "{err}"
    );
    std::fs::remove_dir_all(&changed).unwrap();
}
