//! The id order section of an `RVIVFRQ1` file (id 10, the last section):
//! every position (n u32) in ascending order of its id, the lookup structure
//! of [`IdMap`]. With it a load builds no lookup — a mapped one reads the ids
//! and this section in place — and a verified load checks it against the ids
//! section in one linear pass. It is optional, so files written before it
//! still load; their order is then made by sorting the ids. Older readers
//! refuse a file that has it (an unknown section id), never misread it.

use super::persist::{bad, expect_len, Viewer};
use crate::error::Result;
use crate::index::ids::IdMap;

/// The section's id in the section table.
pub(super) const ID: u32 = 10;

/// The section's bytes for `ids` (deterministic: unique ids have one order).
pub fn bytes(ids: &IdMap) -> Vec<u8> {
    let order = ids.sorted_positions();
    // Never a file whose order misses rows: saves compact removed rows first.
    assert_eq!(order.len(), ids.len(), "every position of a saved id map is live");
    order.iter().flat_map(|p| p.to_le_bytes()).collect()
}

/// The id map of a file's `ids` section (n u64, length checked) and its id
/// order section `order`, if it has one. `verify` checks the pair in full; a
/// file without the order always has its ids checked (the order is made from
/// them).
pub fn read(ids: &[u8], order: Option<&[u8]>, view: &Viewer, verify: bool) -> Result<IdMap> {
    let map = match order {
        Some(order) => {
            expect_len("id order", order, ids.len() / 2)?;
            IdMap::from_sorted(view.slab(ids), view.slab(order), verify)
        }
        None => IdMap::from_ids(ids.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()),
    };
    map.map_err(|e| bad(e.message))
}
