//! An advisory lock on a file that a process is about to write: a lock
//! file beside it (`run.ckpt.lock`), locked with the operating system's
//! advisory lock (`flock`, on Unix) for as long as the writer lives, and
//! naming its holder for whoever finds it taken. Elsewhere the lock file
//! is made, but not locked.
//!
//! The lock is on a file of its own because the file it guards is replaced
//! by renaming a new one over it, and a lock on a file that is renamed
//! away guards nothing.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Why a lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process (or another run in this one) holds the lock.
    #[error("{} is being written by another run ({holder}); wait for it to end, or write elsewhere", .path.display())]
    Held {
        /// The file the lock guards.
        path: PathBuf,
        /// Who holds it, as the holder wrote it: its process id, its
        /// program, and when it took the lock.
        holder: String,
    },
    /// The lock file could not be opened or locked.
    #[error("cannot lock {}: {source}", .lock.display())]
    Io {
        /// The lock file.
        lock: PathBuf,
        /// What failed.
        source: io::Error,
    },
}

/// A held lock on the file at a path; released when dropped, which also
/// removes the lock file.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    lock_path: PathBuf,
}

impl FileLock {
    /// Locks `path` for writing by this run, without waiting.
    ///
    /// # Errors
    /// [`LockError::Held`], naming the holder, when another run holds the
    /// lock; [`LockError::Io`] when the lock file cannot be made.
    pub fn acquire(path: &Path) -> Result<FileLock, LockError> {
        let lock_path = lock_path(path);
        let io_error = |source| LockError::Io {
            lock: lock_path.clone(),
            source,
        };
        // A holder removes the lock file as it lets go, so the file opened
        // may be one a holder has just removed: locking it would guard
        // nothing. Then try again on the file now at the path.
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock_path)
                .map_err(io_error)?;
            match try_lock(&file) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(LockError::Held {
                        path: path.to_path_buf(),
                        holder: holder_of(&file),
                    });
                }
                Err(source) => return Err(io_error(source)),
            }
            if !is_same_file(&file, &lock_path) {
                continue;
            }
            write_holder(&mut file).map_err(io_error)?;
            return Ok(FileLock { file, lock_path });
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Removed while still locked, so no other run can lock this file
        // and find it gone; a failure leaves only an unlocked file behind.
        let _ = fs::remove_file(&self.lock_path);
        unlock(&self.file);
    }
}

/// Takes the exclusive lock on `file` without waiting: `false` when another
/// holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(errno) => Err(errno.into()),
    }
}

#[cfg(unix)]
fn unlock(file: &File) {
    let _ = rustix::fs::flock(file, rustix::fs::FlockOperation::Unlock);
}

#[cfg(not(unix))]
fn try_lock(_: &File) -> io::Result<bool> {
    Ok(true)
}

#[cfg(not(unix))]
fn unlock(_: &File) {}

/// The lock file of `path`: `run.ckpt` → `run.ckpt.lock`.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Whether the open `file` is still the one at `path`.
fn is_same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// Writes who holds the lock: `process 4242 (mnist), since 1765110000
/// (seconds since 1970)`.
fn write_holder(file: &mut File) -> io::Result<()> {
    let program = std::env::args_os()
        .next()
        .map(PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown program".to_owned());
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    file.set_len(0)?;
    write!(
        file,
        "process {} ({program}), since {since} (seconds since 1970)",
        std::process::id()
    )?;
    file.flush()
}

/// What the holder wrote, or a placeholder when it wrote nothing yet.
fn holder_of(file: &File) -> String {
    let mut text = String::new();
    match file.take(200).read_to_string(&mut text) {
        Ok(_) if !text.trim().is_empty() => text.trim().to_owned(),
        _ => "a process that has not said who it is yet".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_free_after_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ckpt");
        let first = FileLock::acquire(&path).unwrap();
        assert!(lock_path(&path).exists());
        let error = FileLock::acquire(&path).unwrap_err();
        let LockError::Held { holder, .. } = &error else {
            panic!("{error:?}");
        };
        assert!(
            holder.starts_with(&format!("process {} (", std::process::id())),
            "{holder}"
        );
        assert!(error.to_string().contains("being written by another run"));
        drop(first);
        assert!(!lock_path(&path).exists());
        let again = FileLock::acquire(&path).unwrap();
        drop(again);
    }
}
