//! A fork-join pool for the matrix products: the calling thread plus
//! `STATICNET_NUM_THREADS − 1` helper threads (the variable is read once,
//! at the first product; unset means 1, no helpers).
//!
//! A product of the book's net takes tens of microseconds, so waking a
//! sleeping thread for each one (a futex round trip, 5–50 µs) would cost
//! as much as it saves: the helpers spin for a millisecond after each job,
//! which keeps them awake through a training loop, and only then park.
//! Parts are claimed, not assigned: when a helper is slow to start (its
//! core is busy with another process), the caller runs its part too rather
//! than wait. Nothing is allocated after the pool has started.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicPtr, AtomicUsize, Ordering};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How long a helper spins for the next job before it parks.
const SPIN: Duration = Duration::from_millis(1);
/// The most threads the variable may ask for.
pub(super) const MAX_THREADS: usize = 64;

/// A job: called once with each part index `0..parts`.
type Job<'a> = &'a (dyn Fn(usize) + Sync);

struct Helper {
    sleeping: AtomicBool,
    thread: OnceLock<Thread>,
}

struct Pool {
    /// Bumped once per job, to wake the helpers.
    epoch: AtomicUsize,
    /// The current job: a `*const Job<'_>` on the caller's stack.
    job: AtomicPtr<()>,
    /// Parts not yet claimed: a claim takes part `r − 1` when it brings
    /// the count down from `r ≥ 1`; at zero or below there is nothing to do.
    unclaimed: AtomicIsize,
    /// Parts not yet finished; the caller waits for zero.
    unfinished: AtomicUsize,
    /// Held by the thread whose job runs: one job at a time.
    busy: AtomicBool,
    helpers: Box<[Helper]>,
}

impl Pool {
    /// Claims and runs parts of the current job until none is left.
    ///
    /// # Safety
    /// Only a claim made after the job was published can succeed (the
    /// caller resets `unclaimed` after storing `job`), and the caller does
    /// not return before `unfinished` is zero, so `job` is alive for every
    /// part run here.
    unsafe fn help(&self) {
        loop {
            let remaining = self.unclaimed.fetch_sub(1, Ordering::AcqRel);
            if remaining < 1 {
                return;
            }
            let job = self
                .job
                .load(Ordering::Acquire)
                .cast_const()
                .cast::<Job<'_>>();
            // SAFETY: see above.
            let job: Job<'_> = unsafe { *job };
            if catch_unwind(AssertUnwindSafe(|| job(remaining as usize - 1))).is_err() {
                // The caller would wait forever for this part.
                std::process::abort();
            }
            self.unfinished.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

std::thread_local! {
    /// Set while this thread runs its products alone ([`alone`]).
    static ALONE: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Runs `f` with every product of this thread on this thread alone: a
/// frozen network's call, whose callers are the threads (each thread
/// waking the shared pool would make them wait on each other).
pub(crate) fn alone<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            ALONE.set(self.0);
        }
    }
    let _restore = Restore(ALONE.replace(true));
    f()
}

/// The number of threads the products use: `STATICNET_NUM_THREADS`, or 1
/// inside [`alone`].
pub(crate) fn threads() -> usize {
    if ALONE.get() {
        return 1;
    }
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("STATICNET_NUM_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, MAX_THREADS)
    })
}

fn pool() -> Option<&'static Pool> {
    static POOL: OnceLock<Option<&'static Pool>> = OnceLock::new();
    *POOL.get_or_init(|| {
        let helpers = threads() - 1;
        if helpers == 0 {
            return None;
        }
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            epoch: AtomicUsize::new(0),
            job: AtomicPtr::new(core::ptr::null_mut()),
            unclaimed: AtomicIsize::new(0),
            unfinished: AtomicUsize::new(0),
            busy: AtomicBool::new(false),
            helpers: (0..helpers)
                .map(|_| Helper {
                    sleeping: AtomicBool::new(false),
                    thread: OnceLock::new(),
                })
                .collect(),
        }));
        for (index, helper) in pool.helpers.iter().enumerate() {
            let spawned = thread::Builder::new()
                .name(format!("staticnet-gemm-{}", index + 1))
                .spawn(move || work(pool, index));
            match spawned {
                Ok(handle) => {
                    let _ = helper.thread.set(handle.thread().clone());
                }
                // The helpers already started never see a job: they park.
                Err(_) => return None,
            }
        }
        Some(pool)
    })
}

/// A helper's life: wait for a job, help with it, repeat.
fn work(pool: &'static Pool, index: usize) {
    let me = &pool.helpers[index];
    let mut seen = 0;
    loop {
        let start = Instant::now();
        let mut spins = 0u32;
        while pool.epoch.load(Ordering::SeqCst) == seen {
            spins = spins.wrapping_add(1);
            if spins % 64 != 0 || start.elapsed() < SPIN {
                core::hint::spin_loop();
                continue;
            }
            // Announce the nap, then look once more: `run` bumps the epoch
            // before it reads `sleeping`, so either it sees the flag and
            // unparks, or this load sees the new epoch.
            me.sleeping.store(true, Ordering::SeqCst);
            if pool.epoch.load(Ordering::SeqCst) == seen {
                thread::park();
            }
            me.sleeping.store(false, Ordering::SeqCst);
        }
        seen = pool.epoch.load(Ordering::SeqCst);
        // SAFETY: the protocol of `run`, as `help` requires.
        unsafe { pool.help() };
    }
}

/// Waits until every part of the current job has finished, even when the
/// caller's own part unwinds, then frees the pool.
struct Finish(&'static Pool);

impl Drop for Finish {
    fn drop(&mut self) {
        let start = Instant::now();
        while self.0.unfinished.load(Ordering::Acquire) != 0 {
            if start.elapsed() < Duration::from_micros(50) {
                core::hint::spin_loop();
            } else {
                // A helper lost its core mid-part: let it have ours.
                thread::yield_now();
            }
        }
        self.0.busy.store(false, Ordering::Release);
    }
}

/// Calls `job(part)` for every `part` in `0..parts`, in parallel when the
/// pool is free, and returns when all have returned.
pub(in crate::kernels) fn run(parts: usize, job: &(dyn Fn(usize) + Sync)) {
    let pool = pool().filter(|pool| {
        parts > 1
            && pool
                .busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    });
    let Some(pool) = pool else {
        (0..parts).for_each(job);
        return;
    };
    let job: Job<'_> = job;
    let _finish = Finish(pool);
    pool.job
        .store((&raw const job).cast_mut().cast::<()>(), Ordering::Release);
    pool.unfinished.store(parts, Ordering::Release);
    // Opens the claims: only now can a helper's claim succeed.
    pool.unclaimed.store(parts as isize, Ordering::Release);
    pool.epoch.fetch_add(1, Ordering::SeqCst);
    for helper in pool.helpers.iter() {
        if helper.sleeping.load(Ordering::SeqCst) {
            if let Some(thread) = helper.thread.get() {
                thread.unpark();
            }
        }
    }
    // SAFETY: the job was published above and `_finish` waits for every
    // part before `job` goes out of scope.
    unsafe { pool.help() };
}
