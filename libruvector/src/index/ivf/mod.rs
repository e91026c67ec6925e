//! `IvfRabitqIndex`: a sub-linear engine of our own — IVF over k-means lists,
//! residuals coded with extended RaBitQ after an FHT-Kac rotation, searched by
//! a FastScan 1-bit pass, a lower-bound gate and a B-bit refinement, with an
//! optional f16/f32 store for a short exact rerank. Positions (0..n, in
//! insertion order) identify rows; the id map is the caller's (`VectorIndex`).
//!
//! Scores are squared L2 distances under `Metric::L2` and cosine distances
//! (1 − cos) under `Metric::Cosine`, estimated from the codes, or exact when
//! reranked from the store.

mod coarse;
mod encode;
mod factors16;
mod id_section;
mod kmeans;
mod lists;
pub mod persist;
mod profile;
mod rotation;
mod search;
pub mod slab;
mod store;
mod tune;
mod upgrade;

use rayon::prelude::*;

use super::{prepare, touch, Kind, Metric, Params, MAX_DIM};
use crate::error::{Error, Result, Status};
use crate::index::rowset::RowSet;
use crate::index::topk::TopK;
use crate::kernels::{self, Kernels};
use crate::runtime::Reporter;
use coarse::Coarse;
use lists::{InvList, Layout};
use rotation::Rotation;
use search::QueryLut;
pub use store::StoreKind;
use store::Store;
pub use profile::StageTime;
use profile::StageClock;
pub use tune::Calibration;

/// Recall@10 is what `target_recall` means.
pub(crate) const CALIBRATION_K: usize = 10;
const DEFAULT_EX_BITS: u32 = 7;

/// The build options a caller chooses (the rest of [`IvfParams`] are tuning
/// constants); zeros pick the defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IvfOptions {
    /// Number of lists; 0 picks `default_nlist`.
    pub nlist: usize,
    /// Total code bits per component, 1..=8; 0 picks 7.
    pub ex_bits: u32,
    pub store: StoreKind,
    /// Lists probed by default; 0 picks nlist/8 (or the calibrated value).
    pub nprobe: usize,
    /// Candidates reranked from the store by default; 0 = none.
    pub rerank: usize,
    pub target_recall: Option<f32>,
}

impl Default for IvfOptions {
    fn default() -> Self {
        Self { nlist: 0, ex_bits: DEFAULT_EX_BITS, store: StoreKind::None, nprobe: 0, rerank: 0, target_recall: None }
    }
}

/// Build options: the caller's [`IvfOptions`] plus tuning constants.
/// `IvfParams::new(dim, metric)` gives the defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IvfParams {
    pub dim: usize,
    pub metric: Metric,
    pub seed: u64,
    /// What the caller chose; after a build, as resolved (actual nlist,
    /// nprobe). `ex_bits` is never 0 here.
    pub options: IvfOptions,
    pub kmeans_iters: usize,
    /// k-means trains on at most this many rows per list.
    pub train_per_list: usize,
    /// Confidence multiplier ε₀ of the lower-bound gate.
    pub eps0: f32,
}

impl IvfParams {
    pub fn new(dim: usize, metric: Metric) -> Self {
        Self { dim, metric, seed: 42, options: IvfOptions::default(), kmeans_iters: 10, train_per_list: 32, eps0: 1.9 }
    }

    /// Defaults with the caller's choices applied.
    pub fn with_options(dim: usize, metric: Metric, seed: u64, o: &IvfOptions) -> Self {
        let ex_bits = if o.ex_bits == 0 { DEFAULT_EX_BITS } else { o.ex_bits };
        Self { seed, options: IvfOptions { ex_bits, ..*o }, ..Self::new(dim, metric) }
    }

