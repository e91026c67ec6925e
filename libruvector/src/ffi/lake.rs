//! `ruv_lake_*`: the ruLake cache behind an opaque, reference-counted handle.
//! The host calls `ruv_lake_needs_check` / `ruv_lake_check` with its backend's
//! current state, pulls and calls `ruv_lake_prime` on a miss, then searches.
//! A collection's state is passed as a `RuvCollection`.

use std::sync::Arc;
use std::time::Duration;

use super::index::{as_filters, read_filters, single, OwnedFilter, RuvSearchOptions};
use super::runtime::{job_out, Hits, ShardHits};
use super::{copy_into, copy_string_out, first_version, free_handle, guard, handle, handle_out, path, read_struct, slice, slice_mut, utf8, write_out, write_struct};
use crate::error::{Error, Result, Status};
use crate::index::{IvfOptions, SearchParams};
use crate::lake::witness::{CacheEngine, Descriptor, Generation};
use crate::lake::{Changes, Config, Consistency, EngineChoice, Lake, Scope, Stats};
use crate::runtime::{spawn, Job};

/// Opaque handle to a lake. Thread-safe: every call may come from any thread.
pub struct RuvLake(Arc<Lake>);

/// When a search may use the cache without asking the backend (`RuvLakeConfig.consistency`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuvConsistency {
    /// Check on every search.
    Fresh = 0,
    /// Check at most once per `ttl_ms` per collection.
    Eventual = 1,
    /// Check only when nothing is cached.
    Frozen = 2,
}

/// Which index a lake caches collections as (`RuvLakeConfig.engine`), and
/// which one a collection got (`ruv_lake_engine_of`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuvLakeEngine {
    /// `RabitqPlusIndex` (upstream's engine and witness).
    Plus = 0,
    /// `IvfRabitqIndex` with the config's IVF fields.
    Ivf = 1,
    /// IVF from `ivf_from_rows` vectors up, Plus below (config only).
    Auto = 2,
}

/// Whose counters `ruv_lake_stats` reports.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuvStatsScope {
    /// The whole lake.
    Global = 0,
    /// The backend of the given key.
    Backend = 1,
    /// The given key.
    Collection = 2,
}

/// How `RuvCollection.generation_*` encodes a backend's generation.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuvGenerationKind {
    /// `generation_num` holds a counter.
    Number = 0,
    /// `generation_str` holds an opaque UTF-8 string (e.g. an ETag).
    String = 1,
}

/// Settings of a new lake.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RuvLakeConfig {
    /// Set by the caller: `sizeof(RuvLakeConfig)`.
    pub struct_size: u32,
    /// Candidates reranked per query = k × rerank_factor (1..1024).
    pub rerank_factor: u32,
    /// One of `RUV_CONSISTENCY_*`.
    pub consistency: u32,
    /// Reserved, must be 0.
    pub reserved: u32,
    /// Seed of the random rotation; part of every witness.
    pub rotation_seed: u64,
    /// For `RUV_CONSISTENCY_EVENTUAL`: how long a check stays valid.
    pub ttl_ms: u64,
    /// Most collection states cached at once (0 = unbounded).
    pub max_entries: u64,
    /// Most bytes of cached indexes (0 = unbounded).
    pub max_bytes: u64,
    /// One of `RUV_LAKE_ENGINE_*` (appended; older callers get Plus).
    pub engine: u32,
    /// IVF: number of lists (0 = the power of two nearest 2√n, fewer for rows wider than 256).
    pub nlist: u32,
    /// IVF: code bits per component, 1..8 (0 = 7).
    pub ex_bits: u32,
    /// IVF: one of `RUV_IVF_STORE_*`.
    pub store: u32,
    /// IVF: lists probed per search (0 = nlist / 8, or what calibration chose).
    pub nprobe: u32,
    /// IVF: candidates reranked exactly from the store (0 = none).
    pub rerank: u32,
    /// IVF: recall@10 the build calibrates nprobe for, in (0, 1] (0 = none).
    pub target_recall: f32,
    /// Reserved, must be 0.
    pub reserved2: u32,
    /// `RUV_LAKE_ENGINE_AUTO`: collections of at least this many vectors get IVF.
    pub ivf_from_rows: u64,
}

