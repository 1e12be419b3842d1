//! What a path is, in words, for messages that say what a path is instead
//! of what was needed.

use std::fs;
use std::path::{Path, PathBuf};

/// The first path above or at `path` (from the root down) that exists and
/// is not a directory, with what it is.
pub(crate) fn first_non_directory(path: &Path) -> Option<(PathBuf, &'static str)> {
    let ancestors: Vec<&Path> = path.ancestors().collect();
    ancestors.into_iter().rev().find_map(|ancestor| {
        if ancestor.as_os_str().is_empty() {
            return None;
        }
        let metadata = fs::metadata(ancestor).ok()?;
        (!metadata.is_dir()).then(|| (ancestor.to_path_buf(), file_kind(&metadata.file_type())))
    })
}

/// What a file is, in words: "a regular file", "a character device"…, for
/// messages that say what a path is instead of what was needed.
pub fn file_kind(file_type: &fs::FileType) -> &'static str {
    if file_type.is_file() {
        return "a regular file";
    }
    if file_type.is_dir() {
        return "a directory";
    }
    if file_type.is_symlink() {
        return "a symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}
