//! Which dataset a directory's files are: the SHA-256 of each canonical
//! MNIST and Fashion-MNIST file, compressed and raw, so that training on
//! the wrong files — Fashion-MNIST images with MNIST labels, or a damaged
//! copy — is refused before the first step.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::dataset::{TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS, locate_file};
use super::{DataError, Dataset};

/// One canonical file: its dataset, its name without `.gz`, and the
/// SHA-256 of its gzip-compressed and of its raw bytes.
struct Canonical {
    dataset: Dataset,
    stem: &'static str,
    gz: &'static str,
    raw: &'static str,
}

const CANONICAL: [Canonical; 8] = [
    Canonical {
        dataset: Dataset::Mnist,
        stem: TRAIN_IMAGES,
        gz: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        raw: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    },
    Canonical {
        dataset: Dataset::Mnist,
        stem: TRAIN_LABELS,
        gz: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        raw: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
    Canonical {
        dataset: Dataset::Mnist,
        stem: TEST_IMAGES,
        gz: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        raw: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    Canonical {
        dataset: Dataset::Mnist,
        stem: TEST_LABELS,
        gz: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        raw: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    Canonical {
        dataset: Dataset::Fashion,
        stem: TRAIN_IMAGES,
        gz: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        raw: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    },
    Canonical {
        dataset: Dataset::Fashion,
        stem: TRAIN_LABELS,
        gz: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        raw: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    },
    Canonical {
        dataset: Dataset::Fashion,
        stem: TEST_IMAGES,
        gz: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        raw: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    },
    Canonical {
        dataset: Dataset::Fashion,
        stem: TEST_LABELS,
        gz: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        raw: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
];

/// The dataset whose canonical file `stem` has the digest `digest`
/// (compressed or raw), if any.
fn dataset_of(stem: &str, digest: &str) -> Option<Dataset> {
    CANONICAL
        .iter()
        .find(|c| c.stem == stem && (c.gz == digest || c.raw == digest))
        .map(|c| c.dataset)
}

/// Which dataset the file at `path` is a canonical file of (any of the
/// four, compressed or raw), by its SHA-256: `None` for any other file.
/// A program can tell what it is asked about, such as a Fashion-MNIST test
/// file given to a model trained on MNIST.
///
/// # Errors
/// [`DataError::Io`] if the file cannot be read.
pub fn dataset_of_file(path: &Path) -> Result<Option<Dataset>, DataError> {
    let digest = file_digest(path)?;
    Ok(CANONICAL
        .iter()
        .find(|c| c.gz == digest || c.raw == digest)
        .map(|c| c.dataset))
}

/// The SHA-256 of the file at `path`, in lowercase hex.
fn file_digest(path: &Path) -> Result<String, DataError> {
    use std::io::Read;

    let fail = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(fail)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(fail)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(crate::digest::to_hex(&hasher.finalize()))
}

/// Checks that the four files in `dir` are `dataset`'s canonical files
/// (each gzip-compressed or raw), by their SHA-256: a damaged file, a file
/// of the other dataset, or the images of one dataset with the labels of
/// the other are refused, naming the files. A file that is missing is left
/// to the loader, which says so.
///
/// Data of one's own in the MNIST layout is not canonical: do not call
/// this for it (the `mnist` example's `--own-data`).
///
/// # Errors
/// [`DataError::NotCanonical`], [`DataError::OtherDataset`],
/// [`DataError::MixedDatasets`], and [`DataError::Io`] if a file cannot be
/// read.
pub fn check_canonical(dir: &Path, dataset: Dataset) -> Result<(), DataError> {
    let mut seen: Vec<(PathBuf, Option<Dataset>)> = Vec::new();
    for stem in [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS] {
        let Some(path) = locate_file(dir, stem)? else {
            continue;
        };
        let digest = file_digest(&path)?;
        let found = dataset_of(stem, &digest);
        if found.is_none() {
            return Err(DataError::NotCanonical {
                path,
                dataset,
                sha256: digest,
            });
        }
        seen.push((path, found));
    }
    // Images and labels of different datasets: name both files.
    let split = |images: usize, labels: usize| match (seen.get(images), seen.get(labels)) {
        (Some((ip, Some(i))), Some((lp, Some(l)))) if i != l => Some(DataError::MixedDatasets {
            images: ip.clone(),
            images_dataset: *i,
            labels: lp.clone(),
            labels_dataset: *l,
        }),
        _ => None,
    };
    if seen.len() == 4 {
        if let Some(error) = split(0, 1).or_else(|| split(2, 3)) {
            return Err(error);
        }
    }
    match seen.into_iter().find(|(_, found)| *found != Some(dataset)) {
        Some((path, Some(found))) => Err(DataError::OtherDataset {
            path,
            expected: dataset,
            found,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_canonical_digest_is_a_distinct_sha256() {
        let mut all: Vec<&str> = CANONICAL.iter().flat_map(|c| [c.gz, c.raw]).collect();
        assert!(
            all.iter()
                .all(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
        );
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 16);
        // The compressed digests are the download table's.
        for dataset in Dataset::ALL {
            for spec in dataset.files() {
                let stem = spec.name.trim_end_matches(".gz");
                assert_eq!(
                    dataset_of(stem, spec.sha256),
                    Some(dataset),
                    "{}",
                    spec.name
                );
            }
        }
    }
}
