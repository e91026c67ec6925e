//! Self-tuning: the cheapest (nprobe, rerank) at which held-out own rows
//! reach the target recall@10 with confidence, against their exact
//! neighbours (through sgemm), leaving each query row out of its own answer.
//! The result becomes the index's default nprobe and rerank.
//!
//! The held-out rows are ones k-means did not train on (while there are
//! enough of them): rows it trained on sit nearer their centroids than an
//! unseen query does, which made own rows look easier. Held out, they are a
//! sample of queries like the data, so the aim is the target itself, met by
//! a one-sided confidence bound from the sample's per-query recall spread
//! (plus a small floor on the mean near 1, see `MEAN_FLOOR`) rather than by
//! a fixed 0.015 margin, which over-probes where recall rises slowly (near
//! the codes' plateau it cost several times the lists the target needs).

use std::cell::RefCell;
use std::collections::BTreeMap;

use rayon::prelude::*;

use super::kmeans;
use super::{sort_nearest, IvfRabitqIndex, CALIBRATION_K};
use crate::error::Result;
use crate::index::topk::TopK;
use crate::kernels::{self, Kernels};

/// Held-out rows measured: at least this many, more while their exact
/// neighbours stay cheap.
const MIN_QUERIES: usize = 256;
const MAX_QUERIES: usize = 512;
/// Multiply-adds of the exact neighbours (queries × n × dim) that buy
/// queries beyond `MIN_QUERIES`: about a tenth of a second on two cores.
const TRUTH_WORK: usize = 4_000_000_000;
/// Standard errors between the sample's mean recall and the bound that must
/// reach the target (one-sided, 99.5 % for a normal mean): the recall a
/// build promises is worth more than the few lists this adds.
const CONFIDENCE_Z: f64 = 2.58;
/// What the own rows' mean must clear besides the bound (at most half-way
/// to 1): on GloVe-100 unseen queries fell 0.002–0.005 below the own-row
/// mean at 0.99 (their hardest cases are rarer among the data's own rows),
/// more than the bound's spread covers there; at 0.95 the bound clears it.
const MEAN_FLOOR: f64 = 0.005;
/// Reranking one more candidate costs about as much as scanning this many
/// more rows of the probed lists: its exact distance from the store, and the
/// B-bit refinements the deeper candidate list lets through (measured per
/// query on GloVe-100: ~220, Fashion-MNIST: ~120).
const RERANK_ROW_COST: f64 = 160.0;
/// Reranks tried with a store, in multiples of k (0 = the codes' estimates).
const RERANK_MULTIPLES: [usize; 5] = [0, 1, 2, 3, 4];

/// What calibration measured, stored with the index.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    pub target_recall: f32,
    /// Mean recall@10 of the held-out rows at the chosen nprobe and rerank.
    pub measured_recall: f32,
    pub nprobe: u32,
    /// The rerank chosen (the caller's when the index keeps codes only).
    pub rerank: u32,
    pub queries: u32,
}

/// A sample's mean recall and the lower confidence bound on it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Measured {
    mean: f64,
    bound: f64,
}

impl Measured {
    /// Whether the sample shows recall `target` with confidence.
    fn reaches(&self, target: f64) -> bool {
        self.bound >= target && self.mean >= target + MEAN_FLOOR.min((1.0 - target) / 2.0)
    }

    fn of(per_query: impl ExactSizeIterator<Item = f64> + Clone) -> Self {
        let q = per_query.len().max(1) as f64;
        let mean = per_query.clone().sum::<f64>() / q;
        let var = per_query.map(|r| (r - mean).powi(2)).sum::<f64>() / (q - 1.0).max(1.0);
        Measured { mean, bound: mean - CONFIDENCE_Z * (var / q).sqrt() }
    }
}

