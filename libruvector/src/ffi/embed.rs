//! `ruv_embedder_*` and `ruv_tokenizer_*`: local embedding models behind opaque
//! handles. A background job holds its own reference to the model, so freeing
//! a handle while a job runs never frees memory under it.
//!
//! Texts cross the boundary as one UTF-8 buffer plus `n + 1` byte offsets.

use std::sync::Arc;

use super::runtime::job_out;
use super::{copy_string_out, free_handle, guard, handle, handle_out, path, slice, slice_mut, utf8, write_out};
use crate::embed::progress::Progress;
use crate::embed::tokenize::TextTokenizer;
use crate::embed::{registry, Embedder};
use crate::error::{Error, Result};
use crate::runtime::{spawn, Job};

/// Opaque handle to an embedding model. Thread-safe: embeddings may run from
/// several threads at once on one model.
pub struct RuvEmbedder(Arc<Embedder>);

/// Opaque handle to a text tokenizer. Thread-safe.
pub struct RuvTokenizer(TextTokenizer);

/// Splits `bytes` at `offsets` (`n + 1` ascending byte offsets) into `n` strings.
fn split_texts<'a>(bytes: &'a [u8], offsets: &[u64]) -> Result<Vec<&'a str>> {
    offsets
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let (a, b) = (w[0] as usize, w[1] as usize);
            if a > b || b > bytes.len() {
                return Err(Error::invalid(format!("text {i}: offsets {a}..{b} are out of order or past the {} bytes given", bytes.len())));
            }
            std::str::from_utf8(&bytes[a..b]).map_err(|e| Error::invalid(format!("text {i} is not valid UTF-8: {e}")))
        })
        .collect()
}

/// The model registry as JSON (UTF-8): names, kinds, dims, files with pinned SHA-256.
///
/// # Safety
/// `buf` must be valid for `cap` bytes; `out_len` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_embed_registry(buf: *mut u8, cap: u64, out_len: *mut u64) -> i32 {
    guard(|| copy_string_out(registry::to_json().as_bytes(), buf, cap, out_len))
}

/// Opens registry model `name` from folder `dir`, verifying every file's
/// SHA-256, with ONNX Runtime loaded from `ort_lib` (first call per process wins).
///
/// # Safety
/// Buffers valid for their lengths; `out` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_embedder_open(
    name: *const u8, name_len: u64, dir: *const u8, dir_len: u64, ort_lib: *const u8, ort_lib_len: u64, out: *mut *mut RuvEmbedder,
) -> i32 {
    guard(|| {
        let e = Embedder::open(utf8(name, name_len, "name")?, &path(dir, dir_len, "dir")?, &path(ort_lib, ort_lib_len, "ort_lib")?)?;
        handle_out(out, RuvEmbedder(Arc::new(e)))
    })
}

/// [`ruv_embedder_open`] off-thread (hashing and session creation take ~0.5 s for a
/// 90 MB model); take the handle with `ruv_job_take_embedder`.
///
/// # Safety
/// Buffers valid for their lengths; `out_job` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_embedder_open_async(
    name: *const u8, name_len: u64, dir: *const u8, dir_len: u64, ort_lib: *const u8, ort_lib_len: u64, out_job: *mut *const Job,
) -> i32 {
    guard(|| {
        let name = utf8(name, name_len, "name")?.to_string();
        let (dir, ort_lib) = (path(dir, dir_len, "dir")?, path(ort_lib, ort_lib_len, "ort_lib")?);
        let job = spawn(move || Ok(RuvEmbedder(Arc::new(Embedder::open(&name, &dir, &ort_lib)?))))?;
        job_out(job, out_job)
    })
}

/// Takes the embedder a finished `ruv_embedder_open_async` job produced; free it with `ruv_embedder_free`.
///
/// # Safety
/// `job` must be a live job handle; `out` valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_job_take_embedder(job: *const Job, out: *mut *mut RuvEmbedder) -> i32 {
    guard(|| handle_out(out, handle(job, "job")?.take::<RuvEmbedder>()?))
}