    /// The caller-facing part, as resolved by a build (actual nlist, nprobe).
    pub fn options(&self) -> IvfOptions {
        self.options
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.dim == 0 || self.dim > MAX_DIM {
            return Err(Error::invalid(format!("dim {} out of range (1..={MAX_DIM})", self.dim)));
        }
        let o = &self.options;
        if !(1..=8).contains(&o.ex_bits) {
            return Err(Error::invalid(format!("exBits {} out of range (1..=8)", o.ex_bits)));
        }
        if o.rerank > 0 && o.store == StoreKind::None {
            return Err(Error::invalid(format!("rerank {} needs a store (f16 or f32); store is none", o.rerank)));
        }
        if let Some(t) = o.target_recall {
            if !(t > 0.0 && t <= 1.0) {
                return Err(Error::invalid(format!("targetRecall {t} out of range (0, 1]")));
            }
        }
        if self.kmeans_iters == 0 || self.train_per_list == 0 {
            return Err(Error::invalid("kmeansIters and trainPerList must be at least 1"));
        }
        if !(self.eps0 >= 0.0 && self.eps0.is_finite()) {
            return Err(Error::invalid(format!("eps0 {} must be finite and ≥ 0", self.eps0)));
        }
        Ok(())
    }

    /// Width after zero-padding to a multiple of 64.
    pub fn padded_dim(&self) -> usize {
        self.dim.div_ceil(64) * 64
    }

    /// The shape of the codes.
    pub(crate) fn layout(&self) -> Layout {
        Layout { dim: self.padded_dim(), bits: self.options.ex_bits }
    }

    /// The row preparation shared with the other indexes (finite values,
    /// unit norm under cosine, no padding).
    fn prep(&self) -> Params {
        Params::new(Kind::Flat, self.dim, self.seed, 1, self.metric, false)
    }

    fn score_scale(&self) -> f32 {
        if self.metric == Metric::Cosine { 0.5 } else { 1.0 }
    }
}

/// Stages of n work units each that a build reports to a running job: rotating,
/// training the lists, encoding, and calibrating when there is a target.
pub fn build_stages(p: &IvfParams) -> u64 {
    3 + p.options.target_recall.is_some() as u64
}

/// Padded width up to which choosing the lists stays cheap next to scanning them.
const NARROW_DIM: usize = 256;

/// The power of two nearest 2√n, and √(256/D) times that for a padded width
/// D above 256, at most n. A query pays nlist centroid distances over D
/// components (streamed from memory once the table outgrows a core's cache)
/// plus the rows of the probed lists at D/8 bytes of 1-bit codes each: per
/// query, a centroid cost ~3 list rows at D 128 and ~15 at D 832, so wide
/// rows want fewer, longer lists. Measured at recall@10 0.95–0.99: GloVe-100
/// and the synthetic set (D 128) are at their cheapest with 256–512 lists of
/// 100k, Fashion-MNIST (D 832) with 128–256 of 60k, where 1024 lists cost
/// 2.7× as much per query (and 4× the k-means work to build).
pub fn default_nlist(n: usize, padded_dim: usize) -> usize {
    let narrow = (NARROW_DIM as f64 / padded_dim.max(1) as f64).sqrt().min(1.0);
    let target = 2.0 * (n as f64).sqrt() * narrow;
    let lower = 1usize << (target.max(1.0).log2().floor() as u32);
    let pick = if target - lower as f64 > (2 * lower) as f64 - target { 2 * lower } else { lower };
    pick.clamp(1, n.max(1))
}

/// Per-search overrides of the built defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchOptions {
    pub nprobe: Option<usize>,
    pub rerank: Option<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IvfRabitqIndex {
    params: IvfParams,
    rotation: Rotation,
    t_const: f32,
    /// Rotated centroids, nlist × padded dim.
    centroids: Vec<f32>,
    /// Their 8-bit codes, for choosing lists without reading every centroid.
    coarse: Coarse,
    lists: Vec<InvList>,
    store: Store,
    len: usize,
    calibration: Option<Calibration>,
}

impl IvfRabitqIndex {
    /// Builds over `vectors` (n × dim, row-major); row i gets position i.
    pub fn build(params: &IvfParams, vectors: &[f32]) -> Result<Self> {
        params.validate()?;
        prepare::row_count(vectors.len(), params.dim)?;
        Self::build_prepared(params, &prepare::rows(&params.prep(), vectors)?)
    }

