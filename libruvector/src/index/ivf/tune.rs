//! Self-tuning: the smallest nprobe at which held-out own rows reach the
//! target recall@10 (plus a margin for the sample's noise) against their exact
//! neighbours from the flat kernel, leaving each query row out of its own
//! answer. The result becomes the index's default nprobe.

use rayon::prelude::*;

use super::rotation::SplitMix;
use super::{IvfRabitqIndex, CALIBRATION_K};
use crate::error::Result;
use crate::index::Rows;
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
    let rows = Rows::from_flat(dim, prepared.to_vec());
    let k = CALIBRATION_K.min(n.saturating_sub(1)).max(1);
    let truth: Vec<Vec<u32>> = picks.par_iter().map(|&p| without(rows.scan(rows.row(p), k + 1, None), p, k)).collect();
    let aim = target + MARGIN.min((1.0 - target) / 2.0);
    let recall_at = |nprobe: usize| recall(index, &rows, &picks, &truth, k, nprobe);
    let (mut lo, mut hi) = (1, index.nlist());
    let mut best = (hi, recall_at(hi));
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
    index.params.options.nprobe = best.0;
    Ok(Calibration { target_recall: target, measured_recall: best.1, nprobe: best.0 as u32, queries: picks.len() as u32 })
}

fn without(hits: Vec<(u32, f32)>, own: usize, k: usize) -> Vec<u32> {
    hits.into_iter().map(|h| h.0).filter(|&p| p as usize != own).take(k).collect()
}

fn recall(index: &IvfRabitqIndex, rows: &Rows, picks: &[usize], truth: &[Vec<u32>], k: usize, nprobe: usize) -> f32 {
    let kern = kernels::active();
    let rerank = index.params.options.rerank;
    let found: usize = picks
        .par_iter()
        .zip(truth)
        .map(|(&p, t)| {
            let got = without(index.search_prepared(kern, rows.row(p), k + 1, nprobe, rerank, None), p, k);
            got.iter().filter(|g| t.contains(g)).count()
        })
        .sum();
    found as f32 / truth.iter().map(Vec::len).sum::<usize>().max(1) as f32
}
