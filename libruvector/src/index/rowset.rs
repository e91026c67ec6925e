//! A set of row positions as a bitmap: the tombstones of removed rows (and,
//! per filtered query, the rows its filter excludes), which scans test per
//! candidate without a hash lookup.

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowSet {
    words: Vec<u64>,
    len: usize,
}

impl RowSet {
    /// The set of every position in `0..slots`.
    pub fn full(slots: usize) -> Self {
        let mut words = vec![!0u64; slots.div_ceil(64)];
        if let Some(last) = words.last_mut().filter(|_| !slots.is_multiple_of(64)) {
            *last = (1u64 << (slots % 64)) - 1;
        }
        Self { words, len: slots }
    }

    /// Adds every position whose bit is set in `words` (bit j of word w = position 64w + j).
    pub fn insert_words(&mut self, words: &[u64]) {
        if words.len() > self.words.len() {
            self.words.resize(words.len(), 0);
        }
        self.words.iter_mut().zip(words).for_each(|(w, &add)| *w |= add);
        self.len = self.words.iter().map(|w| w.count_ones() as usize).sum();
    }

    /// Drops `pos`; false when it was not in the set.
    pub fn remove(&mut self, pos: u32) -> bool {
        let (w, bit) = (pos as usize / 64, 1u64 << (pos % 64));
        let Some(word) = self.words.get_mut(w) else { return false };
        let present = *word & bit != 0;
        *word &= !bit;
        self.len -= present as usize;
        present
    }

    /// Positions in `0..slots` not in the set, ascending.
    pub fn complement(&self, slots: usize) -> impl Iterator<Item = u32> + '_ {
        (0..slots.div_ceil(64)).flat_map(move |w| {
            let word = !self.words.get(w).copied().unwrap_or(0);
            let valid = if (w + 1) * 64 <= slots { !0u64 } else { (1u64 << (slots % 64)) - 1 };
            let mut bits = word & valid;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let b = bits.trailing_zeros();
                    bits &= bits - 1;
                    (w * 64) as u32 + b
                })
            })
        })
    }

    /// Adds `pos`; false when it was already in the set.
    pub fn insert(&mut self, pos: u32) -> bool {
        let (w, bit) = (pos as usize / 64, 1u64 << (pos % 64));
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        let fresh = self.words[w] & bit == 0;
        self.words[w] |= bit;
        self.len += fresh as usize;
        fresh
    }

    #[inline]
    pub fn contains(&self, pos: u32) -> bool {
        self.words.get(pos as usize / 64).is_some_and(|w| w >> (pos % 64) & 1 == 1)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn memory_bytes(&self) -> usize {
        self.words.capacity() * 8
    }

    /// For each of `0..slots`, its position once the set's rows are dropped
    /// (`None` for the dropped ones): order is kept.
    pub fn compaction_map(&self, slots: usize) -> Vec<Option<u32>> {
        let mut next = 0u32;
        (0..slots as u32)
            .map(|p| {
                if self.contains(p) {
                    return None;
                }
                next += 1;
                Some(next - 1)
            })
            .collect()
    }
}

/// True when `skip` lets row `pos` through.
#[inline]
pub fn admits(skip: Option<&RowSet>, pos: u32) -> bool {
    skip.is_none_or(|s| !s.contains(pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_contains_and_compaction_map() {
        let mut s = RowSet::default();
        assert!(s.insert(3) && s.insert(130) && !s.insert(3));
        assert_eq!(s.len(), 2);
        assert!(s.contains(3) && s.contains(130) && !s.contains(4) && !s.contains(10_000));
        assert_eq!(s.compaction_map(5), vec![Some(0), Some(1), Some(2), None, Some(3)]);
        assert!(admits(None, 3) && !admits(Some(&s), 3) && admits(Some(&s), 2));
    }

    #[test]
    fn full_remove_and_complement() {
        for slots in [0usize, 1, 63, 64, 65, 130] {
            let mut s = RowSet::full(slots);
            assert_eq!(s.len(), slots);
            assert_eq!(s.complement(slots).count(), 0, "{slots}");
            if slots > 0 {
                assert!(s.remove(slots as u32 - 1) && !s.remove(slots as u32 - 1) && !s.remove(slots as u32 + 70));
                assert_eq!(s.complement(slots).collect::<Vec<_>>(), vec![slots as u32 - 1]);
                assert_eq!(s.len(), slots - 1);
            }
        }
        let mut s = RowSet::default();
        s.insert(1);
        assert_eq!(s.complement(4).collect::<Vec<_>>(), vec![0, 2, 3]);
        s.insert_words(&[0b1001, 1]);
        assert_eq!((s.len(), s.contains(0), s.contains(3), s.contains(64), s.contains(2)), (4, true, true, true, false));
    }
}
