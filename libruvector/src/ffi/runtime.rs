//! Library-wide functions: versions, CPU features, and the job/completion API.

use std::sync::Arc;

use super::{copy_into, copy_string_out, guard, handle, handle_out, slice_mut, write_out};
use crate::error::Result;
use crate::runtime::{self, Job};

/// Version of the C ABI; bumped on any incompatible change.
pub const RUV_ABI_VERSION: u32 = 3;

/// The hits a search job produced.
pub struct Hits {
    pub ids: Vec<u64>,
    pub scores: Vec<f32>,
}

/// The hits a federated search job produced, each with the position of its target.
pub struct ShardHits {
    pub shards: Vec<u32>,
    pub ids: Vec<u64>,
    pub scores: Vec<f32>,
}

/// The library version string (semver, UTF-8).
///
/// # Safety
/// `buf` must be valid for `cap` bytes; `out_len` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_version(buf: *mut u8, cap: u64, out_len: *mut u64) -> i32 {
    guard(|| copy_string_out(crate::VERSION.as_bytes(), buf, cap, out_len))
}

/// The C ABI version.
///
/// # Safety
/// `out` must be valid for one u32.
#[no_mangle]
pub unsafe extern "C" fn ruv_abi_version(out: *mut u32) -> i32 {
    guard(|| write_out(out, RUV_ABI_VERSION, "out"))
}

/// SIMD features detected at run time, as `RUV_CPU_*` bits.
///
/// # Safety
/// `out` must be valid for one u32.
#[no_mangle]
pub unsafe extern "C" fn ruv_cpu_features(out: *mut u32) -> i32 {
    guard(|| write_out(out, crate::cpu::features(), "out"))
}

/// The read end of the completion pipe: one byte is written per finished job.
///
/// # Safety
/// `out_fd` must be valid for one i32.
#[no_mangle]
pub unsafe extern "C" fn ruv_runtime_wake_fd(out_fd: *mut i32) -> i32 {
    guard(|| write_out(out_fd, runtime::wake_fd()?, "out_fd"))
}

/// Drains up to `cap` finished job tokens (each is the job's handle address).
///
/// # Safety
/// `out` must be valid for `cap` u64; `out_count` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_runtime_poll(out: *mut u64, cap: u64, out_count: *mut u64) -> i32 {
    guard(|| {
        let n = runtime::poll(slice_mut(out, cap, "out")?)?;
        write_out(out_count, n as u64, "out_count")
    })
}

/// How far a job got: `done` of `total` work units (both grow while it runs;
/// both stay 0 for jobs that report no progress). Index builds report it.
///
/// # Safety
/// `job` must be a live job handle; `out_done` and `out_total` valid for one u64 each.
#[no_mangle]
pub unsafe extern "C" fn ruv_job_progress(job: *const Job, out_done: *mut u64, out_total: *mut u64) -> i32 {
    guard(|| {
        let (done, total) = handle(job, "job")?.progress();
        write_out(out_done, done, "out_done")?;
        write_out(out_total, total, "out_total")
    })
}

/// `RUV_STATUS_OK` when the job succeeded, `RUV_STATUS_PENDING` while it runs,
/// else its error status (details via `ruv_last_error`).
///
/// # Safety
/// `job` must be a live job handle.
#[no_mangle]
pub unsafe extern "C" fn ruv_job_status(job: *const Job) -> i32 {
    guard(|| handle(job, "job")?.status())
}

/// Takes the hits of a finished search job into caller buffers of `cap` entries.
///
/// # Safety
/// `job` must be a live job handle; buffers valid for `cap` entries.
#[no_mangle]
pub unsafe extern "C" fn ruv_job_take_hits(job: *const Job, ids: *mut u64, scores: *mut f32, cap: u64, out_len: *mut u64) -> i32 {
    guard(|| {
        let hits = handle(job, "job")?.take::<Hits>()?;
        copy_into(&hits.ids, ids, cap, "ids")?;
        copy_into(&hits.scores, scores, cap, "scores")?;
        write_out(out_len, hits.ids.len() as u64, "out_len")
    })
}

/// Takes the hits of a finished federated search: each with the position of its target.
///
/// # Safety
/// `job` must be a live job handle; buffers valid for `cap` entries.
#[no_mangle]
pub unsafe extern "C" fn ruv_job_take_shard_hits(job: *const Job, shards: *mut u32, ids: *mut u64, scores: *mut f32, cap: u64, out_len: *mut u64) -> i32 {
    guard(|| {
        let hits = handle(job, "job")?.take::<ShardHits>()?;
        copy_into(&hits.shards, shards, cap, "shards")?;
        copy_into(&hits.ids, ids, cap, "ids")?;
        copy_into(&hits.scores, scores, cap, "scores")?;
        write_out(out_len, hits.ids.len() as u64, "out_len")
    })
}

/// Takes the count a finished job produced (e.g. vectors installed by a warm start).
///
/// # Safety
/// `job` must be a live job handle; `out` valid for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_job_take_count(job: *const Job, out: *mut u64) -> i32 {
    guard(|| write_out(out, handle(job, "job")?.take::<u64>()?, "out"))
}

/// Takes the floats of a finished embedding job into a caller buffer of `cap` floats.
///
/// # Safety
/// `job` must be a live job handle; `out` valid for `cap` floats; `out_len` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_job_take_floats(job: *const Job, out: *mut f32, cap: u64, out_len: *mut u64) -> i32 {
    guard(|| {
        let floats = handle(job, "job")?.take::<Vec<f32>>()?;
        copy_into(&floats, out, cap, "out")?;
        write_out(out_len, floats.len() as u64, "out_len")
    })
}

/// Takes the index a finished build or load job produced; free it with `ruv_index_free`.
///
/// # Safety
/// `job` must be a live job handle; `out` valid for one pointer.
#[no_mangle]
pub unsafe extern "C" fn ruv_job_take_index(job: *const Job, out: *mut *mut super::index::RuvIndex) -> i32 {
    guard(|| handle_out(out, handle(job, "job")?.take::<super::index::RuvIndex>()?))
}

/// Releases a job handle. A job still running keeps its own reference and
/// finishes normally.
///
/// # Safety
/// `job` must be null or a live job handle, released at most once.
#[no_mangle]
pub unsafe extern "C" fn ruv_job_free(job: *const Job) -> i32 {
    guard(|| {
        if !job.is_null() {
            drop(Arc::from_raw(job));
        }
        Ok(())
    })
}

/// Hands a spawned job to the caller as an owned raw handle.
pub(crate) fn job_out(job: Arc<Job>, out: *mut *const Job) -> Result<()> {
    // SAFETY: `out` is checked for null by write_out; the pointer carries one Arc count.
    unsafe { write_out(out, Arc::into_raw(job), "out_job") }
}