/// Bytes of `RuvLakeConfig` before the engine fields were appended.
const LAKE_CONFIG_V1_SIZE: usize = 48;

impl super::AbiStruct for RuvLakeConfig {
    const MIN_SIZE: usize = LAKE_CONFIG_V1_SIZE;
    fn defaults() -> Self {
        Self::default()
    }
}

impl RuvLakeConfig {
    fn to_config(self) -> Result<Config> {
        let consistency = match self.consistency {
            c if c == RuvConsistency::Fresh as u32 => Consistency::Fresh,
            c if c == RuvConsistency::Eventual as u32 => Consistency::Eventual(Duration::from_millis(self.ttl_ms)),
            c if c == RuvConsistency::Frozen as u32 => Consistency::Frozen,
            c => return Err(Error::invalid(format!("unknown consistency {c} (0 fresh, 1 eventual, 2 frozen)"))),
        };
        let engine = match self.engine {
            e if e == RuvLakeEngine::Plus as u32 => EngineChoice::Plus,
            e if e == RuvLakeEngine::Ivf as u32 => EngineChoice::Ivf,
            e if e == RuvLakeEngine::Auto as u32 => EngineChoice::Auto { ivf_from_rows: self.ivf_from_rows as usize },
            e => return Err(Error::invalid(format!("unknown lake engine {e} (0 plus, 1 ivf, 2 auto)"))),
        };
        // 0 = the default, spelt out so equal configurations have equal witnesses.
        let ex_bits = if self.ex_bits == 0 { IvfOptions::default().ex_bits } else { self.ex_bits };
        let ivf = super::index::ivf_options(self.nlist, ex_bits, self.store, self.nprobe, self.rerank, self.target_recall)?;
        Ok(Config {
            rerank_factor: self.rerank_factor as usize,
            rotation_seed: self.rotation_seed,
            consistency,
            max_entries: self.max_entries as usize,
            max_bytes: self.max_bytes as usize,
            engine,
            ivf,
        })
    }
}

/// A collection's current state as its backend reports it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RuvCollection {
    /// Set by the caller: `sizeof(RuvCollection)`.
    pub struct_size: u32,
    /// Dimensions per vector (at least 1).
    pub dim: u32,
    /// Where the data lives (UTF-8, `data_ref_len` bytes), e.g. `file:///data/docs.ruvec`.
    pub data_ref: *const u8,
    pub data_ref_len: u64,
    /// One of `RUV_GENERATION_KIND_*`.
    pub generation_kind: u32,
    /// Reserved, must be 0.
    pub reserved: u32,
    /// For `RUV_GENERATION_KIND_NUMBER`.
    pub generation_num: u64,
    /// For `RUV_GENERATION_KIND_STRING`: UTF-8, `generation_str_len` bytes.
    pub generation_str: *const u8,
    pub generation_str_len: u64,
}

impl Default for RuvCollection {
    fn default() -> Self {
        Self { struct_size: 0, dim: 0, data_ref: std::ptr::null(), data_ref_len: 0, generation_kind: 0, reserved: 0, generation_num: 0, generation_str: std::ptr::null(), generation_str_len: 0 }
    }
}

/// A backend's changes since a generation, for `ruv_lake_apply_changes`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RuvChangeSet {
    /// Set by the caller: `sizeof(RuvChangeSet)`.
    pub struct_size: u32,
    /// Reserved, must be 0.
    pub reserved: u32,
    /// Ids removed (`removed_len` of them).
    pub removed: *const u64,
    pub removed_len: u64,
    /// Ids inserted or replaced (`upserted_len`), one per row of `vectors`.
    pub upserted: *const u64,
    pub upserted_len: u64,
    /// Their vectors, `upserted_len × dim` floats (`vectors_len`).
    pub vectors: *const f32,
    pub vectors_len: u64,
}