    /// `build`, and what each stage (rotate, train, assign, encode,
    /// calibrate) cost.
    pub fn build_profiled(params: &IvfParams, vectors: &[f32]) -> Result<(Self, Vec<StageTime>)> {
        params.validate()?;
        prepare::row_count(vectors.len(), params.dim)?;
        let mut clock = StageClock::start();
        let prepared = prepare::rows(&params.prep(), vectors)?;
        clock.lap("prepare");
        let index = Self::build_timed(params, &prepared, &mut clock)?;
        Ok((index, clock.times))
    }

    /// `build` over rows already prepared (finite, unit-normalised under cosine).
    pub(crate) fn build_prepared(params: &IvfParams, prepared: &[f32]) -> Result<Self> {
        Self::build_timed(params, prepared, &mut StageClock::start())
    }

    fn build_timed(params: &IvfParams, prepared: &[f32], clock: &mut StageClock) -> Result<Self> {
        params.validate()?;
        let n = prepare::row_count(prepared.len(), params.dim)?;
        if n == 0 {
            return Err(Error::new(Status::EmptyIndex, "IvfRabitqIndex needs at least one vector to train its lists"));
        }
        check_capacity(0, n)?;
        let nlist = match params.options.nlist {
            0 => default_nlist(n, params.padded_dim()),
            l if l > n => return Err(Error::invalid(format!("nlist {l} exceeds the number of vectors {n}"))),
            l => l,
        };
        let mut p = *params;
        p.options.nlist = nlist;
        p.options.nprobe = if p.options.nprobe == 0 { nlist.div_ceil(8) } else { p.options.nprobe.min(nlist) };
        let dp = p.padded_dim();
        let rotation = Rotation::new(dp, p.seed);
        let progress = Reporter::current();
        let rotated = rotate_rows(kernels::active(), &rotation, prepared, p.dim);
        progress.advance(n as u64);
        clock.lap("rotate");
        let sample = nlist.saturating_mul(p.train_per_list);
        let centroids = kmeans::train(&rotated, dp, nlist, sample, p.kmeans_iters, p.seed);
        progress.advance(n as u64);
        clock.lap("train");
        let (labels, _) = kmeans::assign(&rotated, dp, &centroids);
        clock.lap("assign");
        let mut index = Self {
            params: p,
            rotation,
            t_const: encode::t_const(dp, p.options.ex_bits),
            coarse: Coarse::new(&centroids, dp),
            centroids,
            lists: vec![InvList::default(); nlist],
            store: Store::new(p.options.store),
            len: 0,
            calibration: None,
        };
        index.append_assigned(&rotated, &labels, prepared);
        // Only after a build: add loops would copy every list on each call.
        index.lists.iter_mut().for_each(InvList::shrink_to_fit);
        progress.advance(n as u64);
        clock.lap("encode");
        if let Some(target) = p.options.target_recall {
            index.calibration = Some(tune::calibrate(&mut index, prepared, target)?);
            progress.advance(n as u64);
            clock.lap("calibrate");
        }
        Ok(index)
    }

    /// Appends rows (assigned to the existing centroids); positions continue
    /// from `len()`. All rows are validated before any is added.
    pub fn add_batch(&mut self, vectors: &[f32]) -> Result<()> {
        let n = prepare::row_count(vectors.len(), self.params.dim)?;
        check_capacity(self.len, n)?;
        let prepared = prepare::rows(&self.params.prep(), vectors)?;
        let rotated = rotate_rows(kernels::active(), &self.rotation, &prepared, self.params.dim);
        self.append_rotated(&rotated, &prepared);
        Ok(())
    }

