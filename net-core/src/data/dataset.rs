//! Which dataset, where its files live, and where to download them from.
//!
//! Nothing here touches the network: downloading is in `data::download`,
//! behind the `download` cargo feature.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::DataError;
// Public here too, where it always was.
pub use crate::files::file_kind;
use crate::files::first_non_directory;

/// The environment variable that overrides the default download mirrors: a
/// comma-separated list of base URLs (each file's URL is the base followed
/// by the file name).
pub const MIRROR_ENV: &str = "STATICNET_MIRROR";

/// The base names (without `.gz`) of the four files, in the order
/// train images, train labels, test images, test labels.
pub const FILE_STEMS: [&str; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];

/// Base name of the training images file.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
/// Base name of the training labels file.
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
/// Base name of the test images file.
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
/// Base name of the test labels file.
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// A file to fetch: its name, its SHA-256 and, when known, its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSpec<'a> {
    /// The file name, appended to a mirror's base URL and used in the
    /// destination directory.
    pub name: &'a str,
    /// The expected SHA-256 digest, hex (case-insensitive).
    pub sha256: &'a str,
    /// The exact size in bytes, when known: a download that grows past it is
    /// abandoned early.
    pub size: Option<u64>,
}

/// A dataset in the MNIST file layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dataset {
    /// MNIST handwritten digits (LeCun, Cortes & Burges).
    Mnist,
    /// Fashion-MNIST (Zalando Research): same format and file names.
    Fashion,
}

const MNIST_FILES: [FileSpec<'static>; 4] = [
    FileSpec {
        name: "train-images-idx3-ubyte.gz",
        sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        size: Some(9_912_422),
    },
    FileSpec {
        name: "train-labels-idx1-ubyte.gz",
        sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        size: Some(28_881),
    },
    FileSpec {
        name: "t10k-images-idx3-ubyte.gz",
        sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        size: Some(1_648_877),
    },
    FileSpec {
        name: "t10k-labels-idx1-ubyte.gz",
        sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        size: Some(4_542),
    },
];

const FASHION_FILES: [FileSpec<'static>; 4] = [
    FileSpec {
        name: "train-images-idx3-ubyte.gz",
        sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        size: Some(26_421_880),
    },
    FileSpec {
        name: "train-labels-idx1-ubyte.gz",
        sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        size: Some(29_515),
    },
    FileSpec {
        name: "t10k-images-idx3-ubyte.gz",
        sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        size: Some(4_422_102),
    },
    FileSpec {
        name: "t10k-labels-idx1-ubyte.gz",
        sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        size: Some(5_148),
    },
];

impl Dataset {
    /// Both datasets.
    pub const ALL: [Dataset; 2] = [Dataset::Mnist, Dataset::Fashion];

    /// The dataset's display name: `"MNIST"` or `"Fashion-MNIST"`.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Mnist => "MNIST",
            Dataset::Fashion => "Fashion-MNIST",
        }
    }

    /// The name of its directory in the cache: `"mnist"` or
    /// `"fashion-mnist"`.
    pub fn dir_name(self) -> &'static str {
        match self {
            Dataset::Mnist => "mnist",
            Dataset::Fashion => "fashion-mnist",
        }
    }

    /// The environment variable naming its directory: `MNIST_DIR` or
    /// `FASHION_MNIST_DIR`.
    pub fn env_var(self) -> &'static str {
        match self {
            Dataset::Mnist => "MNIST_DIR",
            Dataset::Fashion => "FASHION_MNIST_DIR",
        }
    }

    /// The four canonical `.gz` files with their SHA-256 and size, in the
    /// order train images, train labels, test images, test labels.
    pub fn files(self) -> &'static [FileSpec<'static>; 4] {
        match self {
            Dataset::Mnist => &MNIST_FILES,
            Dataset::Fashion => &FASHION_FILES,
        }
    }

    /// The built-in download mirrors (base URLs ending in `/`).
    pub fn default_mirrors(self) -> &'static [&'static str] {
        match self {
            Dataset::Mnist => &[
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/",
            ],
            Dataset::Fashion => &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        }
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`Dataset`] name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dataset {0:?}: expected \"mnist\" or \"fashion\" (\"fashion-mnist\")")]
pub struct UnknownDataset(pub String);

impl FromStr for Dataset {
    type Err = UnknownDataset;

