//! Residual encoding: extended-RaBitQ codes of r = P·o − P·c in the rotated
//! space, with the estimator factors of RaBitQ-Library (`rabitq_impl.hpp`):
//! for a code u, ‖o − q‖² ≈ F_add + ‖q′ − c′‖² + F_res·⟨u, q′⟩ with
//!   F_add = ‖r‖² + 2‖r‖²⟨u, c′⟩/⟨u, r⟩,  F_res = −2‖r‖²/⟨u, r⟩,
//! and the half-width of its confidence interval is F_err·‖q′ − c′‖ with
//!   F_err = 2ε₀‖r‖·√((‖r‖²‖u‖²/⟨u, r⟩² − 1)/(D − 1)).

use super::rotation::SplitMix;

/// Estimator factors of one code.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Factors {
    pub add: f32,
    pub res: f32,
    pub err: f32,
}

/// One encoded residual: its B-bit code per component (the top bit is the
/// sign bit the 1-bit FastScan pass uses) and both factor sets.
pub struct Encoded {
    pub code: Vec<u8>,
    pub one_bit: Factors,
    pub ex: Factors,
}

/// The code of component value `v` with B = `bits`: sign bit · 2^(B−1) plus
/// the magnitude level, mirrored for negative values so that
/// u = code − (2^B − 1)/2 has the sign of v and |u| = level + ½.
#[inline]
fn code_of(v: f32, inv_norm: f32, t: f32, bits: u32) -> u8 {
    let top = (1u32 << (bits - 1)) - 1;
    let level = ((t * v.abs() * inv_norm + 1e-5).floor() as u32).min(top);
    if v >= 0.0 {
        (top + 1 + level) as u8
    } else {
        (top - level) as u8
    }
}

/// Encodes residual `r` around rotated centroid `c` (both of the padded width).
pub fn encode(r: &[f32], c: &[f32], bits: u32, t: f32, eps0: f32) -> Encoded {
    let norm = r.iter().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt();
    let inv = if norm > 0.0 { (1.0 / norm) as f32 } else { 0.0 };
    let code: Vec<u8> = r.iter().map(|&v| code_of(v, inv, t, bits)).collect();
    let half_range = ((1u32 << bits) - 1) as f64 / 2.0;
    let ex = factors(r, c, |i| code[i] as f64 - half_range, eps0);
    let one_bit = factors(r, c, |i| if r[i] >= 0.0 { 0.5 } else { -0.5 }, eps0);
    Encoded { code, one_bit, ex }
}

fn factors(r: &[f32], c: &[f32], u: impl Fn(usize) -> f64, eps0: f32) -> Factors {
    let (mut ur, mut uc, mut uu, mut rr) = (0f64, 0f64, 0f64, 0f64);
    for i in 0..r.len() {
        let (ui, ri) = (u(i), r[i] as f64);
        ur += ui * ri;
        uc += ui * c[i] as f64;
        uu += ui * ui;
        rr += ri * ri;
    }
    // A zero residual (the vector is its centroid) has an exact estimate:
    // the distance is ‖q′ − c′‖² with every factor zero.
    if rr == 0.0 || ur <= 0.0 {
        return Factors::default();
    }
    let d = r.len().max(2) as f64;
    let spread = (rr * uu / (ur * ur) - 1.0).max(0.0) / (d - 1.0);
    Factors {
        add: (rr + 2.0 * rr * uc / ur) as f32,
        res: (-2.0 * rr / ur) as f32,
        err: (2.0 * eps0 as f64 * rr.sqrt() * spread.sqrt()) as f32,
    }
}

/// The rescale t shared by every vector of an index (`faster_quantize_ex`):
/// the mean over 100 seeded Gaussian directions of the t maximising the
/// cosine between |u| and |o|. Fixed per (dim, bits), so builds never search it.
pub fn t_const(dim: usize, bits: u32) -> f32 {
    if bits == 1 {
        return 0.0;
    }
    let mut rng = SplitMix(0x7C0_457 ^ (dim as u64) << 8 ^ bits as u64);
    let mut total = 0f64;
    const PROBES: usize = 100;
    for _ in 0..PROBES {
        let mut o: Vec<f64> = (0..dim).map(|_| rng.gaussian().abs()).collect();
        let norm = o.iter().map(|v| v * v).sum::<f64>().sqrt();
        o.iter_mut().for_each(|v| *v /= norm);
        total += best_t(&o, bits);
    }
    (total / PROBES as f64) as f32
}

/// Grid search, then a finer grid around the best point.
fn best_t(o: &[f64], bits: u32) -> f64 {
    let top = ((1u32 << (bits - 1)) - 1) as f64;
    let max = o.iter().cloned().fold(0.0, f64::max);
    let (mut lo, mut hi) = (0.0, (top + 1.0) / max * 4.0);
    let mut best = (f64::MIN, 0.0);
    for _ in 0..2 {
        let step = (hi - lo) / 256.0;
        for s in 1..=256 {
            let t = lo + step * s as f64;
            let c = cosine_at(o, t, top);
            if c > best.0 {
                best = (c, t);
            }
        }
        (lo, hi) = ((best.1 - step).max(0.0), best.1 + step);
    }
    best.1
}

fn cosine_at(o: &[f64], t: f64, top: f64) -> f64 {
    let (mut dot, mut uu) = (0f64, 0f64);
    for &v in o {
        let u = (t * v + 1e-5).floor().min(top) + 0.5;
        dot += u * v;
        uu += u * u;
    }
    dot / uu.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_the_sign_in_the_top_bit_and_mirror_negatives() {
        for bits in 1..=8 {
            let half = 1u8 << (bits - 1);
            assert!(code_of(0.3, 1.0, 5.0, bits) >= half);
            assert!(code_of(-0.3, 1.0, 5.0, bits) < half);
            let top = half - 1;
            assert_eq!(code_of(-1e9, 1.0, 5.0, bits), 0);
            assert_eq!(code_of(1e9, 1.0, 5.0, bits), half + top);
        }
    }

    #[test]
    fn estimate_is_close_for_many_bits_and_exact_for_a_zero_residual() {
        let d = 128;
        let mut rng = SplitMix(3);
        let r: Vec<f32> = (0..d).map(|_| rng.gaussian() as f32).collect();
        let c: Vec<f32> = (0..d).map(|_| rng.gaussian() as f32).collect();
        let q: Vec<f32> = (0..d).map(|_| rng.gaussian() as f32).collect();
        let truth: f64 = (0..d).map(|i| ((r[i] + c[i] - q[i]) as f64).powi(2)).sum();
        let g_add: f64 = (0..d).map(|i| ((q[i] - c[i]) as f64).powi(2)).sum();
        let e = encode(&r, &c, 8, t_const(d, 8), 1.9);
        let uq: f64 = (0..d).map(|i| (e.code[i] as f64 - 127.5) * q[i] as f64).sum();
        let est = e.ex.add as f64 + g_add + e.ex.res as f64 * uq;
        assert!((est - truth).abs() < truth * 0.02, "estimate {est} vs {truth}");
        let zero = encode(&vec![0.0; d], &c, 4, 1.0, 1.9);
        assert_eq!((zero.ex, zero.one_bit), (Factors::default(), Factors::default()));
    }
}
