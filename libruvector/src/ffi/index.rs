//! `ruv_index_*`: vector indexes behind opaque, reference-counted handles.
//! A background job holds its own snapshot, so freeing a handle while a job
//! runs never frees memory under it; see [`SharedIndex`] for why readers and
//! writers never wait on each other's locks.

use std::sync::Arc;

use super::runtime::{job_out, Hits};
use super::{copy_into, first_version, free_handle, guard, handle, handle_out, path, read_struct, slice, slice_mut, write_out, write_struct, AbiStruct};
use crate::error::{Error, Result};
use crate::index::filter::{IdRule, SearchFilter, TagRule};
use crate::index::ivf::StoreKind;
use crate::index::shared::{SharedIndex, Snapshot};
use crate::index::{persist, IvfOptions, Kind, Metric, Params, SearchParams, VectorIndex};
use crate::runtime::{spawn, Job};

/// Opaque handle to a vector index. Thread-safe: readers (searches, gets,
/// saves) work on snapshots and writers never wait for them.
pub struct RuvIndex(Arc<SharedIndex>);

impl RuvIndex {
    fn new(idx: VectorIndex) -> Self {
        Self(SharedIndex::new(idx))
    }
    fn read(&self) -> Result<Snapshot> {
        self.0.read()
    }
}

/// `kind` passed to `ruv_index_load` to accept a file of any variant.
pub const RUV_INDEX_KIND_ANY: u32 = 0xFFFF_FFFF;

/// `ruv_index_remove` flag: skip ids that are not in the index instead of failing.
pub const RUV_INDEX_REMOVE_IGNORE_MISSING: u32 = 1;

/// `RuvLoadOptions.flags`: map an IvfRabitqIndex file read-only and search it
/// in place instead of copying it (any other variant is refused).
pub const RUV_LOAD_MMAP: u32 = 1;
/// `RuvLoadOptions.flags` with `RUV_LOAD_MMAP`: also check every section's CRC
/// and content, reading the whole file (copy loads always do).
pub const RUV_LOAD_VERIFY: u32 = 2;

/// How `ruv_index_load_with` reads a file.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RuvLoadOptions {
    /// Set by the caller: `sizeof(RuvLoadOptions)`.
    pub struct_size: u32,
    /// A `RUV_INDEX_KIND_*`, or `RUV_INDEX_KIND_ANY`.
    pub expected_kind: u32,
    /// `RUV_LOAD_*` bits.
    pub flags: u32,
    /// Reserved, 0.
    pub reserved: u32,
}

first_version!(RuvLoadOptions);

impl RuvLoadOptions {
    fn to_options(self) -> Result<(Option<Kind>, persist::LoadOptions)> {
        if self.flags & !(RUV_LOAD_MMAP | RUV_LOAD_VERIFY) != 0 || self.reserved != 0 {
            return Err(Error::invalid(format!("unknown load flags {:#x} (reserved {})", self.flags, self.reserved)));
        }
        let (mmap, verify) = (self.flags & RUV_LOAD_MMAP != 0, self.flags & RUV_LOAD_VERIFY != 0);
        if verify && !mmap {
            return Err(Error::invalid("RUV_LOAD_VERIFY needs RUV_LOAD_MMAP (a copy load always verifies)"));
        }
        Ok((kind_filter(self.expected_kind)?, persist::LoadOptions { mmap, verify }))
    }
}

/// Parameters fixed when an index is created.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RuvIndexParams {
    /// Set by the caller: `sizeof(RuvIndexParams)`.
    pub struct_size: u32,
    /// One of `RUV_INDEX_KIND_*` (not `RUV_INDEX_KIND_ANY`).
    pub kind: u32,
    /// Dimensions of every vector (1..8192).
    pub dim: u32,
    /// One of `RUV_METRIC_*`.
    pub metric: u32,
    /// Candidates reranked exactly per query = k × rerank_factor (1..1024).
    pub rerank_factor: u32,
    /// Non-zero: zero-pad quantized variants to a multiple of 64 dimensions.
    pub pad_to_word: u32,
    /// Seed of the random rotation.
    pub seed: u64,
    /// IVF: number of lists (0 = the power of two nearest 2√n, fewer for rows wider than 256).
    pub nlist: u32,
    /// IVF: code bits per component, 1..8 (0 = 7).
    pub ex_bits: u32,
    /// IVF: one of `RUV_IVF_STORE_*`, the vectors kept for an exact rerank.
    pub store: u32,
    /// IVF: lists probed per search (0 = nlist / 8, or what calibration chose).
    pub nprobe: u32,
    /// IVF: candidates reranked exactly from the store per search (0 = none).
    pub rerank: u32,
    /// IVF: recall@10 that build calibrates nprobe for, in (0, 1] (0 = no calibration).
    pub target_recall: f32,
}

