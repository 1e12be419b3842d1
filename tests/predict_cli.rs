//! The `predict` example as a user runs it: the exit codes and messages for
//! good and bad inputs.
//!
//! The example is built once with `cargo build --example predict` (the
//! executable's path comes from cargo's JSON messages), then run directly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use staticnet::io::{save_pytorch, save_weights};
use staticnet::prelude::*;

network! {
    struct TwoLayerNet<Affine<784, 50>, Relu, Affine<50, 10>, SoftmaxWithLoss>
}
network! {
    struct DynNet<Affine<784, dyn>, Relu, Affine<dyn, 10>, SoftmaxWithLoss>
}
network! {
    struct TwelveClasses<Affine<784, 50>, Relu, Affine<50, 12>, SoftmaxWithLoss>
}
network! {
    struct TwoLayerNet77<Affine<784, 77>, Relu, Affine<77, 10>, SoftmaxWithLoss>
}

/// The path of the built `predict` example.
fn predict_exe() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        cargo.current_dir(env!("CARGO_MANIFEST_DIR")).args([
            "build",
            "--quiet",
            "--example",
            "predict",
            "--message-format=json",
        ]);
        if !cfg!(debug_assertions) {
            cargo.arg("--release");
        }
        let output = cargo.output().expect("cargo runs");
        assert!(
            output.status.success(),
            "building the predict example failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .find(|line| {
                line.contains("\"reason\":\"compiler-artifact\"")
                    && line.contains("\"kind\":[\"example\"]")
                    && line.contains("\"name\":\"predict\"")
            })
            .expect("cargo reports the predict example");
        let start = line.find("\"executable\":\"").expect("an executable") + 14;
        let end = start + line[start..].find('"').expect("a closing quote");
        PathBuf::from(&line[start..end])
    })
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("staticnet-predict-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Weights whose network answers `class` for every image: all weights
/// zero, the output bias 5 for `class`.
fn weights_answering(dir: &Path, class: usize) -> PathBuf {
    weights_of(
        TwoLayerNet::<f32>::new(&mut StdRng::seed_from_u64(0)),
        dir,
        class,
    )
}

/// The weights of `net`, set to answer `class`, saved in `dir`.
fn weights_of<N: Network<f32>>(mut net: N, dir: &Path, class: usize) -> PathBuf {
    net.visit_params_mut(&mut |p| {
        p.value.fill(0.0);
        if p.name.to_string() == "b2" {
            p.value[class] = 5.0;
        }
    });
    let path = dir.join("net.safetensors");
    save_weights(&net, &path).unwrap();
    path
}

fn write_png(path: &Path, width: u32, height: u32, gray: &[u8]) {
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(gray)
        .unwrap();
}

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(predict_exe())
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("predict runs")
}

/// Checks the exit code, and that stderr is a one-line `error:` message
/// containing `message` (no panic, no backtrace); returns stderr.
fn assert_fails(output: &Output, code: i32, message: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains(message),
        "expected {message:?} in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing on stdout");
    stderr
}

