//! ruLake: a cache-first vector lake. The host orchestrates freshness checks
//! and pulls from its backends (so native threads never call into the host),
//! then hands vectors here; this module owns the witness-keyed cache, its
//! consistency rules and memory bound, federated search and bundles.

mod bundle;
mod cache;
mod stats;
pub mod witness;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::error::{Error, Result, Status};
use crate::index::{filter::SearchFilter, persist, IvfOptions, Kind, Metric, Params, SearchParams, VectorIndex};
pub use bundle::Bundle;
use cache::{Bound, Cache};
pub use stats::Stats;
use witness::{CacheEngine, Descriptor};

/// The saved index of a Plus collection (upstream's `rbpx0001`).
const PLUS_FILE: &str = "index.rbpx";
/// The saved index of an IVF collection (`RVIVFRQ1`).
const IVF_FILE: &str = "index.ivf";

/// When a search may skip asking the backend for its current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consistency {
    /// Check on every search.
    Fresh,
    /// Check at most once per `ttl` per collection.
    Eventual(Duration),
    /// Check only when nothing is cached (upstream's `Frozen`; the seed's `STALE`).
    Frozen,
}

/// Which index the lake caches collections as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineChoice {
    /// `RabitqPlusIndex`, whatever the size (upstream's engine).
    Plus,
    /// `IvfRabitqIndex`, whatever the size.
    Ivf,
    /// IVF for collections of at least `ivf_from_rows` vectors, Plus below;
    /// decided at each full pull (changes applied in place keep the engine).
    Auto { ivf_from_rows: usize },
}

#[derive(Clone, Copy)]
pub struct Config {
    pub rerank_factor: usize,
    pub rotation_seed: u64,
    pub consistency: Consistency,
    pub max_entries: usize,
    pub max_bytes: usize,
    pub engine: EngineChoice,
    /// The IVF engine's build options (used when it is chosen).
    pub ivf: IvfOptions,
}

impl Default for Config {
    /// Upstream's defaults: rerank 20, seed 42, fresh, unbounded, the Plus engine.
    fn default() -> Self {
        Self { rerank_factor: 20, rotation_seed: 42, consistency: Consistency::Fresh, max_entries: 0, max_bytes: 0, engine: EngineChoice::Plus, ivf: IvfOptions::default() }
    }
}

/// Changes a backend reports since the cached generation: ids removed, and
/// rows inserted or replaced (`vectors` is `upserted.len() × dim`).
#[derive(Clone, Copy)]
pub struct Changes<'a> {
    pub removed: &'a [u64],
    pub upserted: &'a [u64],
    pub vectors: &'a [f32],
}

/// Outcome of a freshness check.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The cached copy is current.
    Hit = 0,
    /// Another collection already cached this exact state; the pointer moved to it.
    Shared = 1,
    /// Stale or absent: pull and prime.
    Miss = 2,
}

/// Outcome of comparing the cache with a published bundle.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresh {
    UpToDate = 0,
    Invalidated = 1,
    BundleMissing = 2,
}

/// One federated hit: which target it came from, its id and its squared L2.
pub type ShardHit = (u32, u64, f32);

pub struct Lake {
    config: Config,
    cache: Mutex<Cache>,
}

impl Lake {
    pub fn new(config: Config) -> Result<Self> {
        Params::new(Kind::Plus, 1, config.rotation_seed, config.rerank_factor, Metric::L2, true)
            .validate()?;
        let lake = Self { config, cache: Mutex::new(Cache::default()) };
        if config.engine != EngineChoice::Plus {
            lake.index_params(1, CacheEngine::Ivf(config.ivf)).normalized()?;
        }
        Ok(lake)
    }

    /// The engine a full pull of `rows` vectors is built with.
    fn engine_for(&self, rows: usize) -> CacheEngine {
        match self.config.engine {
            EngineChoice::Plus => CacheEngine::Plus,
            EngineChoice::Ivf => CacheEngine::Ivf(self.config.ivf),
            EngineChoice::Auto { ivf_from_rows } if rows >= ivf_from_rows => CacheEngine::Ivf(self.config.ivf),
            EngineChoice::Auto { .. } => CacheEngine::Plus,
        }
    }

