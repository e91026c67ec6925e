//! The scalar reference of every kernel. SIMD paths must reproduce these
//! results bit for bit, so the operation order here *is* the contract.

use super::{TagMask, BLOCK, LANES, LUT_ENTRIES};

/// Squared L2 over 16 lanes: lane j sums the terms of components i ≡ j (mod 16)
/// with a separate subtract, multiply and add, then `reduce16` folds the lanes.
pub fn sq_l2(a: &[f32], b: &[f32]) -> f32 {
    lanes(a, b, |x, y| (x - y) * (x - y))
}

/// Dot product in the same 16-lane order as `sq_l2`.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    lanes(a, b, |x, y| x * y)
}

pub fn sq_l2_x4(q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
    rows.map(|r| sq_l2(q, r))
}

#[inline(always)]
fn lanes(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f32) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..LANES {
            acc[j] += term(x[j], y[j]);
        }
    }
    for (j, (&x, &y)) in ra.iter().zip(rb).enumerate() {
        acc[j] += term(x, y);
    }
    reduce16(acc)
}

/// The fixed pairwise tree: lanes i and i+8, then i and i+4, i+2, i+1.
pub fn reduce16(mut s: [f32; LANES]) -> f32 {
    for width in [8, 4, 2, 1] {
        for i in 0..width {
            s[i] += s[i + width];
        }
    }
    s[0]
}

/// FastScan accumulate over one block of 32 codes: for each sub-quantizer m,
/// `codes[16m + j]` holds vector j's nibble (low) and vector j+16's (high);
/// each vector sums `lut[16m + nibble]`.
pub fn fastscan(codes: &[u8], lut: &[u8], out: &mut [u32; BLOCK]) {
    *out = [0; BLOCK];
    for (c, l) in codes.chunks_exact(LUT_ENTRIES).zip(lut.chunks_exact(LUT_ENTRIES)) {
        for j in 0..16 {
            out[j] += l[(c[j] & 15) as usize] as u32;
            out[j + 16] += l[(c[j] >> 4) as usize] as u32;
        }
    }
}

/// Σ valueᵢ·qᵢ of a packed `bits`-bit code (`excode`), exact in integers.
pub fn ex_ip(packed: &[u8], q: &[i16], bits: u32) -> i64 {
    super::excode::ip_from(packed, q, bits, 0)
}

/// Whether one row's tags pass `m` (no branch, so callers' loops vectorise).
#[inline]
pub fn tag_passes(m: &TagMask, t: u64) -> bool {
    ((m.any == 0) | (t & m.any != 0)) & (t & m.all == m.all) & (t & m.none == 0)
}

/// Bit j set where `tags[j]` fails `m`; at most 64 tags.
pub fn tag_fails(m: &TagMask, tags: &[u64]) -> u64 {
    tags.iter().enumerate().fold(0, |bits, (j, &t)| bits | (!tag_passes(m, t) as u64) << j)
}

/// Unnormalised fast Hadamard transform of a power-of-two window:
/// butterflies (a + b, a − b) with the stride doubling from 1.
pub fn fht(x: &mut [f32]) {
    fht_stages(x, usize::MAX, |_, _| {});
}

/// The FHT stage driver the SIMD paths share: strides below `lanes` run the
/// scalar stage, wider ones `wide(x, stride)`, in the same order.
pub(super) fn fht_stages(x: &mut [f32], lanes: usize, mut wide: impl FnMut(&mut [f32], usize)) {
    let n = x.len();
    debug_assert!(n.is_power_of_two());
    let mut h = 1;
    while h < n {
        if h < lanes {
            butterflies(x, h);
        } else {
            wide(x, h);
        }
        h *= 2;
    }
}

/// One FHT stage of stride `h`; shared by the SIMD paths for strides below
/// their register width.
pub(super) fn butterflies(x: &mut [f32], h: usize) {
    for block in x.chunks_exact_mut(2 * h) {
        let (lo, hi) = block.split_at_mut(h);
        for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
            let (u, v) = (*a, *b);
            *a = u + v;
            *b = u - v;
        }
    }
}
