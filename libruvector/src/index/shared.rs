//! One index shared by the host thread and background jobs, with no lock ever
//! held across work.
//!
//! Readers work on an `Arc` snapshot of the current version. A write appends in
//! place when no snapshot is out; otherwise its validated, prepared batch waits
//! in `pending` and whoever drops the last snapshot applies it, one batch per
//! hold of the state lock, so the host thread never waits behind more than one
//! batch being applied (a save lets hundreds accumulate). A job submitted
//! while writes wait is parked and started — with a snapshot that includes them
//! — once they land, so it never blocks a pool thread.
//!
//! Why this cannot deadlock: the state mutex guards only short sequential work
//! (cloning an `Arc`, appending rows), and nobody holding it waits for anything
//! else; parallel work (preparing rows, searching) runs with no lock held. Writes
//! never wait for reads. The one wait left is a *synchronous* read issued while
//! writes are pending: it waits, holding nothing, for the in-flight jobs on this
//! index to finish, which they always do because jobs never wait.

use std::collections::{HashSet, VecDeque};
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use super::{prepare_batch, Params, VectorIndex};
use crate::error::{Error, Result};
use crate::runtime::{self, Job, Start};

/// An index that background jobs and the host thread use at the same time.
pub struct SharedIndex {
    params: Params,
    state: Mutex<State>,
    settled: Condvar,
    /// Serialises writers so a batch validated against the current ids stays valid.
    writing: Mutex<()>,
    /// Threads blocked on `state`; the thread applying pending writes lets them in between batches.
    blocked: AtomicUsize,
}

/// How long a caller spins for the state lock before sleeping on it. Holds are
/// short (one batch at most), and a sleeping host thread on a loaded machine
/// wakes many milliseconds after the lock is free.
const SPIN_FOR: Duration = Duration::from_micros(500);

struct Batch {
    rows: Vec<f32>,
    ids: Vec<u64>,
}

type SnapshotCell = Arc<Mutex<Option<Snapshot>>>;

struct State {
    current: Arc<VectorIndex>,
    pending: VecDeque<Batch>,
    pending_ids: HashSet<u64>,
    /// A thread is applying `pending` with the lock released between batches;
    /// others leave the rest to it (and park jobs / wait, as for any pending write).
    applying: bool,
    parked: Vec<(SnapshotCell, Start)>,
    /// A deferred append that failed; reported by every later call.
    failure: Option<Error>,
}

/// A read-only view of one version of the index. Dropping the last snapshot of
/// a version applies the writes that waited for it.
pub struct Snapshot {
    index: Option<Arc<VectorIndex>>,
    owner: Arc<SharedIndex>,
}

impl Deref for Snapshot {
    type Target = VectorIndex;
    fn deref(&self) -> &VectorIndex {
        self.index.as_deref().expect("a live snapshot holds its version")
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        self.index = None;
        let owner = Arc::clone(&self.owner);
        drop(owner.settle(owner.lock()));
    }
}

