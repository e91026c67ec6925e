//! The coarse quantizer: Lloyd k-means on a seeded sample, distances through
//! one sgemm per fixed 2,048-row chunk (‖c‖² − 2x·c; sgemm repacks the
//! centroids per call, so chunks are large), centroid sums in f64 per cluster
//! in row order. The early steps only place the centroids roughly, so they
//! run on a quarter of the sample; the last `FULL_STEPS` use all of it.
//! Nothing depends on the thread count, so a build is deterministic for a
//! given ISA (matrixmultiply picks its kernel at run time).

use rayon::prelude::*;

use super::rotation::SplitMix;

pub(crate) const CHUNK: usize = 2048;
const FULL_STEPS: usize = 3;

/// Nearest centroid (ties → lower id) and the squared distance to it.
pub fn assign(rows: &[f32], dim: usize, centroids: &[f32]) -> (Vec<u32>, Vec<f32>) {
    let nlist = centroids.len() / dim;
    let c_norms: Vec<f32> = centroids.chunks_exact(dim).map(|c| c.iter().map(|v| v * v).sum()).collect();
    let per_chunk: Vec<(Vec<u32>, Vec<f32>)> = rows
        .par_chunks(CHUNK * dim)
        .map(|chunk| {
            let m = chunk.len() / dim;
            let dots = dots(chunk, centroids, dim);
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

/// ⟨aᵢ, bⱼ⟩ for the rows of `a` (m × dim) against the rows of `b` (n × dim),
/// as an m × n row-major block: one sgemm.
pub fn dots(a: &[f32], b: &[f32], dim: usize) -> Vec<f32> {
    let (m, n) = (a.len() / dim, b.len() / dim);
    let mut out = vec![0f32; m * n];
    // SAFETY: the strides describe `a` (m × dim), `b` read as its transpose
    // (dim × n) and `out` (m × n).
    unsafe {
        matrixmultiply::sgemm(m, dim, n, 1.0, a.as_ptr(), dim as isize, 1, b.as_ptr(), 1, dim as isize, 0.0, out.as_mut_ptr(), n as isize, 1);
    }
    out
}

/// Trains `nlist` centroids on at most `sample` rows with `iters` Lloyd
/// steps; from [`TREE_MIN_LISTS`] lists on through a two-level tree.
pub fn train(rows: &[f32], dim: usize, nlist: usize, sample: usize, iters: usize, seed: u64) -> Vec<f32> {
    let n = rows.len() / dim;
    let picked = shuffled_positions(n, trained_rows(n, nlist, sample), seed);
    let train: Vec<f32> = picked.iter().flat_map(|&p| &rows[p * dim..(p + 1) * dim]).copied().collect();
    if nlist >= TREE_MIN_LISTS {
        return train_tree(&train, dim, nlist, iters);
    }
    lloyd(&train, dim, nlist, iters)
}

/// The first quarter of a shuffled sample (at least nlist rows): what the
/// early steps run on.
fn rough_rows(train: &[f32], dim: usize, nlist: usize) -> &[f32] {
    &train[..(train.len() / dim / 4).max(nlist) * dim]
}

/// `count` Lloyd steps over all of `rows` from `centroids`.
fn steps(rows: &[f32], dim: usize, nlist: usize, count: usize, centroids: &[f32]) -> Vec<f32> {
    let mut centroids = centroids.to_vec();
    for _ in 0..count {
        let (labels, dists) = assign(rows, dim, &centroids);
        centroids = update(rows, dim, nlist, &labels, &dists);
    }
    centroids
}

/// Lloyd steps from the first `nlist` rows of `train` (a shuffled sample),
/// the early ones on its first quarter.
fn lloyd(train: &[f32], dim: usize, nlist: usize, iters: usize) -> Vec<f32> {
    let rough_steps = iters.saturating_sub(FULL_STEPS);
    let centroids = steps(rough_rows(train, dim, nlist), dim, nlist, rough_steps, &train[..nlist * dim]);
    steps(train, dim, nlist, iters - rough_steps, &centroids)
}

/// From this many lists on, flat Lloyd steps (cost ∝ sample × nlist, so
/// ∝ nlist²) give way to the two-level tree (∝ nlist^1.5).
const TREE_MIN_LISTS: usize = 2048;

/// Two-level k-means (FAISS's `two_level_clustering`): √nlist parents over
/// the whole sample, then each parent's members split into children, as many
/// as its share of the sample; one flat Lloyd step over the whole sample then
/// moves the rows that lie nearer another parent's children. On GloVe at
/// nlist 2048 training costs 0.39× of flat steps, and recall@10 at nprobe
/// 4–16 is 2–3.5 points lower (1 point lower still without the closing step).
fn train_tree(train: &[f32], dim: usize, nlist: usize, iters: usize) -> Vec<f32> {
    let children = split_tree(train, dim, nlist, iters);
    let (labels, dists) = assign(train, dim, &children);
    update(train, dim, nlist, &labels, &dists)
}

/// The children of `train_tree`, grouped by parent.
fn split_tree(train: &[f32], dim: usize, nlist: usize, iters: usize) -> Vec<f32> {
    let parents = lloyd(train, dim, (nlist as f64).sqrt().round() as usize, iters);
    let (labels, _) = assign(train, dim, &parents);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); parents.len() / dim];
    for (i, &l) in labels.iter().enumerate() {
        members[l as usize].push(i as u32);
    }
    let shares = proportional_shares(nlist, &members.iter().map(Vec::len).collect::<Vec<_>>());
    let children: Vec<Vec<f32>> = members
        .par_iter()
        .zip(shares)
        .map(|(m, share)| {
            let rows: Vec<f32> = m.iter().flat_map(|&i| &train[i as usize * dim..(i as usize + 1) * dim]).copied().collect();
            if share == 0 { Vec::new() } else { lloyd(&rows, dim, share, iters) }
        })
        .collect();
    children.concat()
}

/// `total` split over groups of `sizes` in proportion (D'Hondt: each next
/// unit to the largest size per unit held, ties → lower index), every
/// non-empty group at least one and none more than its size. Needs
/// Σ sizes ≥ total ≥ the number of non-empty groups.
fn proportional_shares(total: usize, sizes: &[usize]) -> Vec<usize> {
    let mut shares: Vec<usize> = sizes.iter().map(|&s| (s > 0) as usize).collect();
    for _ in shares.iter().sum::<usize>()..total {
        let next = (0..sizes.len())
            .filter(|&j| shares[j] < sizes[j])
            .max_by(|&a, &b| (sizes[a] * shares[b]).cmp(&(sizes[b] * shares[a])).then(b.cmp(&a)));
        match next {
            Some(j) => shares[j] += 1,
            None => break,
        }
    }
    shares
}

/// `k` distinct positions of 0..n, shuffled (partial Fisher–Yates), so the
/// first nlist of them also serve as the initial centroids.
/// How many of n rows `train` learns from, given the sample it is allowed.
pub fn trained_rows(n: usize, nlist: usize, sample: usize) -> usize {
    sample.max(nlist).min(n)
}

/// The first `k` positions of a seeded shuffle of 0..n: `train` learns from
/// the first `trained_rows`, so those after them are rows it never saw.
pub fn shuffled_positions(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix(seed ^ 0x4B4D_45414E53);
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

    #[test]
    fn shares_follow_sizes_and_respect_bounds() {
        assert_eq!(proportional_shares(10, &[50, 30, 20]), vec![5, 3, 2]);
        // Every non-empty group gets one, none more than its size, empty ones none.
        assert_eq!(proportional_shares(6, &[100, 1, 0, 2]), vec![4, 1, 0, 1]);
        assert_eq!(proportional_shares(5, &[3, 1, 0, 2]), vec![2, 1, 0, 2]);
        assert_eq!(proportional_shares(7, &[4, 1, 1, 1]), vec![4, 1, 1, 1]);
        // Ties go to the lower index.
        assert_eq!(proportional_shares(3, &[4, 4]), vec![2, 1]);
    }

    #[test]
    fn the_tree_trains_nlist_centroids_near_their_rows() {
        let (dim, n) = (4, TREE_MIN_LISTS * 3);
        let mut rng = SplitMix(3);
        let rows: Vec<f32> = (0..n * dim).map(|_| rng.gaussian() as f32).collect();
        let tree = train(&rows, dim, TREE_MIN_LISTS, n, 4, 9);
        assert_eq!(tree.len(), TREE_MIN_LISTS * dim);
        assert!(tree.iter().all(|v| v.is_finite()));
        // As good a quantizer as flat Lloyd steps with as many lists (within 10 %).
        let flat = lloyd(&rows, dim, TREE_MIN_LISTS, 4);
        let mse = |c: &[f32]| assign(&rows, dim, c).1.iter().map(|&d| d as f64).sum::<f64>() / n as f64;
        let (t, f) = (mse(&tree), mse(&flat));
        assert!(t < 1.1 * f, "tree mse {t} vs flat {f}");
        assert_eq!(train(&rows, dim, TREE_MIN_LISTS, n, 4, 9), tree, "same seed, same centroids");
    }
}