    /// Accepts `mnist`, and `fashion`, `fashion-mnist` or `fashion_mnist`,
    /// in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "mnist" => Ok(Dataset::Mnist),
            "fashion" | "fashion-mnist" | "fashion_mnist" | "fashionmnist" => Ok(Dataset::Fashion),
            _ => Err(UnknownDataset(s.to_owned())),
        }
    }
}

/// Where the dataset's files are: `cli` (the `--data DIR` argument) when
/// given, else `$MNIST_DIR` (`$FASHION_MNIST_DIR` for Fashion-MNIST) when set
/// and not empty, else a per-user cache directory:
/// `$XDG_CACHE_HOME/staticnet/<dataset>`, else
/// `$HOME/.cache/staticnet/<dataset>`, else (Windows)
/// `%LOCALAPPDATA%/staticnet/<dataset>`, else `.staticnet/<dataset>` in the
/// current directory; `<dataset>` is [`Dataset::dir_name`].
///
/// The directory need not exist.
pub fn resolve_data_dir(cli: Option<&Path>, dataset: Dataset) -> PathBuf {
    resolve_data_dir_with(cli, dataset, |name| std::env::var_os(name))
}

/// [`resolve_data_dir`] with the environment given as a function, for tests.
pub(crate) fn resolve_data_dir_with(
    cli: Option<&Path>,
    dataset: Dataset,
    env: impl Fn(&str) -> Option<OsString>,
) -> PathBuf {
    if let Some(dir) = cli {
        return dir.to_path_buf();
    }
    let non_empty = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty(dataset.env_var()) {
        return PathBuf::from(dir);
    }
    // The XDG spec says relative values are to be ignored.
    let cache = non_empty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .or_else(|| non_empty("LOCALAPPDATA").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    let base = if cache == Path::new(".") {
        cache.join(".staticnet")
    } else {
        cache.join("staticnet")
    };
    base.join(dataset.dir_name())
}

/// The mirrors to download from: `cli` (the `--mirror` arguments) when not
/// empty, else the comma-separated list in `$STATICNET_MIRROR` when set and
/// not empty, else [`Dataset::default_mirrors`]. Each base URL is given a
/// trailing `/` when it lacks one.
pub fn resolve_mirrors(cli: &[String], dataset: Dataset) -> Vec<String> {
    resolve_mirrors_with(cli, dataset, |name| std::env::var(name).ok())
}

/// [`resolve_mirrors`] with the environment given as a function, for tests.
pub(crate) fn resolve_mirrors_with(
    cli: &[String],
    dataset: Dataset,
    env: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    let cli: Vec<String> = cli
        .iter()
        .flat_map(|m| m.split(','))
        .filter_map(normalize_mirror)
        .collect();
    if !cli.is_empty() {
        return cli;
    }
    let from_env: Vec<String> = env(MIRROR_ENV)
        .unwrap_or_default()
        .split(',')
        .filter_map(normalize_mirror)
        .collect();
    if !from_env.is_empty() {
        return from_env;
    }
    dataset
        .default_mirrors()
        .iter()
        .map(|m| (*m).to_owned())
        .collect()
}

/// Trims a mirror base URL and gives it a trailing `/`; `None` when empty.
fn normalize_mirror(mirror: &str) -> Option<String> {
    let mirror = mirror.trim();
    if mirror.is_empty() {
        None
    } else if mirror.ends_with('/') {
        Some(mirror.to_owned())
    } else {
        Some(format!("{mirror}/"))
    }
}

/// The path of a dataset file in `dir`: `<stem>.gz` when it exists, else
/// `<stem>` (raw IDX) when it exists, else `None`. `stem` is a name without
/// `.gz`, such as [`TRAIN_IMAGES`].
///
/// A file that cannot be looked at (an unreadable directory) counts as
/// absent here; [`locate_file`] tells the two apart.
pub fn find_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    locate_file(dir, stem).ok().flatten()
}

/// [`find_file`], telling a file that is absent (`Ok(None)`) from one that
/// cannot be looked for.
///
/// # Errors
/// [`DataError::UnreadableDir`] when the directory does not let its files
/// be looked at (its permissions); [`DataError::Io`] naming the file for
/// any other failure but its absence (a loop of symbolic links, say).
pub fn locate_file(dir: &Path, stem: &str) -> Result<Option<PathBuf>, DataError> {
    for path in [dir.join(format!("{stem}.gz")), dir.join(stem)] {
        match fs::metadata(&path) {
            Ok(metadata) if metadata.is_file() => return Ok(Some(path)),
            // Something else under the name (a directory): not the file.
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(source) if source.kind() == io::ErrorKind::PermissionDenied => {
                return Err(DataError::UnreadableDir {
                    path: dir.to_path_buf(),
                    source,
                });
            }
            Err(source) => return Err(DataError::Io { path, source }),
        }
    }
    Ok(None)
}

