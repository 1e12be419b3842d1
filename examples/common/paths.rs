//! The paths of a command line, checked before any data is read or any
//! step is taken: a data directory that is something else, a checkpoint
//! that is not a regular file, or an output that cannot be written is said
//! at once, as what it is. Each check returns the message of a usage error
//! (the caller exits with code 2), starting with the flag and the path.
//! Included with `#[path]` by the `mnist`, `simple_convnet` and
//! `flat_mnist` examples.

#![allow(dead_code)] // Each example uses the checks for the flags it has.

use std::fs;
use std::io;
use std::path::Path;

use staticnet::data::{DataError, check_data_dir, file_kind};
use staticnet::io::{IoError, check_writable};

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

/// `--save PATH`, `--plot PATH`: a file that can be written (see
/// [`check_writable`]); `example` is a file name the message suggests when
/// `path` is a directory.
pub fn check_output_file(flag: &str, path: &Path, example: &str) -> Result<(), String> {
    match check_writable(path) {
        Ok(()) => Ok(()),
        Err(IoError::Unwritable { reason, .. }) if path.is_dir() => Err(format!(
            "{flag} {}: {reason}, such as {}",
            path.display(),
            path.join(example).display()
        )),
        Err(IoError::Unwritable { reason, .. }) => {
            Err(format!("{flag} {}: {reason}", path.display()))
        }
        Err(error) => Err(format!("{flag} {}: {error}", path.display())),
    }
}

/// Whether two paths name the same file, existing or to be created.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let resolve = |path: &Path| {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Some(fs::canonicalize(dir).ok()?.join(path.file_name()?))
    };
    a == b || matches!((resolve(a), resolve(b)), (Some(a), Some(b)) if a == b)
}