/// `RuvSearchFilter.ids_mode`: no restriction by id.
pub const RUV_FILTER_IDS_ANY: u32 = 0;
/// `RuvSearchFilter.ids_mode`: only the listed ids (ids not in the index match nothing).
pub const RUV_FILTER_IDS_ALLOW: u32 = 1;
/// `RuvSearchFilter.ids_mode`: every id but the listed ones.
pub const RUV_FILTER_IDS_DENY: u32 = 2;
/// The id of an empty slot in batch search results: the query's filter passed fewer than k vectors.
pub const RUV_NO_HIT_ID: u64 = u64::MAX;

/// Which vectors one query may return: both the id rule and the tag rule must
/// pass. A vector's 64 tag bits `t` pass when `t & tags_any != 0` (unless
/// `tags_any` is 0: no constraint), `t & tags_all == tags_all` and
/// `t & tags_none == 0`. Vectors given no tags have tags 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RuvSearchFilter {
    /// Set by the caller: `sizeof(RuvSearchFilter)`; also the stride of an array of filters.
    pub struct_size: u32,
    /// One of `RUV_FILTER_IDS_*`.
    pub ids_mode: u32,
    /// The ids of an allow- or deny-list (`ids_len` of them; may be null when 0).
    pub ids: *const u64,
    pub ids_len: u64,
    pub tags_any: u64,
    pub tags_all: u64,
    pub tags_none: u64,
}

impl Default for RuvSearchFilter {
    fn default() -> Self {
        Self { struct_size: 0, ids_mode: RUV_FILTER_IDS_ANY, ids: std::ptr::null(), ids_len: 0, tags_any: 0, tags_all: 0, tags_none: 0 }
    }
}

/// Options of a write (build, add, upsert) beyond the vectors and ids.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RuvAddOptions {
    /// Set by the caller: `sizeof(RuvAddOptions)`.
    pub struct_size: u32,
    /// Reserved, 0.
    pub reserved: u32,
    /// 64 tag bits per vector (`tags_len` = the number of vectors), or null with `tags_len` 0 for none.
    pub tags: *const u64,
    pub tags_len: u64,
}

impl Default for RuvAddOptions {
    fn default() -> Self {
        Self { struct_size: 0, reserved: 0, tags: std::ptr::null(), tags_len: 0 }
    }
}

first_version!(RuvSearchFilter, RuvAddOptions);

impl RuvAddOptions {
    /// The options at `ptr`, or the defaults when it is null.
    unsafe fn read(ptr: *const Self) -> Result<Self> {
        if ptr.is_null() {
            return Ok(Self::default());
        }
        let o = read_struct(ptr, "options")?;
        if o.reserved != 0 {
            return Err(Error::invalid(format!("options.reserved must be 0, got {}", o.reserved)));
        }
        Ok(o)
    }

    /// The tags, copied (`None`: the write gives none).
    unsafe fn tags(&self) -> Result<Option<Vec<u64>>> {
        if self.tags.is_null() && self.tags_len == 0 {
            return Ok(None);
        }
        Ok(Some(slice(self.tags, self.tags_len, "options.tags")?.to_vec()))
    }
}

/// A filter copied out of the caller's memory, so a job may outlive the call.
pub(super) struct OwnedFilter {
    mode: u32,
    ids: Vec<u64>,
    tags: TagRule,
}

impl OwnedFilter {
    pub(super) fn as_filter(&self) -> SearchFilter<'_> {
        let ids = match self.mode {
            RUV_FILTER_IDS_ALLOW => IdRule::Allow(&self.ids),
            RUV_FILTER_IDS_DENY => IdRule::Deny(&self.ids),
            _ => IdRule::Any,
        };
        SearchFilter { ids, tags: self.tags }
    }
}

