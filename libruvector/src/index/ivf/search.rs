//! The search pipeline for one query: one u8 LUT from the rotated query
//! (only ‖q′ − c′‖ changes per list), a FastScan pass per block with a
//! lower-bound gate against the current k-th best, and an exact integer
//! ⟨code, q16⟩ for the survivors, which gives the B-bit estimate: the packed
//! low bits through the `ex_ip` kernel plus 2^(B−1) times the sign bits'
//! share, read from the block's nibbles through an exact i32 subset-sum table.

use super::factors16::{decode, RES_RELATIVE};
use super::lists::{block_bytes, InvList, Layout, Record};
use crate::index::rowset::{admits, RowSet};
use crate::index::topk::TopK;
use crate::kernels::{self, Kernels, BLOCK, LUT_ENTRIES};

/// Everything derived from the rotated query q′ once per search.
pub struct QueryLut {
    /// Per sub-quantizer, the 16 subset sums of q′ quantised to u8.
    lut: Vec<u8>,
    /// Σ bᵢq′ᵢ ≈ delta·acc + bias.
    delta: f32,
    /// Σ_m min_m − ½Σq′: the ⟨u, q′⟩ of 1-bit codes is delta·acc + this.
    offset: f32,
    /// Bound on the LUT rounding error of Σ bᵢq′ᵢ (½·delta per sub-quantizer).
    lut_err: f32,
    /// q′ scaled to i16 and the matching (2^B − 1)·Σ q16.
    q16: Vec<i16>,
    q16_bias: i64,
    /// Per sub-quantizer, the 16 subset sums of q16 (exact).
    sign_sums: Vec<i32>,
    layout: Layout,
    /// 1 / (2 · i16 scale).
    ex_scale: f32,
}

impl QueryLut {
    pub fn new(q: &[f32], bits: u32) -> Self {
        let m = q.len() / 4;
        let mut sums = vec![0f32; m * LUT_ENTRIES];
        let (mut min_total, mut width) = (0f32, 0f32);
        for (quad, out) in q.chunks_exact(4).zip(sums.chunks_exact_mut(LUT_ENTRIES)) {
            // Subset p's sum adds its highest component last: the ascending order.
            for p in 1..LUT_ENTRIES {
                let high = usize::BITS - 1 - p.leading_zeros();
                out[p] = out[p ^ (1 << high)] + quad[high as usize];
            }
            let lo = out.iter().fold(f32::INFINITY, |a, &v| a.min(v));
            let hi = out.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v));
            out.iter_mut().for_each(|o| *o -= lo);
            min_total += lo;
            width = width.max(hi - lo);
        }
        let delta = width / 255.0;
        let inv = if delta > 0.0 { 1.0 / delta } else { 0.0 };
        let lut = sums.iter().map(|&s| (s * inv).round().clamp(0.0, 255.0) as u8).collect();
        let sum_q: f32 = q.iter().sum();
        let peak = q.iter().fold(0f32, |a, v| a.max(v.abs()));
        let scale = if peak > 0.0 { 32767.0 / peak } else { 0.0 };
        let q16: Vec<i16> = q.iter().map(|&v| (v * scale).round() as i16).collect();
        let q16_sum: i64 = q16.iter().map(|&v| v as i64).sum();
        let mut sign_sums = vec![0i32; m * LUT_ENTRIES];
        for (quad, out) in q16.chunks_exact(4).zip(sign_sums.chunks_exact_mut(LUT_ENTRIES)) {
            for p in 1..LUT_ENTRIES {
                let high = usize::BITS - 1 - p.leading_zeros();
                out[p] = out[p ^ (1 << high)] + quad[high as usize] as i32;
            }
        }
        Self {
            lut,
            delta,
            offset: min_total - 0.5 * sum_q,
            lut_err: 0.5 * delta * m as f32,
            q16,
            q16_bias: ((1i64 << bits) - 1) * q16_sum,
            sign_sums,
            layout: Layout { dim: q.len(), bits },
            ex_scale: if scale > 0.0 { 0.5 / scale } else { 0.0 },
        }
    }
}

/// Per-search buffers of the list scan, reused from list to list.
#[derive(Default)]
pub struct Scratch {
    lower: Vec<f32>,
    candidates: Vec<u32>,
}

