//! Stopping a run from outside it: a flag another thread raises, or
//! Ctrl-C.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A flag that stops a run after the step under way: raise it from
/// another thread, or from Ctrl-C with [`StopFlag::on_ctrl_c`].
#[derive(Clone, Debug, Default)]
pub struct StopFlag(Arc<AtomicUsize>);

impl StopFlag {
    /// A flag not raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop after the step under way.
    pub fn raise(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether the flag was raised.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst) > 0
    }

    /// A flag that Ctrl-C raises: the first press stops the run after its
    /// step (it saves its checkpoint and returns), the second ends the
    /// process at once with status 130, as a shell expects of an
    /// interrupted program. A process has one such handler.
    ///
    /// # Errors
    /// When a handler is already set, or the platform refuses one.
    #[cfg(feature = "ctrl-c")]
    pub fn on_ctrl_c() -> Result<Self, ctrlc::Error> {
        let flag = StopFlag::new();
        let raised = flag.clone();
        ctrlc::set_handler(move || {
            if raised.0.fetch_add(1, Ordering::SeqCst) > 0 {
                eprintln!("\ninterrupted again: exiting at once");
                std::process::exit(130);
            }
        })?;
        Ok(flag)
    }
}
