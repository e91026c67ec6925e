//! One index shared by the host thread and background jobs, with no lock ever
//! held across work.
//!
//! Readers work on an `Arc` snapshot of the current version. A write appends in
//! place when no snapshot is out; otherwise its validated, prepared batch waits
//! in `pending` and whoever drops the last snapshot applies it. A job submitted
//! while writes wait is parked and started — with a snapshot that includes them
//! — once they land, so it never blocks a pool thread.
//!
//! Why this cannot deadlock: the state mutex guards only short sequential work
//! (cloning an `Arc`, appending rows), and nobody holding it waits for anything
//! else; parallel work (preparing rows, searching) runs with no lock held. Writes
//! never wait for reads. The one wait left is a *synchronous* read issued while
//! writes are pending: it waits, holding nothing, for the in-flight jobs on this
//! index to finish, which they always do because jobs never wait.

use std::collections::HashSet;
use std::ops::Deref;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

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
}

struct Batch {
    rows: Vec<f32>,
    ids: Vec<u64>,
}

type SnapshotCell = Arc<Mutex<Option<Snapshot>>>;

struct State {
    current: Arc<VectorIndex>,
    pending: Vec<Batch>,
    pending_ids: HashSet<u64>,
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
        let mut st = owner.lock();
        owner.settle(&mut st);
    }
}

impl SharedIndex {
    pub fn new(index: VectorIndex) -> Arc<Self> {
        let state = State { current: Arc::new(index), pending: Vec::new(), pending_ids: HashSet::new(), parked: Vec::new(), failure: None };
        Arc::new(Self { params: *state.current.params(), state: Mutex::new(state), settled: Condvar::new(), writing: Mutex::new(()) })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
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
        st.pending.push(Batch { rows, ids: ids.to_vec() });
        Ok(())
    }

    /// A snapshot that includes every write made so far. Waits, holding no
    /// lock, while pending writes wait for in-flight jobs.
    pub fn read(self: &Arc<Self>) -> Result<Snapshot> {
        let mut st = self.lock();
        loop {
            self.settle(&mut st);
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
        let mut st = self.lock();
        if let Some(e) = &st.failure {
            return Err(e.clone());
        }
        self.settle(&mut st);
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

    /// Applies pending writes if no snapshot is out, then starts parked jobs.
    fn settle(self: &Arc<Self>, st: &mut State) {
        if st.pending.is_empty() {
            return;
        }
        let Some(index) = Arc::get_mut(&mut st.current) else { return };
        let mut failure = None;
        for batch in std::mem::take(&mut st.pending) {
            if let Err(e) = index.append_prepared(&batch.rows, &batch.ids) {
                failure.get_or_insert(e);
            }
        }
        st.pending_ids.clear();
        if let Some(e) = failure {
            st.failure.get_or_insert(e);
        }
        self.settled.notify_all();
        for (cell, start) in std::mem::take(&mut st.parked) {
            *cell.lock().unwrap_or_else(|p| p.into_inner()) = Some(self.snapshot(st));
            start.start();
        }
    }
}
