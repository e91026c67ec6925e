//! External ids: u64 values up to 2^53-1 (exact in a JS number), unique per index.
//! Upstream stores ids as u32 and truncates larger ones, so engines are fed row
//! positions and this map restores the caller's ids.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Largest id accepted: the largest integer a JS number holds exactly.
pub(crate) const MAX_ID: u64 = (1 << 53) - 1;

#[derive(Default, Clone)]
pub struct IdMap {
    by_pos: Vec<u64>,
    by_id: HashMap<u64, u32>,
}

impl IdMap {
    pub fn len(&self) -> usize {
        self.by_pos.len()
    }

    pub fn as_slice(&self) -> &[u64] {
        &self.by_pos
    }

    pub fn id_at(&self, pos: usize) -> u64 {
        self.by_pos[pos]
    }

    pub fn position(&self, id: u64) -> Option<usize> {
        self.by_id.get(&id).map(|&p| p as usize)
    }

    /// Forgets `id` and returns its position; the position keeps the id for
    /// `id_at` (the row stays until compaction) and the id may be added again.
    pub fn remove(&mut self, id: u64) -> Option<u32> {
        self.by_id.remove(&id)
    }

    /// Checks that `ids` can be appended: in range, unique among themselves and
    /// against the ids already present, and the index stays within u32 rows.
    pub fn check_new(&self, ids: &[u64]) -> Result<()> {
        self.check_new_with(ids, |id| self.by_id.contains_key(&id))
    }

    /// `check_new` with `present` saying which ids are taken (an index with
    /// writes still pending knows more than this map).
    pub fn check_new_with(&self, ids: &[u64], present: impl Fn(u64) -> bool) -> Result<()> {
        let total = self.by_pos.len() as u64 + ids.len() as u64;
        if total > u32::MAX as u64 {
            return Err(Error::invalid(format!("too many vectors: {total} exceeds {}", u32::MAX)));
        }
        let mut seen = HashMap::with_capacity(ids.len());
        for (i, &id) in ids.iter().enumerate() {
            check_id(i, id, present(id) || seen.insert(id, ()).is_some())?;
        }
        Ok(())
    }

    /// The map of `ids` (one per position), checked as `check_new` does but
    /// hashing each id once: what a loader needs, where the ids are all new.
    pub fn from_ids(ids: Vec<u64>) -> Result<Self> {
        if ids.len() as u64 > u32::MAX as u64 {
            return Err(Error::invalid(format!("too many vectors: {} exceeds {}", ids.len(), u32::MAX)));
        }
        let mut by_id = HashMap::with_capacity(ids.len());
        for (i, &id) in ids.iter().enumerate() {
            check_id(i, id, id <= MAX_ID && by_id.insert(id, i as u32).is_some())?;
        }
        Ok(Self { by_pos: ids, by_id })
    }

    /// Appends ids already validated by [`IdMap::check_new`].
    pub fn extend(&mut self, ids: &[u64]) {
        self.by_id.reserve(ids.len());
        // As `from_ids` sizes a loaded map: a built index reports the same memory.
        self.by_pos.reserve(ids.len());
        for &id in ids {
            self.by_id.insert(id, self.by_pos.len() as u32);
            self.by_pos.push(id);
        }
    }

    pub fn memory_bytes(&self) -> usize {
        self.by_pos.capacity() * 8 + self.by_id.capacity() * 16
    }

    /// True when every id fits the u32 id field of upstream's `rbpx0001` records.
    pub fn fits_u32(&self) -> bool {
        self.by_pos.iter().all(|&id| id <= u32::MAX as u64)
    }
}

/// `id` at position `i` is in range and, unless `duplicate`, new.
fn check_id(i: usize, id: u64, duplicate: bool) -> Result<()> {
    if id > MAX_ID {
        return Err(Error::invalid(format!("id {id} at position {i} exceeds the maximum id {MAX_ID} (2^53-1)")));
    }
    if duplicate {
        return Err(Error::invalid(format!("duplicate id {id} at position {i}")));
    }
    Ok(())
}