impl Default for RuvChangeSet {
    fn default() -> Self {
        Self { struct_size: 0, reserved: 0, removed: std::ptr::null(), removed_len: 0, upserted: std::ptr::null(), upserted_len: 0, vectors: std::ptr::null(), vectors_len: 0 }
    }
}

first_version!(RuvCollection, RuvCacheStats, RuvChangeSet);

/// Cache counters of a scope, and the lake's cached entries and bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RuvCacheStats {
    /// Set by the caller: `sizeof(RuvCacheStats)`.
    pub struct_size: u32,
    /// Reserved, 0.
    pub reserved: u32,
    /// The scope's counters.
    pub counters: Stats,
    /// Cached indexes, lake-wide.
    pub entries: u64,
    /// Bytes of cached indexes, lake-wide.
    pub bytes: u64,
}

/// The descriptor a `RuvCollection` names under this lake's seed and rerank factor.
///
/// # Safety
/// `c` null or valid for its `struct_size`; its strings valid for their lengths.
unsafe fn descriptor(lake: &Lake, c: *const RuvCollection) -> Result<Descriptor> {
    let c = read_struct(c, "collection")?;
    let generation = match c.generation_kind {
        k if k == RuvGenerationKind::Number as u32 => Generation::Num(c.generation_num),
        k if k == RuvGenerationKind::String as u32 => Generation::Opaque(utf8(c.generation_str, c.generation_str_len, "generation")?.to_string()),
        k => return Err(Error::invalid(format!("unknown generation kind {k} (0 = number, 1 = string)"))),
    };
    if c.dim == 0 {
        return Err(Error::invalid("a collection's dim must be at least 1"));
    }
    Ok(lake.descriptor(utf8(c.data_ref, c.data_ref_len, "data_ref")?.to_string(), c.dim as usize, generation))
}

/// Creates a lake.
///
/// # Safety
/// `config` valid for its `struct_size`; `out` valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_new(config: *const RuvLakeConfig, out: *mut *mut RuvLake) -> i32 {
    guard(|| handle_out(out, RuvLake(Arc::new(Lake::new(read_struct(config, "config")?.to_config()?)?))))
}

/// Releases a lake; running jobs keep their own reference.
///
/// # Safety
/// `lake` null or a live handle, released once.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_free(lake: *mut RuvLake) -> i32 {
    free_handle(lake)
}

/// Interns (backend, collection) as a key id for the other calls.
///
/// # Safety
/// Strings valid for their lengths; `out` for one u32.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_key(lake: *const RuvLake, backend: *const u8, backend_len: u64, collection: *const u8, collection_len: u64, out: *mut u32) -> i32 {
    guard(|| {
        let lake = &handle(lake, "lake")?.0;
        let id = lake.key(utf8(backend, backend_len, "backend")?, utf8(collection, collection_len, "collection")?);
        write_out(out, id, "out")
    })
}

/// `ruv_lake_needs_check_with` flag: answer without counting a cache hit (a
/// host's warm-up search, which is no one's hit).
pub const RUV_LAKE_CHECK_UNCOUNTED: u32 = 1;

/// 1 when a search must check the backend's state first; 0 when consistency
/// lets it use the cache (counted as a hit).
///
/// # Safety
/// `lake` live; `out` valid for one i32.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_needs_check(lake: *const RuvLake, key: u32, out: *mut i32) -> i32 {
    ruv_lake_needs_check_with(lake, key, 0, out)
}

/// `ruv_lake_needs_check` with `flags` (`RUV_LAKE_CHECK_*`).
///
/// # Safety
/// `lake` live; `out` valid for one i32.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_needs_check_with(lake: *const RuvLake, key: u32, flags: u32, out: *mut i32) -> i32 {
    guard(|| {
        if flags & !RUV_LAKE_CHECK_UNCOUNTED != 0 {
            return Err(Error::invalid(format!("unknown ruv_lake_needs_check_with flags {flags:#x}")));
        }
        write_out(out, handle(lake, "lake")?.0.needs_check(key, flags & RUV_LAKE_CHECK_UNCOUNTED == 0)? as i32, "out")
    })
}

