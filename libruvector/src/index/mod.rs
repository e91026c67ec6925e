//! Vector indexes: the five variants behind one type, with exact u64 ids,
//! cosine support, input validation and persistence.

mod codes;
mod engine;
pub mod filter;
mod ids;
pub mod ivf;
pub mod persist;
mod prepare;
pub mod shared;
mod rows;
mod rowset;
mod topk;

use std::borrow::Cow;

use rayon::prelude::*;

use crate::error::{Error, Result, Status};
use crate::runtime::Reporter;
use engine::Engine;
use filter::{Resolved, SearchFilter};
use ids::IdMap;
use rowset::RowSet;
pub use ivf::IvfOptions;
pub use rows::Rows;

/// Upper bounds shared with upstream's `rbpx0001` format.
pub(crate) const MAX_DIM: usize = 8192;
pub(crate) const MAX_RERANK_FACTOR: usize = 1024;
/// The id of an empty slot in batch results (a filtered query with fewer than k matches).
pub(crate) const NO_HIT: u64 = u64::MAX;
/// A filter that admits at most 1/this of the rows is answered by scoring
/// just those rows (exactly where vectors are kept): it costs about what the
/// approximate path would, which has to probe or over-fetch that much more.
const SELECTIVE_SHARE: usize = 8;

#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Flat = 0,
    Rabitq = 1,
    Plus = 2,
    Asym = 3,
    Ivf = 4,
}

#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    L2 = 0,
    Cosine = 1,
}

impl Kind {
    pub fn from_u32(v: u32) -> Result<Self> {
        [Kind::Flat, Kind::Rabitq, Kind::Plus, Kind::Asym, Kind::Ivf]
            .into_iter()
            .find(|k| *k as u32 == v)
            .ok_or_else(|| Error::invalid(format!("unknown index kind {v}")))
    }
    pub fn name(self) -> &'static str {
        match self {
            Kind::Flat => "FlatF32Index",
            Kind::Rabitq => "RabitqIndex",
            Kind::Plus => "RabitqPlusIndex",
            Kind::Asym => "RabitqAsymIndex",
            Kind::Ivf => "IvfRabitqIndex",
        }
    }
}

impl Metric {
    pub fn from_u32(v: u32) -> Result<Self> {
        match v {
            0 => Ok(Metric::L2),
            1 => Ok(Metric::Cosine),
            _ => Err(Error::invalid(format!("unknown metric {v} (0 = l2, 1 = cosine)"))),
        }
    }
}

/// Everything that determines an index besides its data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    pub kind: Kind,
    pub dim: usize,
    pub seed: u64,
    pub rerank_factor: usize,
    pub metric: Metric,
    /// Zero-pad quantized variants to a multiple of 64 dimensions before the
    /// rotation: more code bits at the same word count, better recall.
    pub pad_to_word: bool,
    /// `Kind::Ivf` only (the default elsewhere); resolved by a build.
    pub ivf: IvfOptions,
}

impl Params {
    /// Parameters of a non-IVF variant.
    pub fn new(kind: Kind, dim: usize, seed: u64, rerank_factor: usize, metric: Metric, pad_to_word: bool) -> Self {
        Self { kind, dim, seed, rerank_factor, metric, pad_to_word, ivf: IvfOptions::default() }
    }

    pub fn validate(&self) -> Result<()> {
        if self.dim == 0 || self.dim > MAX_DIM {
            return Err(Error::invalid(format!("dim {} out of range (1..={MAX_DIM})", self.dim)));
        }
        if self.rerank_factor == 0 || self.rerank_factor > MAX_RERANK_FACTOR {
            return Err(Error::invalid(format!(
                "rerankFactor {} out of range (1..={MAX_RERANK_FACTOR})",
                self.rerank_factor
            )));
        }
        Ok(())
    }

    /// Validated parameters with `pad_to_word` set only where it changes the
    /// stored width, so equal indexes have equal parameters.
    pub fn normalized(mut self) -> Result<Self> {
        self.validate()?;
        self.pad_to_word = self.stored_dim() != self.dim;
        if self.kind == Kind::Ivf {
            self.rerank_factor = 1;
            let ivf = self.ivf_params();
            ivf.validate()?;
            self.ivf = ivf.options();
        } else {
            self.ivf = IvfOptions::default();
        }
        Ok(self)
    }

    /// The IVF engine's parameters (meaningful for `Kind::Ivf`).
    pub fn ivf_params(&self) -> ivf::IvfParams {
        ivf::IvfParams::with_options(self.dim, self.metric, self.seed, &self.ivf)
    }

