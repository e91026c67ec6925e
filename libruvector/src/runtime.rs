//! Off-thread work for the async API. Jobs run on the rayon pool; a finished
//! job's token goes into a completion queue and one byte into a wake-up pipe.
//! The host awaits the pipe's read end and then drains the queue, so native
//! threads never call into the host runtime.

use std::any::{type_name, Any};
use std::collections::VecDeque;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{panic_message, Error, Result, Status};

/// What a finished job hands back: any value, taken back by its type.
type Output = Box<dyn Any + Send>;

/// A unit of off-thread work, how far it got, and once done, its result.
pub struct Job {
    result: Mutex<Option<Result<Output>>>,
    progress: Arc<Progress>,
}

/// Work units a job has done out of those it announced (both grow as it runs).
#[derive(Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
}

thread_local! {
    /// The progress of the job this thread is running, if any.
    static CURRENT: RefCell<Option<Arc<Progress>>> = const { RefCell::new(None) };
}

/// Reports the progress of the job running on the thread that made it (a
/// no-op elsewhere). Clone it into parallel work: pool threads see no job.
#[derive(Clone, Default)]
pub struct Reporter(Option<Arc<Progress>>);

impl Reporter {
    /// The reporter of the job running on this thread.
    pub fn current() -> Self {
        Self(CURRENT.with(|c| c.borrow().clone()))
    }
    /// Announces `units` more work.
    pub fn expect(&self, units: u64) {
        if let Some(p) = &self.0 {
            p.total.fetch_add(units, Ordering::Relaxed);
        }
    }
    /// Records `units` of work done.
    pub fn advance(&self, units: u64) {
        if let Some(p) = &self.0 {
            p.done.fetch_add(units, Ordering::Relaxed);
        }
    }
}

impl Job {
    /// (done, total) work units so far; both 0 for work that reports none.
    pub fn progress(&self) -> (u64, u64) {
        (self.progress.done.load(Ordering::Relaxed), self.progress.total.load(Ordering::Relaxed))
    }

    /// `Pending` while running, else the job's status (its error message is returned too).
    pub fn status(&self) -> std::result::Result<(), Error> {
        match &*self.result.lock().unwrap() {
            None => Err(Error::new(Status::Pending, "job is still running")),
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e.clone()),
        }
    }

    /// Takes the output of a finished job when it is a `T`; any other output stays.
    pub fn take<T: Any>(&self) -> Result<T> {
        let mut slot = self.result.lock().unwrap();
        match slot.take() {
            None => Err(Error::new(Status::Pending, "job is still running or its result was taken")),
            Some(Err(e)) => Err(e),
            Some(Ok(output)) => output.downcast::<T>().map(|v| *v).map_err(|other| {
                *slot = Some(Ok(other));
                Error::invalid(format!("job did not produce {}", type_name::<T>().rsplit("::").next().unwrap_or("that")))
            }),
        }
    }
}

struct Completions {
    queue: Mutex<VecDeque<u64>>,
    read_end: OwnedFd,
    write_end: OwnedFd,
}

/// A close-on-exec pipe in one call where the OS has `pipe2`, so no fork in
/// another thread can inherit it.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "netbsd", target_os = "openbsd", target_os = "dragonfly"))]
fn cloexec_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0i32; 2];
    // SAFETY: fds is a valid 2-element array for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned here.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "netbsd", target_os = "openbsd", target_os = "dragonfly")))]
fn cloexec_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    pipe_then_cloexec()
}

/// `pipe` + `fcntl(FD_CLOEXEC)`, for systems without `pipe2` (macOS).
#[cfg_attr(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "netbsd", target_os = "openbsd", target_os = "dragonfly"), allow(dead_code))]
fn pipe_then_cloexec() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0i32; 2];
    // SAFETY: fds is a valid 2-element array for pipe to fill.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: pipe succeeded, so both descriptors are open and owned here.
    let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    for fd in [&ends.0, &ends.1] {
        // SAFETY: plain fcntl on an fd we own.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(ends)
}