/// Compares the backend's state with the cache: a `RUV_CHECK_RESULT_*` (hit,
/// shared: pointer moved to an identical cached state, miss: pull and prime).
///
/// # Safety
/// `lake` live; `collection` valid; `out` for one u32.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_check(lake: *const RuvLake, key: u32, collection: *const RuvCollection, out: *mut u32) -> i32 {
    guard(|| {
        let lake = &handle(lake, "lake")?.0;
        let d = descriptor(lake, collection)?;
        write_out(out, lake.check(key, &d)? as u32, "out")
    })
}

/// Builds and installs the index for pulled vectors (`ids_len` rows of `dim`).
///
/// # Safety
/// `lake` live; `collection` valid; all buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_prime(lake: *const RuvLake, key: u32, collection: *const RuvCollection, vectors: *const f32, len: u64, ids: *const u64, ids_len: u64) -> i32 {
    guard(|| {
        let lake = &handle(lake, "lake")?.0;
        let d = descriptor(lake, collection)?;
        lake.prime(key, d, slice(vectors, len, "vectors")?, slice(ids, ids_len, "ids")?)
    })
}

/// `ruv_lake_prime` off-thread (`collection` is read during the call); the
/// caller keeps `vectors` and `ids` alive and unchanged until the job completes.
///
/// # Safety
/// As `ruv_lake_prime`, buffers valid until completion; `out_job` for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_prime_async(
    lake: *const RuvLake, key: u32, collection: *const RuvCollection, vectors: *const f32, len: u64, ids: *const u64, ids_len: u64, out_job: *mut *const Job,
) -> i32 {
    guard(|| {
        let lake = Arc::clone(&handle(lake, "lake")?.0);
        let d = descriptor(&lake, collection)?;
        let (vectors, ids) = (slice(vectors, len, "vectors")?, slice(ids, ids_len, "ids")?);
        job_out(spawn(move || lake.prime(key, d, vectors, ids))?, out_job)
    })
}

/// Applies a backend's changes since state `from` (what the cache holds) to
/// reach state `to`: the change set's removed ids go, its upserted ids are
/// inserted or replaced. `out` gets 1 when applied, 0 when the cache cannot
/// take them (no longer holding exactly `from`, shared with another key, dim
/// or source changed): then pull and prime.
///
/// # Safety
/// `lake` live; both collections and `changes` valid, with their buffers; `out` for one i32.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_apply_changes(
    lake: *const RuvLake, key: u32, from: *const RuvCollection, to: *const RuvCollection, changes: *const RuvChangeSet, out: *mut i32,
) -> i32 {
    guard(|| {
        let lake = &handle(lake, "lake")?.0;
        let (from, to) = (descriptor(lake, from)?, descriptor(lake, to)?);
        let c = read_struct(changes, "changes")?;
        let changes = Changes {
            removed: slice(c.removed, c.removed_len, "removed")?,
            upserted: slice(c.upserted, c.upserted_len, "upserted")?,
            vectors: slice(c.vectors, c.vectors_len, "vectors")?,
        };
        write_out(out, lake.apply_changes(key, &from, to, changes)? as i32, "out")
    })
}

/// The engine of a collection's cached index: a `RUV_LAKE_ENGINE_*` (never
/// auto); `CacheMiss` when nothing is cached.
///
/// # Safety
/// `lake` live; `out` for one u32.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_engine_of(lake: *const RuvLake, key: u32, out: *mut u32) -> i32 {
    guard(|| {
        let engine = match handle(lake, "lake")?.0.engine_of(key)? {
            CacheEngine::Plus => RuvLakeEngine::Plus,
            CacheEngine::Ivf(_) => RuvLakeEngine::Ivf,
        };
        write_out(out, engine as u32, "out")
    })
}