    /// Appends prepared rows on the calling thread only (no thread pool), for
    /// writers that must not wait on a pool that background jobs keep busy.
    pub(crate) fn append_prepared_here(&mut self, prepared: &[f32]) -> Result<()> {
        let (dim, dp) = (self.params.dim, self.params.padded_dim());
        let n = prepare::row_count(prepared.len(), dim)?;
        check_capacity(self.len, n)?;
        let kern = kernels::active();
        let (bits, t, eps0) = (self.params.options.ex_bits, self.t_const, self.params.eps0);
        let mut row = vec![0f32; dp];
        for (i, src) in prepared.chunks_exact(dim).enumerate() {
            row.fill(0.0);
            row[..dim].copy_from_slice(src);
            self.rotation.apply(kern, &mut row);
            let l = self.nearest_list(kern, &row);
            let c = &self.centroids[l * dp..(l + 1) * dp];
            let r: Vec<f32> = row.iter().zip(c).map(|(x, c)| x - c).collect();
            let e = encode::encode(&r, c, bits, t, eps0);
            self.lists[l].push(&e, (self.len + i) as u32, self.params.layout());
        }
        self.store.extend(prepared);
        self.len += n;
        Ok(())
    }

    /// The list whose centroid is nearest the rotated row (ties → lower id).
    fn nearest_list(&self, kern: &Kernels, rotated: &[f32]) -> usize {
        let dp = rotated.len();
        let dists = self.centroids.chunks_exact(dp).map(|c| (kern.sq_l2)(rotated, c));
        dists.enumerate().fold((0, f32::INFINITY), |best, (j, d)| if d < best.1 { (j, d) } else { best }).0
    }

    fn append_rotated(&mut self, rotated: &[f32], prepared: &[f32]) {
        let (labels, _) = kmeans::assign(rotated, self.params.padded_dim(), &self.centroids);
        self.append_assigned(rotated, &labels, prepared);
    }