/// The wake-up pipe: its write end never blocks a worker (a full pipe already wakes the reader).
fn wake_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (read_end, write_end) = cloexec_pipe()?;
    // SAFETY: plain fcntl on an fd we own.
    if unsafe { libc::fcntl(write_end.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((read_end, write_end))
}

fn completions() -> Result<&'static Completions> {
    static C: OnceLock<std::result::Result<Completions, String>> = OnceLock::new();
    C.get_or_init(|| {
        let (read_end, write_end) = wake_pipe().map_err(|e| format!("cannot create the wake-up pipe: {e}"))?;
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
pub fn spawn<T: Any + Send>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<Arc<Job>> {
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
pub fn prepare<T: Any + Send>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<(Arc<Job>, Start)> {
    let done = completions()?;
    let job = Arc::new(Job { result: Mutex::new(None), progress: Arc::default() });
    let running = Arc::clone(&job);
    let start = Start(Box::new(move || {
        CURRENT.with(|c| *c.borrow_mut() = Some(Arc::clone(&running.progress)));
        let result = catch_unwind(AssertUnwindSafe(work));
        CURRENT.with(|c| *c.borrow_mut() = None);
        let result = result
            .unwrap_or_else(|p| Err(Error::new(Status::Panic, format!("panic in background job: {}", panic_message(&p)))))
            .map(|v| Box::new(v) as Output);
        *running.result.lock().unwrap() = Some(result);
        done.queue.lock().unwrap().push_back(Arc::as_ptr(&running) as u64);
        // SAFETY: writing one byte from a valid buffer to an fd we own. A full
        // pipe (EAGAIN) is fine: the reader is already due to wake.
        unsafe { libc::write(done.write_end.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
    }));
    Ok((job, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(fd: &OwnedFd, get: i32) -> i32 {
        // SAFETY: plain fcntl query on an fd we own.
        unsafe { libc::fcntl(fd.as_raw_fd(), get) }
    }

    #[test]
    fn both_pipe_constructions_give_close_on_exec_ends_and_a_non_blocking_write_end() {
        for (read_end, write_end) in [cloexec_pipe().unwrap(), pipe_then_cloexec().unwrap()] {
            assert_ne!(flags(&read_end, libc::F_GETFD) & libc::FD_CLOEXEC, 0);
            assert_ne!(flags(&write_end, libc::F_GETFD) & libc::FD_CLOEXEC, 0);
        }
        let (_, write_end) = wake_pipe().unwrap();
        assert_ne!(flags(&write_end, libc::F_GETFL) & libc::O_NONBLOCK, 0);
    }

    #[test]
    fn a_job_output_is_taken_by_its_type_and_survives_a_wrong_guess() {
        let job = Job { result: Mutex::new(Some(Ok(Box::new(7u64)))), progress: Arc::default() };
        assert_eq!(job.take::<Vec<f32>>().unwrap_err().message, "job did not produce Vec<f32>");
        assert_eq!(job.take::<u64>().unwrap(), 7);
        assert_eq!(job.take::<u64>().unwrap_err().status, Status::Pending);
    }

    #[test]
    fn a_job_reports_progress_from_its_own_thread_and_from_work_it_hands_out() {
        let (job, start) = prepare(|| {
            let r = Reporter::current();
            r.expect(10);
            r.advance(3);
            let handed = r.clone();
            std::thread::spawn(move || handed.advance(4)).join().unwrap();
            Reporter::current().advance(1);
            Ok(())
        })
        .unwrap();
        assert_eq!(job.progress(), (0, 0));
        start.0();
        assert_eq!(job.progress(), (8, 10));
        Reporter::current().advance(5);
        assert_eq!(job.progress(), (8, 10), "a thread running no job reports nothing");
    }
}
