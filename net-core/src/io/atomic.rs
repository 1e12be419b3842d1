//! Replacing a file atomically: temporary file, `fsync`, rename, `fsync`
//! of the directory.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::IoError;

/// Numbers the temporary files of this process, so that two threads saving
/// to the same path never share one.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` so that, whenever the process or the machine
/// stops, `path` holds either its old content or `bytes`, never a mix.
///
/// The bytes go to `.<name>.tmp-<pid>-<n>` beside `path`, which is synced,
/// renamed over `path`, and then the directory is synced.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let fail = |source: io::Error| IoError::Write {
        path: path.to_path_buf(),
        source,
    };
    let Some(file_name) = path.file_name() else {
        return Err(fail(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file",
        )));
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let prefix = temp_prefix(file_name);
    remove_stale_temps(dir, &prefix);

    let mut temp_name = prefix;
    temp_name.push(format!(
        "{}-{}",
        std::process::id(),
        NEXT_TEMP.fetch_add(1, Ordering::Relaxed)
    ));
    let temp = dir.join(temp_name);
    let file = match create_new(&temp) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            // Left by a dead process that had our pid: this process never
            // reuses a name, so no one is writing it.
            let _ = fs::remove_file(&temp);
            create_new(&temp)
        }
        other => other,
    }
    .map_err(fail)?;

    let written = write_and_sync(file, bytes).and_then(|()| fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(fail(e));
    }
    sync_dir(dir).map_err(fail)
}

fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

fn write_and_sync(mut file: File, bytes: &[u8]) -> io::Result<()> {
    file.write_all(bytes)?;
    file.sync_all()
}

/// `.<name>.tmp-`: the start of the name of every temporary file for
/// `file_name`.
fn temp_prefix(file_name: &std::ffi::OsStr) -> OsString {
    let mut prefix = OsString::from(".");
    prefix.push(file_name);
    prefix.push(".tmp-");
    prefix
}

/// Makes the rename durable: syncs the directory that holds it.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        // Some file systems cannot sync a directory; the rename is done.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Directories cannot be opened for syncing here; the rename is done.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Removes the temporary files of `prefix` in `dir` whose process is gone
/// (see [`remove_files_of_dead_processes`]).
fn remove_stale_temps(dir: &Path, prefix: &std::ffi::OsStr) {
    remove_files_of_dead_processes(dir, |name| {
        parse_pid(
            name.as_encoded_bytes()
                .strip_prefix(prefix.as_encoded_bytes())?,
        )
    });
}

/// Removes the files in `dir` that `owner` says a process wrote (by their
/// name: its pid) when that process is gone, on Linux, where `/proc` says
/// so; elsewhere nothing. Best effort: errors are ignored, and the files of
/// live processes, this one included, are left alone. Shared by the atomic
/// saves and the downloads, whose temporary files a killed run leaves.
pub(crate) fn remove_files_of_dead_processes(
    dir: &Path,
    owner: impl Fn(&std::ffi::OsStr) -> Option<u32>,
) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let Some(pid) = owner(&entry.file_name()) else {
            continue;
        };
        if pid != own && !PathBuf::from(format!("/proc/{pid}")).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The pid in `<pid>-<n>`, if `rest` is exactly that.
fn parse_pid(rest: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(rest).ok()?;
    let (pid, n) = text.split_once('-')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_temp_suffixes() {
        assert_eq!(parse_pid(b"123-0"), Some(123));
        assert_eq!(parse_pid(b"123-x"), None);
        assert_eq!(parse_pid(b"123"), None);
        assert_eq!(parse_pid(b"-1"), None);
    }
}