/// Searches one cached collection; writes min(k, n) hits with the backend's ids.
///
/// # Safety
/// `lake` live; `query` valid for `len`; outputs for `cap`.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_search(
    lake: *const RuvLake, key: u32, query: *const f32, len: u64, k: u32, out_ids: *mut u64, out_scores: *mut f32, cap: u64, out_count: *mut u64,
) -> i32 {
    ruv_lake_search_with(lake, key, query, len, &options_for(k, 0), out_ids, out_scores, cap, out_count)
}

/// `ruv_lake_search` with `options`: its `k` and at most one filter (by the
/// backend's ids); the lake sets its own search depth, so the overrides must be 0.
///
/// # Safety
/// `lake` live; `query` valid for `len`; `options` for its `struct_size`; outputs for `cap`.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_search_with(
    lake: *const RuvLake, key: u32, query: *const f32, len: u64, options: *const RuvSearchOptions, out_ids: *mut u64, out_scores: *mut f32, cap: u64, out_count: *mut u64,
) -> i32 {
    guard(|| {
        let (o, filters) = lake_options(options)?;
        let lake = &handle(lake, "lake")?.0;
        let (ids, scores) = (slice_mut(out_ids, cap, "out_ids")?, slice_mut(out_scores, cap, "out_scores")?);
        let n = lake.search(key, slice(query, len, "query")?, o.k as usize, &single(&filters)?, ids, scores)?;
        write_out(out_count, n as u64, "out_count")
    })
}

/// `ruv_lake_search` off-thread (the query is copied); take with `ruv_job_take_hits`.
///
/// # Safety
/// `lake` live; `query` valid for `len`; `out_job` for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_search_async(lake: *const RuvLake, key: u32, query: *const f32, len: u64, k: u32, out_job: *mut *const Job) -> i32 {
    ruv_lake_search_with_async(lake, key, query, len, &options_for(k, 0), out_job)
}

/// `ruv_lake_search_with` off-thread (the query and filter are copied); take with `ruv_job_take_hits`.
///
/// # Safety
/// `lake` live; `query` valid for `len`; `options` for its `struct_size`; `out_job` for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_search_with_async(lake: *const RuvLake, key: u32, query: *const f32, len: u64, options: *const RuvSearchOptions, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let (o, filters) = lake_options(options)?;
        single(&filters)?;
        let lake = Arc::clone(&handle(lake, "lake")?.0);
        let (query, k) = (slice(query, len, "query")?.to_vec(), o.k as usize);
        let job = spawn(move || {
            let (ids, scores) = lake.index(key)?.search_filtered_owned(&query, k, &SearchParams::default(), &single(&filters)?)?;
            Ok(Hits { ids, scores })
        })?;
        job_out(job, out_job)
    })
}

/// Searches `len / dim` queries against one cached collection on `threads`
/// threads (0 = all); each writes min(k, n) hits; `out_k` gets that count.
///
/// # Safety
/// `lake` live; buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_search_batch(
    lake: *const RuvLake, key: u32, queries: *const f32, len: u64, k: u32, threads: u32, out_ids: *mut u64, out_scores: *mut f32, cap: u64, out_k: *mut u64,
) -> i32 {
    ruv_lake_search_batch_with(lake, key, queries, len, &options_for(k, threads), out_ids, out_scores, cap, out_k)
}

/// `ruv_lake_search_batch` with `options`: `k`, `threads` and no filter, one
/// for every query or one per query. A query that matches fewer than min(k, n)
/// rows fills its last slots with `RUV_NO_HIT_ID`.
///
/// # Safety
/// `lake` live; `options` for its `struct_size`; buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_search_batch_with(
    lake: *const RuvLake, key: u32, queries: *const f32, len: u64, options: *const RuvSearchOptions, out_ids: *mut u64, out_scores: *mut f32, cap: u64, out_k: *mut u64,
) -> i32 {
    guard(|| {
        let (o, owned) = lake_options(options)?;
        let filters = as_filters(&owned);
        let index = handle(lake, "lake")?.0.index(key)?;
        let (ids, scores) = (slice_mut(out_ids, cap, "out_ids")?, slice_mut(out_scores, cap, "out_scores")?);
        let kk = index.search_batch_filtered(slice(queries, len, "queries")?, o.k as usize, &SearchParams::default(), &filters, o.threads as usize, ids, scores)?;
        write_out(out_k, kk as u64, "out_k")
    })
}