    /// Encodes rows already assigned to their lists (`labels`) and appends them.
    fn append_assigned(&mut self, rotated: &[f32], labels: &[u32], prepared: &[f32]) {
        let dp = self.params.padded_dim();
        let (bits, t, eps0) = (self.params.options.ex_bits, self.t_const, self.params.eps0);
        let encoded: Vec<encode::Encoded> = rotated
            .par_chunks_exact(dp)
            .zip(labels.par_iter())
            .map(|(row, &l)| {
                let c = &self.centroids[l as usize * dp..(l as usize + 1) * dp];
                let r: Vec<f32> = row.iter().zip(c).map(|(x, c)| x - c).collect();
                encode::encode(&r, c, bits, t, eps0)
            })
            .collect();
        let layout = self.params.layout();
        for (i, (e, &l)) in encoded.iter().zip(labels).enumerate() {
            self.lists[l as usize].push(e, (self.len + i) as u32, layout);
        }
        self.store.extend(prepared);
        self.len += labels.len();
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn params(&self) -> &IvfParams {
        &self.params
    }
    pub fn nlist(&self) -> usize {
        self.lists.len()
    }
    /// What `target_recall` calibration measured, if it ran.
    pub fn calibration(&self) -> Option<&Calibration> {
        self.calibration.as_ref()
    }
    /// Stored rows `range` (prepared, f16-rounded with an f16 store), or
    /// `None` when the index keeps codes only.
    pub fn stored_rows(&self, range: std::ops::Range<usize>) -> Option<Vec<f32>> {
        self.store.rows(self.params.dim, range)
    }
    /// Number of vectors in each list.
    pub fn list_sizes(&self) -> Vec<usize> {
        self.lists.iter().map(|l| l.len).collect()
    }

    /// Heap bytes; arrays read in place from a mapped file count in
    /// [`Self::mapped_bytes`] instead.
    pub fn memory_bytes(&self) -> usize {
        self.lists.iter().map(InvList::memory_bytes).sum::<usize>()
            + self.centroids.capacity() * 4
            + self.coarse.memory_bytes()
            + self.store.memory_bytes()
            + self.rotation.sign_bytes().len()
    }

    /// Bytes of a mapped file this index reads in place (0 unless loaded
    /// with `mmap`; shrinks as mutations copy arrays into owned storage).
    pub fn mapped_bytes(&self) -> usize {
        self.lists.iter().map(InvList::mapped_bytes).sum::<usize>() + self.store.mapped_bytes()
    }

    /// Reads one value per cache line of everything a search reads: what a
    /// refined candidate fetches (records, store) first, what every query
    /// scans (sign blocks, factors, centroids) last, so the hottest data is
    /// the freshest in the CPU caches. A warm start then pays neither page
    /// faults nor DRAM latency on its first queries' lists.
    pub fn warm_caches(&self) {
        for list in &self.lists {
            touch(&list.records);
        }
        self.store.warm_caches();
        for list in &self.lists {
            touch(&list.signs);
            for factors in [&list.add, &list.res, &list.err] {
                touch(factors);
            }
            touch(&list.scale);
        }
        self.coarse.warm_caches();
        touch(&self.centroids);
    }

    /// Up to `n` evenly spaced rows as their codes reconstruct them, rotated
    /// back into the caller's space: queries that land where real ones do, for
    /// a warm start's throwaway searches. Searches from the centroids, or from
    /// one vector repeated, leave a first real query over 1.2× as slow as in
    /// steady state (the core's caches and branch history are trained on
    /// other lists); searches from a few hundred rows do not.
    pub fn sample_rows(&self, n: usize) -> Vec<f32> {
        let (kern, layout) = (kernels::active(), self.params.layout());
        let (count, dim) = (n.min(self.len), self.params.dim);
        let mut out = Vec::with_capacity(count * dim);
        let (mut list, mut first) = (0, 0);
        for i in 0..count {
            let at = i * self.len / count;
            while first + self.lists[list].len <= at {
                first += self.lists[list].len;
                list += 1;
            }
            let mut row = self.decoded(list, at - first, layout);
            self.rotation.invert(kern, &mut row);
            out.extend_from_slice(&row[..dim]);
        }
        out
    }

    /// Vector `v` of `list` as its code reconstructs it (rotated): the
    /// centroid plus the code's offsets from mid-range, scaled by the
    /// encoder's ratio ‖r‖²/⟨u, r⟩, which its rescale factor holds (× −2).
    fn decoded(&self, list: usize, v: usize, layout: Layout) -> Vec<f32> {
        let dp = layout.dim;
        let mid = ((1u32 << layout.bits) - 1) as f32 / 2.0;
        let scale = -self.lists[list].record(v, layout).ex_res / 2.0;
        let centroid = &self.centroids[list * dp..(list + 1) * dp];
        centroid.iter().zip(self.lists[list].code(v, layout)).map(|(c, u)| c + scale * (u as f32 - mid)).collect()
    }

    /// The k nearest rows (position, score), best first: min(k, len) hits.
    pub fn search(&self, query: &[f32], k: usize, opts: SearchOptions) -> Result<Vec<(u32, f32)>> {
        self.search_with(kernels::active(), query, k, opts)
    }

    /// `search` on a given kernel path (every path answers identically; this
    /// lets tests and benchmarks show it).
    pub fn search_with(&self, kern: &Kernels, query: &[f32], k: usize, opts: SearchOptions) -> Result<Vec<(u32, f32)>> {
        let q = prepare::query(&self.params.prep(), query)?;
        let mut hits = self.search_positions(kern, &q, k, opts, None)?;
        self.scale(&mut hits);
        Ok(hits)
    }

    /// Top-k (position, squared L2) of a prepared query among the rows `skip`
    /// admits: unscaled scores.
    pub(crate) fn search_positions(&self, kern: &Kernels, prepared: &[f32], k: usize, opts: SearchOptions, skip: Option<&RowSet>) -> Result<Vec<(u32, f32)>> {
        let (nprobe, rerank) = self.check_search(k, opts)?;
        Ok(self.search_prepared(kern, prepared, k, nprobe, rerank, skip))
    }

    fn scale(&self, hits: &mut [(u32, f32)]) {
        let scale = self.params.score_scale();
        hits.iter_mut().for_each(|h| h.1 *= scale);
    }

    /// `search` for m queries (m × dim) in parallel on the current rayon pool.
    pub fn search_batch(&self, queries: &[f32], k: usize, opts: SearchOptions) -> Result<Vec<Vec<(u32, f32)>>> {
        let (nprobe, rerank) = self.check_search(k, opts)?;
        let prepared = prepare::queries(&self.params.prep(), queries)?;
        let kern = kernels::active();
        let one = |q: &[f32]| {
            let mut hits = self.search_prepared(kern, q, k, nprobe, rerank, None);
            self.scale(&mut hits);
            hits
        };
        Ok(prepared.par_chunks_exact(self.params.dim).map(one).collect())
    }

    fn check_search(&self, k: usize, opts: SearchOptions) -> Result<(usize, usize)> {
        if k == 0 {
            return Err(Error::invalid("k must be at least 1, got 0"));
        }
        let nprobe = opts.nprobe.unwrap_or(self.params.options.nprobe);
        if nprobe == 0 {
            return Err(Error::invalid("nprobe must be at least 1, got 0"));
        }
        let rerank = opts.rerank.unwrap_or(self.params.options.rerank);
        if rerank > 0 && self.store.kind() == StoreKind::None {
            return Err(Error::invalid(format!("rerank {rerank} needs a store; this index was built with store none")));
        }
        Ok((nprobe.min(self.lists.len()), rerank))
    }

    /// The prepared query zero-padded and rotated (q′), and its LUT.
    fn rotated_query(&self, kern: &Kernels, q: &[f32]) -> (Vec<f32>, QueryLut) {
        let mut qr = vec![0f32; self.params.padded_dim()];
        qr[..q.len()].copy_from_slice(q);
        self.rotation.apply(kern, &mut qr);
        let lut = QueryLut::new(&qr, self.params.options.ex_bits);
        (qr, lut)
    }

    fn search_prepared(&self, kern: &Kernels, q: &[f32], k: usize, nprobe: usize, rerank: usize, skip: Option<&RowSet>) -> Vec<(u32, f32)> {
        let (qr, lut) = self.rotated_query(kern, q);
        let hits = self.probe(kern, &qr, &lut, k, nprobe, rerank, skip);
        if rerank > 0 {
            return self.rerank(kern, q, &hits, k);
        }
        hits
    }

    /// The lists' candidates of a rotated query, best first: the top k, or
    /// the top `rerank` for a rerank to choose from.
    #[allow(clippy::too_many_arguments)]
    fn probe(&self, kern: &Kernels, qr: &[f32], lut: &QueryLut, k: usize, nprobe: usize, rerank: usize, skip: Option<&RowSet>) -> Vec<(u32, f32)> {
        let live = self.len - skip.map_or(0, RowSet::len);
        let want = k.min(live);
        // Skipped rows thin the lists out: probe more of them, so as many
        // admitted rows are seen as an unfiltered search would see.
        let nprobe = (nprobe * self.len).div_ceil(live.max(1)).min(self.lists.len());
        let mut top = TopK::new(if rerank > 0 { rerank.max(k) } else { k });
        let mut order = self.nearest_lists(kern, qr, nprobe);
        let mut scratch = search::Scratch::default();
        let mut i = 0;
        while i < order.len() {
            // Until `top` holds `want` rows every admitted row reaches it (its
            // threshold is +∞), so its size counts the admitted rows seen.
            if i >= nprobe && top.len() >= want {
                break;
            }
            if i == nprobe {
                // Rare (fewer than k rows in the nearest lists): every list in
                // full order, whose first nprobe are the ones already scanned.
                order = self.centroid_distances(kern, qr, None);
                sort_nearest(&mut order, usize::MAX);
            }
            let (g_add, list) = order[i];
            let list = &self.lists[list as usize];
            search::scan_list(kern, list, lut, g_add, skip, &mut top, &mut scratch);
            i += 1;
        }
        top.into_sorted()
    }

    /// Top-k (position, squared L2) over only the rows `skip` admits, for a
    /// selective filter: exact from the store, or with codes only the B-bit
    /// estimate of each admitted row (every list, no 1-bit pass).
    pub(crate) fn search_among(&self, kern: &Kernels, q: &[f32], k: usize, skip: &RowSet) -> Vec<(u32, f32)> {
        if let Some(hits) = self.exact_among(kern, q, k, skip.complement(self.len)) {
            return hits;
        }
        let (qr, lut) = self.rotated_query(kern, q);
        let mut top = TopK::new(k);
        for (g_add, list) in self.centroid_distances(kern, &qr, None) {
            search::estimate_admitted(kern, &self.lists[list as usize], &lut, g_add, skip, &mut top);
        }
        top.into_sorted()
    }

    /// Exact top-k (position, squared L2) from the store over the rows at
    /// `positions` only, or `None` when the index keeps codes only.
    fn exact_among(&self, kern: &Kernels, q: &[f32], k: usize, positions: impl Iterator<Item = u32>) -> Option<Vec<(u32, f32)>> {
        if self.store.kind() == StoreKind::None {
            return None;
        }
        let mut top = TopK::new(k);
        let mut buf = Vec::new();
        for pos in positions {
            top.offer(pos, self.store.sq_l2(kern, q, pos as usize, &mut buf)?);
        }
        Some(top.into_sorted())
    }

    /// (‖q′ − c′‖², list id) of at least the `nprobe` nearest lists, those
    /// first and in order (ties → lower id); the rest in no order.
    fn nearest_lists(&self, kern: &Kernels, qr: &[f32], nprobe: usize) -> Vec<(f32, u32)> {
        let ids = self.coarse.candidates(kern, qr, nprobe);
        let mut order = self.centroid_distances(kern, qr, ids.as_deref());
        sort_nearest(&mut order, nprobe);
        order
    }

    /// (‖q′ − c′‖², list id) for the lists `ids` (ascending), or every list.
    fn centroid_distances(&self, kern: &Kernels, qr: &[f32], ids: Option<&[u32]>) -> Vec<(f32, u32)> {
        let dp = qr.len();
        let all: Vec<u32>;
        let ids = match ids {
            Some(ids) => ids,
            None => {
                all = (0..self.lists.len() as u32).collect();
                &all
            }
        };
        let row = |j: u32| &self.centroids[j as usize * dp..(j as usize + 1) * dp];
        let mut d: Vec<(f32, u32)> = Vec::with_capacity(ids.len());
        let quads = ids.chunks_exact(4);
        for j in quads.clone() {
            let four = (kern.sq_l2_x4)(qr, [row(j[0]), row(j[1]), row(j[2]), row(j[3])]);
            d.extend(four.into_iter().zip(j.iter().copied()));
        }
        for &j in quads.remainder() {
            d.push(((kern.sq_l2)(qr, row(j)), j));
        }
        d
    }

    fn rerank(&self, kern: &Kernels, q: &[f32], hits: &[(u32, f32)], k: usize) -> Vec<(u32, f32)> {
        let mut top = TopK::new(k);
        let mut buf = Vec::new();
        for &(pos, estimate) in hits {
            let exact = self.store.sq_l2(kern, q, pos as usize, &mut buf).unwrap_or(estimate);
            top.offer(pos, exact);
        }
        top.into_sorted()
    }
}

impl IvfRabitqIndex {
    /// This index without the rows in `drop`: the rest keep their lists,
    /// codes and order, renumbered 0.. (no retraining, so searches over the
    /// rest answer as before).
    pub(crate) fn without(&self, drop: &RowSet) -> Self {
        let map = drop.compaction_map(self.len);
        let layout = self.params.layout();
        let lists = self.lists.iter().map(|l| l.retained(layout, |p| map[p as usize])).collect();
        let store = self.store.retained(self.params.dim, |p| map[p].is_some());
        Self { lists, store, len: self.len - drop.len(), ..self.clone_frame() }
    }