/// The borrowed search filters of `owned`, in order.
pub(super) fn as_filters(owned: &[OwnedFilter]) -> Vec<SearchFilter<'_>> {
    owned.iter().map(OwnedFilter::as_filter).collect()
}

/// The filters of `options` (none, one, or one per query), copied and checked.
pub(super) unsafe fn read_filters(o: &RuvSearchOptions) -> Result<Vec<OwnedFilter>> {
    if o.filters_len == 0 {
        return Ok(Vec::new());
    }
    if o.filters.is_null() {
        return Err(Error::invalid(format!("options.filters is null but filters_len is {}", o.filters_len)));
    }
    let stride = o.filters.cast::<u32>().read_unaligned() as usize;
    (0..o.filters_len as usize)
        .map(|i| {
            let at = o.filters.cast::<u8>().add(i * stride).cast::<RuvSearchFilter>();
            let f = read_struct(at, &format!("options.filters[{i}]"))?;
            if f.struct_size as usize != stride {
                return Err(Error::invalid(format!("options.filters[{i}].struct_size is {}, filters[0] says {stride}", f.struct_size)));
            }
            if f.ids_mode > RUV_FILTER_IDS_DENY {
                return Err(Error::invalid(format!("options.filters[{i}].ids_mode {} is not a RUV_FILTER_IDS_* value", f.ids_mode)));
            }
            let ids = slice(f.ids, f.ids_len, "filter ids")?.to_vec();
            Ok(OwnedFilter { mode: f.ids_mode, ids, tags: TagRule { any: f.tags_any, all: f.tags_all, none: f.tags_none } })
        })
        .collect()
}

/// The one filter of a single-query search (open when none is given).
pub(super) fn single(filters: &[OwnedFilter]) -> Result<SearchFilter<'_>> {
    match filters {
        [] => Ok(SearchFilter::default()),
        [f] => Ok(f.as_filter()),
        _ => Err(Error::invalid(format!("a single-query search takes at most one filter, got {}", filters.len()))),
    }
}

/// Bytes of `RuvIndexParams` before the IVF fields were appended.
const INDEX_PARAMS_V1_SIZE: usize = 32;
/// Bytes of `RuvSearchOptions` before `nprobe` and `rerank` were appended.
const SEARCH_OPTIONS_V1_SIZE: usize = 16;

impl AbiStruct for RuvIndexParams {
    const MIN_SIZE: usize = INDEX_PARAMS_V1_SIZE;
    fn defaults() -> Self {
        Self::default()
    }
}

impl AbiStruct for RuvSearchOptions {
    const MIN_SIZE: usize = SEARCH_OPTIONS_V1_SIZE;
    fn defaults() -> Self {
        Self::default()
    }
}

impl AbiStruct for RuvIndexInfo {
    /// Bytes before `mapped_bytes` was appended.
    const MIN_SIZE: usize = std::mem::offset_of!(RuvIndexInfo, mapped_bytes);
    fn defaults() -> Self {
        Self::default()
    }
}

/// IVF options from their C fields (`store` a `RUV_IVF_STORE_*`, `target_recall` 0 = none),
/// as `RuvIndexParams` and `RuvLakeConfig` both carry them.
pub(super) fn ivf_options(nlist: u32, ex_bits: u32, store: u32, nprobe: u32, rerank: u32, target_recall: f32) -> Result<IvfOptions> {
    Ok(IvfOptions {
        nlist: nlist as usize,
        ex_bits,
        store: StoreKind::from_u32(store)?,
        nprobe: nprobe as usize,
        rerank: rerank as usize,
        target_recall: (target_recall != 0.0).then_some(target_recall),
    })
}

impl RuvIndexParams {
    fn to_params(self) -> Result<Params> {
        let kind = Kind::from_u32(self.kind)?;
        let base = Params::new(kind, self.dim as usize, self.seed, self.rerank_factor as usize, Metric::from_u32(self.metric)?, self.pad_to_word != 0);
        let ivf = ivf_options(self.nlist, self.ex_bits, self.store, self.nprobe, self.rerank, self.target_recall)?;
        let any_ivf = (self.nlist | self.ex_bits | self.store | self.nprobe | self.rerank) != 0 || self.target_recall != 0.0;
        if kind != Kind::Ivf && any_ivf {
            return Err(Error::invalid(format!("nlist, exBits, store, nprobe, rerank and targetRecall are IvfRabitqIndex options, not {}", kind.name())));
        }
        Params { ivf, ..base }.normalized()
    }