    /// Width of the rows the engine stores.
    pub fn stored_dim(&self) -> usize {
        // The IVF engine pads inside its rotation; it stores logical rows.
        if self.pad_to_word && !matches!(self.kind, Kind::Flat | Kind::Ivf) {
            self.dim.div_ceil(64) * 64
        } else {
            self.dim
        }
    }

    fn score_scale(&self) -> f32 {
        match self.metric {
            // Unit vectors: squared L2 = 2 - 2cos, so cosine distance = sqL2 / 2.
            Metric::Cosine => 0.5,
            Metric::L2 => 1.0,
        }
    }
}

/// Per-search overrides of an index's defaults; `None` keeps them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchParams {
    /// Candidates reranked = k × this (RabitqPlusIndex).
    pub rerank_factor: Option<usize>,
    /// Lists probed (IvfRabitqIndex).
    pub nprobe: Option<usize>,
    /// Candidates reranked from the store (IvfRabitqIndex).
    pub rerank: Option<usize>,
}

impl SearchParams {
    pub fn rerank_factor(rf: usize) -> Self {
        Self { rerank_factor: Some(rf), ..Self::default() }
    }
}

pub struct VectorIndex {
    params: Params,
    ids: IdMap,
    engine: Engine,
    /// Positions of removed rows: skipped by every read until compaction.
    removed: RowSet,
    /// 64 tag bits per row (by position), or empty when no row was given tags.
    tags: Vec<u64>,
}

impl VectorIndex {
    pub fn new(params: Params) -> Result<Self> {
        let params = params.normalized()?;
        Ok(Self::from_parts(params, IdMap::default(), Engine::new(&params)))
    }

    /// Builds an index over `vectors` (n × dim, row-major) with the given ids
    /// (or 0..n when `ids` is `None`). Rows are encoded in parallel.
    pub fn build(params: Params, vectors: &[f32], ids: Option<&[u64]>) -> Result<Self> {
        Self::build_tagged(params, vectors, ids, None)
    }

    /// `build` with 64 tag bits per vector (`None`: no tags).
    pub fn build_tagged(params: Params, vectors: &[f32], ids: Option<&[u64]>, tags: Option<&[u64]>) -> Result<Self> {
        let params = params.normalized()?;
        let n = prepare::row_count(vectors.len(), params.dim)?;
        check_tags_len(tags, n)?;
        let default_ids: Vec<u64>;
        let ids = match ids {
            Some(ids) => ids,
            None => {
                default_ids = (0..n as u64).collect();
                &default_ids
            }
        };
        check_ids_len(ids.len(), n)?;
        let map = IdMap::from_ids(ids.to_vec())?;
        // Off-thread builds report progress: preparing the rows, then the engine's stages.
        let progress = Reporter::current();
        progress.expect(n as u64 * (1 + engine::build_stages(&params)));
        let rows = prepare::rows(&params, vectors)?;
        progress.advance(n as u64);
        let engine = Engine::build(&params, rows)?;
        let mut index = Self::from_parts(engine.resolve(params), map, engine);
        index.extend_tags(n, tags);
        Ok(index)
    }

    fn from_parts(params: Params, ids: IdMap, engine: Engine) -> Self {
        Self { params, ids, engine, removed: RowSet::default(), tags: Vec::new() }
    }

    /// Sets the tags of every row (one per position, or none) of a freshly loaded index.
    pub(crate) fn with_tags(mut self, tags: Vec<u64>) -> Result<Self> {
        check_tags_len(Some(tags.as_slice()).filter(|t| !t.is_empty()), self.ids.len())?;
        self.tags = tags;
        Ok(self)
    }

    /// Records the tags of `n` rows just appended; rows without tags get 0.
    fn extend_tags(&mut self, n: usize, tags: Option<&[u64]>) {
        match tags {
            Some(t) => {
                self.tags.resize(self.ids.len() - n, 0);
                self.tags.extend_from_slice(t);
            }
            None if !self.tags.is_empty() => self.tags.resize(self.ids.len(), 0),
            None => {}
        }
    }

    /// Appends rows; all are validated before any is added.
    pub fn add_batch(&mut self, vectors: &[f32], ids: &[u64]) -> Result<()> {
        self.add_batch_tagged(vectors, ids, None)
    }

