//! The 1-bit factors as 16-bit integers, 6 bytes a slot instead of 12. Per
//! block of 32 slots each factor (add, res, err) has a power-of-two scale that
//! puts its largest magnitude in (2^13, 2^14], a factor being k · scale with
//! |k| ≤ 2^14: any finite f32 factor fits, and within a block every factor
//! keeps an absolute precision of one scale step, 2^-13 of the largest.
//! The factors only gate which candidates are refined, and the gate stays a
//! lower bound of the 1-bit estimate's interval: add is rounded down, err up,
//! and res to nearest, its rounding error (`RES_RELATIVE`, one step of its
//! scale) widening the bound.

use super::encode::Factors;
use crate::kernels::BLOCK;

#[derive(Clone, Copy)]
enum Round {
    Down,
    Nearest,
    Up,
}

/// The directions of add, res and err.
const ROUNDS: [Round; 3] = [Round::Down, Round::Nearest, Round::Up];

/// The scale of a block whose factor is zero in every slot so far: the
/// smallest, so the first non-zero value sets it.
pub const MIN_SCALE: f32 = f32::MIN_POSITIVE;
const MAX_SCALE_EXP: i32 = 114;
/// The largest |k|.
pub(crate) const MAX_STEPS: u16 = 1 << 14;

/// Bound on |res − stored res| relative to the stored value: rounding to 14
/// significant bits (2^-14), with slack for the difference between true and
/// stored res. Each block adds at most one step of its res scale (half a step
/// when stored, and half-steps of smaller scales when its scale grew).
pub(crate) const RES_RELATIVE: f32 = 1.0 / 8192.0;

fn round(x: f64, r: Round) -> f64 {
    match r {
        Round::Down => x.floor(),
        Round::Nearest => x.round_ties_even(),
        Round::Up => x.ceil(),
    }
}

fn pow2(e: i32) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// ⌊log2 |x|⌋ of a non-zero finite `x` from its bits (no libm: the same on
/// every platform), and whether |x| is that power of two.
fn binade(x: f64) -> (i32, bool) {
    let b = x.to_bits();
    (((b >> 52) & 0x7ff) as i32 - 1023, b & ((1 << 52) - 1) == 0)
}

/// The power-of-two scale putting `peak` (≥ 0) in (2^13, 2^14].
fn scale_for(peak: f64) -> f32 {
    if peak == 0.0 {
        return MIN_SCALE;
    }
    let (e, exact) = binade(peak);
    let e = (e + !exact as i32 - 14).clamp(-126, MAX_SCALE_EXP);
    f32::from_bits(((e + 127) as u32) << 23)
}

/// `x` rounded in direction `r` to 14 significant bits, whatever its
/// magnitude: a multiple of the scale its magnitude picks, so decoding and
/// storing again picks the same scale and the same steps.
fn significant(x: f32, r: Round) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let unit = pow2(binade(x as f64).0 - 13);
    round(x as f64 / unit, r) * unit
}

/// The factor of steps `k` (an i16's bits) at `scale`, exactly.
#[inline(always)]
pub fn decode(k: u16, scale: f32) -> f32 {
    k as i16 as f32 * scale
}

fn encode(v: f64, scale: f32, r: Round) -> u16 {
    round(v / scale as f64, r) as i16 as u16
}

/// Stores `value` at slot `at` of `steps` (whose block starts at `first`),
/// first growing the block's `scale` if `value` needs it, which re-rounds
/// the block's earlier slots in the same direction.
fn store_one(steps: &mut [u16], scale: &mut f32, first: usize, at: usize, value: f32, r: Round) {
    let v = significant(value, r);
    let need = scale_for(v.abs());
    if need > *scale {
        for k in &mut steps[first..at] {
            *k = encode(decode(*k, *scale) as f64, need, r);
        }
        *scale = need;
    }
    steps[at] = encode(v, *scale, r);
}

/// Stores factors `f` at slot `at` of arrays whose last block it is in,
/// opening that block (three scales: add, res, err) when `at` starts one.
pub fn store(arrays: [&mut Vec<u16>; 3], scales: &mut Vec<f32>, at: usize, f: Factors) {
    if at.is_multiple_of(BLOCK) {
        scales.extend([MIN_SCALE; 3]);
    }
    let (block, first) = (at / BLOCK, at - at % BLOCK);
    for (i, (steps, value)) in arrays.into_iter().zip([f.add, f.res, f.err]).enumerate() {
        if at.is_multiple_of(BLOCK) {
            steps.resize(at + BLOCK, 0);
        }
        store_one(steps, &mut scales[3 * block + i], first, at, value, ROUNDS[i]);
    }
}