    /// Every engine a cached state of this lake may have been built with.
    fn candidates(&self) -> Vec<CacheEngine> {
        match self.config.engine {
            EngineChoice::Plus => vec![CacheEngine::Plus],
            EngineChoice::Ivf => vec![CacheEngine::Ivf(self.config.ivf)],
            EngineChoice::Auto { .. } => vec![CacheEngine::Plus, CacheEngine::Ivf(self.config.ivf)],
        }
    }

    /// The witnesses a backend state may be cached under here, one per candidate engine.
    fn candidate_witnesses(&self, d: &Descriptor) -> Vec<String> {
        self.candidates().into_iter().map(|engine| Descriptor { engine, ..d.clone() }.witness()).collect()
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The descriptor of a backend's state under this lake's seed, rerank
    /// factor and first candidate engine (a build settles `auto`'s).
    pub fn descriptor(&self, data_ref: String, dim: usize, generation: witness::Generation) -> Descriptor {
        let engine = self.candidates()[0];
        Descriptor { data_ref, dim, rotation_seed: self.config.rotation_seed, rerank_factor: self.config.rerank_factor, generation, engine }
    }

    /// Interns a (backend, collection) pair as a small key id.
    pub fn key(&self, backend: &str, collection: &str) -> u32 {
        let mut c = self.cache();
        let pair = (backend.to_string(), collection.to_string());
        if let Some(&id) = c.key_ids.get(&pair) {
            return id;
        }
        let id = c.keys.len() as u32;
        c.keys.push(cache::Key { backend: pair.0.clone(), collection: pair.1.clone(), pointer: None, last_checked: None, stats: Stats::default() });
        c.key_ids.insert(pair, id);
        id
    }

    fn checked_key(c: &Cache, id: u32) -> Result<()> {
        if (id as usize) < c.keys.len() {
            Ok(())
        } else {
            Err(Error::invalid(format!("unknown lake key {id}")))
        }
    }

    /// Whether a search on `id` must ask the backend first. When it need not,
    /// the skip counts as a cache hit (as upstream counts it) if `count_hit`.
    pub fn needs_check(&self, id: u32, count_hit: bool) -> Result<bool> {
        let mut c = self.cache();
        Self::checked_key(&c, id)?;
        let cached = c.entry_of(id).is_some();
        let k = c.key(id);
        let skip = cached
            && match self.config.consistency {
                Consistency::Fresh => false,
                Consistency::Eventual(ttl) => k.last_checked.is_some_and(|t| t.elapsed() < ttl),
                Consistency::Frozen => true,
            };
        if skip && count_hit {
            c.count(id, |s| s.hits += 1);
        }
        Ok(!skip)
    }

    /// Compares the backend's current state with the cache.
    pub fn check(&self, id: u32, d: &Descriptor) -> Result<Check> {
        let witnesses = self.candidate_witnesses(d);
        let mut c = self.cache();
        Self::checked_key(&c, id)?;
        let pointer = c.key(id).pointer.clone();
        let current = witnesses.iter().any(|w| pointer.as_deref() == Some(w.as_str()) && c.entries.contains_key(w));
        let shared = witnesses.iter().find(|w| c.entries.contains_key(*w)).cloned();
        let outcome = if current {
            c.count(id, |s| s.hits += 1);
            Check::Hit
        } else if let Some(witness) = shared {
            c.point(id, Some(witness));
            c.count(id, |s| s.shared_hits += 1);
            Check::Shared
        } else {
            c.count(id, |s| s.misses += 1);
            return Ok(Check::Miss);
        };
        c.keys[id as usize].last_checked = Some(Instant::now());
        Ok(outcome)
    }

    fn index_params(&self, dim: usize, engine: CacheEngine) -> Params {
        let plus = Params::new(Kind::Plus, dim, self.config.rotation_seed, self.config.rerank_factor, Metric::L2, true);
        match engine {
            CacheEngine::Plus => plus,
            CacheEngine::Ivf(ivf) => Params { kind: Kind::Ivf, ivf, ..plus },
        }
    }

    /// Builds the index for pulled vectors (outside the lock) and installs it;
    /// the engine is settled here, by the number of rows.
    pub fn prime(&self, id: u32, d: Descriptor, vectors: &[f32], ids: &[u64]) -> Result<()> {
        Self::checked_key(&self.cache(), id)?;
        if d.dim == 0 || vectors.len() != ids.len() * d.dim {
            return Err(Error::invalid(format!("{} ids and {} floats do not make rows of dim {}", ids.len(), vectors.len(), d.dim)));
        }
        let started = Instant::now();
        let d = Descriptor { engine: self.engine_for(ids.len()), ..d };
        let index = VectorIndex::build(self.index_params(d.dim, d.engine), vectors, Some(ids))?;
        let bytes = index.memory_bytes();
        if self.config.max_bytes > 0 && bytes > self.config.max_bytes {
            return Err(Error::invalid(format!("collection needs {bytes} bytes, over the cache bound of {} bytes", self.config.max_bytes)));
        }
        let us = started.elapsed().as_micros() as u64;
        let rows = ids.len() as u64;
        self.install(id, d, Arc::new(index), |s| {
            s.primes += 1;
            s.total_prime_us += us;
            s.last_prime_us = us;
            s.rows_pulled += rows;
        });
        Ok(())
    }

    /// Moves a cached collection from state `from` to state `to` by applying
    /// `changes` to its index, instead of a full pull. `Ok(false)` when that
    /// cannot be done safely — the cache no longer holds exactly `from` for this
    /// key, another key shares the entry, the dim or source changed — and the
    /// caller pulls in full. Invalid changes are an error and leave the cache as it was.
    pub fn apply_changes(&self, id: u32, from: &Descriptor, to: Descriptor, changes: Changes<'_>) -> Result<bool> {
        // The costly part, checking the set and preparing its rows, runs before the cache is locked for the change.
        let params = {
            let c = self.cache();
            Self::checked_key(&c, id)?;
            let Some(entry) = c.key(id).pointer.as_deref().and_then(|w| c.entries.get(w)) else { return Ok(false) };
            *entry.index.params()
        };
        let rows = prepare_changes(&params, changes)?;
        let mut c = self.cache();
        let Some(old) = c.key(id).pointer.clone() else { return Ok(false) };
        let Some(entry) = c.entries.get(&old) else { return Ok(false) };
        if *entry.index.params() != params {
            return Ok(false); // replaced meanwhile by another build: the rows were prepared for the old one
        }
        let cached = entry.descriptor.clone();
        let to = Descriptor { engine: cached.engine, ..to };
        let sole = c.keys.iter().filter(|k| k.pointer.as_deref() == Some(old.as_str())).count() == 1;
        let same_source = to.data_ref == cached.data_ref && to.dim == cached.dim;
        let new_witness = to.witness();
        let holds_from = Descriptor { engine: cached.engine, ..from.clone() } == cached;
        if !holds_from || !sole || !same_source || c.entries.contains_key(&new_witness) {
            return Ok(false);
        }
        let mut entry = c.entries.remove(&old).expect("checked above");
        match apply_to(&mut entry.index, changes, &rows) {
            Ok(()) => {}
            Err(e) => {
                c.entries.insert(old, entry);
                return Err(e);
            }
        }
        entry.bytes = entry.index.memory_bytes();
        entry.descriptor = to;
        c.entries.insert(new_witness.clone(), entry);
        let k = &mut c.keys[id as usize];
        k.pointer = Some(new_witness.clone());
        k.last_checked = Some(Instant::now());
        let rows = (changes.removed.len() + changes.upserted.len()) as u64;
        c.count(id, |s| {
            s.change_sets += 1;
            s.rows_applied += rows;
        });
        c.bound(Bound { max_entries: self.config.max_entries, max_bytes: self.config.max_bytes }, &new_witness);
        Ok(true)
    }

    fn install(&self, id: u32, d: Descriptor, index: Arc<VectorIndex>, event: impl Fn(&mut Stats)) {
        let witness = d.witness();
        let mut c = self.cache();
        c.install(&witness, index, d);
        c.point(id, Some(witness.clone()));
        c.keys[id as usize].last_checked = Some(Instant::now());
        c.count(id, event);
        c.bound(Bound { max_entries: self.config.max_entries, max_bytes: self.config.max_bytes }, &witness);
    }

    fn cached(&self, id: u32) -> Result<Arc<VectorIndex>> {
        let mut c = self.cache();
        Self::checked_key(&c, id)?;
        if let Some(e) = c.entry_of(id) {
            return Ok(Arc::clone(&e.index));
        }
        let k = c.key(id);
        Err(Error::new(Status::CacheMiss, format!("{}/{} is not cached (never primed, invalidated or evicted)", k.backend, k.collection)))
    }

    /// Searches one cached collection among the rows `filter` passes; ids
    /// (also those in the filter) are the backend's own.
    pub fn search(&self, id: u32, query: &[f32], k: usize, filter: &SearchFilter, ids: &mut [u64], scores: &mut [f32]) -> Result<usize> {
        self.cached(id)?.search_filtered_into(query, k, &SearchParams::default(), filter, ids, scores)
    }

    /// The engine of a collection's cached index (`CacheMiss` when nothing is cached).
    pub fn engine_of(&self, id: u32) -> Result<CacheEngine> {
        let mut c = self.cache();
        Self::checked_key(&c, id)?;
        if let Some(e) = c.entry_of(id) {
            return Ok(e.descriptor.engine);
        }
        let k = c.key(id);
        Err(Error::new(Status::CacheMiss, format!("{}/{} is not cached, so it has no engine yet", k.backend, k.collection)))
    }

    /// The cached index of a collection, for batch searches and a warm start's sample rows.
    pub fn index(&self, id: u32) -> Result<Arc<VectorIndex>> {
        self.cached(id)
    }

    /// Searches several cached collections in parallel and merges by score.
    /// Per shard: rerank max(5, rf/S) and k' = k + ceil(sqrt(k ln S)) capped at 4k, as upstream.
    /// `filter` applies to every shard, by each backend's own ids.
    pub fn search_federated(&self, keys: &[u32], query: &[f32], k: usize, filter: &SearchFilter) -> Result<Vec<ShardHit>> {
        let shards = keys.len();
        if shards == 0 {
            return Err(Error::invalid("a federated search needs at least one target"));
        }
        let indexes: Vec<Arc<VectorIndex>> = keys.iter().map(|&id| self.cached(id)).collect::<Result<_>>()?;
        let (k_shard, rerank) = if shards > 1 {
            let extra = ((k as f64) * (shards as f64).ln()).sqrt().ceil() as usize;
            ((k + extra).min(4 * k), (self.config.rerank_factor / shards).max(5))
        } else {
            (k, self.config.rerank_factor)
        };
        let per_shard: Vec<Vec<ShardHit>> = indexes
            .par_iter()
            .enumerate()
            .map(|(s, idx)| {
                // The IVF engine has its own rerank depth; the factor is the Plus engine's.
                let sp = if idx.params().kind == Kind::Ivf { SearchParams::default() } else { SearchParams::rerank_factor(rerank.min(1024)) };
                let (ids, scores) = idx.search_filtered_owned(query, k_shard, &sp, filter).map_err(|e| shard_error(s, e))?;
                Ok(ids.into_iter().zip(scores).map(|(i, sc)| (s as u32, i, sc)).collect())
            })
            .collect::<Result<_>>()?;
        let mut all: Vec<ShardHit> = per_shard.into_iter().flatten().collect();
        all.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
        all.truncate(k);
        Ok(all)
    }

    pub fn invalidate(&self, id: u32) -> Result<()> {
        let mut c = self.cache();
        Self::checked_key(&c, id)?;
        if c.key(id).pointer.is_some() {
            c.point(id, None);
        }
        Ok(())
    }

    pub fn witness_of(&self, id: u32) -> Result<Option<String>> {
        let mut c = self.cache();
        Self::checked_key(&c, id)?;
        Ok(c.entry_of(id).map(|e| e.descriptor.witness()))
    }

    /// Global counters, or those of one key, or summed over a key's backend.
    pub fn stats(&self, scope: Scope) -> Result<(Stats, usize, usize)> {
        let c = self.cache();
        let stats = match scope {
            Scope::Global => c.stats,
            Scope::Key(id) => {
                Self::checked_key(&c, id)?;
                c.key(id).stats
            }
            Scope::Backend(id) => {
                Self::checked_key(&c, id)?;
                let backend = &c.key(id).backend;
                let mut sum = Stats::default();
                c.keys.iter().filter(|k| &k.backend == backend).for_each(|k| sum.add(&k.stats));
                sum
            }
        };
        Ok((stats, c.entries.len(), c.total_bytes()))
    }

    /// Writes `table.rulake.json` for a descriptor; returns its witness.
    /// Under `auto` the engine is the one this state is cached with (it
    /// depends on the collection's size), so the state must be cached.
    pub fn publish(&self, d: &Descriptor, dir: &Path) -> Result<String> {
        let d = match self.config.engine {
            EngineChoice::Auto { .. } => self.cached_descriptor(d)?,
            _ => d.clone(),
        };
        self.write_bundle(&d, dir)
    }

    fn write_bundle(&self, d: &Descriptor, dir: &Path) -> Result<String> {
        let b = Bundle::new(d);
        b.write_to_dir(dir)?;
        Ok(b.witness().to_string())
    }

    /// The cached descriptor of state `d` under any candidate engine.
    fn cached_descriptor(&self, d: &Descriptor) -> Result<Descriptor> {
        let witnesses = self.candidate_witnesses(d);
        let c = self.cache();
        witnesses.iter().find_map(|w| c.entries.get(w)).map(|e| e.descriptor.clone()).ok_or_else(|| {
            Error::new(Status::CacheMiss, format!("{} at this generation is not cached: with engine auto its engine depends on its size, so search or prime it before publishing", d.data_ref))
        })
    }

    /// Compares a published sidecar with what the cache holds for `id`.
    pub fn refresh_from_dir(&self, id: u32, dir: &Path) -> Result<Refresh> {
        let Some(bundle) = Bundle::read_from_dir(dir)? else { return Ok(Refresh::BundleMissing) };
        let mut c = self.cache();
        Self::checked_key(&c, id)?;
        match c.key(id).pointer.as_deref() {
            Some(w) if w != bundle.witness() => {
                c.point(id, None);
                Ok(Refresh::Invalidated)
            }
            _ => Ok(Refresh::UpToDate),
        }
    }

    /// Persists a cached collection (index with its original ids, plus its
    /// sidecar) so another process can warm from it without the backend.
    pub fn save_to_dir(&self, id: u32, dir: &Path) -> Result<String> {
        let index = self.cached(id)?;
        let descriptor = {
            let mut c = self.cache();
            c.entry_of(id).map(|e| e.descriptor.clone()).ok_or_else(|| Error::new(Status::CacheMiss, "evicted while saving"))?
        };
        std::fs::create_dir_all(dir).map_err(|e| Error::io(&format!("cannot create {}", dir.display()), e))?;
        let (file, other) = match descriptor.engine {
            CacheEngine::Plus => (PLUS_FILE, IVF_FILE),
            CacheEngine::Ivf(_) => (IVF_FILE, PLUS_FILE),
        };
        persist::save(&index, &bundle::contained(dir, file)?)?;
        let witness = self.write_bundle(&descriptor, dir)?;
        // A save with the other engine before: its file is no longer what the sidecar describes.
        let stale = bundle::contained(dir, other)?;
        match std::fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(&format!("cannot remove stale {}", stale.display()), e)),
            _ => {}
        }
        Ok(witness)
    }

    /// Installs a saved collection under its bundle's witness; returns its size.
    pub fn warm_from_dir(&self, id: u32, dir: &Path) -> Result<usize> {
        Self::checked_key(&self.cache(), id)?;
        let bundle = Bundle::read_from_dir(dir)?
            .ok_or_else(|| Error::new(Status::Bundle, format!("{} has no {}", dir.display(), bundle::SIDECAR)))?;
        let d = bundle.descriptor();
        let (file, kind) = match d.engine {
            CacheEngine::Plus => (PLUS_FILE, Kind::Plus),
            CacheEngine::Ivf(_) => (IVF_FILE, Kind::Ivf),
        };
        let index = load_cached_index(&bundle::contained(dir, file)?, kind, d.dim)?;
        check_matches_bundle(index.params(), &d)?;
        index.warm_caches();
        let n = index.len();
        self.install(id, d, Arc::new(index), |s| s.warm_installs += 1);
        Ok(n)
    }

    /// Dimensions of the cached collection.
    pub fn dim(&self, id: u32) -> Result<usize> {
        Ok(self.cached(id)?.params().dim)
    }

    pub fn is_primed(&self, id: u32) -> Result<bool> {
        let mut c = self.cache();
        Self::checked_key(&c, id)?;
        Ok(c.entry_of(id).is_some())
    }
}

