//! Filtered search: which rows one query may return. A filter restricts by the
//! caller's ids (an allow-list or a deny-list) and by the 64 tag bits each row
//! carries; it is resolved once per query into a [`RowSet`] of the rows to skip
//! (tombstones included), which the scans already test per candidate.

use super::ids::IdMap;
use super::rowset::RowSet;

/// The id part of a filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdRule<'a> {
    /// No restriction by id.
    #[default]
    Any,
    /// Only these ids (ids not in the index match nothing).
    Allow(&'a [u64]),
    /// Every id but these.
    Deny(&'a [u64]),
}

/// The tag part of a filter (the scan kernels test it, several rows at a time).
pub use crate::kernels::TagMask as TagRule;

/// What one query may return besides live rows: both parts must pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchFilter<'a> {
    pub ids: IdRule<'a>,
    pub tags: TagRule,
}

impl SearchFilter<'_> {
    /// True when the filter lets every live row through.
    pub fn is_open(&self) -> bool {
        self.ids == IdRule::Any && self.tags.is_open()
    }
}

/// Rows to skip for one filtered query, and how many rows pass.
pub struct Resolved {
    pub skip: RowSet,
    pub admitted: usize,
}

/// Resolves `filter` over `slots` rows with tombstones `removed`, ids `map`
/// and per-row `tags` (empty: every row has tags 0).
pub fn resolve(filter: &SearchFilter, slots: usize, removed: &RowSet, map: &IdMap, tags: &[u64]) -> Resolved {
    let mut skip = match filter.ids {
        IdRule::Allow(ids) => {
            let mut skip = RowSet::full(slots);
            // Removed ids are no longer in the map, so they stay skipped.
            ids.iter().filter_map(|&id| map.position(id)).for_each(|p| {
                skip.remove(p as u32);
            });
            skip
        }
        IdRule::Deny(ids) => {
            let mut skip = removed.clone();
            ids.iter().filter_map(|&id| map.position(id)).for_each(|p| {
                skip.insert(p as u32);
            });
            skip
        }
        IdRule::Any => removed.clone(),
    };
    if !filter.tags.is_open() {
        skip.insert_words(&failing_rows(&filter.tags, tags, slots));
    }
    let admitted = slots - skip.len();
    Resolved { skip, admitted }
}

