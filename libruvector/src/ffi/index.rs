//! `ruv_index_*`: vector indexes behind opaque, reference-counted handles.
//! A background job holds its own snapshot, so freeing a handle while a job
//! runs never frees memory under it; see [`SharedIndex`] for why readers and
//! writers never wait on each other's locks.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Arc;

use super::runtime::job_out;
use super::{free_handle, guard, handle, slice, slice_mut, write_out};
use crate::error::{Error, Result, Status};
use crate::index::shared::{SharedIndex, Snapshot};
use crate::index::{persist, Kind, Metric, Params, VectorIndex};
use crate::runtime::{spawn, Job, Output};

/// Opaque handle to a vector index.
pub struct RuvIndex(Arc<SharedIndex>);

impl RuvIndex {
    fn new(idx: VectorIndex) -> Self {
        Self(SharedIndex::new(idx))
    }
    fn read(&self) -> Result<Snapshot> {
        self.0.read()
    }
}

fn params(kind: u32, dim: u32, seed: u64, rerank_factor: u32, metric: u32, pad_to_word: u32) -> Result<Params> {
    let p = Params {
        kind: Kind::from_u32(kind)?,
        dim: dim as usize,
        seed,
        rerank_factor: rerank_factor as usize,
        metric: Metric::from_u32(metric)?,
        pad_to_word: pad_to_word != 0,
    };
    p.normalized()
}

pub(crate) unsafe fn path(ptr: *const u8, len: u64) -> Result<PathBuf> {
    let bytes = slice(ptr, len, "path")?;
    if bytes.is_empty() || bytes.contains(&0) {
        return Err(Error::invalid("path is empty or contains a NUL byte"));
    }
    Ok(PathBuf::from(OsStr::from_bytes(bytes)))
}

fn rerank(rerank_factor: u32) -> Option<usize> {
    (rerank_factor != 0).then_some(rerank_factor as usize)
}

fn kind_filter(kind: u32) -> Result<Option<Kind>> {
    if kind == u32::MAX {
        Ok(None)
    } else {
        Kind::from_u32(kind).map(Some)
    }
}

/// Creates an empty index. `pad_to_word` != 0 zero-pads quantized variants to
/// a multiple of 64 dimensions.
///
/// # Safety
/// `out` must be valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_new(kind: u32, dim: u32, seed: u64, rerank_factor: u32, metric: u32, pad_to_word: u32, out: *mut *mut RuvIndex) -> i32 {
    guard(|| {
        let idx = VectorIndex::new(params(kind, dim, seed, rerank_factor, metric, pad_to_word)?)?;
        write_out(out, Box::into_raw(Box::new(RuvIndex::new(idx))), "out")
    })
}

/// Builds an index over `len` floats (n × dim) with `ids_len` ids (0 ⇒ 0..n).
///
/// # Safety
/// Buffers valid for their lengths; `out` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_build(
    kind: u32, dim: u32, seed: u64, rerank_factor: u32, metric: u32, pad_to_word: u32,
    vectors: *const f32, len: u64, ids: *const u64, ids_len: u64, out: *mut *mut RuvIndex,
) -> i32 {
    guard(|| {
        let p = params(kind, dim, seed, rerank_factor, metric, pad_to_word)?;
        let ids = if ids_len == 0 { None } else { Some(slice(ids, ids_len, "ids")?) };
        let idx = VectorIndex::build(p, slice(vectors, len, "vectors")?, ids)?;
        write_out(out, Box::into_raw(Box::new(RuvIndex::new(idx))), "out")
    })
}