    fn from_params(p: &Params) -> Self {
        Self {
            struct_size: std::mem::size_of::<Self>() as u32,
            kind: p.kind as u32,
            dim: p.dim as u32,
            metric: p.metric as u32,
            rerank_factor: p.rerank_factor as u32,
            pad_to_word: p.pad_to_word as u32,
            seed: p.seed,
            nlist: p.ivf.nlist as u32,
            ex_bits: p.ivf.ex_bits,
            store: p.ivf.store as u32,
            nprobe: p.ivf.nprobe as u32,
            rerank: p.ivf.rerank as u32,
            target_recall: p.ivf.target_recall.unwrap_or(0.0),
        }
    }
}

/// What an index is: its parameters, size and memory.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RuvIndexInfo {
    /// Set by the caller: `sizeof(RuvIndexInfo)`.
    pub struct_size: u32,
    /// Reserved, 0.
    pub reserved: u32,
    /// The parameters the index was built with (`params.struct_size` is `sizeof(RuvIndexParams)`).
    pub params: RuvIndexParams,
    /// Number of vectors.
    pub len: u64,
    /// Bytes held by the index (codes, rotation, vectors and ids).
    pub memory_bytes: u64,
    /// IVF built with a target recall: held-out own rows it measured (0 = not calibrated).
    pub calibration_queries: u32,
    /// IVF built with a target recall: the recall@10 measured at the chosen nprobe.
    pub measured_recall: f32,
    /// Bytes of a memory-mapped file the index reads in place (not in
    /// `memory_bytes`; 0 unless loaded with `RUV_LOAD_MMAP`).
    pub mapped_bytes: u64,
}

/// Options of one search call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RuvSearchOptions {
    /// Set by the caller: `sizeof(RuvSearchOptions)`.
    pub struct_size: u32,
    /// Hits wanted per query (at least 1); min(k, n) are written.
    pub k: u32,
    /// Overrides the index's rerank factor for this call (0 = keep; RabitqPlus only).
    pub rerank_factor: u32,
    /// Batch searches: worker threads (0 = all cores, 1 = the calling thread).
    pub threads: u32,
    /// Overrides the lists probed (0 = keep; IvfRabitq only).
    pub nprobe: u32,
    /// Overrides the candidates reranked from the store (0 = keep; IvfRabitq only).
    pub rerank: u32,
    /// Filters (`filters_len` of them, stride `filters[0].struct_size`): none,
    /// one for every query, or (batch searches) one per query.
    pub filters: *const RuvSearchFilter,
    pub filters_len: u64,
}

impl Default for RuvSearchOptions {
    fn default() -> Self {
        Self { struct_size: 0, k: 0, rerank_factor: 0, threads: 0, nprobe: 0, rerank: 0, filters: std::ptr::null(), filters_len: 0 }
    }
}

impl RuvSearchOptions {
    fn params(&self) -> SearchParams {
        let some = |v: u32| (v != 0).then_some(v as usize);
        SearchParams { rerank_factor: some(self.rerank_factor), nprobe: some(self.nprobe), rerank: some(self.rerank) }
    }
}

fn kind_filter(kind: u32) -> Result<Option<Kind>> {
    if kind == RUV_INDEX_KIND_ANY {
        Ok(None)
    } else {
        Kind::from_u32(kind).map(Some)
    }
}

/// Creates an empty index.
///
/// # Safety
/// `params` valid for its `struct_size`; `out` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_new(params: *const RuvIndexParams, out: *mut *mut RuvIndex) -> i32 {
    guard(|| {
        let idx = VectorIndex::new(read_struct(params, "params")?.to_params()?)?;
        handle_out(out, RuvIndex::new(idx))
    })
}