/// Scans one list into `top` (keyed by row position, scored by the B-bit
/// estimate of the squared distance); `g_add` = ‖q′ − c′‖².
///
/// First every block's 1-bit lower bounds, collecting (and prefetching the
/// records of) the slots below the current k-th best; then those candidates
/// in list order, each refined only if its bound still beats the k-th best
/// at that moment — the same decisions as one interleaved pass, with the
/// candidates' memory fetches overlapped.
/// Rows in `skip` never reach `top` (nor cost a refinement).
pub fn scan_list(kern: &Kernels, list: &InvList, q: &QueryLut, g_add: f32, skip: Option<&RowSet>, top: &mut TopK, scratch: &mut Scratch) {
    let g_err = g_add.sqrt();
    let bytes = block_bytes(q.layout.dim);
    let Scratch { lower, candidates } = scratch;
    lower.resize(list.blocks() * BLOCK, 0.0);
    candidates.clear();
    let bound = top.threshold();
    let mut acc = [0u32; BLOCK];
    for b in 0..list.blocks() {
        (kern.fastscan)(&list.signs[b * bytes..(b + 1) * bytes], &q.lut, &mut acc);
        let at = b * BLOCK;
        let out = &mut lower[at..at + BLOCK];
        let factors = [&list.add[at..at + BLOCK], &list.res[at..at + BLOCK], &list.err[at..at + BLOCK]];
        let scales = [list.scale[3 * b], list.scale[3 * b + 1], list.scale[3 * b + 2]];
        lower_bounds(&acc, factors, scales, q, g_add, g_err, out);
        for (j, &lb) in out[..(list.len - at).min(BLOCK)].iter().enumerate() {
            if lb < bound {
                kernels::prefetch(list.record_raw(at + j, q.layout));
                candidates.push((at + j) as u32);
            }
        }
    }
    for &v in candidates.iter() {
        let v = v as usize;
        if lower[v] < top.threshold() {
            let r = list.record(v, q.layout);
            if admits(skip, r.pos) {
                top.offer(r.pos, ex_estimate(kern, list, v, &r, q, g_add));
            }
        }
    }
}

/// Offers every row of `list` that `skip` admits to `top`, scored by its
/// B-bit estimate alone (no 1-bit pass): the scan of a selective filter over
/// a codes-only index, which touches only the rows it may return.
pub fn estimate_admitted(kern: &Kernels, list: &InvList, q: &QueryLut, g_add: f32, skip: &RowSet, top: &mut TopK) {
    for v in 0..list.len {
        let r = list.record(v, q.layout);
        if admits(Some(skip), r.pos) {
            top.offer(r.pos, ex_estimate(kern, list, v, &r, q, g_add));
        }
    }
}

/// The B-bit estimate of the squared distance of vector `v` with record `r`
/// (exact integer ⟨code, q16⟩).
#[inline]
fn ex_estimate(kern: &Kernels, list: &InvList, v: usize, r: &Record, q: &QueryLut, g_add: f32) -> f32 {
    let low_bits = q.layout.low_bits();
    let ip = (sign_ip(list, v, q) << low_bits) + (kern.ex_ip)(r.low, &q.q16, low_bits);
    let ip = (2 * ip - q.q16_bias) as f32 * q.ex_scale;
    (r.ex_add + g_add + r.ex_res * ip).max(0.0)
}

/// Σ q16ᵢ over the non-negative components of vector `v`: one table entry
/// per sub-quantizer, picked by its sign nibble in the block.
#[inline]
fn sign_ip(list: &InvList, v: usize, q: &QueryLut) -> i64 {
    let bytes = block_bytes(q.layout.dim);
    let (b, j) = (v / BLOCK, v % BLOCK);
    let (col, shift) = (j % 16, if j < 16 { 0 } else { 4 });
    let block = &list.signs[b * bytes..(b + 1) * bytes];
    block.chunks_exact(LUT_ENTRIES).zip(q.sign_sums.chunks_exact(LUT_ENTRIES)).map(|(c, sums)| sums[(c[col] >> shift & 15) as usize] as i64).sum()
}

/// The 1-bit estimate minus its error bound, for the 32 slots of a block
/// (`f` = the add, res, err steps of their `scales`). The bound adds to the
/// interval's half-width the LUT's rounding and the stored res's (add is
/// stored below its value and err above, so they only widen it).
/// Elementwise with separate mul and add, so the compiler's vector form
/// rounds exactly like this scalar one.
#[inline]
fn lower_bounds(acc: &[u32; BLOCK], f: [&[u16]; 3], scales: [f32; 3], q: &QueryLut, g_add: f32, g_err: f32, out: &mut [f32]) {
    let (add, res, err) = (&f[0][..BLOCK], &f[1][..BLOCK], &f[2][..BLOCK]);
    let [add_scale, res_scale, err_scale] = scales;
    for j in 0..BLOCK {
        // acc < 2^24, so the signed conversion is exact.
        let ip = q.delta * acc[j] as i32 as f32 + q.offset;
        let (add, res, err) = (decode(add[j], add_scale), decode(res[j], res_scale), decode(err[j], err_scale));
        let estimate = add + g_add + res * ip;
        let res_error = RES_RELATIVE * res.abs() + res_scale;
        out[j] = estimate - (err * g_err + res.abs() * q.lut_err + res_error * (ip.abs() + q.lut_err));
    }
}
