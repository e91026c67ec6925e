//! External ids: u64 values up to 2^53-1 (exact in a JS number), unique per index.
//! Upstream stores ids as u32 and truncates larger ones, so engines are fed row
//! positions and this map restores the caller's ids.
//!
//! The id → position lookup is the id order: every position sorted by its id
//! (4 bytes a row), binary-searched against the ids themselves. It needs no
//! hashing, so building it is a sort (nothing when the ids already ascend),
//! and an IVF file stores it beside the ids so a mapped load uses both in
//! place. Ids added or removed since the order was made live in a small delta
//! until it is made again (a build, a load or a compaction).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use rayon::slice::ParallelSliceMut;

use super::ivf::slab::Slab;
use super::rowset::RowSet;
use crate::error::{Error, Result};

/// Largest id accepted: the largest integer a JS number holds exactly.
pub(crate) const MAX_ID: u64 = (1 << 53) - 1;

#[derive(Default, Clone)]
pub struct IdMap {
    /// The id at each position; a removed row keeps its id until compaction.
    by_pos: Slab<u64>,
    /// Positions `0..sorted.len()` in ascending id order.
    sorted: Slab<u32>,
    /// Live ids at positions appended after `sorted` was made.
    added: HashMap<u64, u32>,
    /// Positions of `sorted` whose ids were removed.
    forgotten: RowSet,
}

impl IdMap {
    /// Reads one value per cache line of the position → id table, which
    /// every search's hits go through (see `VectorIndex::warm_caches`).
    pub fn warm_caches(&self) {
        super::touch(&self.by_pos);
    }

    pub fn len(&self) -> usize {
        self.by_pos.len()
    }

    pub fn as_slice(&self) -> &[u64] {
        &self.by_pos
    }

    /// The id at `pos`, or `None` past the end (a position read from an
    /// unverified file may be anything).
    pub fn id_at(&self, pos: usize) -> Option<u64> {
        self.by_pos.get(pos).copied()
    }

    pub fn position(&self, id: u64) -> Option<usize> {
        if let Some(&p) = self.added.get(&id) {
            return Some(p as usize);
        }
        self.sorted_position(id).filter(|&p| !self.forgotten.contains(p as u32))
    }

    /// The position of `id` in the id order, by binary search. Bounds-checked
    /// throughout: an inconsistent order (an unverified file) can only make
    /// it miss, and a hit always holds `id`.
    fn sorted_position(&self, id: u64) -> Option<usize> {
        let base = self.sorted.len();
        let id_of = |p: u32| self.by_pos.get(p as usize).filter(|_| (p as usize) < base);
        let rank = self.sorted.binary_search_by(|&p| id_of(p).map_or(Ordering::Less, |x| x.cmp(&id))).ok()?;
        Some(self.sorted[rank] as usize)
    }

    /// Forgets `id` and returns its position; the position keeps the id for
    /// `id_at` (the row stays until compaction) and the id may be added again.
    pub fn remove(&mut self, id: u64) -> Option<u32> {
        if let Some(p) = self.added.remove(&id) {
            return Some(p);
        }
        let p = self.sorted_position(id)? as u32;
        self.forgotten.insert(p).then_some(p)
    }

    /// Checks that `ids` can be appended: in range, unique among themselves and
    /// against the ids already present, and the index stays within u32 rows.
    pub fn check_new(&self, ids: &[u64]) -> Result<()> {
        self.check_new_with(ids, |id| self.position(id).is_some())
    }

    /// `check_new` with `present` saying which ids are taken (an index with
    /// writes still pending knows more than this map).
    pub fn check_new_with(&self, ids: &[u64], present: impl Fn(u64) -> bool) -> Result<()> {
        check_count(self.by_pos.len() as u64 + ids.len() as u64)?;
        let mut seen = HashMap::with_capacity(ids.len());
        for (i, &id) in ids.iter().enumerate() {
            check_id(i, id, present(id) || seen.insert(id, ()).is_some())?;
        }
        Ok(())
    }

    /// The map of `ids` (one per position), checked as `check_new` does but
    /// by sorting rather than hashing: what a build or a loader needs.
    pub fn from_ids(ids: Vec<u64>) -> Result<Self> {
        check_count(ids.len() as u64)?;
        if let Some(i) = ids.iter().position(|&id| id > MAX_ID) {
            check_id(i, ids[i], false)?;
        }
        let sorted = id_order(&ids);
        // The first position (in insertion order) whose id came earlier.
        let repeat = sorted.windows(2).filter(|w| ids[w[0] as usize] == ids[w[1] as usize]).map(|w| w[1]).min();
        if let Some(p) = repeat {
            check_id(p as usize, ids[p as usize], true)?;
        }
        Ok(Self { by_pos: ids.into(), sorted: sorted.into(), ..Self::default() })
    }

