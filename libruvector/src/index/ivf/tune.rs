//! Self-tuning: the smallest nprobe at which held-out own rows reach the
//! target recall@10 (plus a margin for the sample's noise) against their exact
//! neighbours (through sgemm), leaving each query row out of its own answer.
//! The result becomes the index's default nprobe.

use rayon::prelude::*;

use super::kmeans;
use super::rotation::SplitMix;
use super::{IvfRabitqIndex, CALIBRATION_K};
use crate::error::Result;
use crate::index::topk::TopK;
use crate::kernels;

const QUERIES: usize = 256;
/// Own rows are slightly easier than unseen queries; aim this much higher
/// (but at most half-way to 1, so 0.99 does not demand a perfect sample).
const MARGIN: f32 = 0.015;

/// What calibration measured, stored with the index.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    pub target_recall: f32,
    /// Recall@10 measured on the held-out rows at the chosen nprobe.
    pub measured_recall: f32,
    pub nprobe: u32,
    pub queries: u32,
}

pub fn calibrate(index: &mut IvfRabitqIndex, prepared: &[f32], target: f32) -> Result<Calibration> {
    let dim = index.params.dim;
    let n = prepared.len() / dim;
    let mut rng = SplitMix(index.params.seed ^ 0x7E57);
    let mut picks: Vec<usize> = (0..QUERIES.min(n)).map(|_| rng.below(n)).collect();
    picks.sort_unstable();
    picks.dedup();
    let k = CALIBRATION_K.min(n.saturating_sub(1)).max(1);
    let truth = exact_neighbours(prepared, dim, &picks, k);
    let aim = target + MARGIN.min((1.0 - target) / 2.0);
    let recall_at = |nprobe: usize| recall(index, prepared, &picks, &truth, k, nprobe);
    let best = smallest_reaching(index.nlist(), aim, recall_at);
    index.params.options.nprobe = best.0;
    Ok(Calibration { target_recall: target, measured_recall: best.1, nprobe: best.0 as u32, queries: picks.len() as u32 })
}

/// The smallest nprobe in 1..=nlist whose recall reaches `aim` (recall grows
/// with nprobe), with that recall; nlist when none does. Doubling first and
/// bisecting the last step keeps the probes near the answer: a search of
/// every list costs as much as all the small ones together.
fn smallest_reaching(nlist: usize, aim: f32, recall_at: impl Fn(usize) -> f32) -> (usize, f32) {
    let mut lo = 1;
    let mut probe = 1;
    let mut best = loop {
        let r = recall_at(probe);
        if r >= aim || probe == nlist {
            break (probe, r);
        }
        lo = probe + 1;
        probe = (2 * probe).min(nlist);
    };
    let mut hi = best.0;
    while lo < hi {
        let mid = (lo + hi) / 2;
        let r = recall_at(mid);
        if r >= aim {
            best = (mid, r);
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    best
}

/// Queries per sgemm of [`exact_neighbours`]: enough to use the kernel well,
/// few enough that both cores get blocks.
const QUERY_BLOCK: usize = 64;

/// The `k` nearest rows of each picked row, leaving the row itself out,
/// ranked by ‖x‖² − 2⟨q, x⟩ (the query's own norm ranks nothing) through one
/// sgemm per block of rows: the flat scan's answer at GEMM speed.
fn exact_neighbours(rows: &[f32], dim: usize, picks: &[usize], k: usize) -> Vec<Vec<u32>> {
    let norms: Vec<f32> = rows.par_chunks_exact(dim).map(|r| r.iter().map(|v| v * v).sum()).collect();
    let queries: Vec<f32> = picks.iter().flat_map(|&p| &rows[p * dim..(p + 1) * dim]).copied().collect();
    let block_rows = kmeans::CHUNK;
    picks
        .par_chunks(QUERY_BLOCK)
        .zip(queries.par_chunks(QUERY_BLOCK * dim))
        .flat_map_iter(|(own, qs)| {
            let mut tops: Vec<TopK> = own.iter().map(|_| TopK::new(k)).collect();
            for (b, block) in rows.chunks(block_rows * dim).enumerate() {
                let dots = kmeans::dots(qs, block, dim);
                let first = b * block_rows;
                for ((top, &p), d) in tops.iter_mut().zip(own).zip(dots.chunks_exact(block.len() / dim)) {
                    for (j, &dot) in d.iter().enumerate() {
                        let pos = first + j;
                        if pos != p {
                            top.push(pos as u32, norms[pos] - 2.0 * dot);
                        }
                    }
                }
            }
            tops.into_iter().map(|t| t.into_sorted().into_iter().map(|h| h.0).collect::<Vec<u32>>()).collect::<Vec<_>>()
        })
        .collect()
}

fn without(hits: Vec<(u32, f32)>, own: usize, k: usize) -> Vec<u32> {
    hits.into_iter().map(|h| h.0).filter(|&p| p as usize != own).take(k).collect()
}

fn recall(index: &IvfRabitqIndex, rows: &[f32], picks: &[usize], truth: &[Vec<u32>], k: usize, nprobe: usize) -> f32 {
    let kern = kernels::active();
    let (dim, rerank) = (index.params.dim, index.params.options.rerank);
    let found: usize = picks
        .par_iter()
        .zip(truth)
        .map(|(&p, t)| {
            let got = without(index.search_prepared(kern, &rows[p * dim..(p + 1) * dim], k + 1, nprobe, rerank, None), p, k);
            got.iter().filter(|g| t.contains(g)).count()
        })
        .sum();
    found as f32 / truth.iter().map(Vec::len).sum::<usize>().max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Rows;

    #[test]
    fn finds_the_smallest_reaching_nprobe_probing_near_it() {
        for (nlist, answer) in [(1024, 11), (1024, 1), (1024, 1024), (7, 5), (1, 1)] {
            let probed = std::cell::RefCell::new(Vec::new());
            let recall = |p: usize| {
                probed.borrow_mut().push(p);
                if p >= answer { 0.9 + p as f32 * 1e-6 } else { 0.5 }
            };
            assert_eq!(smallest_reaching(nlist, 0.8, recall), (answer, 0.9 + answer as f32 * 1e-6));
            assert!(probed.borrow().iter().all(|&p| p <= 2 * answer), "nlist {nlist}: probed {:?}", probed.borrow());
        }
        assert_eq!(smallest_reaching(8, 0.99, |_| 0.5), (8, 0.5), "none reaches: every list");
    }

    #[test]
    fn exact_neighbours_match_the_flat_scan() {
        let (dim, n) = (37, 5000);
        let mut rng = SplitMix(11);
        let rows: Vec<f32> = (0..n * dim).map(|_| rng.gaussian() as f32).collect();
        let picks = [0, 17, 2048, 4095, 4999];
        let got = exact_neighbours(&rows, dim, &picks, 10);
        let flat = Rows::from_flat(dim, rows.clone());
        for (&p, g) in picks.iter().zip(&got) {
            let want: Vec<u32> = without(flat.scan(flat.row(p), 11, None), p, 10);
            assert_eq!(g, &want, "row {p}");
        }
    }
}