impl SharedIndex {
    pub fn new(index: VectorIndex) -> Arc<Self> {
        let state = State { current: Arc::new(index), pending: VecDeque::new(), pending_ids: HashSet::new(), applying: false, parked: Vec::new(), failure: None };
        Arc::new(Self { params: *state.current.params(), state: Mutex::new(state), settled: Condvar::new(), writing: Mutex::new(()), blocked: AtomicUsize::new(0) })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        let start = Instant::now();
        loop {
            match self.state.try_lock() {
                Ok(st) => return st,
                Err(TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(TryLockError::WouldBlock) if start.elapsed() < SPIN_FOR => std::hint::spin_loop(),
                Err(TryLockError::WouldBlock) => break,
            }
        }
        self.blocked.fetch_add(1, Ordering::SeqCst);
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.blocked.fetch_sub(1, Ordering::SeqCst);
        st
    }

    /// The current version's parameters (an IVF index settles its own at build
    /// and when its first rows train it).
    pub fn params(&self) -> Params {
        *self.lock().current.params()
    }

    /// What target-recall calibration measured, if the index ran it.
    pub fn calibration(&self) -> Option<crate::index::ivf::Calibration> {
        self.lock().current.calibration()
    }

    /// Number of vectors, counting writes that are still pending.
    pub fn len(&self) -> usize {
        let st = self.lock();
        st.current.len() + st.pending_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held, counting the rows and ids of pending writes.
    pub fn memory_bytes(&self) -> usize {
        let st = self.lock();
        st.current.memory_bytes() + st.pending.iter().map(|b| b.rows.len() * 4 + b.ids.len() * 8).sum::<usize>()
    }

    /// Appends `vectors` under `ids` (all or nothing) without waiting for readers
    /// or for the thread pool (rows are prepared on the calling thread).
    pub fn add(self: &Arc<Self>, vectors: &[f32], ids: &[u64]) -> Result<()> {
        let _writer = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let rows = prepare_batch(&self.params, vectors, ids)?;
        let mut st = self.lock();
        if let Some(e) = &st.failure {
            return Err(e.clone());
        }
        st.current.check_new_ids(ids)?;
        if let Some(i) = ids.iter().position(|id| st.pending_ids.contains(id)) {
            return Err(Error::invalid(format!("duplicate id {} at position {i}", ids[i])));
        }
        if st.pending.is_empty() {
            if let Some(index) = Arc::get_mut(&mut st.current) {
                return index.append_prepared(&rows, ids);
            }
        }
        st.pending_ids.extend(ids);
        st.pending.push_back(Batch { rows, ids: ids.to_vec() });
        Ok(())
    }

    /// A snapshot that includes every write made so far. Waits, holding no
    /// lock, while pending writes wait for in-flight jobs.
    pub fn read(self: &Arc<Self>) -> Result<Snapshot> {
        let mut st = self.lock();
        loop {
            st = self.settle(st);
            if st.pending.is_empty() {
                break;
            }
            st = self.settled.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        match &st.failure {
            Some(e) => Err(e.clone()),
            None => Ok(self.snapshot(&st)),
        }
    }

    /// Runs `work` off-thread on a snapshot that includes every write made so far.
    pub fn read_async<T: std::any::Any + Send>(self: &Arc<Self>, work: impl FnOnce(&VectorIndex) -> Result<T> + Send + 'static) -> Result<Arc<Job>> {
        let cell: SnapshotCell = Arc::default();
        let input = Arc::clone(&cell);
        let (job, start) = runtime::prepare(move || {
            let snapshot = input.lock().unwrap_or_else(|p| p.into_inner()).take();
            let snapshot = snapshot.ok_or_else(|| Error::invalid("job started without its index snapshot"))?;
            work(&snapshot)
        })?;
        let st = self.lock();
        if let Some(e) = &st.failure {
            return Err(e.clone());
        }
        let mut st = self.settle(st);
        if !st.pending.is_empty() {
            st.parked.push((cell, start));
            return Ok(job);
        }
        let snapshot = self.snapshot(&st);
        drop(st);
        *cell.lock().unwrap_or_else(|p| p.into_inner()) = Some(snapshot);
        start.start();
        Ok(job)
    }

    fn snapshot(self: &Arc<Self>, st: &State) -> Snapshot {
        Snapshot { index: Some(Arc::clone(&st.current)), owner: Arc::clone(self) }
    }

    /// Applies pending writes if no snapshot is out, one batch per hold of the
    /// lock, then starts parked jobs. No snapshot can be taken meanwhile: while
    /// writes are pending, jobs park and synchronous reads wait.
    fn settle<'a>(self: &'a Arc<Self>, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        if st.applying || st.pending.is_empty() {
            return st;
        }
        loop {
            let state = &mut *st;
            let Some(index) = Arc::get_mut(&mut state.current) else { return st };
            let batch = state.pending.pop_front().expect("pending is not empty");
            if let Err(e) = index.append_prepared(&batch.rows, &batch.ids) {
                state.failure.get_or_insert(e);
            }
            for id in &batch.ids {
                state.pending_ids.remove(id);
            }
            if state.pending.is_empty() {
                break;
            }
            st.applying = true;
            drop(st);
            while self.blocked.load(Ordering::SeqCst) > 0 {
                std::thread::yield_now();
            }
            st = self.lock();
            st.applying = false;
        }
        self.settled.notify_all();
        for (cell, start) in std::mem::take(&mut st.parked) {
            *cell.lock().unwrap_or_else(|p| p.into_inner()) = Some(self.snapshot(&st));
            start.start();
        }
        st
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Kind, Metric};

    fn shared() -> Arc<SharedIndex> {
        let p = Params::new(Kind::Plus, 4, 5, 2, Metric::L2, false);
        SharedIndex::new(VectorIndex::new(p).unwrap())
    }

    fn row(id: u64) -> [f32; 4] {
        [id as f32, 1.0, -(id as f32), 0.5]
    }

    #[test]
    fn writes_behind_a_snapshot_land_in_order_when_it_drops_and_count_meanwhile() {
        let index = shared();
        index.add(&row(1), &[1]).unwrap();
        let snapshot = index.read().unwrap();
        for id in 2..=6 {
            index.add(&row(id), &[id]).unwrap();
        }
        assert_eq!(index.len(), 6);
        assert_eq!(snapshot.ids(), &[1]);
        assert!(index.add(&row(4), &[4]).is_err(), "a pending id is taken");
        drop(snapshot);
        let now = index.read().unwrap();
        assert_eq!(now.ids(), &[1, 2, 3, 4, 5, 6]);
        assert_eq!(now.get(5).unwrap(), row(5).to_vec());
        let st = index.lock();
        assert!(st.pending.is_empty() && st.pending_ids.is_empty() && !st.applying);
    }

    #[test]
    fn a_job_submitted_while_writes_wait_sees_them_all() {
        let index = shared();
        index.add(&row(1), &[1]).unwrap();
        let snapshot = index.read().unwrap();
        index.add(&row(2), &[2]).unwrap();
        index.add(&row(3), &[3]).unwrap();
        let job = index.read_async(|r| Ok(r.ids().to_vec())).unwrap();
        assert_eq!(index.lock().parked.len(), 1);
        drop(snapshot);
        let mut ids = None;
        for _ in 0..10_000 {
            if let Ok(v) = job.take::<Vec<u64>>() {
                ids = Some(v);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(ids.expect("the parked job ran"), vec![1, 2, 3]);
    }
}