/// Builds an index over `len` floats (n × dim) with `ids_len` ids (0 ⇒ 0..n).
///
/// # Safety
/// `params` valid for its `struct_size`; buffers valid for their lengths; `out` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_build(params: *const RuvIndexParams, vectors: *const f32, len: u64, ids: *const u64, ids_len: u64, out: *mut *mut RuvIndex) -> i32 {
    ruv_index_build_with(params, vectors, len, ids, ids_len, std::ptr::null(), out)
}

/// `ruv_index_build` with write options (tags); `options` may be null.
///
/// # Safety
/// As `ruv_index_build`; `options` null or valid for its `struct_size`, its `tags` for `tags_len`.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_build_with(
    params: *const RuvIndexParams, vectors: *const f32, len: u64, ids: *const u64, ids_len: u64, options: *const RuvAddOptions, out: *mut *mut RuvIndex,
) -> i32 {
    guard(|| {
        let p = read_struct(params, "params")?.to_params()?;
        let tags = RuvAddOptions::read(options)?.tags()?;
        let ids = if ids_len == 0 { None } else { Some(slice(ids, ids_len, "ids")?) };
        handle_out(out, RuvIndex::new(VectorIndex::build_tagged(p, slice(vectors, len, "vectors")?, ids, tags.as_deref())?))
    })
}

/// Like `ruv_index_build`, off-thread. The caller keeps `vectors` and `ids`
/// alive and unchanged until the job completes; take the result with
/// `ruv_job_take_index`.
///
/// # Safety
/// Buffers valid until the job completes; `out_job` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_build_async(
    params: *const RuvIndexParams, vectors: *const f32, len: u64, ids: *const u64, ids_len: u64, out_job: *mut *const Job,
) -> i32 {
    ruv_index_build_async_with(params, vectors, len, ids, ids_len, std::ptr::null(), out_job)
}

/// `ruv_index_build_async` with write options (tags, copied); `options` may be null.
///
/// # Safety
/// As `ruv_index_build_async`; `options` null or valid for its `struct_size`, its `tags` for `tags_len`.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_build_async_with(
    params: *const RuvIndexParams, vectors: *const f32, len: u64, ids: *const u64, ids_len: u64, options: *const RuvAddOptions, out_job: *mut *const Job,
) -> i32 {
    guard(|| {
        let p = read_struct(params, "params")?.to_params()?;
        let tags = RuvAddOptions::read(options)?.tags()?;
        let vectors = slice(vectors, len, "vectors")?;
        let ids = if ids_len == 0 { None } else { Some(slice(ids, ids_len, "ids")?) };
        let job = spawn(move || Ok(RuvIndex::new(VectorIndex::build_tagged(p, vectors, ids, tags.as_deref())?)))?;
        job_out(job, out_job)
    })
}

/// Appends `len / dim` vectors with their ids; all are validated first.
///
/// # Safety
/// `idx` a live handle; buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_add(idx: *const RuvIndex, vectors: *const f32, len: u64, ids: *const u64, ids_len: u64) -> i32 {
    ruv_index_add_with(idx, vectors, len, ids, ids_len, std::ptr::null())
}

/// `ruv_index_add` with write options (tags); `options` may be null.
///
/// # Safety
/// As `ruv_index_add`; `options` null or valid for its `struct_size`, its `tags` for `tags_len`.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_add_with(idx: *const RuvIndex, vectors: *const f32, len: u64, ids: *const u64, ids_len: u64, options: *const RuvAddOptions) -> i32 {
    guard(|| {
        let tags = RuvAddOptions::read(options)?.tags()?;
        handle(idx, "index")?.0.add_tagged(slice(vectors, len, "vectors")?, slice(ids, ids_len, "ids")?, tags.as_deref())
    })
}

/// Removes `len` ids (all or nothing); `out_removed` gets how many were
/// removed. An id not in the index fails with `RUV_STATUS_NOT_FOUND` naming
/// it, unless `flags` has `RUV_INDEX_REMOVE_IGNORE_MISSING`. Removed rows are
/// skipped by every read and dropped by `ruv_index_compact` and by saves.
///
/// # Safety
/// `idx` a live handle; `ids` valid for `len`; `out_removed` null or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_remove(idx: *const RuvIndex, ids: *const u64, len: u64, flags: u32, out_removed: *mut u64) -> i32 {
    guard(|| {
        if flags & !RUV_INDEX_REMOVE_IGNORE_MISSING != 0 {
            return Err(Error::invalid(format!("unknown remove flags {flags:#x}")));
        }
        let removed = handle(idx, "index")?.0.remove(slice(ids, len, "ids")?, flags & RUV_INDEX_REMOVE_IGNORE_MISSING != 0)?;
        if out_removed.is_null() {
            return Ok(());
        }
        write_out(out_removed, removed as u64, "out_removed")
    })
}

