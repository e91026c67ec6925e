//! `ruv_lake_*`: the ruLake cache behind an opaque, reference-counted handle.
//! The host calls `ruv_lake_needs_check` / `ruv_lake_check` with its backend's
//! current state, pulls and calls `ruv_lake_prime` on a miss, then searches.
//! A collection's state is passed as a descriptor: (data_ref, data_ref_len,
//! dim, generation_kind 0 = number | 1 = string, generation_num,
//! generation_str, generation_str_len).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::runtime::job_out;
use super::{copy_bytes_out, free_handle, guard, handle, slice, slice_mut, write_out};
use crate::error::{Error, Result};
use crate::lake::witness::{Descriptor, Generation};
use crate::lake::{Config, Consistency, Lake, Scope, STATS_LEN};
use crate::runtime::{spawn, Job, Output};

/// Opaque handle to a lake.
pub struct RuvLake(Arc<Lake>);

unsafe fn text(ptr: *const u8, len: u64, what: &str) -> Result<String> {
    String::from_utf8(slice(ptr, len, what)?.to_vec()).map_err(|_| Error::invalid(format!("{what} is not valid UTF-8")))
}

unsafe fn dir(ptr: *const u8, len: u64) -> Result<PathBuf> {
    let d = text(ptr, len, "directory")?;
    if d.is_empty() || d.contains('\0') {
        return Err(Error::invalid("directory is empty or contains a NUL byte"));
    }
    Ok(PathBuf::from(d))
}

#[allow(clippy::too_many_arguments)]
unsafe fn descriptor(lake: &Lake, data_ref: *const u8, data_ref_len: u64, dim: u32, kind: u32, num: u64, s: *const u8, s_len: u64) -> Result<Descriptor> {
    let generation = match kind {
        0 => Generation::Num(num),
        1 => Generation::Opaque(text(s, s_len, "generation")?),
        k => return Err(Error::invalid(format!("unknown generation kind {k} (0 = number, 1 = string)"))),
    };
    if dim == 0 {
        return Err(Error::invalid("a collection's dim must be at least 1"));
    }
    Ok(lake.descriptor(text(data_ref, data_ref_len, "data_ref")?, dim as usize, generation))
}

/// Creates a lake. `consistency`: 0 fresh, 1 eventual (`ttl_ms`), 2 frozen.
/// `max_entries` / `max_bytes` bound the cache (0 = unbounded).
///
/// # Safety
/// `out` valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_new(rerank_factor: u32, seed: u64, consistency: u32, ttl_ms: u64, max_entries: u64, max_bytes: u64, out: *mut *mut RuvLake) -> i32 {
    guard(|| {
        let consistency = match consistency {
            0 => Consistency::Fresh,
            1 => Consistency::Eventual(Duration::from_millis(ttl_ms)),
            2 => Consistency::Frozen,
            c => return Err(Error::invalid(format!("unknown consistency {c} (0 fresh, 1 eventual, 2 frozen)"))),
        };
        let config = Config { rerank_factor: rerank_factor as usize, rotation_seed: seed, consistency, max_entries: max_entries as usize, max_bytes: max_bytes as usize };
        write_out(out, Box::into_raw(Box::new(RuvLake(Arc::new(Lake::new(config)?)))), "out")
    })
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
        let id = lake.key(&text(backend, backend_len, "backend")?, &text(collection, collection_len, "collection")?);
        write_out(out, id, "out")
    })
}

/// 1 when a search must check the backend's state first; 0 when consistency
/// lets it use the cache (counted as a hit).
///
/// # Safety
/// `lake` live; `out` valid for one i32.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_needs_check(lake: *const RuvLake, key: u32, out: *mut i32) -> i32 {
    guard(|| write_out(out, handle(lake, "lake")?.0.needs_check(key)? as i32, "out"))
}

/// Compares the backend's state with the cache: 0 hit, 1 shared (pointer moved
/// to an identical cached state), 2 miss (pull and prime).
///
/// # Safety
/// `lake` live; descriptor strings valid; `out` for one u32.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_check(
    lake: *const RuvLake, key: u32, data_ref: *const u8, data_ref_len: u64, dim: u32, gen_kind: u32, gen_num: u64, gen_str: *const u8, gen_str_len: u64, out: *mut u32,
) -> i32 {
    guard(|| {
        let lake = &handle(lake, "lake")?.0;
        let d = descriptor(lake, data_ref, data_ref_len, dim, gen_kind, gen_num, gen_str, gen_str_len)?;
        write_out(out, lake.check(key, &d)? as u32, "out")
    })
}