/// Checks the dataset directory `dir` before its files are looked for:
/// `Ok(true)` when it is a directory that can be listed, `Ok(false)` when it
/// does not exist (a download may create it).
///
/// # Errors
/// [`DataError::NotADirectory`] when `dir`, or a directory on its path, is
/// something else (a regular file, say), naming that path;
/// [`DataError::UnreadableDir`] when it exists but cannot be read (its
/// permissions, or those of a directory above it): rather than its files
/// being reported missing, and downloaded into it.
pub fn check_data_dir(dir: &Path) -> Result<bool, DataError> {
    match fs::metadata(dir) {
        // Listed, and its entries looked at (which a directory without
        // the search permission refuses).
        Ok(metadata) if metadata.is_dir() => {
            match fs::read_dir(dir).and_then(|_| fs::metadata(dir.join("."))) {
                Ok(_) => Ok(true),
                Err(source) => Err(DataError::UnreadableDir {
                    path: dir.to_path_buf(),
                    source,
                }),
            }
        }
        Ok(metadata) => Err(DataError::NotADirectory {
            path: dir.to_path_buf(),
            what: file_kind(&metadata.file_type()),
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        // "Not a directory" from a component of the path, or a directory
        // above that cannot be searched.
        Err(source) => match first_non_directory(dir) {
            Some((path, what)) => Err(DataError::NotADirectory { path, what }),
            None => Err(DataError::UnreadableDir {
                path: dir.to_path_buf(),
                source,
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn data_dir_precedence() {
        let env = env_of(&[
            ("MNIST_DIR", "/env/mnist"),
            ("HOME", "/home/u"),
            ("XDG_CACHE_HOME", "/xdg"),
        ]);
        let cli = Path::new("/cli");
        assert_eq!(resolve_data_dir_with(Some(cli), Dataset::Mnist, &env), cli);
        assert_eq!(
            resolve_data_dir_with(None, Dataset::Mnist, &env),
            Path::new("/env/mnist")
        );
        // FASHION_MNIST_DIR is unset: the cache.
        assert_eq!(
            resolve_data_dir_with(None, Dataset::Fashion, &env),
            Path::new("/xdg/staticnet/fashion-mnist")
        );
        let env = env_of(&[
            ("MNIST_DIR", ""),
            ("HOME", "/home/u"),
            ("XDG_CACHE_HOME", "rel"),
        ]);
        assert_eq!(
            resolve_data_dir_with(None, Dataset::Mnist, &env),
            Path::new("/home/u/.cache/staticnet/mnist")
        );
        assert_eq!(
            resolve_data_dir_with(None, Dataset::Fashion, env_of(&[])),
            Path::new("./.staticnet/fashion-mnist")
        );
    }

    #[test]
    fn mirror_precedence() {
        let env = |name: &str| (name == MIRROR_ENV).then(|| " http://a/x , http://b/ ,".to_owned());
        assert_eq!(
            resolve_mirrors_with(&["http://cli".to_owned()], Dataset::Mnist, env),
            ["http://cli/"]
        );
        assert_eq!(
            resolve_mirrors_with(&[], Dataset::Mnist, env),
            ["http://a/x/", "http://b/"]
        );
        assert_eq!(
            resolve_mirrors_with(&[], Dataset::Fashion, |_| Some(" , ".to_owned())),
            Dataset::Fashion.default_mirrors()
        );
        assert_eq!(
            resolve_mirrors_with(&[String::new()], Dataset::Mnist, |_| None).len(),
            2
        );
    }

    #[test]
    fn dataset_names_and_files() {
        assert_eq!("MNIST".parse::<Dataset>(), Ok(Dataset::Mnist));
        assert_eq!("fashion-mnist".parse::<Dataset>(), Ok(Dataset::Fashion));
        assert!("cifar".parse::<Dataset>().is_err());
        for dataset in Dataset::ALL {
            for (spec, stem) in dataset.files().iter().zip(FILE_STEMS) {
                assert_eq!(spec.name, format!("{stem}.gz"));
                assert_eq!(spec.sha256.len(), 64);
                assert!(spec.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
            }
        }
    }
}