/// Adds `len / dim` vectors under their ids, replacing the vectors of ids
/// already present; all are validated first and readers see the whole write or none of it.
///
/// # Safety
/// `idx` a live handle; buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_upsert(idx: *const RuvIndex, vectors: *const f32, len: u64, ids: *const u64, ids_len: u64) -> i32 {
    ruv_index_upsert_with(idx, vectors, len, ids, ids_len, std::ptr::null())
}

/// `ruv_index_upsert` with write options (tags: a replaced vector gets these, or 0); `options` may be null.
///
/// # Safety
/// As `ruv_index_upsert`; `options` null or valid for its `struct_size`, its `tags` for `tags_len`.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_upsert_with(idx: *const RuvIndex, vectors: *const f32, len: u64, ids: *const u64, ids_len: u64, options: *const RuvAddOptions) -> i32 {
    guard(|| {
        let tags = RuvAddOptions::read(options)?.tags()?;
        handle(idx, "index")?.0.upsert_tagged(slice(vectors, len, "vectors")?, slice(ids, ids_len, "ids")?, tags.as_deref())
    })
}

/// Drops the rows of removed vectors now (saves write compacted files anyway).
///
/// # Safety
/// `idx` a live handle.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_compact(idx: *const RuvIndex) -> i32 {
    guard(|| handle(idx, "index")?.0.compact())
}

/// Searches one query; writes min(k, n) hits and their count.
///
/// # Safety
/// `idx` a live handle; `query` valid for `len`; `options` for its `struct_size`; outputs valid for `cap` entries.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_search(
    idx: *const RuvIndex, query: *const f32, len: u64, options: *const RuvSearchOptions, out_ids: *mut u64, out_scores: *mut f32, cap: u64, out_count: *mut u64,
) -> i32 {
    guard(|| {
        let o = read_struct(options, "options")?;
        let filters = read_filters(&o)?;
        let filter = single(&filters)?;
        let r = handle(idx, "index")?.read()?;
        let n = r.search_filtered_into(slice(query, len, "query")?, o.k as usize, &o.params(), &filter, slice_mut(out_ids, cap, "out_ids")?, slice_mut(out_scores, cap, "out_scores")?)?;
        write_out(out_count, n as u64, "out_count")
    })
}

/// Searches one query off-thread (the query is copied); take hits with `ruv_job_take_hits`.
///
/// # Safety
/// `idx` a live handle; `query` valid for `len`; `options` for its `struct_size`; `out_job` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_search_async(idx: *const RuvIndex, query: *const f32, len: u64, options: *const RuvSearchOptions, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let o = read_struct(options, "options")?;
        let filters = read_filters(&o)?;
        single(&filters)?;
        let shared = &handle(idx, "index")?.0;
        let query = slice(query, len, "query")?.to_vec();
        let (k, sp) = (o.k as usize, o.params());
        let job = shared.read_async(move |r| {
            let (ids, scores) = r.search_filtered_owned(&query, k, &sp, &single(&filters)?)?;
            Ok(Hits { ids, scores })
        })?;
        job_out(job, out_job)
    })
}

/// Searches `len / dim` queries on `options.threads` threads. Each query
/// writes min(k, n) hits into its slot of the outputs; `out_k` gets that count.
///
/// # Safety
/// `idx` a live handle; `options` for its `struct_size`; buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_search_batch(
    idx: *const RuvIndex, queries: *const f32, len: u64, options: *const RuvSearchOptions, out_ids: *mut u64, out_scores: *mut f32, cap: u64, out_k: *mut u64,
) -> i32 {
    guard(|| {
        let o = read_struct(options, "options")?;
        let owned = read_filters(&o)?;
        let filters = as_filters(&owned);
        let r = handle(idx, "index")?.read()?;
        let (ids, scores) = (slice_mut(out_ids, cap, "out_ids")?, slice_mut(out_scores, cap, "out_scores")?);
        let kk = r.search_batch_filtered(slice(queries, len, "queries")?, o.k as usize, &o.params(), &filters, o.threads as usize, ids, scores)?;
        write_out(out_k, kk as u64, "out_k")
    })
}

