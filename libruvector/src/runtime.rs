//! Off-thread work for the async API. Jobs run on the rayon pool; a finished
//! job's token goes into a completion queue and one byte into a wake-up pipe.
//! The host awaits the pipe's read end and then drains the queue, so native
//! threads never call into the host runtime.

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result, Status};

/// What a finished job hands back.
pub enum Output {
    Unit,
    Index(crate::ffi::index::RuvIndex),
    Hits { ids: Vec<u64>, scores: Vec<f32> },
    ShardHits { shards: Vec<u32>, ids: Vec<u64>, scores: Vec<f32> },
    Count(u64),
    Floats(Vec<f32>),
    Embedder(crate::ffi::embed::RuvEmbedder),
}

/// A unit of off-thread work and, once done, its result.
pub struct Job {
    result: Mutex<Option<Result<Output>>>,
}

impl Job {
    /// `Pending` while running, else the job's status (its error message is returned too).
    pub fn status(&self) -> std::result::Result<(), Error> {
        match &*self.result.lock().unwrap() {
            None => Err(Error::new(Status::Pending, "job is still running")),
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e.clone()),
        }
    }

    /// Takes the output of a finished job.
    pub fn take(&self) -> Result<Output> {
        let mut slot = self.result.lock().unwrap();
        match slot.take() {
            None => Err(Error::new(Status::Pending, "job is still running or its result was taken")),
            Some(r) => r,
        }
    }
}

struct Completions {
    queue: Mutex<VecDeque<u64>>,
    read_end: OwnedFd,
    write_end: OwnedFd,
}

fn completions() -> Result<&'static Completions> {
    static C: OnceLock<std::result::Result<Completions, String>> = OnceLock::new();
    C.get_or_init(|| {
        let mut fds = [0i32; 2];
        // SAFETY: fds is a valid 2-element array for pipe2 to fill.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(format!("pipe2 failed: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: pipe2 succeeded, so both descriptors are open and owned here.
        let (read_end, write_end) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: plain fcntl on an fd we own. A full pipe must never block a worker.
        unsafe { libc::fcntl(write_end.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
        Ok(Completions { queue: Mutex::new(VecDeque::new()), read_end, write_end })
    })
    .as_ref()
    .map_err(|e| Error::new(Status::Io, e.clone()))
}

/// The read end of the wake-up pipe: readable whenever completions are queued.
pub fn wake_fd() -> Result<i32> {
    Ok(completions()?.read_end.as_raw_fd())
}

/// Moves up to `out.len()` finished job tokens into `out`; returns how many.
pub fn poll(out: &mut [u64]) -> Result<usize> {
    let mut q = completions()?.queue.lock().unwrap();
    let n = out.len().min(q.len());
    for slot in out.iter_mut().take(n) {
        *slot = q.pop_front().unwrap();
    }
    Ok(n)
}

/// Starts `work` off-thread. The returned job's address is its completion token.
pub fn spawn(work: impl FnOnce() -> Result<Output> + Send + 'static) -> Result<Arc<Job>> {
    let (job, start) = prepare(work)?;
    start.start();
    Ok(job)
}

/// A prepared job's work, not yet handed to the pool.
pub struct Start(Box<dyn FnOnce() + Send>);

impl Start {
    pub fn start(self) {
        rayon::spawn(self.0);
    }
}

/// Makes a job whose work begins only when the returned [`Start`] is started,
/// so a caller can hand out the job before its inputs are ready.
pub fn prepare(work: impl FnOnce() -> Result<Output> + Send + 'static) -> Result<(Arc<Job>, Start)> {
    let done = completions()?;
    let job = Arc::new(Job { result: Mutex::new(None) });
    let running = Arc::clone(&job);
    let start = Start(Box::new(move || {
        let result = catch_unwind(AssertUnwindSafe(work))
            .unwrap_or_else(|p| Err(Error::new(Status::Panic, format!("panic in background job: {}", crate::ffi::panic_message(&p)))));
        *running.result.lock().unwrap() = Some(result);
        done.queue.lock().unwrap().push_back(Arc::as_ptr(&running) as u64);
        // SAFETY: writing one byte from a valid buffer to an fd we own. A full
        // pipe (EAGAIN) is fine: the reader is already due to wake.
        unsafe { libc::write(done.write_end.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
    }));
    Ok((job, start))
}
