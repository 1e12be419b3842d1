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

/// Writes who holds the lock: `process 4242 (mnist), since 2026-12-07
/// 16:50:11 UTC`.
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
        "process {} ({program}), since {}",
        std::process::id(),
        utc_time(since)
    )?;
    file.flush()
}

/// `seconds` since 1970 as a UTC date and time, `2026-12-07 16:50:11 UTC`
/// (the proleptic Gregorian calendar, from the days since 1970).
fn utc_time(seconds: u64) -> String {
    let (days, time) = (seconds / 86_400, seconds % 86_400);
    // Days to a civil date, counting from 0000-03-01 so that a leap day
    // ends each four-year cycle (H. Hinnant's `civil_from_days`).
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        time / 3600,
        time / 60 % 60,
        time % 60
    )
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
    fn times_read_as_dates() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_time(1_796_662_611), "2026-12-07 16:56:51 UTC");
        assert_eq!(utc_time(4_107_542_399), "2100-02-28 23:59:59 UTC");
    }

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
