//! Reading a regular file whole, up to a bound.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;

/// A regular file opened to be read whole, no longer than a bound: a
/// device such as `/dev/zero`, a pipe or a directory has no end to read
/// to, and a file beyond the bound is not one its reader takes.
pub(crate) struct RegularFile {
    file: File,
    len: u64,
    max: u64,
}

impl RegularFile {
    /// Opens `path`, refusing what is not a regular file or is longer than
    /// `max` bytes before anything is read.
    pub(crate) fn open(path: &Path, max: u64) -> io::Result<Self> {
        let file = File::open(path)?;
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            return Err(invalid("it is not a regular file".to_owned()));
        }
        let len = metadata.len();
        if len > max {
            return Err(invalid(format!(
                "it is {len} bytes, more than is read here ({} MiB)",
                max >> 20
            )));
        }
        Ok(RegularFile { file, len, max })
    }

    /// The file's length when it was opened.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The first `N` bytes, or `None` when the file is shorter; the whole
    /// read starts from the beginning all the same. Lets a reader refuse a
    /// file by its start without reading the rest.
    pub(crate) fn peek<const N: usize>(&mut self) -> io::Result<Option<[u8; N]>> {
        if self.len < N as u64 {
            return Ok(None);
        }
        let mut start = [0u8; N];
        self.file.read_exact(&mut start)?;
        self.file.rewind()?;
        Ok(Some(start))
    }

    /// Reads the file whole.
    pub(crate) fn read_whole(self) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0));
        // `take`: a file that grows while it is read stops at the bound.
        self.file.take(self.max).read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Reads the regular file at `path` whole, if it is at most `max` bytes
/// long: a device such as `/dev/zero`, a pipe or a directory is refused
/// before anything is read, and so is a longer file (one that grows while
/// it is read stops at `max`). The crate reads its weight and dataset
/// files this way.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("small.bin");
/// std::fs::write(&path, b"12345")?;
/// assert_eq!(net_core::files::read_bounded(&path, 8)?, b"12345");
/// assert!(net_core::files::read_bounded(&path, 4).is_err());
/// assert!(net_core::files::read_bounded(dir.path(), 8).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// What the operating system said, or an [`InvalidInput`] error saying
/// that the file is not a regular file or how long it is. The error does
/// not name the path: the caller's message does.
///
/// [`InvalidInput`]: io::ErrorKind::InvalidInput
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    RegularFile::open(path, max)?.read_whole()
}