/// Reads a saved collection's index. The one place the lake loads index
/// files: the rotation costs O(dim³), so it is never built larger than the
/// bundle declares. An IVF cache is mapped rather than copied (its pages are
/// shared with the page cache), with every section's CRC verified since the
/// witness covers the parameters, not the file's bytes.
fn load_cached_index(path: &Path, kind: Kind, dim: usize) -> Result<VectorIndex> {
    if kind == Kind::Ivf {
        // Mapped and fully verified; a cache saved by an older release loads by copy.
        return persist::load_ivf_mapped_or_copied(path, true);
    }
    persist::load_with(path, Some(kind), Some(dim.div_ceil(64) * 64), persist::LoadOptions::default())
}

/// Refuses a saved index whose parameters are not those its bundle declares.
fn check_matches_bundle(p: &Params, d: &Descriptor) -> Result<()> {
    let mismatch = |what: String| Error::new(Status::Bundle, format!("index does not match its bundle: {what}"));
    if p.dim != d.dim || p.seed != d.rotation_seed {
        return Err(mismatch(format!("index dim {} seed {}, bundle dim {} seed {}", p.dim, p.seed, d.dim, d.rotation_seed)));
    }
    match d.engine {
        CacheEngine::Plus if p.rerank_factor != d.rerank_factor => Err(mismatch(format!("index rerank {}, bundle rerank {}", p.rerank_factor, d.rerank_factor))),
        CacheEngine::Plus => Ok(()),
        // A build resolves nlist 0 and calibrates nprobe: compare what it keeps as configured.
        CacheEngine::Ivf(o) => {
            let (got, nlist_ok) = (p.ivf, o.nlist == 0 || o.nlist == p.ivf.nlist);
            if got.store != o.store || got.ex_bits != o.ex_bits || got.rerank != o.rerank || !nlist_ok {
                return Err(mismatch(format!("index IVF options {got:?}, bundle {o:?}")));
            }
            Ok(())
        }
    }
}