    /// Everything but the rows (lists empty, store empty).
    fn clone_frame(&self) -> Self {
        Self {
            params: self.params,
            rotation: self.rotation.clone(),
            t_const: self.t_const,
            centroids: self.centroids.clone(),
            coarse: self.coarse.clone(),
            lists: Vec::new(),
            store: Store::new(self.store.kind()),
            len: 0,
            calibration: self.calibration,
        }
    }
}

fn check_capacity(have: usize, add: usize) -> Result<()> {
    if have + add > u32::MAX as usize {
        return Err(Error::invalid(format!("{have} + {add} vectors exceed the {} an IvfRabitqIndex holds", u32::MAX)));
    }
    Ok(())
}

/// Puts the `count` nearest lists first, in order (ties → lower id).
fn sort_nearest(d: &mut [(f32, u32)], count: usize) {
    let key = |a: &(f32, u32), b: &(f32, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
    if count < d.len() {
        d.select_nth_unstable_by(count, key);
        d[..count].sort_unstable_by(key);
    } else {
        d.sort_unstable_by(key);
    }
}

/// Prepared rows (n × dim) zero-padded and rotated (n × padded dim).
fn rotate_rows(kern: &Kernels, rotation: &Rotation, prepared: &[f32], dim: usize) -> Vec<f32> {
    let dp = dim.div_ceil(64) * 64;
    let mut out = vec![0f32; prepared.len() / dim * dp];
    out.par_chunks_exact_mut(dp).zip(prepared.par_chunks_exact(dim)).for_each(|(o, r)| {
        o[..dim].copy_from_slice(r);
        rotation.apply(kern, o);
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rotation::SplitMix;

    #[test]
    fn a_decoded_row_is_much_nearer_its_row_than_its_centroid_is_and_samples_are_decoded_rows_unrotated() {
        let (dim, n) = (48, 4000);
        let mut rng = SplitMix(5);
        let rows: Vec<f32> = (0..n * dim).map(|_| rng.gaussian() as f32).collect();
        for bits in [1, 4, 7] {
            let mut params = IvfParams::new(dim, Metric::L2);
            params.options.ex_bits = bits;
            let index = IvfRabitqIndex::build(&params, &rows).unwrap();
            let (layout, dp) = (index.params.layout(), index.params.padded_dim());
            let rotated = rotate_rows(kernels::active(), &index.rotation, &rows, dim);
            let sq = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum::<f64>();
            let samples = index.sample_rows(n);
            let (mut to_decoded, mut to_sample, mut to_centroid) = (0.0, 0.0, 0.0);
            let mut at = 0;
            for (l, list) in index.lists.iter().enumerate() {
                for (v, r) in list.records(layout).enumerate() {
                    let p = r.pos as usize;
                    let row = &rotated[p * dp..(p + 1) * dp];
                    to_decoded += sq(&index.decoded(l, v, layout), row);
                    to_sample += sq(&samples[at * dim..(at + 1) * dim], &rows[p * dim..(p + 1) * dim]);
                    to_centroid += sq(&index.centroids[l * dp..(l + 1) * dp], row);
                    at += 1;
                }
            }
            assert_eq!(at * dim, samples.len());
            // The rotation is orthogonal, so the samples carry the decoded rows' error, less what the
            // dropped padding held (48 of 64 components are the caller's).
            assert!(to_sample <= to_decoded * (1.0 + 1e-4), "B{bits}: {to_sample} vs {to_decoded}");
            assert!(to_sample > 0.5 * to_decoded, "B{bits}: {to_sample} vs {to_decoded}");
            // The encoder's scale ‖r‖²/⟨u, r⟩ leaves ‖r‖²(1/cos² − 1) of error, cos the code's
            // alignment with the residual: ≈ 0.8 for one bit (0.56), ≥ 0.95 from four.
            let bound = if bits == 1 { 0.7 } else { 0.1 };
            assert!(to_decoded < bound * to_centroid, "B{bits}: {to_decoded} vs {to_centroid}");
        }
    }
}