/// Searches `nkeys` cached collections in parallel, merged by score: writes up
/// to k hits, each with the position of its key in `keys`.
///
/// # Safety
/// `lake` live; buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_search_federated(
    lake: *const RuvLake, keys: *const u32, nkeys: u64, query: *const f32, len: u64, k: u32,
    out_shards: *mut u32, out_ids: *mut u64, out_scores: *mut f32, cap: u64, out_count: *mut u64,
) -> i32 {
    ruv_lake_search_federated_with(lake, keys, nkeys, query, len, &options_for(k, 0), out_shards, out_ids, out_scores, cap, out_count)
}

/// `ruv_lake_search_federated` with `options`: its `k` and at most one filter,
/// applied to every collection by its backend's ids.
///
/// # Safety
/// `lake` live; `options` for its `struct_size`; buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_search_federated_with(
    lake: *const RuvLake, keys: *const u32, nkeys: u64, query: *const f32, len: u64, options: *const RuvSearchOptions,
    out_shards: *mut u32, out_ids: *mut u64, out_scores: *mut f32, cap: u64, out_count: *mut u64,
) -> i32 {
    guard(|| {
        let (o, filters) = lake_options(options)?;
        let hits = handle(lake, "lake")?.0.search_federated(slice(keys, nkeys, "keys")?, slice(query, len, "query")?, o.k as usize, &single(&filters)?)?;
        if hits.len() as u64 > cap {
            return Err(Error::new(Status::BufferTooSmall, format!("buffers hold {cap} hits, need {}", hits.len())));
        }
        let (shards, ids, scores) = (slice_mut(out_shards, cap, "out_shards")?, slice_mut(out_ids, cap, "out_ids")?, slice_mut(out_scores, cap, "out_scores")?);
        for (i, (s, id, score)) in hits.iter().enumerate() {
            (shards[i], ids[i], scores[i]) = (*s, *id, *score);
        }
        write_out(out_count, hits.len() as u64, "out_count")
    })
}

/// `ruv_lake_search_federated` off-thread; take with `ruv_job_take_shard_hits`.
///
/// # Safety
/// `lake` live; buffers valid for their lengths; `out_job` for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_search_federated_async(lake: *const RuvLake, keys: *const u32, nkeys: u64, query: *const f32, len: u64, k: u32, out_job: *mut *const Job) -> i32 {
    ruv_lake_search_federated_with_async(lake, keys, nkeys, query, len, &options_for(k, 0), out_job)
}

/// `ruv_lake_search_federated_with` off-thread (inputs are copied); take with `ruv_job_take_shard_hits`.
///
/// # Safety
/// `lake` live; `options` for its `struct_size`; buffers valid for their lengths; `out_job` for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_search_federated_with_async(
    lake: *const RuvLake, keys: *const u32, nkeys: u64, query: *const f32, len: u64, options: *const RuvSearchOptions, out_job: *mut *const Job,
) -> i32 {
    guard(|| {
        let (o, filters) = lake_options(options)?;
        single(&filters)?;
        let lake = Arc::clone(&handle(lake, "lake")?.0);
        let (keys, query, k) = (slice(keys, nkeys, "keys")?.to_vec(), slice(query, len, "query")?.to_vec(), o.k as usize);
        let job = spawn(move || {
            let hits = lake.search_federated(&keys, &query, k, &single(&filters)?)?;
            Ok(ShardHits { shards: hits.iter().map(|h| h.0).collect(), ids: hits.iter().map(|h| h.1).collect(), scores: hits.iter().map(|h| h.2).collect() })
        })?;
        job_out(job, out_job)
    })
}

