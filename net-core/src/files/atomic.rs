//! Replacing a file atomically: temporary file, `fsync`, rename, `fsync`
//! of the directory.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Numbers the temporary files of this process, so that two threads saving
/// to the same path never share one.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// A file written under a temporary name beside its destination, which
/// replaces the destination only when [`persist`](Self::persist)ed.
///
/// Whenever the process or the machine stops, the destination holds either
/// its old content or everything written before `persist`, never a mix.
/// The bytes go to `.<name>.tmp-<pid>-<n>` in the destination's directory;
/// `persist` syncs that file, renames it over the destination (a symbolic
/// link there is replaced, not followed) and syncs the directory. Dropped
/// without `persist` — an error on the way, a panic — the temporary file is
/// removed. Temporary files of the same destination left by killed
/// processes (on Linux: whose process no longer exists) are removed when
/// the next one is created.
///
/// Writes are not buffered: for many small writes, wrap it in a
/// [`BufWriter`](std::io::BufWriter) and take it back with
/// [`into_inner`](std::io::BufWriter::into_inner) before `persist`. For
/// bytes already in memory, [`write_atomically`] does it all.
///
/// ```
/// use std::io::Write;
/// use net_core::files::AtomicFile;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("log.txt");
/// std::fs::write(&path, "old")?;
///
/// let mut file = AtomicFile::create(&path)?;
/// writeln!(file, "epoch 1")?;
/// assert_eq!(std::fs::read_to_string(&path)?, "old");
/// file.persist()?;
/// assert_eq!(std::fs::read_to_string(&path)?, "epoch 1\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    // Declared first so that it is closed before `temp` removes the file.
    file: File,
    temp: TempPath,
    path: PathBuf,
}

/// Why an [`AtomicFile`] could not be created or persisted: the
/// destination, and what the operating system said.
#[derive(Debug, thiserror::Error)]
#[error("could not write `{}`: {source}", path.display())]
pub struct WriteError {
    /// The destination (not the temporary file, which the user never
    /// named).
    pub path: PathBuf,
    /// What the operating system said.
    #[source]
    pub source: io::Error,
}

impl AtomicFile {
    /// Starts writing `path`: creates the temporary file
    /// `.<name>.tmp-<pid>-<n>` beside it. `path` itself is not touched
    /// until [`persist`](Self::persist).
    ///
    /// # Errors
    /// A [`WriteError`] naming `path` when it names no file (such as `""`
    /// or `dir/..`), or when the temporary file cannot be created (a
    /// missing or read-only directory).
    pub fn create(path: impl AsRef<Path>) -> Result<Self, WriteError> {
        Self::create_marked(path.as_ref(), "tmp")
    }