    /// `add_batch` with 64 tag bits per vector.
    pub fn add_batch_tagged(&mut self, vectors: &[f32], ids: &[u64], tags: Option<&[u64]>) -> Result<()> {
        let n = prepare::row_count(vectors.len(), self.params.dim)?;
        check_ids_len(ids.len(), n)?;
        check_tags_len(tags, n)?;
        let rows = prepare::rows(&self.params, vectors)?;
        self.ids.check_new(ids)?;
        self.append_prepared(&rows, ids, tags)
    }

    /// Checks that `ids` can be appended (see [`IdMap::check_new`]), with
    /// `present` saying which ids are taken.
    pub fn check_new_ids_with(&self, ids: &[u64], present: impl Fn(u64) -> bool) -> Result<()> {
        self.ids.check_new_with(ids, present)
    }

    /// Appends rows from [`prepare_batch`] under ids that passed
    /// [`VectorIndex::check_new_ids_with`], with their tags (checked by
    /// [`prepare_batch`]). Runs on the calling thread only.
    pub fn append_prepared(&mut self, rows: &[f32], ids: &[u64], tags: Option<&[u64]>) -> Result<()> {
        self.engine.append(self.ids.len(), rows)?;
        self.ids.extend(ids);
        self.extend_tags(ids.len(), tags);
        self.params = self.engine.resolve(self.params);
        Ok(())
    }