/// Like `ruv_index_build`, off-thread. The caller keeps `vectors` and `ids`
/// alive and unchanged until the job completes (copying them here would stall
/// the calling thread on large builds); take the result with `ruv_job_take_index`.
///
/// # Safety
/// Buffers valid until the job completes; `out_job` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_build_async(
    kind: u32, dim: u32, seed: u64, rerank_factor: u32, metric: u32, pad_to_word: u32,
    vectors: *const f32, len: u64, ids: *const u64, ids_len: u64, out_job: *mut *const Job,
) -> i32 {
    guard(|| {
        let p = params(kind, dim, seed, rerank_factor, metric, pad_to_word)?;
        let vectors = slice(vectors, len, "vectors")?;
        let ids = if ids_len == 0 { None } else { Some(slice(ids, ids_len, "ids")?) };
        let job = spawn(move || Ok(Output::Index(RuvIndex::new(VectorIndex::build(p, vectors, ids)?))))?;
        job_out(job, out_job)
    })
}

/// Appends `len / dim` vectors with their ids; all are validated first.
///
/// # Safety
/// `idx` a live handle; buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_add(idx: *const RuvIndex, vectors: *const f32, len: u64, ids: *const u64, ids_len: u64) -> i32 {
    guard(|| {
        handle(idx, "index")?.0.add(slice(vectors, len, "vectors")?, slice(ids, ids_len, "ids")?)
    })
}

/// Searches one query; writes min(k, n) hits and their count. `rerank_factor`
/// overrides the index's for this call (0 = keep; RabitqPlusIndex only).
///
/// # Safety
/// `idx` a live handle; `query` valid for `len`; outputs valid for `cap` entries.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_search(
    idx: *const RuvIndex, query: *const f32, len: u64, k: u32, rerank_factor: u32,
    out_ids: *mut u64, out_scores: *mut f32, cap: u64, out_count: *mut u64,
) -> i32 {
    guard(|| {
        let r = handle(idx, "index")?.read()?;
        let n = r.search_into(slice(query, len, "query")?, k as usize, rerank(rerank_factor), slice_mut(out_ids, cap, "out_ids")?, slice_mut(out_scores, cap, "out_scores")?)?;
        write_out(out_count, n as u64, "out_count")
    })
}

/// Searches one query off-thread (the query is copied); take hits with `ruv_job_take_hits`.
///
/// # Safety
/// `idx` a live handle; `query` valid for `len`; `out_job` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_search_async(idx: *const RuvIndex, query: *const f32, len: u64, k: u32, rerank_factor: u32, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let shared = &handle(idx, "index")?.0;
        let query = slice(query, len, "query")?.to_vec();
        let job = shared.read_async(move |r| {
            let (ids, scores) = r.search_owned(&query, k as usize, rerank(rerank_factor))?;
            Ok(Output::Hits { ids, scores })
        })?;
        job_out(job, out_job)
    })
}

/// Searches `len / dim` queries on `threads` threads (0 = all cores). Each
/// query writes min(k, n) hits into its slot of the outputs; `out_k` gets that count.
///
/// # Safety
/// `idx` a live handle; buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_search_batch(
    idx: *const RuvIndex, queries: *const f32, len: u64, k: u32, rerank_factor: u32, threads: u32,
    out_ids: *mut u64, out_scores: *mut f32, cap: u64, out_k: *mut u64,
) -> i32 {
    guard(|| {
        let r = handle(idx, "index")?.read()?;
        let kk = r.search_batch(slice(queries, len, "queries")?, k as usize, rerank(rerank_factor), threads as usize, slice_mut(out_ids, cap, "out_ids")?, slice_mut(out_scores, cap, "out_scores")?)?;
        write_out(out_k, kk as u64, "out_k")
    })
}

/// `ruv_index_search_batch` off-thread (queries are copied); take hits with `ruv_job_take_hits`.
///
/// # Safety
/// `idx` a live handle; `queries` valid for `len`; `out_job` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_search_batch_async(
    idx: *const RuvIndex, queries: *const f32, len: u64, k: u32, rerank_factor: u32, threads: u32, out_job: *mut *const Job,
) -> i32 {
    guard(|| {
        let shared = &handle(idx, "index")?.0;
        let queries = slice(queries, len, "queries")?.to_vec();
        let job = shared.read_async(move |r| {
            let k = r.effective_k(k as usize)?;
            let m = queries.len() / r.params().dim.max(1);
            let (mut ids, mut scores) = (vec![0u64; m * k], vec![0f32; m * k]);
            r.search_batch(&queries, k, rerank(rerank_factor), threads as usize, &mut ids, &mut scores)?;
            Ok(Output::Hits { ids, scores })
        })?;
        job_out(job, out_job)
    })
}