    /// [`create`](Self::create) with `marker` in place of `tmp` in the
    /// temporary file's name: `.<name>.<marker>-<pid>-<n>`. Downloads use
    /// `part`.
    pub(crate) fn create_marked(path: &Path, marker: &str) -> Result<Self, WriteError> {
        let fail = |source| WriteError {
            path: path.to_path_buf(),
            source,
        };
        let Some(file_name) = path.file_name() else {
            return Err(fail(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the path names no file",
            )));
        };
        let dir = parent_dir(path);
        let prefix = temp_prefix(file_name, marker);
        remove_files_of_dead_processes(dir, |name| {
            parse_owner(
                name.as_encoded_bytes()
                    .strip_prefix(prefix.as_encoded_bytes())?,
                b'-',
            )
        });

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
        Ok(AtomicFile {
            file,
            temp: TempPath {
                path: temp,
                renamed: false,
            },
            path: path.to_path_buf(),
        })
    }

    /// The destination: the path given to [`create`](Self::create).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Syncs what was written to disk, renames the temporary file over the
    /// destination, and syncs the directory so that the rename is durable.
    ///
    /// # Errors
    /// A [`WriteError`] naming the destination when the data cannot be
    /// synced or the file renamed (the temporary file is then removed and
    /// the destination left as it was), or when the directory cannot be
    /// synced (the destination then holds the new content, but a machine
    /// crash may still undo the rename).
    pub fn persist(self) -> Result<(), WriteError> {
        let AtomicFile {
            file,
            mut temp,
            path,
        } = self;
        let fail = |source| WriteError {
            path: path.clone(),
            source,
        };
        // On an error, dropping `temp` removes the temporary file.
        file.sync_all().map_err(fail)?;
        // Closed before the rename, which some platforms require.
        drop(file);
        fs::rename(&temp.path, &path).map_err(fail)?;
        temp.renamed = true;
        sync_dir(parent_dir(&path)).map_err(fail)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// The temporary file of an [`AtomicFile`], removed on drop unless it was
/// renamed into place.
#[derive(Debug)]
struct TempPath {
    path: PathBuf,
    renamed: bool,
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Writes `bytes` to `path` so that, whenever the process or the machine
/// stops, `path` holds either its old content or `bytes`, never a mix: an
/// [`AtomicFile`] written at once and persisted.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("weights.bin");
/// net_core::files::write_atomically(&path, b"new")?;
/// assert_eq!(std::fs::read(&path)?, b"new");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// A [`WriteError`] naming `path`, as [`AtomicFile::create`] and
/// [`AtomicFile::persist`] fail; `path` is then left as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).map_err(|source| WriteError {
        path: path.to_path_buf(),
        source,
    })?;
    file.persist()
}

fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// The directory holding `path`: its parent, or `.` for a bare file name.
pub(super) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// `.<name>.<marker>-`: the start of the name of every temporary file for
/// `file_name`.
fn temp_prefix(file_name: &OsStr, marker: &str) -> OsString {
    let mut prefix = OsString::from(".");
    prefix.push(file_name);
    prefix.push(format!(".{marker}-"));
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

/// Removes the files in `dir` that `owner` says a process wrote (by their
/// name: its pid) when that process is gone, on Linux, where `/proc` says
/// so; elsewhere nothing. Best effort: errors are ignored, and the files of
/// live processes, this one included, are left alone. Shared by the atomic
/// files and the downloads, which also clean up temporary files of an
/// older naming.
pub(crate) fn remove_files_of_dead_processes(dir: &Path, owner: impl Fn(&OsStr) -> Option<u32>) {
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

/// The pid in `<pid><separator><n>`, if `rest` is exactly that, both
/// numbers in plain decimal digits.
pub(crate) fn parse_owner(rest: &[u8], separator: u8) -> Option<u32> {
    let text = std::str::from_utf8(rest).ok()?;
    let (pid, n) = text.split_once(char::from(separator))?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(pid) || !digits(n) {
        return None;
    }
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_temp_suffixes() {
        assert_eq!(parse_owner(b"123-0", b'-'), Some(123));
        assert_eq!(parse_owner(b"123.0", b'.'), Some(123));
        for bad in [
            &b"123-x"[..],
            b"123",
            b"-1",
            b"+1-0",
            b"1-+0",
            b"1-0x",
            b"1.0",
        ] {
            assert_eq!(parse_owner(bad, b'-'), None, "{bad:?}");
        }
    }

    #[test]
    fn a_dropped_file_leaves_nothing_and_the_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        fs::write(&path, b"old").unwrap();
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"half of the new").unwrap();
        drop(file);
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn streamed_writes_replace_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        fs::write(&path, b"old").unwrap();
        let mut file = AtomicFile::create(&path).unwrap();
        assert_eq!(file.path(), path);
        for chunk in [&b"new "[..], b"in ", b"parts"] {
            file.write_all(chunk).unwrap();
        }
        file.persist().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new in parts");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn errors_name_the_destination() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("out.bin");
        let err = AtomicFile::create(&path).unwrap_err();
        assert_eq!(err.path, path);
        assert!(err.to_string().contains("missing/out.bin"), "{err}");
        let err = AtomicFile::create("").unwrap_err();
        assert_eq!(err.source.kind(), io::ErrorKind::InvalidInput);
    }
}