/// Frees an embedder handle (null is a no-op).
///
/// # Safety
/// `e` must be null or a live handle, freed at most once.
#[no_mangle]
pub unsafe extern "C" fn ruv_embedder_free(e: *mut RuvEmbedder) -> i32 {
    free_handle(e)
}

/// The model's embedding dimension.
///
/// # Safety
/// `e` must be a live handle; `out` valid for one u32.
#[no_mangle]
pub unsafe extern "C" fn ruv_embedder_dim(e: *const RuvEmbedder, out: *mut u32) -> i32 {
    guard(|| write_out(out, handle(e, "embedder")?.0.spec().dim as u32, "out"))
}

/// Embeds `n = offsets_len - 1` texts into `out` (`n × dim` floats).
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_embedder_embed_texts(
    e: *const RuvEmbedder, bytes: *const u8, bytes_len: u64, offsets: *const u64, offsets_len: u64, out: *mut f32, out_len: u64,
) -> i32 {
    guard(|| {
        let texts = split_texts(slice(bytes, bytes_len, "bytes")?, slice(offsets, offsets_len, "offsets")?)?;
        handle(e, "embedder")?.0.embed_texts(&texts, slice_mut(out, out_len, "out")?)
    })
}

/// Starts embedding texts off-thread (inputs are copied); take the result with `ruv_job_take_floats`.
///
/// # Safety
/// Buffers valid for their lengths; `out_job` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_embedder_embed_texts_async(
    e: *const RuvEmbedder, bytes: *const u8, bytes_len: u64, offsets: *const u64, offsets_len: u64, out_job: *mut *const Job,
) -> i32 {
    ruv_embedder_embed_texts_tracked_async(e, bytes, bytes_len, offsets, offsets_len, std::ptr::null(), out_job)
}

/// [`ruv_embedder_embed_texts_async`] reporting into `progress` (may be null):
/// `ruv_embed_progress_done` counts finished texts, and after
/// `ruv_embed_progress_cancel` the job stops before its next chunk of 32 with
/// an `Embed` error ("embedding cancelled after …").
///
/// # Safety
/// Buffers valid for their lengths; `progress` null or a live handle; `out_job` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_embedder_embed_texts_tracked_async(
    e: *const RuvEmbedder, bytes: *const u8, bytes_len: u64, offsets: *const u64, offsets_len: u64, progress: *const RuvEmbedProgress,
    out_job: *mut *const Job,
) -> i32 {
    guard(|| {
        let model = Arc::clone(&handle(e, "embedder")?.0);
        let progress = progress.as_ref().map_or_else(Default::default, |p| Arc::clone(&p.0));
        let bytes = slice(bytes, bytes_len, "bytes")?.to_vec();
        let offsets = slice(offsets, offsets_len, "offsets")?.to_vec();
        split_texts(&bytes, &offsets)?;
        let job = spawn(move || {
            let texts = split_texts(&bytes, &offsets)?;
            let mut out = vec![0f32; texts.len() * model.spec().dim];
            model.embed_texts_tracked(&texts, &mut out, &progress)?;
            Ok(out)
        })?;
        job_out(job, out_job)
    })
}

/// Opaque progress and cancellation of one tracked embedding job.
pub struct RuvEmbedProgress(Arc<Progress>);

/// A fresh progress handle for `ruv_embedder_embed_texts_tracked_async`; free it with `ruv_embed_progress_free`.
///
/// # Safety
/// `out` valid for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_embed_progress_new(out: *mut *mut RuvEmbedProgress) -> i32 {
    guard(|| write_out(out, Box::into_raw(Box::new(RuvEmbedProgress(Arc::default()))), "out"))
}

/// Texts the job has embedded so far.
///
/// # Safety
/// `p` a live handle; `out` valid for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_embed_progress_done(p: *const RuvEmbedProgress, out: *mut u64) -> i32 {
    guard(|| write_out(out, handle(p, "progress")?.0.done(), "out"))
}

/// Asks the job to stop before its next chunk (it then fails with an `Embed` error).
///
/// # Safety
/// `p` a live handle.
#[no_mangle]
pub unsafe extern "C" fn ruv_embed_progress_cancel(p: *const RuvEmbedProgress) -> i32 {
    guard(|| {
        handle(p, "progress")?.0.cancel();
        Ok(())
    })
}