/// `ruv_index_search_batch` off-thread (queries are copied); take hits with `ruv_job_take_hits`.
///
/// # Safety
/// `idx` a live handle; `queries` valid for `len`; `options` for its `struct_size`; `out_job` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_search_batch_async(idx: *const RuvIndex, queries: *const f32, len: u64, options: *const RuvSearchOptions, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let o = read_struct(options, "options")?;
        let owned = read_filters(&o)?;
        let shared = &handle(idx, "index")?.0;
        let queries = slice(queries, len, "queries")?.to_vec();
        let (k, sp, threads) = (o.k as usize, o.params(), o.threads as usize);
        let job = shared.read_async(move |r| {
            let k = r.effective_k(k)?;
            let m = queries.len() / r.params().dim.max(1);
            let (mut ids, mut scores) = (vec![0u64; m * k], vec![0f32; m * k]);
            let filters = as_filters(&owned);
            r.search_batch_filtered(&queries, k, &sp, &filters, threads, &mut ids, &mut scores)?;
            Ok(Hits { ids, scores })
        })?;
        job_out(job, out_job)
    })
}

/// Describes an index: parameters, number of vectors and memory.
///
/// # Safety
/// `idx` a live handle; `out` valid for its `struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_info(idx: *const RuvIndex, out: *mut RuvIndexInfo) -> i32 {
    guard(|| {
        // Counts pending writes too, without waiting for them to land.
        let shared = &handle(idx, "index")?.0;
        let params = RuvIndexParams::from_params(&shared.params());
        let cal = shared.calibration();
        let info = RuvIndexInfo {
            struct_size: 0,
            reserved: 0,
            params,
            len: shared.len() as u64,
            memory_bytes: shared.memory_bytes() as u64,
            calibration_queries: cal.map_or(0, |c| c.queries),
            measured_recall: cal.map_or(0.0, |c| c.measured_recall),
            mapped_bytes: shared.mapped_bytes() as u64,
        };
        write_struct(out, info, "out")
    })
}

/// Copies the stored vector of `id` (dim floats) into `out`.
///
/// # Safety
/// `idx` a live handle; `out` valid for `cap` floats.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_get(idx: *const RuvIndex, id: u64, out: *mut f32, cap: u64) -> i32 {
    guard(|| {
        let v = handle(idx, "index")?.read()?.get(id)?;
        copy_into(&v, out, cap, "out")
    })
}

/// Copies all ids in insertion order (n entries).
///
/// # Safety
/// `idx` a live handle; `out` valid for `cap` entries.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_ids(idx: *const RuvIndex, out: *mut u64, cap: u64) -> i32 {
    guard(|| copy_into(&handle(idx, "index")?.read()?.ids(), out, cap, "out"))
}

/// Copies the tags of every vector in insertion order (n entries; 0 for vectors given none).
///
/// # Safety
/// `idx` a live handle; `out` valid for `cap` entries.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_tags(idx: *const RuvIndex, out: *mut u64, cap: u64) -> i32 {
    guard(|| copy_into(&handle(idx, "index")?.read()?.tags(), out, cap, "out"))
}

/// Writes the tags of `id` (0 when it was given none); `RUV_STATUS_NOT_FOUND` when absent.
///
/// # Safety
/// `idx` a live handle; `out` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_get_tags(idx: *const RuvIndex, id: u64, out: *mut u64) -> i32 {
    guard(|| {
        let tags = handle(idx, "index")?.read()?.tags_of(id)?;
        write_out(out, tags, "out")
    })
}

/// Copies all stored vectors in insertion order (n × dim floats).
///
/// # Safety
/// `idx` a live handle; `out` valid for `cap` floats.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_vectors(idx: *const RuvIndex, out: *mut f32, cap: u64) -> i32 {
    guard(|| {
        let v = handle(idx, "index")?.read()?.vectors()?;
        copy_into(&v, out, cap, "out")
    })
}