    /// The map of `by_pos` with its id order `sorted` as a file stored them
    /// (equal lengths, which the caller checked). With `verify` both are
    /// checked in full (ids in range, `sorted` a permutation of the positions
    /// in strictly ascending id order, hence unique ids); without, nothing is
    /// read, and an inconsistent pair only makes lookups miss.
    pub fn from_sorted(by_pos: Slab<u64>, sorted: Slab<u32>, verify: bool) -> Result<Self> {
        debug_assert_eq!(by_pos.len(), sorted.len(), "one order entry per position");
        check_count(by_pos.len() as u64)?;
        let map = Self { by_pos, sorted, ..Self::default() };
        if verify {
            map.check_sorted()?;
        }
        Ok(map)
    }

    fn check_sorted(&self) -> Result<()> {
        if let Some(i) = self.by_pos.iter().position(|&id| id > MAX_ID) {
            check_id(i, self.by_pos[i], false)?;
        }
        let n = self.sorted.len();
        let mut seen = RowSet::default();
        for (rank, &p) in self.sorted.iter().enumerate() {
            if p as usize >= n || !seen.insert(p) {
                return Err(Error::invalid(format!("id order entry {rank} is position {p}: not a new position below {n}")));
            }
        }
        for w in self.sorted.windows(2) {
            let (a, b) = (self.by_pos[w[0] as usize], self.by_pos[w[1] as usize]);
            if a >= b {
                let what = if a == b { "duplicate id" } else { "ids out of order" };
                return Err(Error::invalid(format!("{what} in the id order: id {a} at position {} before id {b} at position {}", w[0], w[1])));
            }
        }
        Ok(())
    }

    /// Appends ids already validated by [`IdMap::check_new`].
    pub fn extend(&mut self, ids: &[u64]) {
        self.added.reserve(ids.len());
        let by_pos = self.by_pos.to_mut();
        for &id in ids {
            self.added.insert(id, by_pos.len() as u32);
            by_pos.push(id);
        }
    }

    /// The live positions in ascending id order, as a file stores them:
    /// borrowed while nothing was added or removed since the order was made,
    /// else the order merged with the delta (linear plus sorting the delta).
    pub fn sorted_positions(&self) -> Cow<'_, [u32]> {
        if self.added.is_empty() && self.forgotten.is_empty() {
            return Cow::Borrowed(&self.sorted);
        }
        let mut live: Vec<u32> = self.sorted.iter().copied().filter(|&p| !self.forgotten.contains(p)).collect();
        let mut added: Vec<u32> = self.added.values().copied().collect();
        added.sort_unstable_by_key(|&p| self.by_pos[p as usize]);
        live.extend(added);
        // Two ascending runs: the stable sort merges them in one linear pass.
        live.sort_by_key(|&p| self.by_pos[p as usize]);
        Cow::Owned(live)
    }

    /// This map without the positions in `drop` (rows whose ids it has
    /// removed), renumbered as [`RowSet::compaction_map`] does, with the
    /// delta folded into a fresh id order.
    pub fn without(&self, drop: &RowSet) -> Self {
        let renumber = drop.compaction_map(self.len());
        let by_pos: Vec<u64> = self.by_pos.iter().zip(&renumber).filter(|(_, p)| p.is_some()).map(|(&id, _)| id).collect();
        let sorted: Vec<u32> = self.sorted_positions().iter().filter_map(|&p| renumber[p as usize]).collect();
        Self { by_pos: by_pos.into(), sorted: sorted.into(), ..Self::default() }
    }

    /// Heap bytes; what is read in place from a mapped file counts in
    /// [`Self::mapped_bytes`].
    pub fn memory_bytes(&self) -> usize {
        self.by_pos.owned_bytes() + self.sorted.owned_bytes() + self.added.capacity() * 16 + self.forgotten.memory_bytes()
    }

    pub fn mapped_bytes(&self) -> usize {
        self.by_pos.mapped_bytes() + self.sorted.mapped_bytes()
    }

    /// True when every id fits the u32 id field of upstream's `rbpx0001` records.
    pub fn fits_u32(&self) -> bool {
        self.by_pos.iter().all(|&id| id <= u32::MAX as u64)
    }
}