    pub fn params(&self) -> &Params {
        &self.params
    }
    /// Number of live vectors (removed ones not counted).
    pub fn len(&self) -> usize {
        self.ids.len() - self.removed.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Live ids in insertion order.
    pub fn ids(&self) -> Vec<u64> {
        let all = self.ids.as_slice();
        if self.removed.is_empty() {
            return all.to_vec();
        }
        all.iter().enumerate().filter(|(p, _)| !self.removed.contains(*p as u32)).map(|(_, &id)| id).collect()
    }
    /// Bytes held, including removed rows not yet compacted away.
    pub fn memory_bytes(&self) -> usize {
        self.engine.memory_bytes() + self.ids.memory_bytes() + self.removed.memory_bytes() + self.tags.capacity() * 8
    }
    /// True when rows carry tags (some were given at build or add).
    pub fn has_tags(&self) -> bool {
        !self.tags.is_empty()
    }
    /// The tag bits of `id` (0 when it was given none).
    pub fn tags_of(&self, id: u64) -> Result<u64> {
        let pos = self.ids.position(id).ok_or_else(|| Error::new(Status::NotFound, format!("id {id} is not in the index")))?;
        Ok(self.tag_at(pos))
    }
    /// The tags of the live rows in insertion order (all 0 without tags).
    pub fn tags(&self) -> Vec<u64> {
        (0..self.ids.len()).filter(|&p| !self.removed.contains(p as u32)).map(|p| self.tag_at(p)).collect()
    }
    /// Tags by position, every row, for a file: empty when no row has tags.
    pub(crate) fn tags_by_position(&self) -> &[u64] {
        &self.tags
    }
    fn tag_at(&self, pos: usize) -> u64 {
        self.tags.get(pos).copied().unwrap_or(0)
    }
    /// Bytes of a mapped file read in place (not in `memory_bytes`).
    pub fn mapped_bytes(&self) -> usize {
        self.engine.mapped_bytes() + self.ids.mapped_bytes()
    }
    /// Removed rows still held (until `compacted`).
    pub fn removed_rows(&self) -> usize {
        self.removed.len()
    }
    pub fn contains(&self, id: u64) -> bool {
        self.ids.position(id).is_some()
    }

    /// Removes the ids present (the others are ignored: callers check first);
    /// returns how many were removed. Rows stay, tombstoned, until compaction.
    pub fn remove_present(&mut self, ids: &[u64]) -> usize {
        ids.iter().filter_map(|&id| self.ids.remove(id)).filter(|&pos| self.removed.insert(pos)).count()
    }

    /// Checks a removal: every id present (unless `ignore_missing`), none twice.
    pub fn check_remove(&self, ids: &[u64], ignore_missing: bool) -> Result<()> {
        check_remove_with(ids, ignore_missing, |id| self.contains(id))
    }

    /// A copy without the removed rows: same live ids, order and search results.
    pub fn compacted(&self) -> Result<VectorIndex> {
        let engine = self.engine.without(&self.params, &self.removed)?;
        let ids = self.ids.without(&self.removed);
        let tags = if self.tags.is_empty() { Vec::new() } else { self.tags() };
        Ok(Self { tags, ..Self::from_parts(self.params, ids, engine) })
    }

    /// Drops removed rows in place (see [`VectorIndex::compacted`]).
    pub fn compact(&mut self) -> Result<()> {
        if !self.removed.is_empty() {
            *self = self.compacted()?;
        }
        Ok(())
    }
    /// Brings what searches read into the page tables and CPU caches: the id
    /// table, and an IVF engine's lists and store (the other engines were
    /// just copied into the heap by their load). Any thread may run it.
    pub fn warm_caches(&self) {
        self.ids.warm_caches();
        if let Some(i) = self.engine.ivf() {
            i.warm_caches();
        }
    }

    /// Up to `n` evenly spaced rows, `dim` wide, as the index holds them (IVF
    /// reconstructs its rows from their codes): realistic queries for a warm
    /// start's throwaway searches. Empty for the codes-only upstream engine,
    /// which keeps no rows.
    pub fn sample_rows(&self, n: usize) -> Vec<f32> {
        if let Some(i) = self.engine.ivf() {
            return i.sample_rows(n);
        }
        let (slots, dim) = (self.engine.slots(), self.params.dim);
        let mut out = Vec::new();
        for pos in (0..slots).step_by(slots.div_ceil(n.max(1)).max(1)).take(n) {
            if let Some(row) = self.engine.row(pos) {
                out.extend_from_slice(&row[..dim]);
            }
        }
        out
    }

    /// What target-recall calibration measured at build (IvfRabitqIndex).
    pub fn calibration(&self) -> Option<ivf::Calibration> {
        self.engine.ivf().and_then(|i| i.calibration().copied())
    }

    fn check_search(&self, k: usize, sp: &SearchParams) -> Result<usize> {
        if let Some(rf) = sp.rerank_factor {
            if rf == 0 || rf > MAX_RERANK_FACTOR {
                return Err(Error::invalid(format!("rerankFactor {rf} out of range (1..={MAX_RERANK_FACTOR})")));
            }
        }
        if k == 0 {
            return Err(Error::invalid("k must be at least 1, got 0"));
        }
        if self.is_empty() {
            return Err(Error::new(Status::EmptyIndex, "search on an empty index"));
        }
        Ok(k.min(self.len()))
    }

    /// Number of hits a search for `k` returns: `min(k, len)`.
    pub fn effective_k(&self, k: usize) -> Result<usize> {
        self.check_search(k, &SearchParams::default())
    }

    /// Searches one query, writing min(k, n) hits; returns the hit count.
    /// `sp` overrides the index's search defaults for this call.
    pub fn search_into(&self, query: &[f32], k: usize, sp: &SearchParams, ids: &mut [u64], scores: &mut [f32]) -> Result<usize> {
        self.search_filtered_into(query, k, sp, &SearchFilter::default(), ids, scores)
    }

    /// `search_into` among the rows `filter` admits: at most min(k, n) hits,
    /// fewer when fewer rows pass (none when none do).
    pub fn search_filtered_into(&self, query: &[f32], k: usize, sp: &SearchParams, filter: &SearchFilter, ids: &mut [u64], scores: &mut [f32]) -> Result<usize> {
        let k = self.check_search(k, sp)?;
        if ids.len() < k || scores.len() < k {
            return Err(Error::new(Status::BufferTooSmall, format!("result buffers hold {} hits, need {k}", ids.len().min(scores.len()))));
        }
        let q = prepare::query(&self.params, query)?;
        self.search_prepared(&q, k, sp, self.resolve(filter).as_ref(), ids, scores)
    }

    /// The rows a filter admits, or `None` for an open filter (only tombstones skip).
    fn resolve(&self, filter: &SearchFilter) -> Option<Resolved> {
        (!filter.is_open()).then(|| filter::resolve(filter, self.engine.slots(), &self.removed, &self.ids, &self.tags))
    }

    fn search_prepared(&self, q: &[f32], k: usize, sp: &SearchParams, filter: Option<&Resolved>, ids: &mut [u64], scores: &mut [f32]) -> Result<usize> {
        let hits = match filter {
            None => self.engine.search(q, k, sp, (!self.removed.is_empty()).then_some(&self.removed))?,
            Some(f) => self.search_admitted(q, k, sp, f)?,
        };
        let scale = self.params.score_scale();
        for (i, (pos, score)) in hits.iter().enumerate() {
            ids[i] = self.ids.id_at(*pos as usize).ok_or_else(|| corrupt_position(*pos, self.ids.len()))?;
            scores[i] = score * scale;
        }
        Ok(hits.len())
    }

    /// A filtered search. A selective filter (few rows pass) is answered by
    /// scoring just those rows (exactly where the variant keeps vectors, by
    /// the IVF code estimate where it keeps codes only), so it loses no
    /// recall; otherwise the engine skips the excluded rows during its scan and
    /// probes or over-fetches in proportion to what they thin out.
    fn search_admitted(&self, q: &[f32], k: usize, sp: &SearchParams, f: &Resolved) -> Result<Vec<(u32, f32)>> {
        self.engine.check_overrides(sp)?;
        if f.admitted == 0 {
            return Ok(Vec::new());
        }
        if f.admitted * SELECTIVE_SHARE <= self.engine.slots() {
            if let Some(hits) = self.engine.search_among(q, k, &f.skip) {
                return Ok(hits);
            }
        }
        self.engine.search(q, k, sp, Some(&f.skip))
    }

    /// Searches one query into fresh vectors of min(k, n) hits.
    pub fn search_owned(&self, query: &[f32], k: usize, sp: &SearchParams) -> Result<(Vec<u64>, Vec<f32>)> {
        self.search_filtered_owned(query, k, sp, &SearchFilter::default())
    }

    /// `search_owned` among the rows `filter` admits.
    pub fn search_filtered_owned(&self, query: &[f32], k: usize, sp: &SearchParams, filter: &SearchFilter) -> Result<(Vec<u64>, Vec<f32>)> {
        let k = self.check_search(k, sp)?;
        let (mut ids, mut scores) = (vec![0u64; k], vec![0f32; k]);
        let n = self.search_filtered_into(query, k, sp, filter, &mut ids, &mut scores)?;
        ids.truncate(n);
        scores.truncate(n);
        Ok((ids, scores))
    }

    /// Searches m queries (m × dim) in parallel; each writes min(k, n) hits
    /// into its slot of `ids`/`scores` (m × that). `threads == 1` stays on the
    /// calling thread. Returns the per-query hit count.
    pub fn search_batch(&self, queries: &[f32], k: usize, sp: &SearchParams, threads: usize, ids: &mut [u64], scores: &mut [f32]) -> Result<usize> {
        self.search_batch_filtered(queries, k, sp, &[], threads, ids, scores)
    }

    /// `search_batch` with no filter (`filters` empty), one filter for every
    /// query, or one per query. Slots a query leaves empty (fewer rows pass
    /// its filter than k) hold id [`NO_HIT`] and score +∞.
    #[allow(clippy::too_many_arguments)]
    pub fn search_batch_filtered(&self, queries: &[f32], k: usize, sp: &SearchParams, filters: &[SearchFilter], threads: usize, ids: &mut [u64], scores: &mut [f32]) -> Result<usize> {
        let k = self.check_search(k, sp)?;
        let m = prepare::row_count(queries.len(), self.params.dim)?;
        if ids.len() < m * k || scores.len() < m * k {
            return Err(Error::new(Status::BufferTooSmall, format!("result buffers hold {} hits, need {}", ids.len().min(scores.len()), m * k)));
        }
        if filters.len() > 1 && filters.len() != m {
            return Err(Error::invalid(format!("got {} filters for {m} queries (give one, or one per query)", filters.len())));
        }
        let prepared = prepare::queries(&self.params, queries)?;
        let d = self.params.stored_dim();
        let shared = filters.first().filter(|_| filters.len() == 1).and_then(|f| self.resolve(f));
        let one = |(i, (q, (ids, scores))): (usize, BatchSlot)| -> Result<()> {
            let own = if filters.len() > 1 { self.resolve(&filters[i]) } else { None };
            let n = self.search_prepared(q, k, sp, own.as_ref().or(shared.as_ref()), ids, scores)?;
            ids[n..].fill(NO_HIT);
            scores[n..].fill(f32::INFINITY);
            Ok(())
        };
        if threads == 1 {
            let mut work = prepared.chunks_exact(d).zip(ids.chunks_exact_mut(k).zip(scores.chunks_exact_mut(k))).enumerate();
            return work.try_for_each(one).map(|_| k);
        }
        let mut all = || {
            let work = prepared.par_chunks_exact(d).zip(ids.par_chunks_exact_mut(k).zip(scores.par_chunks_exact_mut(k))).enumerate();
            work.try_for_each(one)
        };
        match threads {
            0 => all()?,
            t => rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .map_err(|e| Error::invalid(format!("cannot start {t} threads: {e}")))?
                .install(all)?,
        }
        Ok(k)
    }

    /// The stored vector of `id` (unit-normalised under cosine), without padding.
    pub fn get(&self, id: u64) -> Result<Vec<f32>> {
        let pos = self.ids.position(id).ok_or_else(|| Error::new(Status::NotFound, format!("id {id} is not in the index")))?;
        let row = self.engine.row(pos).ok_or_else(|| self.no_originals())?;
        Ok(row[..self.params.dim].to_vec())
    }

    /// All live stored vectors in insertion order (n × dim), without padding.
    pub fn vectors(&self) -> Result<Vec<f32>> {
        let mut rows = self.engine.rows().ok_or_else(|| self.no_originals())?;
        if !self.removed.is_empty() {
            rows = Cow::Owned(rows.without(&self.removed));
        }
        let (d, sd) = (self.params.dim, self.params.stored_dim());
        if d == sd {
            return Ok(rows.as_flat().to_vec());
        }
        Ok(rows.as_flat().chunks_exact(sd).flat_map(|r| &r[..d]).copied().collect())
    }

    fn no_originals(&self) -> Error {
        if self.params.kind == Kind::Ivf {
            return Error::invalid("this IvfRabitqIndex keeps codes only (store \"none\"); build it with store \"f16\" or \"f32\" to keep vectors");
        }
        Error::invalid(format!("{} stores 1-bit codes only; original vectors are not kept", self.params.kind.name()))
    }

    /// Same parameters, live ids and live stored data.
    pub fn equals(&self, other: &VectorIndex) -> bool {
        if !self.removed.is_empty() || !other.removed.is_empty() {
            return match (self.compacted(), other.compacted()) {
                (Ok(a), Ok(b)) => a.equals(&b),
                _ => false,
            };
        }
        let same_tags = (0..self.ids.len()).all(|p| self.tag_at(p) == other.tag_at(p));
        self.params == other.params && self.ids.as_slice() == other.ids.as_slice() && same_tags && self.engine.same_content(&other.engine)
    }
}

/// A search hit at a position past the rows: only an unverified mapped file
/// whose records are damaged can give one.
fn corrupt_position(pos: u32, rows: usize) -> Error {
    Error::persist(format!("a search reached row position {pos} of {rows} rows: the index file is damaged (load it with verify to check it)"))
}

/// One query of a batch search and the slots its hits go to.
type BatchSlot<'a> = (&'a [f32], (&'a mut [u64], &'a mut [f32]));

