//! The principal subspace k-means takes its rough steps in when rows are wide: the top
//! `rank` axes of the sample's covariance, by block subspace iteration
//! (Z = C·Q, then Gram–Schmidt in f64). Lloyd's cost is linear in the width,
//! and on real data most of the spread between clusters lies in the leading
//! axes, so wide rows cluster almost as well in far fewer dimensions.
//! Everything runs in a fixed order, so a seed fixes the basis.

use rayon::prelude::*;

use super::kmeans::{dots, CHUNK};
use super::rotation::SplitMix;

/// Rows the covariance is estimated from (the sample is shuffled, so its
/// first rows are a random subset).
const FIT_ROWS: usize = 4096;
/// Rows per partial covariance: the partials are summed in order, so the
/// result does not depend on the thread count.
const FIT_BLOCK: usize = 1024;
const ITERATIONS: usize = 8;

/// `rank` orthonormal axes (rank × dim, row-major).
pub struct Basis {
    dim: usize,
    axes: Vec<f32>,
}

impl Basis {
    /// The top-`rank` principal axes of `sample` (rows × dim).
    pub fn fit(sample: &[f32], dim: usize, rank: usize, seed: u64) -> Self {
        let rows = &sample[..(sample.len() / dim).min(FIT_ROWS) * dim];
        let cov = covariance(rows, dim);
        let mut rng = SplitMix(seed ^ 0x00C0_5A11);
        let mut axes: Vec<f32> = (0..rank * dim).map(|_| rng.gaussian() as f32).collect();
        orthonormalise(&mut axes, dim);
        for _ in 0..ITERATIONS {
            // C is symmetric, so row i of Q·C is (C·qᵢ)ᵀ.
            axes = dots(&axes, &cov, dim);
            orthonormalise(&mut axes, dim);
        }
        Self { dim, axes }
    }

    /// Coordinates of `rows` (n × dim) on the axes (n × rank). Without
    /// centring: distances between projections are what k-means needs.
    pub fn project(&self, rows: &[f32]) -> Vec<f32> {
        rows.par_chunks(CHUNK * self.dim).flat_map_iter(|chunk| dots(chunk, &self.axes, self.dim)).collect()
    }
}

/// The covariance (dim × dim) of `rows` about their mean, in f32 from
/// partial Gram matrices of f32 rows summed in f64.
fn covariance(rows: &[f32], dim: usize) -> Vec<f32> {
    let n = rows.len() / dim;
    let mut mean = vec![0f64; dim];
    for r in rows.chunks_exact(dim) {
        mean.iter_mut().zip(r).for_each(|(m, &v)| *m += v as f64);
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
    let centred: Vec<f32> = rows.chunks_exact(dim).flat_map(|r| r.iter().zip(&mean).map(|(&v, &m)| (v as f64 - m) as f32)).collect();
    let partials: Vec<Vec<f32>> = centred.par_chunks(FIT_BLOCK * dim).map(|x| gram(x, dim)).collect();
    let mut sum = vec![0f64; dim * dim];
    for p in &partials {
        sum.iter_mut().zip(p).for_each(|(s, &v)| *s += v as f64);
    }
    sum.iter().map(|&s| (s / n.max(1) as f64) as f32).collect()
}

/// Xᵀ·X (dim × dim) of `x` (m × dim).
fn gram(x: &[f32], dim: usize) -> Vec<f32> {
    let m = x.len() / dim;
    let mut out = vec![0f32; dim * dim];
    // SAFETY: Xᵀ is `x` read with swapped strides (dim × m), X is `x`
    // (m × dim), `out` is dim × dim.
    unsafe {
        matrixmultiply::sgemm(dim, m, dim, 1.0, x.as_ptr(), 1, dim as isize, x.as_ptr(), dim as isize, 1, 0.0, out.as_mut_ptr(), dim as isize, 1);
    }
    out
}

/// Modified Gram–Schmidt over the rows of `axes`, in f64; a row that
/// vanishes (rank-deficient data) becomes zero and projects nothing.
fn orthonormalise(axes: &mut [f32], dim: usize) {
    let mut done: Vec<Vec<f64>> = Vec::with_capacity(axes.len() / dim);
    for row in axes.chunks_exact_mut(dim) {
        let mut v: Vec<f64> = row.iter().map(|&x| x as f64).collect();
        let scale = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        for u in &done {
            let d: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(a, b)| *a -= d * b);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let keep = norm > 1e-9 * scale.max(f64::MIN_POSITIVE);
        v.iter_mut().for_each(|a| *a = if keep { *a / norm } else { 0.0 });
        row.iter_mut().zip(&v).for_each(|(r, &a)| *r = a as f32);
        done.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_plane_the_rows_spread_in() {
        // Rows spread mostly along e0 and e1 of 16 dims, slightly along the rest.
        let dim = 16;
        let mut rng = SplitMix(5);
        let mut rows = Vec::new();
        for _ in 0..3000 {
            let big = [10.0 * rng.gaussian(), 5.0 * rng.gaussian()];
            rows.extend((0..dim).map(|j| (if j < 2 { big[j] } else { 0.0 } + 0.1 * rng.gaussian()) as f32));
        }
        let basis = Basis::fit(&rows, dim, 2, 1);
        assert_eq!(basis.axes.len(), 2 * dim);
        for (i, axis) in basis.axes.chunks_exact(dim).enumerate() {
            let norm: f32 = axis.iter().map(|v| v * v).sum();
            assert!((norm - 1.0).abs() < 1e-4, "axis {i} norm² {norm}");
            let in_plane = axis[0] * axis[0] + axis[1] * axis[1];
            assert!(in_plane > 0.999, "axis {i} leaves the plane: {axis:?}");
        }
        let p = basis.project(&rows[..dim]);
        let want = (rows[0] * rows[0] + rows[1] * rows[1]).sqrt();
        assert!((p.iter().map(|v| v * v).sum::<f32>().sqrt() - want).abs() < 0.05 * want);
        // Rank-deficient data: the surplus axes are zero, never NaN.
        let flat = vec![1.0f32; 100 * dim];
        let b = Basis::fit(&flat, dim, 3, 1);
        assert!(b.axes.iter().all(|v| v.is_finite()));
    }
}