/// The held-out rows, their exact neighbours and what probing costs them.
struct Sample<'a> {
    index: &'a IvfRabitqIndex,
    kern: &'static Kernels,
    rows: &'a [f32],
    picks: Vec<usize>,
    truth: Vec<Vec<u32>>,
    k: usize,
    /// Mean rows in the nearest p lists of a pick, for p in 0..=nlist.
    rows_probed: Vec<f64>,
}

pub fn calibrate(index: &mut IvfRabitqIndex, prepared: &[f32], target: f32) -> Result<Calibration> {
    let dim = index.params.dim;
    let n = prepared.len() / dim;
    let wanted = (TRUTH_WORK / (n * dim).max(1)).clamp(MIN_QUERIES, MAX_QUERIES).min(n);
    let p = &index.params;
    let trained = kmeans::trained_rows(n, index.nlist(), index.nlist().saturating_mul(p.train_per_list));
    let order = kmeans::shuffled_positions(n, (trained + wanted).min(n), p.seed);
    // Rows k-means never saw first; the last trained ones only when too few are left.
    let mut picks = order[order.len() - wanted..].to_vec();
    picks.sort_unstable();
    let k = CALIBRATION_K.min(n.saturating_sub(1)).max(1);
    let truth = exact_neighbours(prepared, dim, &picks, k);
    let reranks = rerank_choices(index, k);
    let queries = picks.len() as u32;
    let (nprobe, rerank, measured) = Sample::new(index, prepared, picks, truth, k).cheapest(&reranks, target as f64);
    index.params.options.nprobe = nprobe;
    index.params.options.rerank = rerank;
    Ok(Calibration { target_recall: target, measured_recall: measured.mean as f32, nprobe: nprobe as u32, rerank: rerank as u32, queries })
}

/// Reranks to try, ascending: with a store the multiples of k up to 4k (and
/// the caller's if deeper), with codes only the caller's (0).
fn rerank_choices(index: &IvfRabitqIndex, k: usize) -> Vec<usize> {
    let given = index.params.options.rerank;
    if index.store.kind() == super::StoreKind::None {
        return vec![given];
    }
    let mut r: Vec<usize> = RERANK_MULTIPLES.iter().map(|m| m * k).chain([given]).collect();
    r.sort_unstable();
    r.dedup();
    r
}

impl<'a> Sample<'a> {
    fn new(index: &'a IvfRabitqIndex, rows: &'a [f32], picks: Vec<usize>, truth: Vec<Vec<u32>>, k: usize) -> Self {
        let kern = kernels::active();
        let dim = index.params.dim;
        let sizes = index.list_sizes();
        let prefix: Vec<Vec<usize>> = picks
            .par_iter()
            .map(|&p| {
                let (qr, _) = index.rotated_query(kern, &rows[p * dim..(p + 1) * dim]);
                let mut order = index.centroid_distances(kern, &qr, None);
                sort_nearest(&mut order, usize::MAX);
                std::iter::once(0).chain(order.iter().scan(0, |s, &(_, l)| {
                    *s += sizes[l as usize];
                    Some(*s)
                })).collect()
            })
            .collect();
        let q = picks.len().max(1) as f64;
        let rows_probed = (0..=index.nlist()).map(|p| prefix.iter().map(|c| c[p] as f64).sum::<f64>() / q).collect();
        Sample { index, kern, rows, picks, truth, k, rows_probed }
    }

    fn cost(&self, nprobe: usize, rerank: usize) -> f64 {
        self.rows_probed[nprobe] + RERANK_ROW_COST * rerank as f64
    }

    fn row(&self, i: usize) -> &[f32] {
        let dim = self.index.params.dim;
        &self.rows[self.picks[i] * dim..(self.picks[i] + 1) * dim]
    }

