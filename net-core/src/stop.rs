//! Stopping a run (or a download) from outside it: a flag another thread
//! raises, Ctrl-C, or the signals a service manager sends.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

/// A flag that stops a run after the step under way (and a download after
/// the chunk under way): raise it from another thread, or from signals
/// with [`StopFlag::on_termination`] (or Ctrl-C alone with
/// [`StopFlag::on_ctrl_c`]).
#[derive(Clone, Debug, Default)]
pub struct StopFlag {
    raised: Arc<AtomicUsize>,
    /// The signal that raised it first, 0 for none.
    signal: Arc<AtomicI32>,
}

/// SIGINT, SIGHUP and SIGTERM, by name, for messages.
fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => "SIGHUP",
        2 => "SIGINT (Ctrl-C)",
        15 => "SIGTERM",
        _ => "a signal",
    }
}

impl StopFlag {
    /// A flag not raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop after the step under way.
    pub fn raise(&self) {
        self.raised.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether the flag was raised.
    pub fn is_raised(&self) -> bool {
        self.raised.load(Ordering::SeqCst) > 0
    }

    /// The signal that raised the flag (`SIGTERM` is 15), if one did.
    pub fn signal(&self) -> Option<i32> {
        Some(self.signal.load(Ordering::SeqCst)).filter(|&s| s != 0)
    }

    /// The signal that raised the flag, by name (`SIGTERM`, `SIGHUP`,
    /// `SIGINT (Ctrl-C)`), for a message saying what stopped the run.
    pub fn signal_name(&self) -> Option<&'static str> {
        self.signal().map(signal_name)
    }

    /// The exit status a program stopped by the flag's signal ends with,
    /// as a shell and a service manager expect: 128 + the signal (130 for
    /// Ctrl-C, 143 for SIGTERM); `None` when no signal raised it.
    pub fn exit_status(&self) -> Option<u8> {
        self.signal().and_then(|s| u8::try_from(128 + s).ok())
    }

    /// Raises the flag for `signal`: the first time it stops the run,
    /// the second ends the process at once with `128 + signal`.
    fn on_signal(&self, signal: i32) {
        let _ = self
            .signal
            .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
        if self.raised.fetch_add(1, Ordering::SeqCst) > 0 {
            eprintln!("\n{} again: exiting at once", signal_name(signal));
            std::process::exit(128 + signal);
        }
    }

    /// A flag that Ctrl-C raises: the first press stops the run after its
    /// step (it saves its checkpoint and returns), the second ends the
    /// process at once with status 130, as a shell expects of an
    /// interrupted program. A process has one such handler. Under a
    /// service manager, `timeout` or Docker, prefer
    /// [`on_termination`](Self::on_termination), which SIGTERM raises too.
    ///
    /// # Errors
    /// When a handler is already set, or the platform refuses one.
    #[cfg(feature = "ctrl-c")]
    pub fn on_ctrl_c() -> Result<Self, ctrlc::Error> {
        let flag = StopFlag::new();
        let raised = flag.clone();
        ctrlc::set_handler(move || raised.on_signal(2))?;
        Ok(flag)
    }

    /// A flag that the signals asking a program to end raise: SIGINT
    /// (Ctrl-C), SIGTERM (what `timeout`, `systemctl stop`, `docker stop`
    /// and batch schedulers send) and SIGHUP (a closed terminal). The first
    /// signal stops the run after its step — it saves its checkpoint and
    /// returns, and [`exit_status`](Self::exit_status) gives the status to
    /// end with (143 for SIGTERM) —; a second ends the process at once with
    /// that status. A thread waits for the signals; use this or
    /// [`on_ctrl_c`](Self::on_ctrl_c), once per process.
    ///
    /// # Errors
    /// When the signals cannot be registered.
    #[cfg(all(unix, feature = "ctrl-c"))]
    pub fn on_termination() -> std::io::Result<Self> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        let flag = StopFlag::new();
        let raised = flag.clone();
        std::thread::Builder::new()
            .name("staticnet-signals".to_owned())
            .spawn(move || {
                for signal in signals.forever() {
                    raised.on_signal(signal);
                }
            })?;
        Ok(flag)
    }

    /// Where there are no Unix signals: the flag Ctrl-C raises, as
    /// [`on_ctrl_c`](Self::on_ctrl_c) gives it, so that a program asks for
    /// one constructor on every platform.
    ///
    /// # Errors
    /// When a handler is already set, or the platform refuses one.
    #[cfg(all(not(unix), feature = "ctrl-c"))]
    pub fn on_termination() -> std::io::Result<Self> {
        Self::on_ctrl_c().map_err(|error| std::io::Error::other(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_raised_by_hand_has_no_signal() {
        let flag = StopFlag::new();
        assert!(!flag.is_raised());
        flag.clone().raise();
        assert!(flag.is_raised());
        assert_eq!(flag.signal(), None);
        assert_eq!(flag.exit_status(), None);
        assert_eq!(flag.signal_name(), None);
    }

    #[test]
    fn the_first_signal_is_the_one_reported() {
        let flag = StopFlag::new();
        flag.on_signal(15);
        assert!(flag.is_raised());
        assert_eq!(flag.signal(), Some(15));
        assert_eq!(flag.exit_status(), Some(143));
        assert_eq!(flag.signal_name(), Some("SIGTERM"));
    }
}