/// The options the positional search functions stand for.
fn options_for(k: u32, threads: u32) -> RuvSearchOptions {
    RuvSearchOptions { struct_size: std::mem::size_of::<RuvSearchOptions>() as u32, k, threads, ..RuvSearchOptions::default() }
}

/// A lake search's options and its copied filters; the lake sets each
/// collection's search depth itself, so the index overrides must be 0.
unsafe fn lake_options(options: *const RuvSearchOptions) -> Result<(RuvSearchOptions, Vec<OwnedFilter>)> {
    let o: RuvSearchOptions = read_struct(options, "options")?;
    if o.rerank_factor != 0 || o.nprobe != 0 || o.rerank != 0 {
        return Err(Error::invalid(format!(
            "a lake search sets its own depth: options.rerank_factor {}, nprobe {} and rerank {} must be 0",
            o.rerank_factor, o.nprobe, o.rerank
        )));
    }
    let filters = read_filters(&o)?;
    Ok((o, filters))
}

/// Drops a collection's cached state; its next search primes again.
///
/// # Safety
/// `lake` live.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_invalidate(lake: *const RuvLake, key: u32) -> i32 {
    guard(|| handle(lake, "lake")?.0.invalidate(key))
}

/// The witness of the cached state (hex), or length 0 when nothing is cached.
///
/// # Safety
/// `lake` live; `buf` valid for `cap` bytes; `out_len` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_witness_of(lake: *const RuvLake, key: u32, buf: *mut u8, cap: u64, out_len: *mut u64) -> i32 {
    guard(|| {
        let w = handle(lake, "lake")?.0.witness_of(key)?.unwrap_or_default();
        copy_string_out(w.as_bytes(), buf, cap, out_len)
    })
}

/// 1 when the collection has a cached index.
///
/// # Safety
/// `lake` live; `out` for one i32.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_is_primed(lake: *const RuvLake, key: u32, out: *mut i32) -> i32 {
    guard(|| write_out(out, handle(lake, "lake")?.0.is_primed(key)? as i32, "out"))
}

/// Writes up to `cap / dim` evenly spaced rows of the cached collection, as
/// its index holds them, into `out` (whole rows; `out_len` gets the floats
/// written, 0 for the codes-only engine, which keeps no rows; `CacheMiss` when
/// nothing is cached). A host searches from them after a warm start, counted
/// nowhere, so that its first real search meets caches and branch history
/// trained where queries land.
///
/// # Safety
/// `lake` live; `out` valid for `cap` floats (may be null when `cap` is 0); `out_len` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_sample_rows(lake: *const RuvLake, key: u32, out: *mut f32, cap: u64, out_len: *mut u64) -> i32 {
    guard(|| {
        let index = handle(lake, "lake")?.0.index(key)?;
        let rows = index.sample_rows(usize::try_from(cap).unwrap_or(usize::MAX) / index.params().dim.max(1));
        if !rows.is_empty() {
            copy_into(&rows, out, cap, "out")?;
        }
        write_out(out_len, rows.len() as u64, "out_len")
    })
}

/// Dimensions of the cached collection (`CacheMiss` when nothing is cached).
///
/// # Safety
/// `lake` live; `out` for one u32.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_dim(lake: *const RuvLake, key: u32, out: *mut u32) -> i32 {
    guard(|| write_out(out, handle(lake, "lake")?.0.dim(key)? as u32, "out"))
}

/// Vectors in the cached collection (`CacheMiss` when nothing is cached), so a
/// caller can size result buffers by min(k, n) rather than by k.
///
/// # Safety
/// `lake` live; `out` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_len(lake: *const RuvLake, key: u32, out: *mut u64) -> i32 {
    guard(|| write_out(out, handle(lake, "lake")?.0.index(key)?.len() as u64, "out"))
}

