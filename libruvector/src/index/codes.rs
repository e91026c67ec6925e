//! Rebuilding the codes-only `RabitqIndex` from saved codes. Upstream offers no
//! constructor from codes, so each row is synthesised as a vector whose
//! encoding reproduces the saved bits and norm exactly (rotation^T of the ±1
//! sign pattern, scaled), re-added through upstream's own `add`, and the result
//! is compared bit for bit with the file.

use rayon::prelude::*;
use ruvector_rabitq::{AnnIndex, RabitqIndex};

use crate::error::{Error, Result};

/// Encoded norm exactly as upstream computes it.
fn upstream_norm(v: &[f32]) -> f32 {
    v.iter().map(|&x| x * x).sum::<f32>().sqrt()
}

fn synthesise(matrix: &[f32], dim: usize, code: &[u64], norm: f32) -> Vec<f32> {
    let sign = |i: usize| if (code[i / 64] >> (63 - i % 64)) & 1 == 1 { 1.0f64 } else { -1.0 };
    let unit: Vec<f64> = (0..dim)
        .map(|j| (0..dim).map(|i| matrix[i * dim + j] as f64 * sign(i)).sum::<f64>() / (dim as f64).sqrt())
        .collect();
    let scaled = |s: f64| -> Vec<f32> { unit.iter().map(|&u| (u * s) as f32).collect() };
    // The f32 norm is monotone in the scale, so bisection finds a scale whose
    // rounded vector has exactly the saved norm.
    let (mut lo, mut hi) = (norm as f64 * 0.999, norm as f64 * 1.001);
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        let v = scaled(mid);
        match upstream_norm(&v).partial_cmp(&norm) {
            Some(std::cmp::Ordering::Less) => lo = mid,
            Some(std::cmp::Ordering::Greater) => hi = mid,
            _ => return v,
        }
    }
    nudge_to_norm(scaled(0.5 * (lo + hi)), norm)
}

/// Scaling alone misses some norms by an ulp or two. Any vector whose
/// rotation keeps the same signs encodes to the same bits, and each rotated
/// coordinate is at least norm/√dim away from zero, so one component may move
/// by far more than the ulps needed: bisect its bit pattern for the exact norm.
fn nudge_to_norm(mut v: Vec<f32>, norm: f32) -> Vec<f32> {
    let margin = norm / (4.0 * (v.len() as f32).sqrt());
    for j in 0..v.len() {
        let before = v[j];
        if let Some(x) = bisect_component(&mut v, j, norm, margin) {
            v[j] = x;
            return v;
        }
        v[j] = before;
    }
    v
}

fn bisect_component(v: &mut [f32], j: usize, norm: f32, margin: f32) -> Option<f32> {
    let centre = v[j];
    let at = |v: &mut [f32], x: f32| {
        v[j] = x;
        upstream_norm(v)
    };
    // Walk the magnitude of v[j] in ulps; the norm is monotone in it.
    let magnitude = centre.abs().to_bits() as i64;
    let sign = if centre < 0.0 { -1.0 } else { 1.0 };
    let value = |bits: i64| sign * f32::from_bits(bits.clamp(0, i64::from(f32::MAX.to_bits())) as u32);
    let (mut lo, mut hi) = (magnitude - (1 << 20), magnitude + (1 << 20));
    lo = lo.max(0);
    while (value(lo) - centre).abs() > margin {
        lo = (lo + magnitude) / 2 + 1;
    }
    while (value(hi) - centre).abs() > margin {
        hi = (hi + magnitude) / 2;
    }
    if at(v, value(lo)) > norm || at(v, value(hi)) < norm {
        return None;
    }
    while lo <= hi {
        let mid = (lo + hi) / 2;
        let got = at(v, value(mid));
        if got == norm {
            return Some(value(mid));
        }
        if got < norm {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    None
}

/// Rebuilds the index; rows are at positions 0..n.
pub fn rebuild(dim: usize, seed: u64, packed: &[u64], norms: &[f32]) -> Result<RabitqIndex> {
    let mut idx = RabitqIndex::new(dim, seed);
    let n_words = idx.n_words();
    let matrix = &idx.rotation().matrix;
    let rows: Vec<Vec<f32>> = packed
        .par_chunks_exact(n_words)
        .zip(norms.par_iter())
        .map(|(code, &norm)| synthesise(matrix, dim, code, norm))
        .collect();
    for (pos, v) in rows.into_iter().enumerate() {
        idx.add(pos, v)?;
    }
    if idx.packed() != packed || idx.norms() != norms {
        return Err(Error::persist("saved codes could not be reproduced by this build of the rotation (seed or dim mismatch?)"));
    }
    Ok(idx)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_rows_rebuild_exactly() {
        let mut x = 7u64;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        let mut original = RabitqIndex::new(64, 42);
        for pos in 0..500 {
            let mut v = vec![0f32; 64];
            v[..20].iter_mut().for_each(|c| *c = next());
            original.add(pos, v).unwrap();
        }
        let rebuilt = rebuild(64, 42, original.packed(), original.norms()).unwrap();
        assert_eq!(rebuilt.packed(), original.packed());
    }

    #[test]
    fn synthesised_rows_reproduce_codes_and_norms_exactly() {
        for dim in [1usize, 7, 64, 128, 768] {
            let words = dim.div_ceil(64);
            let (mut codes, mut norms) = (Vec::new(), Vec::new());
            for t in 0..400u64 {
                let mut code: Vec<u64> = (0..words as u64).map(|w| (t + w).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xdead_beef).collect();
                if dim % 64 != 0 {
                    *code.last_mut().unwrap() &= !0u64 << (64 - dim % 64);
                }
                codes.extend(code);
                norms.push(0.001 + t as f32 * 0.0173);
            }
            let rebuilt = rebuild(dim, 42, &codes, &norms).unwrap_or_else(|e| panic!("dim {dim}: {e}"));
            assert_eq!(rebuilt.norms(), &norms[..], "dim {dim}");
            assert_eq!(rebuilt.packed(), &codes[..], "dim {dim}");
        }
    }
}