/// Validates a batch of caller vectors against `params` and prepares the rows
/// to store, on the calling thread; ids are checked only for their count.
pub fn prepare_batch(params: &Params, vectors: &[f32], ids: &[u64], tags: Option<&[u64]>) -> Result<Vec<f32>> {
    let n = prepare::row_count(vectors.len(), params.dim)?;
    check_ids_len(ids.len(), n)?;
    check_tags_len(tags, n)?;
    prepare::rows_here(params, vectors)
}

/// Checks a removal of `ids` against `present`: unknown ids are a `NotFound`
/// error naming the first (unless `ignore_missing`); an id twice is invalid.
pub fn check_remove_with(ids: &[u64], ignore_missing: bool, present: impl Fn(u64) -> bool) -> Result<()> {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    for (i, &id) in ids.iter().enumerate() {
        if !seen.insert(id) {
            return Err(Error::invalid(format!("duplicate id {id} at position {i} of the removal")));
        }
        if !ignore_missing && !present(id) {
            return Err(Error::new(Status::NotFound, format!("id {id} is not in the index")));
        }
    }
    Ok(())
}

fn check_tags_len(tags: Option<&[u64]>, n: usize) -> Result<()> {
    match tags {
        Some(t) if t.len() != n => Err(Error::invalid(format!("got {} tags for {n} vectors (one u64 per vector)", t.len()))),
        _ => Ok(()),
    }
}

fn check_ids_len(ids: usize, n: usize) -> Result<()> {
    if ids != n {
        return Err(Error::invalid(format!("got {ids} ids for {n} vectors")));
    }
    Ok(())
}

/// Reads one value of `values` per 64-byte cache line (see `VectorIndex::warm_caches`).
pub(crate) fn touch<T: Copy>(values: &[T]) {
    let stride = (64 / std::mem::size_of::<T>().max(1)).max(1);
    for v in values.iter().step_by(stride) {
        std::hint::black_box(*v);
    }
}