/// Counters of `scope` (a `RUV_STATS_SCOPE_*`; `key` names the backend or
/// collection, ignored for global) and the lake's cached entries and bytes.
///
/// # Safety
/// `lake` live; `out` valid for its `struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_stats(lake: *const RuvLake, scope: u32, key: u32, out: *mut RuvCacheStats) -> i32 {
    guard(|| {
        let scope = match scope {
            s if s == RuvStatsScope::Global as u32 => Scope::Global,
            s if s == RuvStatsScope::Backend as u32 => Scope::Backend(key),
            s if s == RuvStatsScope::Collection as u32 => Scope::Key(key),
            s => return Err(Error::invalid(format!("unknown stats scope {s} (0 global, 1 backend, 2 collection)"))),
        };
        let (counters, entries, bytes) = handle(lake, "lake")?.0.stats(scope)?;
        let stats = RuvCacheStats { struct_size: 0, reserved: 0, counters, entries: entries as u64, bytes: bytes as u64 };
        write_struct(out, stats, "out")
    })
}

/// Writes `dir/table.rulake.json` for a collection's state; the witness goes to `buf`.
///
/// # Safety
/// `lake` live; `dir` and `collection` valid; `buf` for `cap` bytes; `out_len` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_publish(
    lake: *const RuvLake, dir_ptr: *const u8, dir_len: u64, collection: *const RuvCollection, buf: *mut u8, cap: u64, out_len: *mut u64,
) -> i32 {
    guard(|| {
        let lake = &handle(lake, "lake")?.0;
        let d = descriptor(lake, collection)?;
        let w = lake.publish(&d, &path(dir_ptr, dir_len, "directory")?)?;
        copy_string_out(w.as_bytes(), buf, cap, out_len)
    })
}

/// Compares `dir`'s sidecar with the cache: a `RUV_REFRESH_RESULT_*`.
///
/// # Safety
/// `lake` live; `dir` valid; `out` for one u32.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_refresh_from_dir(lake: *const RuvLake, key: u32, dir_ptr: *const u8, dir_len: u64, out: *mut u32) -> i32 {
    guard(|| write_out(out, handle(lake, "lake")?.0.refresh_from_dir(key, &path(dir_ptr, dir_len, "directory")?)? as u32, "out"))
}

/// Saves a cached collection (`index.rbpx` with original ids + sidecar) off-thread.
///
/// # Safety
/// `lake` live; `dir` valid; `out_job` for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_save_to_dir_async(lake: *const RuvLake, key: u32, dir_ptr: *const u8, dir_len: u64, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let (lake, dir) = (Arc::clone(&handle(lake, "lake")?.0), path(dir_ptr, dir_len, "directory")?);
        job_out(spawn(move || lake.save_to_dir(key, &dir))?, out_job)
    })
}

/// Installs a collection saved by `ruv_lake_save_to_dir_async`, off-thread;
/// `ruv_job_take_count` gives its size. Needs no backend.
///
/// # Safety
/// `lake` live; `dir` valid; `out_job` for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_warm_from_dir_async(lake: *const RuvLake, key: u32, dir_ptr: *const u8, dir_len: u64, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let (lake, dir) = (Arc::clone(&handle(lake, "lake")?.0), path(dir_ptr, dir_len, "directory")?);
        job_out(spawn(move || lake.warm_from_dir(key, &dir).map(|n| n as u64))?, out_job)
    })
}

/// The witness of a collection's state under `seed` and `rerank_factor`, without a lake.
///
/// # Safety
/// `collection` valid; `buf` for `cap` bytes; `out_len` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_witness(collection: *const RuvCollection, seed: u64, rerank_factor: u32, buf: *mut u8, cap: u64, out_len: *mut u64) -> i32 {
    guard(|| {
        let config = Config { rerank_factor: rerank_factor as usize, rotation_seed: seed, ..Config::default() };
        let d = descriptor(&Lake::new(config)?, collection)?;
        copy_string_out(d.witness().as_bytes(), buf, cap, out_len)
    })
}
