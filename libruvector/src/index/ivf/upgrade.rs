//! Version-1 `RVIVFRQ1` files kept each vector's B-bit code, extended factors
//! and row position in three sections (codes n × D u8; per list its extended
//! adds then ress, f32; positions n u32). Version 2 keeps them as one record
//! per vector, the in-memory layout; this interleaves the old sections into
//! that records section, so old files load by copy and save as version 2.

use super::lists::{record_bytes, write_record};

/// The version-2 records of the version-1 `[codes, extended factors,
/// positions]` sections of lists of `sizes` vectors at padded width `dp`.
pub fn records_from_v1(sizes: &[usize], dp: usize, old: &[&[u8]]) -> Result<Vec<u8>, String> {
    let n: usize = sizes.iter().sum();
    let (codes, ex, pos) = (old[0], old[1], old[2]);
    for (what, s, want) in [("codes", codes, n * dp), ("extended factors", ex, n * 8), ("positions", pos, n * 4)] {
        if s.len() != want {
            return Err(format!("{what} section has {} bytes, the header implies {want}", s.len()));
        }
    }
    let word = |b: &[u8], i: usize| -> [u8; 4] { b[i * 4..i * 4 + 4].try_into().expect("4 bytes") };
    let mut out = Vec::with_capacity(n * record_bytes(dp));
    let mut at = 0;
    for &len in sizes {
        for v in at..at + len {
            let (add, res) = (f32::from_le_bytes(word(ex, at + v)), f32::from_le_bytes(word(ex, at + len + v)));
            write_record(&mut out, &codes[v * dp..(v + 1) * dp], add, res, u32::from_le_bytes(word(pos, v)));
        }
        at += len;
    }
    Ok(out)
}
