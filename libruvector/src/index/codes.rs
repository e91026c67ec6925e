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
    let scale = norm as f64 / (dim as f64).sqrt();
    let mut v: Vec<f32> = (0..dim)
        .map(|j| ((0..dim).map(|i| matrix[i * dim + j] as f64 * sign(i)).sum::<f64>() * scale) as f32)
        .collect();
    for _ in 0..16 {
        let got = upstream_norm(&v);
        if got == norm || got == 0.0 {
            break;
        }
        let adjust = norm as f64 / got as f64;
        v.iter_mut().for_each(|x| *x = (*x as f64 * adjust) as f32);
    }
    v
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