/// One bit per row (of `slots`), set where the row's tags fail `rule`; rows
/// past `tags` have tags 0.
fn failing_rows(rule: &TagRule, tags: &[u64], slots: usize) -> Vec<u64> {
    let fails = crate::kernels::active().tag_fails;
    let mut words = vec![0u64; slots.div_ceil(64)];
    for (word, chunk) in words.iter_mut().zip(tags.chunks(64)) {
        *word = fails(rule, chunk);
    }
    if !rule.admits(0) {
        (tags.len()..slots).for_each(|p| words[p / 64] |= 1 << (p % 64));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_rule_semantics() {
        let r = TagRule { any: 0b0110, all: 0b1000, none: 0b0001 };
        assert!(r.admits(0b1010) && r.admits(0b1100));
        assert!(!r.admits(0b1000), "needs one of any");
        assert!(!r.admits(0b0010), "needs all");
        assert!(!r.admits(0b1011), "none excluded");
        assert!(TagRule::default().is_open() && TagRule::default().admits(0));
    }

    #[test]
    fn resolve_combines_ids_tags_and_tombstones() {
        let mut map = IdMap::default();
        map.extend(&[10, 11, 12, 13, 14]);
        let mut removed = RowSet::default();
        removed.insert(map.remove(13).unwrap());
        let tags = [1, 2, 1, 1, 2];
        let allow = SearchFilter { ids: IdRule::Allow(&[10, 12, 13, 99]), tags: TagRule::default() };
        let r = resolve(&allow, 5, &removed, &map, &tags);
        assert_eq!((r.admitted, r.skip.contains(0), r.skip.contains(2), r.skip.contains(3)), (2, false, false, true));
        let deny = SearchFilter { ids: IdRule::Deny(&[10]), tags: TagRule { any: 1, ..TagRule::default() } };
        let r = resolve(&deny, 5, &removed, &map, &tags);
        assert_eq!(r.admitted, 1);
        assert!(!r.skip.contains(2));
        let untagged = SearchFilter { ids: IdRule::Any, tags: TagRule { none: 1, ..TagRule::default() } };
        assert_eq!(resolve(&untagged, 5, &removed, &map, &[]).admitted, 4);
    }

    use crate::index::{persist, IvfOptions, Kind, Metric, Params, SearchParams, VectorIndex, NO_HIT};

    fn data(n: usize, d: usize) -> Vec<f32> {
        let mut x = 11u64;
        (0..n * d)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    fn every_kind() -> Vec<Params> {
        let mut v: Vec<Params> = [Kind::Flat, Kind::Rabitq, Kind::Plus, Kind::Asym].iter().map(|&k| Params::new(k, 16, 1, 4, Metric::L2, true)).collect();
        let ivf = IvfOptions { nlist: 8, store: crate::index::ivf::StoreKind::F32, ..IvfOptions::default() };
        v.push(Params { ivf, ..Params::new(Kind::Ivf, 16, 1, 1, Metric::L2, true) });
        v
    }

    #[test]
    fn every_variant_honours_allow_deny_and_tag_filters() {
        let (n, d) = (400, 16);
        let base = data(n, d);
        let tags: Vec<u64> = (0..n as u64).map(|i| 1 << (i % 4)).collect();
        for p in every_kind() {
            let idx = VectorIndex::build_tagged(p, &base, None, Some(&tags)).unwrap();
            let q = &base[..d];
            let sp = SearchParams::default();
            let one = SearchFilter { ids: IdRule::Allow(&[123, 9999]), tags: TagRule::default() };
            assert_eq!(idx.search_filtered_owned(q, 10, &sp, &one).unwrap().0, vec![123], "{}", p.kind.name());
            let none = SearchFilter { ids: IdRule::Allow(&[]), tags: TagRule::default() };
            assert!(idx.search_filtered_owned(q, 10, &sp, &none).unwrap().0.is_empty());
            let deny = SearchFilter { ids: IdRule::Deny(&[0]), tags: TagRule::default() };
            assert!(!idx.search_filtered_owned(q, 10, &sp, &deny).unwrap().0.contains(&0));
            let odd = SearchFilter { ids: IdRule::Any, tags: TagRule { any: 0b1010, ..TagRule::default() } };
            let (ids, _) = idx.search_filtered_owned(q, 10, &sp, &odd).unwrap();
            assert!(ids.len() == 10 && ids.iter().all(|i| i % 2 == 1), "{}: {ids:?}", p.kind.name());
            let mut out = (vec![0u64; 20], vec![0f32; 20]);
            idx.search_batch_filtered(&base[..2 * d], 10, &sp, &[one, odd], 1, &mut out.0, &mut out.1).unwrap();
            assert_eq!(&out.0[..2], &[123, NO_HIT]);
            assert!(out.1[1].is_infinite() && out.0[10..].iter().all(|i| i % 2 == 1));
        }
    }

    #[test]
    fn tags_survive_save_load_in_both_layouts_and_compaction() {
        let (n, d) = (300, 16);
        let base = data(n, d);
        let tags: Vec<u64> = (0..n as u64).map(|i| i * 0x1_0000_0001).collect();
        let dir = std::env::temp_dir().join(format!("ruv-filter-tags-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for p in every_kind() {
            let mut idx = VectorIndex::build_tagged(p, &base, None, Some(&tags)).unwrap();
            idx.remove_present(&[0, 5]);
            idx.add_batch(&base[..d], &[1000]).unwrap();
            let path = dir.join(p.kind.name());
            persist::save(&idx, &path).unwrap();
            let back = persist::load(&path, None).unwrap();
            if p.kind == Kind::Plus {
                let theirs = ruvector_rabitq::persist::load_index(&mut std::fs::File::open(&path).unwrap()).unwrap();
                assert_eq!(ruvector_rabitq::AnnIndex::len(&theirs), n - 1, "upstream reads a tagged file");
            }
            assert!(back.equals(&idx), "{}", p.kind.name());
            assert_eq!(back.tags_of(7).unwrap(), tags[7]);
            assert_eq!(back.tags_of(1000).unwrap(), 0);
            assert_eq!(back.tags(), idx.tags());
            idx.compact().unwrap();
            assert_eq!(idx.tags_of(299).unwrap(), tags[299]);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn damaged_tag_sections_are_persist_errors() {
        let (n, d) = (200, 16);
        let base = data(n, d);
        let tags: Vec<u64> = (0..n as u64).collect();
        for p in every_kind() {
            let idx = VectorIndex::build_tagged(p, &base, None, Some(&tags)).unwrap();
            let path = std::env::temp_dir().join(format!("ruv-filter-damaged-{}-{}", std::process::id(), p.kind.name()));
            persist::save(&idx, &path).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            std::fs::remove_file(&path).unwrap();
            // The tags are the last n u64 before the trailer's end (rbpx/rbcx) or the last section (IVF).
            let end = if p.kind == Kind::Ivf { bytes.len() } else { bytes.len() - 24 };
            let mut flipped = bytes.clone();
            flipped[end - 8] ^= 0x40;
            for damaged in [flipped, bytes[..bytes.len() - 8].to_vec(), bytes[..end - 4].to_vec()] {
                let e = persist::decode(&damaged, None).err().unwrap_or_else(|| panic!("{}: damaged file loaded", p.kind.name()));
                assert_eq!(e.status, crate::error::Status::Persist, "{}: {}", p.kind.name(), e.message);
            }
        }
    }

    #[test]
    fn wrong_tag_count_names_both_lengths() {
        let p = Params::new(Kind::Flat, 4, 1, 1, Metric::L2, false);
        let e = VectorIndex::build_tagged(p, &[0.0; 8], None, Some(&[1])).err().unwrap();
        assert!(e.message.contains("got 1 tags for 2 vectors"), "{}", e.message);
    }
}
