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
use crate::index::{persist, Kind, Metric, Params, SearchParams, VectorIndex};
pub use bundle::Bundle;
use cache::{Bound, Cache};
pub use stats::Stats;
use witness::Descriptor;

const INDEX_FILE: &str = "index.rbpx";

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

#[derive(Clone, Copy)]
pub struct Config {
    pub rerank_factor: usize,
    pub rotation_seed: u64,
    pub consistency: Consistency,
    pub max_entries: usize,
    pub max_bytes: usize,
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
        Ok(Self { config, cache: Mutex::new(Cache::default()) })
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The descriptor of a backend's state under this lake's seed and rerank factor.
    pub fn descriptor(&self, data_ref: String, dim: usize, generation: witness::Generation) -> Descriptor {
        Descriptor { data_ref, dim, rotation_seed: self.config.rotation_seed, rerank_factor: self.config.rerank_factor, generation }
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
    /// the skip counts as a cache hit (as upstream counts it).
    pub fn needs_check(&self, id: u32) -> Result<bool> {
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
        if skip {
            c.count(id, |s| s.hits += 1);
        }
        Ok(!skip)
    }

    /// Compares the backend's current state with the cache.
    pub fn check(&self, id: u32, d: &Descriptor) -> Result<Check> {
        let witness = d.witness();
        let mut c = self.cache();
        Self::checked_key(&c, id)?;
        let current = c.key(id).pointer.as_deref() == Some(witness.as_str()) && c.entries.contains_key(&witness);
        let outcome = if current {
            c.count(id, |s| s.hits += 1);
            Check::Hit
        } else if c.entries.contains_key(&witness) {
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

    fn index_params(&self, dim: usize) -> Params {
        Params::new(Kind::Plus, dim, self.config.rotation_seed, self.config.rerank_factor, Metric::L2, true)
    }

    /// Builds the index for pulled vectors (outside the lock) and installs it.
    pub fn prime(&self, id: u32, d: Descriptor, vectors: &[f32], ids: &[u64]) -> Result<()> {
        Self::checked_key(&self.cache(), id)?;
        if d.dim == 0 || vectors.len() != ids.len() * d.dim {
            return Err(Error::invalid(format!("{} ids and {} floats do not make rows of dim {}", ids.len(), vectors.len(), d.dim)));
        }
        let started = Instant::now();
        let index = VectorIndex::build(self.index_params(d.dim), vectors, Some(ids))?;
        let bytes = index.memory_bytes();
        if self.config.max_bytes > 0 && bytes > self.config.max_bytes {
            return Err(Error::invalid(format!("collection needs {bytes} bytes, over the cache bound of {} bytes", self.config.max_bytes)));
        }
        let us = started.elapsed().as_micros() as u64;
        self.install(id, d, Arc::new(index), |s| {
            s.primes += 1;
            s.total_prime_us += us;
            s.last_prime_us = us;
        });
        Ok(())
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
        let k = c.key(id);
        let name = format!("{}/{}", k.backend, k.collection);
        c.entry_of(id).map(|e| Arc::clone(&e.index)).ok_or_else(|| {
            Error::new(Status::CacheMiss, format!("{name} is not cached (never primed, invalidated or evicted)"))
        })
    }

    /// Searches one cached collection; ids are the backend's own.
    pub fn search(&self, id: u32, query: &[f32], k: usize, ids: &mut [u64], scores: &mut [f32]) -> Result<usize> {
        self.cached(id)?.search_into(query, k, &SearchParams::default(), ids, scores)
    }

    /// The cached index of a collection, for batch searches.
    pub fn index(&self, id: u32) -> Result<Arc<VectorIndex>> {
        self.cached(id)
    }

    /// Searches several cached collections in parallel and merges by score.
    /// Per shard: rerank max(5, rf/S) and k' = k + ceil(sqrt(k ln S)) capped at 4k, as upstream.
    pub fn search_federated(&self, keys: &[u32], query: &[f32], k: usize) -> Result<Vec<ShardHit>> {
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
                let (ids, scores) = idx.search_owned(query, k_shard, &SearchParams::rerank_factor(rerank.min(1024))).map_err(|e| shard_error(s, e))?;
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
    pub fn publish(&self, d: &Descriptor, dir: &Path) -> Result<String> {
        let b = Bundle::new(d);
        b.write_to_dir(dir)?;
        Ok(b.witness().to_string())
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
        persist::save(&index, &bundle::contained(dir, INDEX_FILE)?)?;
        self.publish(&descriptor, dir)
    }

    /// Installs a saved collection under its bundle's witness; returns its size.
    pub fn warm_from_dir(&self, id: u32, dir: &Path) -> Result<usize> {
        Self::checked_key(&self.cache(), id)?;
        let bundle = Bundle::read_from_dir(dir)?
            .ok_or_else(|| Error::new(Status::Bundle, format!("{} has no {}", dir.display(), bundle::SIDECAR)))?;
        let d = bundle.descriptor();
        // The rotation costs O(dim³): never build a larger one than the bundle declares.
        let index = persist::load_limited(&bundle::contained(dir, INDEX_FILE)?, Some(Kind::Plus), Some(d.dim.div_ceil(64) * 64))?;
        let p = index.params();
        if p.dim != d.dim || p.rerank_factor != d.rerank_factor || p.seed != d.rotation_seed {
            return Err(Error::new(
                Status::Bundle,
                format!("index (dim {}, rerank {}, seed {}) does not match its bundle (dim {}, rerank {}, seed {})", p.dim, p.rerank_factor, p.seed, d.dim, d.rerank_factor, d.rotation_seed),
            ));
        }
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
