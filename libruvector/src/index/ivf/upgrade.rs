//! Older `RVIVFRQ1` sections, re-packed into version 4's on a copy load.
//! Versions 1 to 3 kept the 1-bit factors as f32 (per list add, res, err,
//! 32 slots per block): version 4 stores them as 16-bit steps as a build would.
//! Version 2 kept one record per vector with the whole B-bit code as one byte
//! per component (padded width D), then the extended add and res (f32) and
//! the row position (u32); version 1 kept codes, extended factors and
//! positions in three sections (codes n × D u8; per list its extended adds
//! then ress, f32; positions n u32). Version 3 keeps only the code's low
//! B − 1 bits, bit-packed: the sign bits are the blocks' nibbles, so an old
//! code must agree with them (and fit B bits) to be upgraded.

use super::factors16::Steps;
use super::lists::{block_bytes, write_record, Layout};
use crate::kernels::{excode, BLOCK, LUT_ENTRIES};

/// Bytes of a version-2 record at padded width `dp`.
fn v2_record_bytes(dp: usize) -> usize {
    dp + 12
}

/// The version-3 records of the version-1 `[codes, extended factors,
/// positions]` sections of lists of `sizes` vectors, checked against the
/// sign blocks `signs`.
pub fn records_from_v1(sizes: &[usize], layout: Layout, signs: &[u8], old: &[&[u8]]) -> Result<Vec<u8>, String> {
    let (n, dp) = (sizes.iter().sum::<usize>(), layout.dim);
    let (codes, ex, pos) = (old[0], old[1], old[2]);
    for (what, s, want) in [("codes", codes, n * dp), ("extended factors", ex, n * 8), ("positions", pos, n * 4)] {
        if s.len() != want {
            return Err(format!("{what} section has {} bytes, the header implies {want}", s.len()));
        }
    }
    let word = |b: &[u8], i: usize| -> [u8; 4] { b[i * 4..i * 4 + 4].try_into().expect("4 bytes") };
    let mut v2 = Vec::with_capacity(n * v2_record_bytes(dp));
    let mut at = 0;
    for &len in sizes {
        for v in at..at + len {
            let (add, res) = (f32::from_le_bytes(word(ex, at + v)), f32::from_le_bytes(word(ex, at + len + v)));
            write_record(&mut v2, &codes[v * dp..(v + 1) * dp], add, res, u32::from_le_bytes(word(pos, v)));
        }
        at += len;
    }
    records_from_v2(sizes, layout, signs, &v2)
}

/// The version-3 records of a version-2 records section, checked against
/// the sign blocks `signs` (whose length the caller checked).
pub fn records_from_v2(sizes: &[usize], layout: Layout, signs: &[u8], old: &[u8]) -> Result<Vec<u8>, String> {
    let (n, dp) = (sizes.iter().sum::<usize>(), layout.dim);
    let rb = v2_record_bytes(dp);
    if old.len() != n * rb {
        return Err(format!("records section has {} bytes, the header implies {}", old.len(), n * rb));
    }
    let (top, sign_bit) = ((1u32 << layout.bits) - 1, layout.sign_bit());
    let mut out = Vec::with_capacity(n * layout.record_bytes());
    let (mut low, mut packed) = (vec![0u8; dp], Vec::with_capacity(layout.packed_bytes()));
    let (mut vec_at, mut block_at) = (0, 0);
    for &len in sizes {
        for v in 0..len {
            let record = &old[(vec_at + v) * rb..(vec_at + v + 1) * rb];
            let code = &record[..dp];
            if let Some(c) = code.iter().find(|&&c| c as u32 > top) {
                return Err(format!("vector {} has code {c} above {top} for {} bits", vec_at + v, layout.bits));
            }
            let block = &signs[(block_at + v / BLOCK) * block_bytes(dp)..];
            for (m, quad) in code.chunks_exact(4).enumerate() {
                let byte = block[m * LUT_ENTRIES + v % 16];
                let nibble = if v % BLOCK < 16 { byte & 15 } else { byte >> 4 };
                let want = quad.iter().enumerate().fold(0u8, |a, (k, &c)| a | (((c >= sign_bit) as u8) << k));
                if nibble != want {
                    return Err(format!("sign nibble of vector {}, sub-quantizer {m} does not match its code", vec_at + v));
                }
            }
            low.iter_mut().zip(code).for_each(|(l, &c)| *l = c & (sign_bit - 1));
            packed.clear();
            excode::pack(&low, layout.low_bits(), &mut packed);
            write_record(&mut out, &packed, f32_at(record, dp), f32_at(record, dp + 4), u32::from_le_bytes(record[dp + 8..].try_into().expect("4 bytes")));
        }
        vec_at += len;
        block_at += len.div_ceil(BLOCK);
    }
    Ok(out)
}

fn f32_at(b: &[u8], at: usize) -> f32 {
    f32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// The version-4 1-bit factor section of f32 factors `old` (length checked
/// by the caller) of lists of `sizes` vectors; unused slots must be zero.
pub fn factors_from_f32(sizes: &[usize], old: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(old.len() / 2);
    let mut at = 0;
    for (list, &len) in sizes.iter().enumerate() {
        let slots = len.div_ceil(BLOCK) * BLOCK;
        let f: Vec<Vec<f32>> = (0..3).map(|i| (0..slots).map(|s| f32_at(old, at + 4 * (i * slots + s))).collect()).collect();
        if let Some(x) = f.iter().flatten().find(|x| !x.is_finite()) {
            return Err(format!("list {list}: a 1-bit factor is not finite ({x})"));
        }
        if f.iter().any(|v| v[len..].iter().any(|&x| x != 0.0)) {
            return Err(format!("list {list}: an unused slot has non-zero factors"));
        }
        let h = Steps::from_f32(len, &f[0], &f[1], &f[2]);
        for v in [&h.add, &h.res, &h.err] {
            out.extend(v.iter().flat_map(|b| b.to_le_bytes()));
        }
        out.extend(h.scale.iter().flat_map(|s| s.to_le_bytes()));
        at += 12 * slots;
    }
    Ok(out)
}