/// Writes [kind, dim, seed, rerank_factor, metric, pad_to_word, len, memory_bytes].
///
/// # Safety
/// `idx` a live handle; `out` valid for 8 u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_info(idx: *const RuvIndex, out: *mut u64) -> i32 {
    guard(|| {
        let shared = &handle(idx, "index")?.0;
        let p = shared.params();
        let info = [p.kind as u64, p.dim as u64, p.seed, p.rerank_factor as u64, p.metric as u64, p.pad_to_word as u64, shared.len() as u64, shared.memory_bytes() as u64];
        slice_mut(out, 8, "out")?.copy_from_slice(&info);
        Ok(())
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
        copy_exact(&v, out, cap)
    })
}

/// Copies all ids in insertion order (n entries).
///
/// # Safety
/// `idx` a live handle; `out` valid for `cap` entries.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_ids(idx: *const RuvIndex, out: *mut u64, cap: u64) -> i32 {
    guard(|| copy_exact(handle(idx, "index")?.read()?.ids(), out, cap))
}

/// Copies all stored vectors in insertion order (n × dim floats).
///
/// # Safety
/// `idx` a live handle; `out` valid for `cap` floats.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_vectors(idx: *const RuvIndex, out: *mut f32, cap: u64) -> i32 {
    guard(|| {
        let v = handle(idx, "index")?.read()?.vectors()?;
        copy_exact(&v, out, cap)
    })
}

unsafe fn copy_exact<T: Copy>(src: &[T], out: *mut T, cap: u64) -> Result<()> {
    if cap != src.len() as u64 {
        return Err(Error::new(Status::BufferTooSmall, format!("buffer holds {cap} elements, need exactly {}", src.len())));
    }
    slice_mut(out, cap, "out")?.copy_from_slice(src);
    Ok(())
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

/// Saves atomically to the UTF-8/bytes path (`path_len` bytes).
///
/// # Safety
/// `idx` a live handle; `path` valid for `path_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_save(idx: *const RuvIndex, path_ptr: *const u8, path_len: u64) -> i32 {
    guard(|| persist::save(&*handle(idx, "index")?.read()?, &path(path_ptr, path_len)?))
}

/// `ruv_index_save` off-thread.
///
/// # Safety
/// As `ruv_index_save`; `out_job` valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_save_async(idx: *const RuvIndex, path_ptr: *const u8, path_len: u64, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let shared = &handle(idx, "index")?.0;
        let path = path(path_ptr, path_len)?;
        let job = shared.read_async(move |r| {
            persist::save(r, &path)?;
            Ok(Output::Unit)
        })?;
        job_out(job, out_job)
    })
}

/// Loads an index file. `expected_kind` is a variant number, or u32::MAX for any.
/// A quantized file of stored dim above 1024 is refused here (its rotation is too
/// costly to create on the calling thread): use `ruv_index_load_async`.
///
/// # Safety
/// `path` valid for `path_len` bytes; `out` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_load(path_ptr: *const u8, path_len: u64, expected_kind: u32, out: *mut *mut RuvIndex) -> i32 {
    guard(|| {
        let idx = persist::load_sync(&path(path_ptr, path_len)?, kind_filter(expected_kind)?)?;
        write_out(out, Box::into_raw(Box::new(RuvIndex::new(idx))), "out")
    })
}

/// `ruv_index_load` off-thread; take the index with `ruv_job_take_index`.
///
/// # Safety
/// `path` valid for `path_len` bytes; `out_job` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_index_load_async(path_ptr: *const u8, path_len: u64, expected_kind: u32, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let (path, kind) = (path(path_ptr, path_len)?, kind_filter(expected_kind)?);
        let job = spawn(move || Ok(Output::Index(RuvIndex::new(persist::load(&path, kind)?))))?;
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