/// Every position of `ids` in ascending id order (ties by position).
fn id_order(ids: &[u64]) -> Vec<u32> {
    if ids.is_sorted() {
        return (0..ids.len() as u32).collect();
    }
    let mut pairs: Vec<(u64, u32)> = ids.iter().copied().zip(0..).collect();
    pairs.par_sort_unstable();
    pairs.into_iter().map(|(_, p)| p).collect()
}

fn check_count(total: u64) -> Result<()> {
    if total > u32::MAX as u64 {
        return Err(Error::invalid(format!("too many vectors: {total} exceeds {}", u32::MAX)));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ids_of(map: &IdMap, ids: &[u64]) -> Vec<Option<usize>> {
        ids.iter().map(|&id| map.position(id)).collect()
    }

    #[test]
    fn lookups_follow_adds_removes_and_compaction() {
        let mut map = IdMap::from_ids(vec![40, 10, 30, 20]).unwrap();
        assert_eq!(&*map.sorted_positions(), &[1, 3, 2, 0]);
        assert_eq!(ids_of(&map, &[10, 20, 30, 40, 25]), [Some(1), Some(3), Some(2), Some(0), None]);
        map.check_new(&[50, 5]).unwrap();
        map.extend(&[50, 5]);
        assert_eq!((map.remove(20), map.remove(20), map.remove(50)), (Some(3), None, Some(4)));
        assert!(map.check_new(&[40]).is_err() && map.check_new(&[20]).is_ok());
        map.extend(&[20]);
        assert_eq!(ids_of(&map, &[20, 50, 5]), [Some(6), None, Some(5)]);
        assert_eq!(&*map.sorted_positions(), &[5, 1, 6, 2, 0]);
        let mut drop = RowSet::default();
        [3, 4].into_iter().for_each(|p| _ = drop.insert(p));
        let compact = map.without(&drop);
        assert_eq!(compact.as_slice(), &[40, 10, 30, 5, 20]);
        assert_eq!(&*compact.sorted_positions(), &[3, 1, 4, 2, 0]);
        assert!(matches!(compact.sorted_positions(), Cow::Borrowed(_)), "the delta is folded in");
        assert_eq!(ids_of(&compact, &[5, 10, 20, 30, 40]), [Some(3), Some(1), Some(4), Some(2), Some(0)]);
    }

    #[test]
    fn from_ids_reports_the_first_repeat_and_out_of_range_ids() {
        let e = |ids: Vec<u64>| IdMap::from_ids(ids).err().unwrap().message;
        assert_eq!(e(vec![7, 5, 7, 5]), "duplicate id 7 at position 2");
        assert_eq!(e(vec![4, 5, 4]), "duplicate id 4 at position 2");
        assert!(e(vec![1, MAX_ID + 1]).contains("id 9007199254740992 at position 1 exceeds"));
        assert_eq!(IdMap::from_ids((0..5).collect()).unwrap().sorted_positions().as_ref(), &[0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_verified_order_must_be_a_permutation_in_strictly_ascending_id_order() {
        let check = |ids: Vec<u64>, sorted: Vec<u32>| IdMap::from_sorted(ids.into(), sorted.into(), true).err().map(|e| e.message);
        assert_eq!(check(vec![30, 10, 20], vec![1, 2, 0]), None);
        assert!(check(vec![30, 10, 20], vec![1, 2, 3]).unwrap().contains("entry 2 is position 3"));
        assert!(check(vec![30, 10, 20], vec![1, 1, 0]).unwrap().contains("entry 1 is position 1"));
        assert!(check(vec![30, 10, 20], vec![2, 1, 0]).unwrap().contains("ids out of order"));
        assert!(check(vec![30, 10, 10], vec![1, 2, 0]).unwrap().contains("duplicate id in the id order: id 10"));
        assert!(check(vec![MAX_ID + 1, 1, 2], vec![1, 2, 0]).unwrap().contains("exceeds the maximum id"));
    }

    #[test]
    fn an_inconsistent_unverified_order_only_misses() {
        let ids = vec![30, 10, 20, 10];
        for sorted in [vec![3, 2, 1, 0], vec![9, 9, 9, 9], vec![u32::MAX, 0, 1, 2], vec![0, 0, 0, 0]] {
            let mut map = IdMap::from_sorted(ids.clone().into(), sorted.clone().into(), false).unwrap();
            for id in [10, 20, 30, 40, 0, u64::MAX] {
                if let Some(p) = map.position(id) {
                    assert_eq!(map.id_at(p), Some(id), "{sorted:?}: a hit holds its id");
                }
                map.remove(id);
            }
            assert_eq!(map.id_at(4), None);
        }
    }
}