/// Builds and installs the index for pulled vectors (`ids_len` rows of `dim`).
///
/// # Safety
/// `lake` live; all buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_prime(
    lake: *const RuvLake, key: u32, data_ref: *const u8, data_ref_len: u64, dim: u32, gen_kind: u32, gen_num: u64, gen_str: *const u8, gen_str_len: u64,
    vectors: *const f32, len: u64, ids: *const u64, ids_len: u64,
) -> i32 {
    guard(|| {
        let lake = &handle(lake, "lake")?.0;
        let d = descriptor(lake, data_ref, data_ref_len, dim, gen_kind, gen_num, gen_str, gen_str_len)?;
        lake.prime(key, d, slice(vectors, len, "vectors")?, slice(ids, ids_len, "ids")?)
    })
}

/// `ruv_lake_prime` off-thread; the caller keeps `vectors` and `ids` alive and
/// unchanged until the job completes.
///
/// # Safety
/// As `ruv_lake_prime`, buffers valid until completion; `out_job` for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_prime_async(
    lake: *const RuvLake, key: u32, data_ref: *const u8, data_ref_len: u64, dim: u32, gen_kind: u32, gen_num: u64, gen_str: *const u8, gen_str_len: u64,
    vectors: *const f32, len: u64, ids: *const u64, ids_len: u64, out_job: *mut *const Job,
) -> i32 {
    guard(|| {
        let lake = Arc::clone(&handle(lake, "lake")?.0);
        let d = descriptor(&lake, data_ref, data_ref_len, dim, gen_kind, gen_num, gen_str, gen_str_len)?;
        let (vectors, ids) = (slice(vectors, len, "vectors")?, slice(ids, ids_len, "ids")?);
        job_out(spawn(move || lake.prime(key, d, vectors, ids).map(|_| Output::Unit))?, out_job)
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
    guard(|| {
        let lake = &handle(lake, "lake")?.0;
        let n = lake.search(key, slice(query, len, "query")?, k as usize, slice_mut(out_ids, cap, "out_ids")?, slice_mut(out_scores, cap, "out_scores")?)?;
        write_out(out_count, n as u64, "out_count")
    })
}

/// `ruv_lake_search` off-thread (the query is copied); take with `ruv_job_take_hits`.
///
/// # Safety
/// `lake` live; `query` valid for `len`; `out_job` for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_search_async(lake: *const RuvLake, key: u32, query: *const f32, len: u64, k: u32, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let lake = Arc::clone(&handle(lake, "lake")?.0);
        let query = slice(query, len, "query")?.to_vec();
        let job = spawn(move || {
            let (ids, scores) = lake.index(key)?.search_owned(&query, k as usize, None)?;
            Ok(Output::Hits { ids, scores })
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
    guard(|| {
        let index = handle(lake, "lake")?.0.index(key)?;
        let kk = index.search_batch(slice(queries, len, "queries")?, k as usize, None, threads as usize, slice_mut(out_ids, cap, "out_ids")?, slice_mut(out_scores, cap, "out_scores")?)?;
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
    guard(|| {
        let hits = handle(lake, "lake")?.0.search_federated(slice(keys, nkeys, "keys")?, slice(query, len, "query")?, k as usize)?;
        if hits.len() as u64 > cap {
            return Err(Error::new(crate::error::Status::BufferTooSmall, format!("buffers hold {cap} hits, need {}", hits.len())));
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
    guard(|| {
        let lake = Arc::clone(&handle(lake, "lake")?.0);
        let (keys, query) = (slice(keys, nkeys, "keys")?.to_vec(), slice(query, len, "query")?.to_vec());
        let job = spawn(move || {
            let hits = lake.search_federated(&keys, &query, k as usize)?;
            Ok(Output::ShardHits { shards: hits.iter().map(|h| h.0).collect(), ids: hits.iter().map(|h| h.1).collect(), scores: hits.iter().map(|h| h.2).collect() })
        })?;
        job_out(job, out_job)
    })
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
        copy_bytes_out(w.as_bytes(), buf, cap, out_len)
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

/// Counters of `scope` (0 global, 1 the key's backend, 2 the key): [hits,
/// misses, primes, invalidations, shared_hits, evictions, warm_installs,
/// total_prime_us, last_prime_us, cached entries, cached bytes] into `out` (11 u64).
///
/// # Safety
/// `lake` live; `out` valid for 11 u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_stats(lake: *const RuvLake, scope: u32, key: u32, out: *mut u64) -> i32 {
    guard(|| {
        let scope = match scope {
            0 => Scope::Global,
            1 => Scope::Backend(key),
            2 => Scope::Key(key),
            s => return Err(Error::invalid(format!("unknown stats scope {s}"))),
        };
        let (stats, entries, bytes) = handle(lake, "lake")?.0.stats(scope)?;
        let out = slice_mut(out, STATS_LEN as u64 + 2, "out")?;
        out[..STATS_LEN].copy_from_slice(&stats.to_array());
        out[STATS_LEN] = entries as u64;
        out[STATS_LEN + 1] = bytes as u64;
        Ok(())
    })
}

/// Writes `dir/table.rulake.json` for a descriptor; the witness goes to `buf`.
///
/// # Safety
/// `lake` live; strings valid; `buf` for `cap` bytes; `out_len` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_publish(
    lake: *const RuvLake, dir_ptr: *const u8, dir_len: u64, data_ref: *const u8, data_ref_len: u64, dim: u32, gen_kind: u32, gen_num: u64, gen_str: *const u8, gen_str_len: u64,
    buf: *mut u8, cap: u64, out_len: *mut u64,
) -> i32 {
    guard(|| {
        let lake = &handle(lake, "lake")?.0;
        let d = descriptor(lake, data_ref, data_ref_len, dim, gen_kind, gen_num, gen_str, gen_str_len)?;
        let w = lake.publish(&d, &dir(dir_ptr, dir_len)?)?;
        copy_bytes_out(w.as_bytes(), buf, cap, out_len)
    })
}

/// Compares `dir`'s sidecar with the cache: 0 up to date, 1 invalidated, 2 bundle missing.
///
/// # Safety
/// `lake` live; `dir` valid; `out` for one u32.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_refresh_from_dir(lake: *const RuvLake, key: u32, dir_ptr: *const u8, dir_len: u64, out: *mut u32) -> i32 {
    guard(|| write_out(out, handle(lake, "lake")?.0.refresh_from_dir(key, &dir(dir_ptr, dir_len)?)? as u32, "out"))
}

/// Saves a cached collection (`index.rbpx` with original ids + sidecar) off-thread.
///
/// # Safety
/// `lake` live; `dir` valid; `out_job` for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ruv_lake_save_to_dir_async(lake: *const RuvLake, key: u32, dir_ptr: *const u8, dir_len: u64, out_job: *mut *const Job) -> i32 {
    guard(|| {
        let (lake, dir) = (Arc::clone(&handle(lake, "lake")?.0), dir(dir_ptr, dir_len)?);
        job_out(spawn(move || lake.save_to_dir(key, &dir).map(|_| Output::Unit))?, out_job)
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
        let (lake, dir) = (Arc::clone(&handle(lake, "lake")?.0), dir(dir_ptr, dir_len)?);
        job_out(spawn(move || lake.warm_from_dir(key, &dir).map(|n| Output::Count(n as u64)))?, out_job)
    })
}

/// The witness of a descriptor under `seed` and `rerank_factor`, without a lake.
///
/// # Safety
/// Strings valid; `buf` for `cap` bytes; `out_len` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_witness(
    data_ref: *const u8, data_ref_len: u64, dim: u32, seed: u64, rerank_factor: u32, gen_kind: u32, gen_num: u64, gen_str: *const u8, gen_str_len: u64,
    buf: *mut u8, cap: u64, out_len: *mut u64,
) -> i32 {
    guard(|| {
        let config = Config { rerank_factor: rerank_factor as usize, rotation_seed: seed, consistency: Consistency::Fresh, max_entries: 0, max_bytes: 0 };
        let lake = Lake::new(config)?;
        let d = descriptor(&lake, data_ref, data_ref_len, dim, gen_kind, gen_num, gen_str, gen_str_len)?;
        copy_bytes_out(d.witness().as_bytes(), buf, cap, out_len)
    })
}
