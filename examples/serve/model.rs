//! The net to serve: read from a weight file, or trained for a short run
//! on MNIST when none is given.

use std::path::Path;

use staticnet::data::{Dataset, resolve_data_dir};
use staticnet::prelude::*;
use staticnet::train::Stopped;

use crate::download::{DownloadArgs, fetch_missing_files};
use crate::two_layer_nets::TwoLayerNet;

/// The net of a safetensors file written by `mnist --save` (a checkpoint)
/// or `save_weights`, its hidden width read from the file.
pub fn load(path: &Path) -> Result<TwoLayerNet, String> {
    TwoLayerNet::from_weights(path).map_err(|e| e.to_string())
}

/// How a short run goes.
pub struct QuickRun<'a> {
    pub steps: usize,
    pub hidden: usize,
    /// `--data`, else the examples' usual places.
    pub data: Option<&'a Path>,
    pub download: &'a DownloadArgs,
}

/// A net of `hidden` units trained with Adam for `steps` batches of 100
/// MNIST images; `None` when `stop` ended the run first.
pub fn train_quickly(run: &QuickRun, stop: &StopFlag) -> Result<Option<TwoLayerNet>, String> {
    let dir = resolve_data_dir(run.data, Dataset::Mnist);
    fetch_missing_files(&dir, Dataset::Mnist, &[], run.download, Some(stop), false)
        .map_err(|e| e.to_string())?;
    let mnist = load_mnist(&dir, &LoadOptions::default())
        .map_err(|e| format!("{e}\n(--data DIR chooses the directory)"))?;
    let mut rng = StdRng::seed_from_u64(0);
    let mut net =
        TwoLayerNet::with_widths(&mut rng, Init::He, [run.hidden]).map_err(|e| e.to_string())?;
    eprintln!(
        "no --weights: training a net of {} hidden units for {} steps on {}",
        run.hidden,
        run.steps,
        dir.display()
    );
    // Quiet: the first line on stdout is the address, for scripts.
    let history = Fit::new(Optimizer::adam(0.001))
        .steps(run.steps)
        .validation(&mnist.test_samples())
        .stop_flag(stop.clone())
        .progress(false)
        .run(&mut net, &mnist.train_samples())
        .map_err(|e| e.to_string())?;
    if history.stopped == Stopped::Interrupted {
        return Ok(None);
    }
    if let Some(accuracy) = history.last().and_then(|e| e.val_acc) {
        eprintln!(
            "trained in {:.1} s: test accuracy {accuracy:.4}",
            history.train_seconds
        );
    }
    Ok(Some(net))
}
