//! One index shared by the host thread and background jobs, with no lock ever
//! held across work.
//!
//! Readers work on an `Arc` snapshot of the current version. A write (an
//! append, a removal, an upsert) lands in place when no snapshot is out;
//! otherwise its validated, prepared operations wait in `pending` and whoever
//! drops the last snapshot applies them, all at once, so a snapshot sees a
//! write whole or not at all. Compaction builds a new version from a snapshot
//! with no lock held and swaps it in; readers of the old one keep it. A job submitted
//! while writes wait is parked and started — with a snapshot that includes them
//! — once they land, so it never blocks a pool thread.
//!
//! Why this cannot deadlock: the state mutex guards only short sequential work
//! (cloning an `Arc`, appending rows), and nobody holding it waits for anything
//! else; parallel work (preparing rows, searching) runs with no lock held. Writes
//! never wait for reads. The one wait left is a *synchronous* read issued while
//! writes are pending: it waits, holding nothing, for the in-flight jobs on this
//! index to finish, which they always do because jobs never wait.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::{check_remove_with, prepare_batch, Params, VectorIndex};
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

/// A validated write waiting for the snapshots out to be dropped.
enum Op {
    Add { rows: Vec<f32>, ids: Vec<u64>, tags: Option<Vec<u64>> },
    Remove(Vec<u64>),
}

impl Op {
    fn bytes(&self) -> usize {
        match self {
            Op::Add { rows, ids, tags } => rows.len() * 4 + ids.len() * 8 + tags.as_ref().map_or(0, |t| t.len() * 8),
            Op::Remove(ids) => ids.len() * 8,
        }
    }
}

type SnapshotCell = Arc<Mutex<Option<Snapshot>>>;

struct State {
    current: Arc<VectorIndex>,
    pending: Vec<Op>,
    /// Whether each id a pending op touches is present once they all land.
    pending_presence: HashMap<u64, bool>,
    /// Live vectors the pending ops add (negative: remove).
    pending_len: isize,
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
        let state = State { current: Arc::new(index), pending: Vec::new(), pending_presence: HashMap::new(), pending_len: 0, parked: Vec::new(), failure: None };
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

    /// Number of live vectors, counting writes that are still pending.
    pub fn len(&self) -> usize {
        let st = self.lock();
        (st.current.len() as isize + st.pending_len) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held, counting the rows and ids of pending writes.
    pub fn memory_bytes(&self) -> usize {
        let st = self.lock();
        st.current.memory_bytes() + st.pending.iter().map(Op::bytes).sum::<usize>()
    }

    /// Bytes of a mapped file the current state reads in place.
    pub fn mapped_bytes(&self) -> usize {
        self.lock().current.mapped_bytes()
    }

    /// Appends `vectors` under `ids` (all or nothing) without waiting for readers
    /// or for the thread pool (rows are prepared on the calling thread).
    pub fn add(self: &Arc<Self>, vectors: &[f32], ids: &[u64]) -> Result<()> {
        self.add_tagged(vectors, ids, None)
    }

    /// `add` with 64 tag bits per vector (`None`: the vectors get tags 0).
    pub fn add_tagged(self: &Arc<Self>, vectors: &[f32], ids: &[u64], tags: Option<&[u64]>) -> Result<()> {
        let _writer = self.writer();
        let rows = prepare_batch(&self.params, vectors, ids, tags)?;
        let mut st = self.usable()?;
        st.current.check_new_ids_with(ids, |id| st.present(id))?;
        st.write(vec![Op::Add { rows, ids: ids.to_vec(), tags: tags.map(<[u64]>::to_vec) }])
    }

    /// Removes `ids` (all or nothing; with `ignore_missing`, the absent ones
    /// are skipped) without waiting for readers; returns how many were removed.
    pub fn remove(self: &Arc<Self>, ids: &[u64], ignore_missing: bool) -> Result<usize> {
        let _writer = self.writer();
        let mut st = self.usable()?;
        check_remove_with(ids, ignore_missing, |id| st.present(id))?;
        let present: Vec<u64> = ids.iter().copied().filter(|&id| st.present(id)).collect();
        let removed = present.len();
        st.write(vec![Op::Remove(present)])?;
        Ok(removed)
    }

    /// Adds `vectors` under `ids`, replacing the vectors of ids already
    /// present; one write, so no reader sees an id missing or twice.
    pub fn upsert(self: &Arc<Self>, vectors: &[f32], ids: &[u64]) -> Result<()> {
        self.upsert_tagged(vectors, ids, None)
    }

    /// `upsert` with 64 tag bits per vector: a replaced vector keeps none of
    /// its old tags (`None`: tags 0).
    pub fn upsert_tagged(self: &Arc<Self>, vectors: &[f32], ids: &[u64], tags: Option<&[u64]>) -> Result<()> {
        let _writer = self.writer();
        let rows = prepare_batch(&self.params, vectors, ids, tags)?;
        let mut st = self.usable()?;
        st.current.check_new_ids_with(ids, |_| false)?;
        let present: Vec<u64> = ids.iter().copied().filter(|&id| st.present(id)).collect();
        st.write(vec![Op::Remove(present), Op::Add { rows, ids: ids.to_vec(), tags: tags.map(<[u64]>::to_vec) }])
    }

    /// Drops removed rows: a compacted copy of the current version is built
    /// with no lock held (writers wait; readers keep their snapshots) and
    /// becomes the current version.
    pub fn compact(self: &Arc<Self>) -> Result<()> {
        let _writer = self.writer();
        let snapshot = self.read()?;
        if snapshot.removed_rows() == 0 {
            return Ok(());
        }
        let compacted = snapshot.compacted()?;
        drop(snapshot);
        let mut st = self.usable()?;
        st.current = Arc::new(compacted);
        Ok(())
    }

    fn writer(&self) -> MutexGuard<'_, ()> {
        self.writing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state, unless a deferred write failed.
    fn usable(&self) -> Result<MutexGuard<'_, State>> {
        let st = self.lock();
        match &st.failure {
            Some(e) => Err(e.clone()),
            None => Ok(st),
        }
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
        for op in std::mem::take(&mut st.pending) {
            if let Err(e) = apply(index, op) {
                failure.get_or_insert(e);
            }
        }
        st.pending_presence.clear();
        st.pending_len = 0;
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

impl State {
    /// Whether `id` is present once the pending writes land.
    fn present(&self, id: u64) -> bool {
        self.pending_presence.get(&id).copied().unwrap_or_else(|| self.current.contains(id))
    }

    /// Applies validated ops in place when no snapshot is out and none wait;
    /// queues them otherwise.
    fn write(&mut self, ops: Vec<Op>) -> Result<()> {
        if self.pending.is_empty() {
            if let Some(index) = Arc::get_mut(&mut self.current) {
                return ops.into_iter().try_for_each(|op| apply(index, op));
            }
        }
        for op in &ops {
            let (ids, now) = match op {
                Op::Add { ids, .. } => (ids, true),
                Op::Remove(ids) => (ids, false),
            };
            for &id in ids {
                let before = self.present(id);
                self.pending_presence.insert(id, now);
                self.pending_len += now as isize - before as isize;
            }
        }
        self.pending.extend(ops);
        Ok(())
    }
}

fn apply(index: &mut VectorIndex, op: Op) -> Result<()> {
    match op {
        Op::Add { rows, ids, tags } => index.append_prepared(&rows, &ids, tags.as_deref()),
        Op::Remove(ids) => {
            index.remove_present(&ids);
            Ok(())
        }
    }
}