    /// Recall of every rerank in `reranks` at `nprobe`, from one search per
    /// row keeping the deepest rerank's candidates: a shallower rerank takes
    /// their best-estimated prefix, as its own search would (up to the few
    /// rows its tighter candidate list lets the gate drop, which `cheapest`
    /// confirms).
    fn measure_prefixes(&self, nprobe: usize, reranks: &[usize]) -> Vec<Measured> {
        let deepest = *reranks.last().expect("at least one rerank");
        let k = self.k;
        let per_query: Vec<Vec<f64>> = (0..self.picks.len())
            .into_par_iter()
            .map(|i| {
                let q = self.row(i);
                let want = deepest.max(k) + 1;
                let hits = self.index.search_prepared(self.kern, q, want, nprobe, 0, None);
                let cands: Vec<(u32, f32)> = hits.into_iter().filter(|h| h.0 as usize != self.picks[i]).collect();
                let mut buf = Vec::new();
                let exact: Vec<f32> = cands.iter().take(deepest).map(|&(pos, est)| self.index.store.sq_l2(self.kern, q, pos as usize, &mut buf).unwrap_or(est)).collect();
                reranks
                    .iter()
                    .map(|&r| {
                        let found: Vec<u32> = if r == 0 {
                            cands.iter().take(k).map(|h| h.0).collect()
                        } else {
                            let mut top = TopK::new(k);
                            cands.iter().zip(&exact).take(r).for_each(|(h, &d)| top.offer(h.0, d));
                            top.into_sorted().into_iter().map(|h| h.0).collect()
                        };
                        self.hit_share(i, &found)
                    })
                    .collect()
            })
            .collect();
        (0..reranks.len()).map(|j| Measured::of(per_query.iter().map(|r| r[j]))).collect()
    }

    /// Recall at (nprobe, rerank) through the search itself; one more
    /// candidate is reranked for the row itself, which takes a place in the
    /// list that an unseen query's neighbour would have.
    fn measure(&self, nprobe: usize, rerank: usize) -> Measured {
        let own_rerank = if rerank > 0 { rerank + 1 } else { 0 };
        let per_query: Vec<f64> = (0..self.picks.len())
            .into_par_iter()
            .map(|i| {
                let hits = self.index.search_prepared(self.kern, self.row(i), self.k + 1, nprobe, own_rerank, None);
                let found: Vec<u32> = hits.into_iter().map(|h| h.0).filter(|&p| p as usize != self.picks[i]).take(self.k).collect();
                self.hit_share(i, &found)
            })
            .collect();
        Measured::of(per_query.iter().copied())
    }

    fn hit_share(&self, i: usize, found: &[u32]) -> f64 {
        let t = &self.truth[i];
        found.iter().filter(|g| t.contains(g)).count() as f64 / t.len().max(1) as f64
    }

    /// The (nprobe, rerank) of least cost whose bound reaches `target`, and
    /// what was measured there: the deepest rerank's smallest nprobe first,
    /// then each shallower rerank between there (it needs at least as many
    /// lists) and the nprobe where it would cost more than the best so far,
    /// looked at closer only when that dearest nprobe reaches. When nothing
    /// reaches, every list at the deepest rerank. A shallower rerank's
    /// prefix estimate is then confirmed through its own searches.
    fn cheapest(&self, reranks: &[usize], target: f64) -> (usize, usize, Measured) {
        let nlist = self.index.nlist();
        let memo = RefCell::new(BTreeMap::new());
        let at = |p: usize, j: usize| memo.borrow_mut().entry(p).or_insert_with(|| self.measure_prefixes(p, reranks))[j];
        let deepest = reranks.len() - 1;
        let Some(mut lo) = smallest_reaching(1, nlist, |p| at(p, deepest).reaches(target)) else {
            return (nlist, reranks[deepest], at(nlist, deepest));
        };
        let mut best = (lo, deepest);
        for j in (0..deepest).rev() {
            let budget = self.cost(best.0, reranks[best.1]);
            let Some(hi) = (lo..=nlist).take_while(|&p| self.cost(p, reranks[j]) < budget).last() else { continue };
            if !at(hi, j).reaches(target) {
                continue;
            }
            let p = smallest_reaching(lo, hi, |p| at(p, j).reaches(target)).unwrap_or(hi);
            (best, lo) = ((p, j), p);
        }
        if best.1 == deepest {
            return (best.0, reranks[deepest], at(best.0, deepest));
        }
        let rerank = reranks[best.1];
        let searched = RefCell::new(BTreeMap::new());
        let real = |p: usize| *searched.borrow_mut().entry(p).or_insert_with(|| self.measure(p, rerank));
        let p = smallest_reaching(best.0, nlist, |p| real(p).reaches(target)).unwrap_or(nlist);
        (p, rerank, real(p))
    }
}