/// Frees a progress handle (null is a no-op); a running job keeps its own reference.
///
/// # Safety
/// `p` null or a live handle, freed at most once.
#[no_mangle]
pub unsafe extern "C" fn ruv_embed_progress_free(p: *mut RuvEmbedProgress) -> i32 {
    free_handle(p)
}

/// Embeds one interleaved RGB or RGBA image of `width × height` into `out` (`dim` floats).
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_embedder_embed_image(
    e: *const RuvEmbedder, pixels: *const u8, pixels_len: u64, width: u32, height: u32, out: *mut f32, out_len: u64,
) -> i32 {
    guard(|| handle(e, "embedder")?.0.embed_image(slice(pixels, pixels_len, "pixels")?, width as usize, height as usize, slice_mut(out, out_len, "out")?))
}

/// Writes the preprocessed `[1, 3, side, side]` NCHW input for an RGB/RGBA image into `out`.
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_embedder_preprocess_image(
    e: *const RuvEmbedder, pixels: *const u8, pixels_len: u64, width: u32, height: u32, out: *mut f32, out_len: u64,
) -> i32 {
    guard(|| {
        let t = handle(e, "embedder")?.0.preprocess_image(slice(pixels, pixels_len, "pixels")?, width as usize, height as usize)?;
        let dst = slice_mut(out, out_len, "out")?;
        if dst.len() != t.len() {
            return Err(Error::dim_mismatch(t.len(), dst.len()));
        }
        dst.copy_from_slice(&t);
        Ok(())
    })
}

/// Embeds one preprocessed `[1, 3, side, side]` NCHW float tensor into `out` (`dim` floats).
///
/// # Safety
/// Buffers valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn ruv_embedder_embed_preprocessed(e: *const RuvEmbedder, input: *const f32, input_len: u64, out: *mut f32, out_len: u64) -> i32 {
    guard(|| handle(e, "embedder")?.0.embed_preprocessed(slice(input, input_len, "input")?, slice_mut(out, out_len, "out")?))
}

/// Opens a `tokenizer.json` with truncation at `max_len` tokens (special tokens included).
///
/// # Safety
/// `path` valid for `path_len` bytes; `out` for one pointer write.
#[no_mangle]
pub unsafe extern "C" fn ruv_tokenizer_open(path_ptr: *const u8, path_len: u64, max_len: u32, out: *mut *mut RuvTokenizer) -> i32 {
    guard(|| {
        let t = TextTokenizer::from_file(&path(path_ptr, path_len, "path")?, max_len as usize)?;
        handle_out(out, RuvTokenizer(t))
    })
}

/// Token ids of one text into `out` (capacity `cap`); `*out_len` gets the full count
/// (retry with a larger buffer when it exceeds `cap`).
///
/// # Safety
/// Buffers valid for their lengths; `out_len` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_tokenizer_encode(t: *const RuvTokenizer, text: *const u8, text_len: u64, out: *mut u32, cap: u64, out_len: *mut u64) -> i32 {
    guard(|| {
        let ids = handle(t, "tokenizer")?.0.ids(utf8(text, text_len, "text")?)?;
        let dst = slice_mut(out, cap.min(ids.len() as u64), "out")?;
        dst.copy_from_slice(&ids[..dst.len()]);
        write_out(out_len, ids.len() as u64, "out_len")
    })
}

/// Frees a tokenizer handle (null is a no-op).
///
/// # Safety
/// `t` must be null or a live handle, freed at most once.
#[no_mangle]
pub unsafe extern "C" fn ruv_tokenizer_free(t: *mut RuvTokenizer) -> i32 {
    free_handle(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_texts_checks_offsets_and_utf8() {
        assert_eq!(split_texts(b"abcd", &[0, 1, 1, 4]).unwrap(), vec!["a", "", "bcd"]);
        assert!(split_texts(b"ab", &[0, 3]).is_err());
        assert!(split_texts(b"ab", &[2, 1]).is_err());
        assert!(split_texts(&[0xff], &[0, 1]).unwrap_err().message.contains("text 0"));
        assert_eq!(split_texts(b"", &[0]).unwrap().len(), 0);
    }
}