/// Sets `*out` to 1 when both indexes have the same parameters, ids and data.
///
/// # Safety
/// `a`, `b` live handles; `out` valid for one i32.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_equals(a: *const RuvIndex, b: *const RuvIndex, out: *mut i32) -> i32 {
    guard(|| {
        let (a, b) = (handle(a, "index")?, handle(b, "index")?);
        let same = Arc::ptr_eq(&a.0, &b.0) || a.read()?.equals(&*b.read()?);
        write_out(out, same as i32, "out")
    })
}

/// Saves atomically to the path of `path_len` bytes (any bytes but NUL on Unix).
///
/// # Safety
/// `idx` a live handle; `path` valid for `path_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_save(idx: *const RuvIndex, path_ptr: *const u8, path_len: u64) -> i32 {
    guard(|| persist::save(&*handle(idx, "index")?.read()?, &path(path_ptr, path_len, "path")?))
}

/// `ruv_index_save` off-thread.
///
/// # Safety
/// As `ruv_index_save`; `out_job` valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_save_async(idx: *const RuvIndex, path_ptr: *const u8, path_len: u64, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let shared = &handle(idx, "index")?.0;
        let path = path(path_ptr, path_len, "path")?;
        let job = shared.read_async(move |r| {
            persist::save(r, &path)
        })?;
        job_out(job, out_job)
    })
}

/// Loads an index file. `expected_kind` is a `RUV_INDEX_KIND_*`, or `RUV_INDEX_KIND_ANY`.
/// A quantized file of stored dim above 1024 is refused here (its rotation is too
/// costly to create on the calling thread): use `ruv_index_load_async`.
///
/// # Safety
/// `path` valid for `path_len` bytes; `out` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_load(path_ptr: *const u8, path_len: u64, expected_kind: u32, out: *mut *mut RuvIndex) -> i32 {
    guard(|| {
        let idx = persist::load_sync(&path(path_ptr, path_len, "path")?, kind_filter(expected_kind)?)?;
        handle_out(out, RuvIndex::new(idx))
    })
}

/// `ruv_index_load` off-thread; take the index with `ruv_job_take_index`.
///
/// # Safety
/// `path` valid for `path_len` bytes; `out_job` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_load_async(path_ptr: *const u8, path_len: u64, expected_kind: u32, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let (path, kind) = (path(path_ptr, path_len, "path")?, kind_filter(expected_kind)?);
        let job = spawn(move || Ok(RuvIndex::new(persist::load(&path, kind)?)))?;
        job_out(job, out_job)
    })
}

/// `ruv_index_load` with options (`RuvLoadOptions`): with `RUV_LOAD_MMAP` an
/// IvfRabitqIndex file is mapped and used in place.
///
/// # Safety
/// `path` valid for `path_len` bytes; `opts` for its `struct_size` bytes; `out`
/// for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_load_with(path_ptr: *const u8, path_len: u64, opts: *const RuvLoadOptions, out: *mut *mut RuvIndex) -> i32 {
    guard(|| {
        let (kind, o) = read_struct(opts, "opts")?.to_options()?;
        let idx = persist::load_with(&path(path_ptr, path_len, "path")?, kind, Some(persist::SYNC_MAX_ROTATION_DIM), o)?;
        handle_out(out, RuvIndex::new(idx))
    })
}

/// `ruv_index_load_with` off-thread; take the index with `ruv_job_take_index`.
///
/// # Safety
/// As `ruv_index_load_with`; `out_job` valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_load_with_async(path_ptr: *const u8, path_len: u64, opts: *const RuvLoadOptions, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let (kind, o) = read_struct(opts, "opts")?.to_options()?;
        let path = path(path_ptr, path_len, "path")?;
        let job = spawn(move || Ok(RuvIndex::new(persist::load_with(&path, kind, None, o)?)))?;
        job_out(job, out_job)
    })
}

/// Releases a handle; memory is freed once no job uses the index.
///
/// # Safety
/// `idx` must be null or a live handle, released at most once.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_free(idx: *mut RuvIndex) -> i32 {
    free_handle(idx)
}
