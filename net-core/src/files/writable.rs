//! Checking, before any work, that a file can be written where asked.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io;
use std::path::Path;

use super::atomic::parent_dir;
use super::kind::{file_kind, first_non_directory};

/// The check behind `io::check_writable` and
/// the downloads' check of their directory: a temporary file can be
/// created beside `path` and renamed over it.
///
/// # Errors
/// Why not, in words that follow the path in a message (such as "is a
/// directory; give a file path"): each caller wraps it in its own error.
pub(crate) fn check_writable(path: &Path) -> Result<(), String> {
    match fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => {
            return Err("is a directory; give a file path".to_owned());
        }
        Ok(metadata) if !metadata.is_file() => {
            return Err(format!(
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
        _ => return Err("names a directory, not a file; give a file path".to_owned()),
    };
    let dir = parent_dir(path);
    match fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(metadata) => {
            return Err(format!(
                "{} is not a directory (it is {})",
                dir.display(),
                file_kind(&metadata.file_type())
            ));
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(format!("the directory {} does not exist", dir.display()));
        }
        Err(error) => {
            return Err(match first_non_directory(dir) {
                Some((file, what)) => {
                    format!("{} is not a directory (it is {what})", file.display())
                }
                None => format!("the directory {} cannot be reached: {error}", dir.display()),
            });
        }
    }
    // A probe beside the destination, under a name of this process.
    let mut probe_name = OsString::from(".");
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
                return Err(format!(
                    "cannot create a file in {}: {error}",
                    dir.display()
                ));
            }
        }
    }
    Err(format!("cannot create a file in {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(path: &Path) -> String {
        check_writable(path).expect_err("the path is not writable")
    }

    #[test]
    fn bad_destinations_are_named_before_any_write() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, b"x").unwrap();
        assert!(check_writable(&dir.path().join("new.safetensors")).is_ok());
        assert!(check_writable(&file).is_ok());
        assert_eq!(reason(dir.path()), "is a directory; give a file path");
        assert!(reason(&file.join("w.safetensors")).contains("is not a directory"));
        assert!(reason(&dir.path().join("nowhere/w.safetensors")).contains("does not exist"));
        // Nothing was left behind but the file made above.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
