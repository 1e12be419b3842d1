//! File primitives the rest of the crate stands on: replacing a file
//! atomically, reading a regular file whole up to a bound, checking that a
//! file can be written before the work that writes it, and saying in words
//! what a path is; locking a file for one writer.
//!
//! `io` saves weights and checkpoints with these, and `data` reads and
//! downloads datasets with them; this module uses neither.

mod atomic;
mod kind;
mod lock;
mod read;
mod writable;

pub use atomic::{AtomicFile, WriteError, write_atomically};
// The downloads clean up their own temporary files as the atomic writer does.
#[cfg(feature = "download")]
pub(crate) use atomic::{parse_owner, remove_files_of_dead_processes};
pub use kind::file_kind;
pub(crate) use kind::first_non_directory;
pub use lock::{FileLock, LockError, lock_path};
pub(crate) use read::RegularFile;
pub use read::read_bounded;
pub(crate) use writable::check_writable;
