//! The coarse quantizer: Lloyd k-means on a seeded sample, distances through
//! one sgemm per fixed 2,048-row chunk (‖c‖² − 2x·c; sgemm repacks the
//! centroids per call, so chunks are large), centroid sums in f64 per cluster
//! in row order. The early steps only place the centroids roughly, so they
//! run on a quarter of the sample; the last `FULL_STEPS` use all of it.
//! Nothing depends on the thread count, so a build is deterministic for a
//! given ISA (matrixmultiply picks its kernel at run time).

use rayon::prelude::*;

use super::rotation::SplitMix;

const CHUNK: usize = 2048;
const FULL_STEPS: usize = 3;

/// Nearest centroid (ties → lower id) and the squared distance to it.
pub fn assign(rows: &[f32], dim: usize, centroids: &[f32]) -> (Vec<u32>, Vec<f32>) {
    let nlist = centroids.len() / dim;
    let c_norms: Vec<f32> = centroids.chunks_exact(dim).map(|c| c.iter().map(|v| v * v).sum()).collect();
    let per_chunk: Vec<(Vec<u32>, Vec<f32>)> = rows
        .par_chunks(CHUNK * dim)
        .map(|chunk| {
            let m = chunk.len() / dim;
            let mut dots = vec![0f32; m * nlist];
            // SAFETY: the strides describe `chunk` (m × dim), `centroids`
            // read as its transpose (dim × nlist) and `dots` (m × nlist).
            unsafe {
                matrixmultiply::sgemm(
                    m, dim, nlist, 1.0, chunk.as_ptr(), dim as isize, 1, centroids.as_ptr(), 1, dim as isize, 0.0,
                    dots.as_mut_ptr(), nlist as isize, 1,
                );
            }
            let mut labels = Vec::with_capacity(m);
            let mut dists = Vec::with_capacity(m);
            for (row, d) in chunk.chunks_exact(dim).zip(dots.chunks_exact(nlist)) {
                let (mut best, mut at) = (f32::INFINITY, 0);
                for (j, (&dot, &cn)) in d.iter().zip(&c_norms).enumerate() {
                    let s = cn - 2.0 * dot;
                    if s < best {
                        (best, at) = (s, j);
                    }
                }
                let norm: f32 = row.iter().map(|v| v * v).sum();
                labels.push(at as u32);
                dists.push((best + norm).max(0.0));
            }
            (labels, dists)
        })
        .collect();
    let mut labels = Vec::with_capacity(rows.len() / dim);
    let mut dists = Vec::with_capacity(rows.len() / dim);
    for (l, d) in per_chunk {
        labels.extend(l);
        dists.extend(d);
    }
    (labels, dists)
}

/// Trains `nlist` centroids on at most `sample` rows with `iters` Lloyd steps.
pub fn train(rows: &[f32], dim: usize, nlist: usize, sample: usize, iters: usize, seed: u64) -> Vec<f32> {
    let n = rows.len() / dim;
    let mut rng = SplitMix(seed ^ 0x4B4D_45414E53);
    let picked = sample_positions(n, sample.max(nlist).min(n), &mut rng);
    let train: Vec<f32> = picked.iter().flat_map(|&p| &rows[p * dim..(p + 1) * dim]).copied().collect();
    let mut centroids: Vec<f32> = train[..nlist * dim].to_vec();
    let rough = (picked.len() / 4).max(nlist) * dim;
    for step in 0..iters {
        let rows = if step + FULL_STEPS < iters { &train[..rough] } else { &train[..] };
        let (labels, dists) = assign(rows, dim, &centroids);
        centroids = update(rows, dim, nlist, &labels, &dists);
    }
    centroids
}

/// `k` distinct positions of 0..n, shuffled (partial Fisher–Yates), so the
/// first nlist of them also serve as the initial centroids.
fn sample_positions(n: usize, k: usize, rng: &mut SplitMix) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + rng.below(n - i);
        all.swap(i, j);
    }
    all.truncate(k);
    all
}

/// Cluster means; an empty cluster takes the point farthest from its centroid
/// in the currently largest cluster.
fn update(train: &[f32], dim: usize, nlist: usize, labels: &[u32], dists: &[f32]) -> Vec<f32> {
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); nlist];
    for (i, &l) in labels.iter().enumerate() {
        members[l as usize].push(i as u32);
    }
    let mut centroids: Vec<f32> = members
        .par_iter()
        .flat_map_iter(|m| mean(train, dim, m))
        .collect();
    let mut taken = vec![false; labels.len()];
    let mut sizes: Vec<usize> = members.iter().map(Vec::len).collect();
    for empty in (0..nlist).filter(|&j| members[j].is_empty()) {
        let largest = (0..nlist).max_by_key(|&j| (sizes[j], std::cmp::Reverse(j))).unwrap_or(0);
        let far = members[largest]
            .iter()
            .copied()
            .filter(|&i| !taken[i as usize])
            .max_by(|&a, &b| dists[a as usize].total_cmp(&dists[b as usize]).then(b.cmp(&a)));
        if let Some(i) = far {
            taken[i as usize] = true;
            sizes[largest] -= 1;
            let i = i as usize;
            centroids[empty * dim..(empty + 1) * dim].copy_from_slice(&train[i * dim..(i + 1) * dim]);
        }
    }
    centroids
}

fn mean(train: &[f32], dim: usize, members: &[u32]) -> Vec<f32> {
    let mut sum = vec![0f64; dim];
    for &i in members {
        for (s, &v) in sum.iter_mut().zip(&train[i as usize * dim..(i as usize + 1) * dim]) {
            *s += v as f64;
        }
    }
    let n = members.len().max(1) as f64;
    sum.iter().map(|s| (s / n) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_separated_clusters_and_fills_empty_ones() {
        let dim = 8;
        let mut rows = Vec::new();
        for i in 0..300 {
            let centre = (i % 3) as f32 * 100.0;
            rows.extend((0..dim).map(|j| centre + ((i * 7 + j) % 5) as f32 * 0.01));
        }
        let c = train(&rows, dim, 3, 300, 10, 1);
        let mut firsts: Vec<i32> = c.chunks_exact(dim).map(|c| c[0].round() as i32).collect();
        firsts.sort();
        assert_eq!(firsts, vec![0, 100, 200]);
        let (labels, _) = assign(&rows, dim, &c);
        assert!(labels.chunks(3).all(|w| w == &labels[..3]));
        // Four clusters over rows that are all equal: no NaN, every centroid is the row.
        let same = vec![1.5f32; 10 * dim];
        let c = train(&same, dim, 4, 10, 5, 1);
        assert!(c.iter().all(|&v| v == 1.5));
    }
}