/// Bisection stops once the answer is known to within this part of it.
const NPROBE_TOLERANCE: usize = 32;

/// A p in lo..=hi for which `reaches` holds (it holds for every larger p
/// once it holds), at most 1/32 above the smallest, or `None`. Doubling the
/// step from lo first and bisecting the last one keeps the probes near the
/// answer: a search of every list costs as much as all the small ones
/// together.
fn smallest_reaching(lo: usize, hi: usize, mut reaches: impl FnMut(usize) -> bool) -> Option<usize> {
    let (mut lo, mut step) = (lo, 1);
    let mut probe = lo;
    let mut found = loop {
        if probe > hi {
            return None;
        }
        if reaches(probe) {
            break probe;
        }
        if probe == hi {
            return None;
        }
        lo = probe + 1;
        probe = (probe + step).min(hi);
        step *= 2;
    };
    while found - lo > lo / NPROBE_TOLERANCE {
        let mid = (lo + found) / 2;
        if reaches(mid) {
            found = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(found)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::ivf::rotation::SplitMix;
    use crate::index::Rows;

    #[test]
    fn finds_the_smallest_reaching_nprobe_probing_near_it() {
        for (lo, hi, answer) in [(1, 1024, 11), (1, 1024, 1), (1, 1024, 1024), (1, 7, 5), (1, 1, 1), (9, 1024, 12), (9, 1024, 9), (3, 40, 40), (1, 1024, 700)] {
            let mut probed = Vec::new();
            let got = smallest_reaching(lo, hi, |p| {
                probed.push(p);
                p >= answer
            });
            let got = got.expect("reaches");
            assert!((answer..=answer + answer / NPROBE_TOLERANCE).contains(&got), "{lo}..={hi}: {got} for {answer}");
            assert!(probed.iter().all(|&p| (lo..=hi).contains(&p) && p - lo <= 2 * (answer - lo) + 1), "{lo}..={hi}: probed {probed:?}");
        }
        assert_eq!(smallest_reaching(1, 8, |_| false), None, "none reaches");
        assert_eq!(smallest_reaching(9, 8, |_| true), None, "empty range");
    }

    #[test]
    fn the_bound_sits_below_the_mean_by_the_spread_and_the_mean_clears_a_floor() {
        let even = Measured::of([1.0, 1.0, 1.0, 1.0].into_iter());
        assert_eq!(even, Measured { mean: 1.0, bound: 1.0 });
        let spread = Measured::of([1.0, 0.8, 1.0, 0.8].into_iter());
        let se = (0.04f64 / 3.0).sqrt() / 2.0;
        assert!((spread.mean - 0.9).abs() < 1e-12 && (spread.bound - (0.9 - CONFIDENCE_Z * se)).abs() < 1e-12, "{spread:?}");
        assert!(even.reaches(0.99) && !Measured { mean: 0.994, bound: 0.992 }.reaches(0.99) && Measured { mean: 0.9996, bound: 0.999 }.reaches(0.999));
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
            let want: Vec<u32> = flat.scan(flat.row(p), 11, None).into_iter().map(|h| h.0).filter(|&q| q as usize != p).take(10).collect();
            assert_eq!(g, &want, "row {p}");
        }
    }
}