/// Classifies a black 28×28 PNG written in `dir` with `weights`, which
/// must succeed; returns stdout and stderr.
fn classify_blank(dir: &Path, weights: &Path) -> (String, String) {
    let image = dir.join("digit.png");
    write_png(&image, 28, 28, &[0; 784]);
    let output = run(&[&"--weights", &weights, &"--png", &image]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    (String::from_utf8_lossy(&output.stdout).into_owned(), stderr)
}

#[test]
fn classifies_a_png() {
    let dir = scratch("png");
    let weights = weights_answering(&dir, 3);
    let (stdout, stderr) = classify_blank(&dir, &weights);
    // softmax: e^5 / (e^5 + 9)
    assert!(
        stdout.contains("predicted digit: 3 (probability 0.9428)"),
        "{stdout}"
    );
    assert!(stdout.contains("(hidden 50, f32)"), "{stdout}");
    assert!(stderr.is_empty(), "no note for an MNIST-like image");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reads_any_hidden_size_from_the_weights() {
    let dir = scratch("hidden77");
    let net = TwoLayerNet77::<f32>::new(&mut StdRng::seed_from_u64(0));
    let weights = weights_of(net, &dir, 7);
    let (stdout, _) = classify_blank(&dir, &weights);
    assert!(stdout.contains("predicted digit: 7"), "{stdout}");
    assert!(stdout.contains("(hidden 77, f32)"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inverts_and_resizes_a_light_png_and_says_so() {
    let dir = scratch("light");
    let weights = weights_answering(&dir, 8);
    let image = dir.join("light.png");
    write_png(&image, 56, 40, &[250; 56 * 40]);
    let output = run(&[&"--weights", &weights, &"--png", &image]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("inverting"), "{stderr}");
    assert!(
        stderr.contains("resized the 56×56 image to 28×28"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("predicted digit: 8"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn classifies_an_idx_image_and_shows_its_label() {
    let dir = scratch("idx");
    let weights = weights_answering(&dir, 4);
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28];
    images.extend([0u8; 2 * 784]);
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), images).unwrap();
    std::fs::write(
        dir.join("t10k-labels-idx1-ubyte"),
        [0, 0, 8, 1, 0, 0, 0, 2, 9, 4],
    )
    .unwrap();
    let idx = dir.join("t10k-images-idx3-ubyte");

    let output = run(&[&"--weights", &weights, &"--idx", &idx, &"--index", &"1"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("predicted digit: 4"), "{stdout}");
    assert!(stdout.contains("true label 4: correct"), "{stdout}");

    let output = run(&[&"--weights", &weights, &"--idx", &idx, &"--index", &"2"]);
    assert_fails(&output, 2, "--index 2 is out of range");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_files_are_runtime_errors() {
    let dir = scratch("bad");
    let weights = weights_answering(&dir, 0);
    let image = dir.join("digit.png");
    write_png(&image, 28, 28, &[0; 784]);

    let missing = dir.join("missing.safetensors");
    let output = run(&[&"--weights", &missing, &"--png", &image]);
    let stderr = assert_fails(&output, 1, "could not read");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let garbage = dir.join("garbage.png");
    std::fs::write(&garbage, b"this is not a PNG image at all").unwrap();
    let output = run(&[&"--weights", &weights, &"--png", &garbage]);
    assert_fails(&output, 1, "is not a PNG image");

    // The image given as the weights.
    let output = run(&[&"--weights", &image, &"--png", &image]);
    assert_fails(&output, 1, "is not a safetensors file");

    // Weights of 50 hidden units read as 100.
    let output = run(&[
        &"--weights",
        &weights,
        &"--png",
        &image,
        &"--hidden",
        &"100",
    ]);
    assert_fails(&output, 1, "`W1` has shape [784, 50]");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_command_lines_are_usage_errors() {
    let output = run(&[
        &"--weights",
        &"w.safetensors",
        &"--png",
        &"a.png",
        &"--bogus",
    ]);
    assert_fails(&output, 2, "--bogus");
    let output = run(&[&"--weights", &"w.safetensors"]);
    assert_fails(&output, 2, "required");
    let output = run(&[&"--weights", &"w.safetensors", &"--idx", &"t10k"]);
    assert_fails(&output, 2, "--index");
    let output = run(&[
        &"--weights",
        &"w.safetensors",
        &"--png",
        &"a.png",
        &"--hidden",
        &"0",
    ]);
    assert_fails(&output, 2, "a hidden layer needs at least one unit");
}

/// A PNG chunk: length, type, data, CRC-32 of type and data.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let crc = |bytes: &[u8]| {
        let mut crc = 0xffff_ffffu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    };
    let mut typed = kind.to_vec();
    typed.extend_from_slice(data);
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&typed);
    out.extend_from_slice(&crc(&typed).to_be_bytes());
    out
}

/// Files that have no end, or whose decoded pixels would not fit the
/// program's bound, are refused before they are read or decoded.
#[test]
fn unbounded_inputs_are_refused_before_reading() {
    let dir = scratch("unbounded");
    let weights = weights_answering(&dir, 0);
    let image = dir.join("digit.png");
    write_png(&image, 28, 28, &[0; 784]);

    // A device with no end, as the weights, then as the image.
    let output = run(&[&"--weights", &"/dev/zero", &"--png", &image]);
    assert_fails(&output, 1, "it is not a regular file");
    let output = run(&[&"--weights", &weights, &"--png", &"/dev/zero"]);
    assert_fails(&output, 1, "it is not a regular file");
    let output = run(&[
        &"--weights",
        &weights,
        &"--idx",
        &"/dev/zero",
        &"--index",
        &"0",
    ]);
    assert_fails(&output, 1, "it is not a regular file");

    // 12000 × 12000 gray pixels: 137 MiB as bytes, under the old bound of
    // the 8-bit buffer, but 2.3 GB once each pixel is a gray and an alpha
    // value of 8 bytes. A file of 80 bytes.
    let mut ihdr = 12_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&12_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    png.extend(chunk(b"IEND", &[]));
    let huge = dir.join("huge.png");
    std::fs::write(&huge, &png).unwrap();
    let output = run(&[&"--weights", &weights, &"--png", &huge]);
    assert_fails(
        &output,
        1,
        "it is 12000×12000 pixels, more than this program decodes",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `values` (row-major) of `shape` as a `.npy` array of float64, format
/// 1.0, as `np.save` writes it.
fn npy(shape: &[usize], values: &[f64]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    // Padded with spaces to a multiple of 64 bytes, ending in a newline.
    let unpadded = 10 + dict.len() + 1;
    let header = format!("{dict}{}\n", " ".repeat((64 - unpadded % 64) % 64));
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    for v in values {
        out.extend(v.to_le_bytes());
    }
    out
}

/// CRC-32 (IEEE), as zip records it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zip archive of `entries`, stored (not compressed), as `np.savez`
/// writes one (without its zip64 records, which small arrays need not).
fn stored_zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        // Version, flags, method (stored), time, date, CRC, sizes, name
        // length, extra length.
        let mut fields = Vec::new();
        fields.extend(20u16.to_le_bytes());
        fields.extend(0u16.to_le_bytes());
        fields.extend(0u16.to_le_bytes());
        fields.extend(0u16.to_le_bytes());
        fields.extend(0x21u16.to_le_bytes());
        fields.extend(crc32(data).to_le_bytes());
        fields.extend((data.len() as u32).to_le_bytes());
        fields.extend((data.len() as u32).to_le_bytes());
        fields.extend((name.len() as u16).to_le_bytes());
        fields.extend(0u16.to_le_bytes());
        out.extend(b"PK\x03\x04");
        out.extend(&fields);
        out.extend(name.as_bytes());
        out.extend(data);

        central.extend(b"PK\x01\x02");
        central.extend(20u16.to_le_bytes());
        central.extend(&fields);
        // Comment length, disk, internal and external attributes, offset.
        central.extend(0u16.to_le_bytes());
        central.extend(0u16.to_le_bytes());
        central.extend(0u16.to_le_bytes());
        central.extend(0u32.to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let start = out.len() as u32;
    out.extend(&central);
    out.extend(b"PK\x05\x06");
    out.extend(0u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// The book's `params` of `net` as `np.savez` writes them: `W1 (784, H)`,
/// `b1`, `W2`, `b2`, row-major float64.
fn npz_of<N: Network<f32>>(net: &N) -> Vec<u8> {
    let mut entries = Vec::new();
    net.visit_params(&mut |p| {
        let (shape, values): (Vec<usize>, Vec<f64>) = match p.shape {
            // Column-major in memory.
            ParamShape::Matrix { rows, cols } => (
                vec![rows, cols],
                (0..rows * cols)
                    .map(|k| f64::from(p.value[(k % cols) * rows + k / cols]))
                    .collect(),
            ),
            _ => (
                vec![p.value.len()],
                p.value.iter().map(|&v| f64::from(v)).collect(),
            ),
        };
        entries.push((format!("{}.npy", p.name), npy(&shape, &values)));
    });
    stored_zip(&entries)
}

/// The predicted digit of a run that must succeed, and its stdout.
fn predicted(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (String, String) {
    let output = run(args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("predicted digit: "))
        .unwrap_or_else(|| panic!("no prediction in {stdout}"));
    (line["predicted digit: ".len()..].to_owned(), stdout)
}

#[test]
fn pytorch_and_npz_files_predict_as_the_staticnet_file_does() {
    let dir = scratch("formats");
    // A trained-looking net: random weights of every sign, so that the
    // image and each weight count.
    let mut rng = StdRng::seed_from_u64(5);
    let mut net = DynNet::<f32>::with_widths(&mut rng, Init::He, [37]).unwrap();
    net.visit_params_mut(&mut |p| {
        for v in p.value.iter_mut() {
            *v = rng.random_range(-1.0..1.0);
        }
    });
    let native = dir.join("net.safetensors");
    save_weights(&net, &native).unwrap();
    let pytorch = dir.join("mlp.safetensors");
    save_pytorch(&net, &pytorch).unwrap();
    let npz = dir.join("params.npz");
    std::fs::write(&npz, npz_of(&net)).unwrap();

    let image = dir.join("digit.png");
    let pixels: Vec<u8> = (0..784u32).map(|k| (k * 37 % 256) as u8).collect();
    write_png(&image, 28, 28, &pixels);

    let (expected, stdout) = predicted(&[&"--weights", &native, &"--png", &image]);
    assert!(stdout.contains("(hidden 37, f32)"), "{stdout}");
    let (digit, stdout) = predicted(&[
        &"--weights",
        &pytorch,
        &"--format",
        &"pytorch",
        &"--png",
        &image,
    ]);
    assert_eq!(digit, expected, "{stdout}");
    assert!(
        stdout.contains("(hidden 37, f32, PyTorch state_dict)"),
        "{stdout}"
    );
    // An archive by its name, then by the flag; float64 arrays.
    for format in [None, Some("npz")] {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"--weights", &npz, &"--png", &image];
        if let Some(format) = &format {
            args.extend([&"--format" as &dyn AsRef<std::ffi::OsStr>, format]);
        }
        let (digit, stdout) = predicted(&args);
        assert_eq!(digit, expected, "{stdout}");
        assert!(
            stdout.contains("(hidden 37, f64, NumPy archive)"),
            "{stdout}"
        );
    }
    // The same probabilities, to the digits printed.
    let probability = |s: &str| s[s.find("probability").unwrap()..].to_owned();
    let (_, native_out) = predicted(&[&"--weights", &native, &"--png", &image]);
    let (_, npz_out) = predicted(&[&"--weights", &npz, &"--png", &image]);
    assert_eq!(probability(&native_out), probability(&npz_out));

    // `--hidden` in the file's own layout.
    let output = run(&[
        &"--weights",
        &pytorch,
        &"--format",
        &"pytorch",
        &"--png",
        &image,
        &"--hidden",
        &"50",
    ]);
    assert_fails(&output, 1, "`0.weight` has shape [37, 784]");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_pytorch_file_of_another_net_gets_the_loaders_disagreement() {
    let dir = scratch("pytorch-other");
    let image = dir.join("digit.png");
    write_png(&image, 28, 28, &[0; 784]);
    let path = dir.join("twelve.safetensors");
    save_pytorch(
        &TwelveClasses::<f32>::new(&mut StdRng::seed_from_u64(0)),
        &path,
    )
    .unwrap();
    let output = run(&[
        &"--weights",
        &path,
        &"--format",
        &"pytorch",
        &"--png",
        &image,
    ]);
    let stderr = assert_fails(&output, 1, "does not fit the network");
    assert!(stderr.contains("`2.weight` has shape [12, 50]"), "{stderr}");
    assert!(stderr.contains("twelve.safetensors"), "{stderr}");

    // staticnet's own file read as a PyTorch one, and the other way round.
    let native = weights_answering(&dir, 1);
    let output = run(&[
        &"--weights",
        &native,
        &"--format",
        &"pytorch",
        &"--png",
        &image,
    ]);
    assert_fails(&output, 1, "has no `weight` tensor");
    let output = run(&[&"--weights", &path, &"--png", &image]);
    assert_fails(&output, 1, "has no tensor `W1`");
    let output = run(&[
        &"--weights",
        &native,
        &"--format",
        &"onnx",
        &"--png",
        &image,
    ]);
    assert_fails(&output, 2, "--format");
    std::fs::remove_dir_all(&dir).unwrap();
}
