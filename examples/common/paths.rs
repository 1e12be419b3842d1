//! The paths of a command line, checked before any data is read or any
//! step is taken: a data directory that is something else, a checkpoint
//! that is not a regular file, or an output that cannot be written is said
//! at once, as what it is. Each check returns the message of a usage error
//! (the caller exits with code 2), starting with the flag and the path.
//! Included with `#[path]` by the `mnist`, `simple_convnet` and
//! `flat_mnist` examples.

#![allow(dead_code)] // Each example uses the checks for the flags it has.

use std::fs::{self, OpenOptions};
use std::io;
use std::path::Path;

use staticnet::data::{DataError, check_data_dir, file_kind};

/// `--data DIR`: an existing directory that can be read.
pub fn check_data_arg(flag: &str, dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    match check_data_dir(dir) {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("{flag} {shown}: no such directory")),
        Err(DataError::NotADirectory { path, what }) if path == dir => {
            Err(format!("{flag} {shown}: not a directory (it is {what})"))
        }
        Err(DataError::UnreadableDir { path, source }) if path == dir => Err(format!(
            "{flag} {shown}: the directory cannot be read: {source}"
        )),
        Err(error) => Err(format!("{flag} {shown}: {error}")),
    }
}

/// `--resume PATH` and the like: an existing regular file that can be
/// opened for reading.
pub fn check_input_file(flag: &str, path: &Path) -> Result<(), String> {
    let shown = path.display();
    match fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => fs::File::open(path)
            .map(drop)
            .map_err(|error| format!("{flag} {shown}: cannot be read: {error}")),
        Ok(metadata) => Err(format!(
            "{flag} {shown}: not a regular file (it is {})",
            file_kind(&metadata.file_type())
        )),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            Err(format!("{flag} {shown}: no such file"))
        }
        Err(error) => Err(format!("{flag} {shown}: cannot be read: {error}")),
    }
}

/// `--save PATH`, `--plot PATH`: a file the examples can write the way
/// they write every output — a temporary file created beside it, then
/// renamed over it. So the path must name a file (not a directory, nor a
/// device), its directory must exist, and a file must be creatable there:
/// one is created and removed to make sure. `example` is a file name the
/// message suggests when `path` is a directory.
pub fn check_output_file(flag: &str, path: &Path, example: &str) -> Result<(), String> {
    let shown = path.display();
    let fail = |reason: String| Err(format!("{flag} {shown}: {reason}"));
    match fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => {
            return fail(format!(
                "is a directory; give a file path, such as {}",
                path.join(example).display()
            ));
        }
        Ok(metadata) if !metadata.is_file() => {
            return fail(format!(
                "not a regular file (it is {}); give a file path",
                file_kind(&metadata.file_type())
            ));
        }
        // An existing file is replaced; a missing one is created. Any other
        // error (a file on the way) is told by the directory's check.
        _ => {}
    }
    let ends_with_separator = path
        .as_os_str()
        .as_encoded_bytes()
        .last()
        .is_some_and(|&byte| std::path::is_separator(char::from(byte)));
    let name = match path.file_name() {
        Some(name) if !ends_with_separator => name,
        _ => return fail("names a directory, not a file; give a file path".to_owned()),
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(metadata) => {
            return fail(format!(
                "{} is not a directory (it is {})",
                dir.display(),
                file_kind(&metadata.file_type())
            ));
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return fail(format!("the directory {} does not exist", dir.display()));
        }
        Err(error) => {
            let reason = match first_non_directory(dir) {
                Some((file, what)) => {
                    format!("{} is not a directory (it is {what})", file.display())
                }
                None => format!("the directory {} cannot be reached: {error}", dir.display()),
            };
            return fail(reason);
        }
    }
    // A probe beside the destination, under a name of this process.
    let mut probe_name = std::ffi::OsString::from(".");
    probe_name.push(name);
    probe_name.push(format!(".probe-{}-", std::process::id()));
    for n in 0..100 {
        let mut probe_name = probe_name.clone();
        probe_name.push(n.to_string());
        let probe = dir.join(probe_name);
        match OpenOptions::new().write(true).create_new(true).open(&probe) {
            Ok(file) => {
                drop(file);
                let _ = fs::remove_file(&probe);
                return Ok(());
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) => {
                return fail(format!(
                    "cannot create a file in {}: {error}",
                    dir.display()
                ));
            }
        }
    }
    fail(format!("cannot create a file in {}", dir.display()))
}

/// The first path at or above `path` (from the root down) that exists and
/// is not a directory, with what it is.
fn first_non_directory(path: &Path) -> Option<(&Path, &'static str)> {
    let ancestors: Vec<&Path> = path.ancestors().collect();
    ancestors.into_iter().rev().find_map(|ancestor| {
        let metadata = fs::metadata(ancestor).ok()?;
        (!metadata.is_dir()).then(|| (ancestor, file_kind(&metadata.file_type())))
    })
}