/// The factors of slot `at` of `steps` (add, res, err) under `scales` (three per block).
pub fn factors_at(steps: [&[u16]; 3], scales: &[f32], at: usize) -> Factors {
    let s = &scales[3 * (at / BLOCK)..];
    Factors { add: decode(steps[0][at], s[0]), res: decode(steps[1][at], s[1]), err: decode(steps[2][at], s[2]) }
}

/// The 16-bit factor arrays of one list: per slot add, res and err steps,
/// per block their three scales; unused slots are zero.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Steps {
    pub add: Vec<u16>,
    pub res: Vec<u16>,
    pub err: Vec<u16>,
    pub scale: Vec<f32>,
}

impl Steps {
    /// The arrays of `len` slots of f32 factors, stored one by one as pushes store them.
    pub fn from_f32(len: usize, add: &[f32], res: &[f32], err: &[f32]) -> Steps {
        let mut out = Steps::default();
        for v in 0..len {
            out.store(v, Factors { add: add[v], res: res[v], err: err[v] });
        }
        out
    }

    fn store(&mut self, at: usize, f: Factors) {
        store([&mut self.add, &mut self.res, &mut self.err], &mut self.scale, at, f);
    }

    #[cfg(test)]
    fn at(&self, v: usize) -> Factors {
        factors_at([&self.add, &self.res, &self.err], &self.scale, v)
    }
}

/// Whether `s` can be a block scale: a normal power of two in range.
pub fn valid_scale(s: f32) -> bool {
    s.is_normal() && s > 0.0 && s.to_bits() & 0x7f_ffff == 0 && s.to_bits() >> 23 <= (MAX_SCALE_EXP + 127) as u32
}

/// Whether steps `k` are within ±2^14.
pub fn valid_steps(k: u16) -> bool {
    (k as i16).unsigned_abs() <= MAX_STEPS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::ivf::rotation::SplitMix;

    #[test]
    fn add_stays_below_err_above_and_res_near_across_scale_growth() {
        let mut rng = SplitMix(5);
        let mut h = Steps::default();
        let mut truth = Vec::new();
        for v in 0..200 {
            // Magnitudes over 60 binades, growing within blocks to force re-rounding.
            let m = (2f64).powi((v % 32) as i32 * 2 - 30);
            let f = Factors { add: (rng.gaussian() * m) as f32, res: (rng.gaussian() * m) as f32, err: (rng.gaussian().abs() * m) as f32 };
            h.store(v, f);
            truth.push(f);
        }
        for (v, t) in truth.iter().enumerate() {
            let s = &h.scale[3 * (v / BLOCK)..3 * (v / BLOCK) + 3];
            assert!(s.iter().all(|&s| valid_scale(s)));
            assert!([h.add[v], h.res[v], h.err[v]].iter().all(|&k| valid_steps(k)));
            let got = h.at(v);
            assert!(got.add <= t.add && got.err >= t.err, "slot {v}: {got:?} vs {t:?}");
            let bound = RES_RELATIVE * got.res.abs() + s[1];
            assert!((got.res - t.res).abs() <= bound, "slot {v}: res {} vs {}", got.res, t.res);
        }
    }

    #[test]
    fn extreme_factors_fit_zero_is_exact_and_decoding_then_storing_is_the_identity() {
        let fs = [Factors::default(), Factors { add: f32::MAX / 2.0, res: -3e38, err: 1e38 }, Factors { add: 1e-38, res: -1e-45, err: 0.0 }, Factors { add: -1.5, res: 0.3, err: 0.7 }];
        let mut h = Steps::default();
        for (v, &f) in fs.iter().enumerate() {
            h.store(v, f);
        }
        assert_eq!(h.at(0), Factors::default());
        for (v, f) in fs.iter().enumerate() {
            let got = h.at(v);
            assert!(got.add.is_finite() && got.res.is_finite() && got.err.is_finite());
            assert!(got.add <= f.add && got.err >= f.err);
        }
        let decoded: Vec<Factors> = (0..fs.len()).map(|v| h.at(v)).collect();
        let col = |g: fn(&Factors) -> f32| decoded.iter().map(g).collect::<Vec<f32>>();
        assert_eq!(Steps::from_f32(fs.len(), &col(|f| f.add), &col(|f| f.res), &col(|f| f.err)), h);
    }
}
