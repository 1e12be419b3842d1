//! The threads that predict: a fixed number, sharing the one frozen model
//! by reference, each with its own scratch memory, taking the bodies the
//! HTTP side has read from a bounded queue.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Mutex, PoisonError};

use hyper::StatusCode;
use staticnet::prelude::*;
use tokio::sync::oneshot;

use crate::request::{BodyKind, Rejection};
use crate::two_layer_nets::TwoLayerNet;

/// The net in its inference form.
pub type Model = Frozen<TwoLayerNet>;

/// What the net says of one image.
pub struct Prediction {
    pub class: usize,
    pub probabilities: Vec<f32>,
}

impl Prediction {
    /// The class of the highest probability, and all ten.
    fn of(probabilities: &[f32]) -> Self {
        let class = (0..probabilities.len())
            .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
            .unwrap_or(0);
        Prediction {
            class,
            probabilities: probabilities.to_vec(),
        }
    }
}

/// A body to predict from, and where the answer goes.
pub struct Job {
    pub kind: BodyKind,
    pub body: Vec<u8>,
    pub reply: oneshot::Sender<Result<Prediction, Rejection>>,
}

/// Runs `front` with the sending end of a queue of `capacity` jobs, while
/// `workers` threads answer them; returns what `front` returns once the
/// jobs it queued are answered.
pub fn with_workers<R>(
    model: &Model,
    workers: usize,
    capacity: usize,
    front: impl FnOnce(SyncSender<Job>) -> R,
) -> R {
    let (jobs, queue) = sync_channel(capacity);
    let queue = Mutex::new(queue);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| work(model, &queue));
        }
        // Dropping the last sender, when `front` returns, ends the workers
        // once the queue is empty; the scope waits for them.
        front(jobs)
    })
}

/// One worker: the next job, until the queue is closed and empty.
fn work(model: &Model, queue: &Mutex<Receiver<Job>>) {
    let mut scratch = model.scratch();
    loop {
        // The lock is held while waiting for a job, not while working.
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = next else { return };
        // A bug must cost one answer, not the worker.
        let answer = catch_unwind(AssertUnwindSafe(|| {
            let pixels = job.kind.pixels(&job.body)?;
            let probabilities = model
                .probabilities_sample(&pixels, &mut scratch)
                .map_err(|e| Rejection::new(StatusCode::BAD_REQUEST, e.to_string()))?;
            Ok(Prediction::of(probabilities))
        }))
        .unwrap_or_else(|_| {
            Err(Rejection::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the prediction failed; the server goes on",
            ))
        });
        // The client may have gone: nobody waits for the answer then.
        let _ = job.reply.send(answer);
    }
}