/// Checks a change set on its own (shapes, duplicates, an id both removed and
/// upserted) and prepares its upserted rows for an index of `params`.
fn prepare_changes(params: &Params, changes: Changes<'_>) -> Result<Vec<f32>> {
    let rows = crate::index::prepare_batch(params, changes.vectors, changes.upserted, None)?;
    let upserted: std::collections::HashSet<u64> = changes.upserted.iter().copied().collect();
    if let Some(id) = changes.removed.iter().find(|id| upserted.contains(id)) {
        return Err(Error::invalid(format!("id {id} is both removed and upserted in one change set")));
    }
    crate::index::check_remove_with(changes.removed, true, |_| true)?;
    Ok(rows)
}

/// Applies a change set checked and prepared by [`prepare_changes`] to an
/// index: all of it, or (on invalid input) none.
fn apply_to(index: &mut Arc<VectorIndex>, changes: Changes<'_>, rows: &[f32]) -> Result<()> {
    index.check_new_ids_with(changes.upserted, |_| false)?;
    // An in-flight search holds the current version: change a copy instead.
    let index = match Arc::get_mut(index) {
        Some(ix) => ix,
        None => {
            *index = Arc::new(index.compacted()?);
            Arc::get_mut(index).expect("a fresh copy is unshared")
        }
    };
    index.remove_present(changes.removed);
    index.remove_present(changes.upserted);
    index.append_prepared(rows, changes.upserted, None)?;
    // Tombstones beyond a quarter of the rows cost more scan time than a compaction.
    if index.removed_rows() * 4 > index.len() + index.removed_rows() {
        index.compact()?;
    }
    Ok(())
}

/// Which counters `stats` reports.
#[derive(Clone, Copy)]
pub enum Scope {
    Global,
    Key(u32),
    Backend(u32),
}

fn shard_error(shard: usize, e: Error) -> Error {
    Error::new(e.status, format!("shard {shard}: {}", e.message))
}
