//! Input validation and the transform from caller vectors to stored rows:
//! finite values only, unit-normalised under cosine, zero-padded to the
//! stored width.

use rayon::prelude::*;

use super::{Metric, Params};
use crate::error::{Error, Result};

/// Rows in a flat buffer of `len` floats, or an error naming both numbers.
pub fn row_count(len: usize, dim: usize) -> Result<usize> {
    if !len.is_multiple_of(dim) {
        return Err(Error::invalid(format!(
            "vector data length {len} is not a multiple of dim {dim}"
        )));
    }
    Ok(len / dim)
}

/// Prepares n rows for storage.
pub fn rows(p: &Params, vectors: &[f32]) -> Result<Vec<f32>> {
    transform(p, vectors, "vector")
}

/// Prepares a single query, on the calling thread: through the pool it
/// would cost the first search the pool's start (~0.4 ms), and every search
/// the hand-off.
pub fn query(p: &Params, q: &[f32]) -> Result<Vec<f32>> {
    if q.len() != p.dim {
        return Err(Error::dim_mismatch(p.dim, q.len()));
    }
    transform_here(p, q, "query")
}

/// Prepares m queries.
pub fn queries(p: &Params, qs: &[f32]) -> Result<Vec<f32>> {
    transform(p, qs, "query")
}

/// Prepares n rows on the calling thread only: for callers that must not wait
/// on a pool that background jobs may keep busy.
pub fn rows_here(p: &Params, vectors: &[f32]) -> Result<Vec<f32>> {
    transform_here(p, vectors, "vector")
}

/// `transform` on the calling thread.
fn transform_here(p: &Params, input: &[f32], what: &str) -> Result<Vec<f32>> {
    let (d, sd) = (p.dim, p.stored_dim());
    let mut out = vec![0f32; input.len() / d * sd];
    out.chunks_mut(sd)
        .zip(input.chunks(d))
        .enumerate()
        .try_for_each(|(i, (dst, src))| prepare_one(p.metric, src, &mut dst[..d], what, i))?;
    Ok(out)
}

fn transform(p: &Params, input: &[f32], what: &str) -> Result<Vec<f32>> {
    let (d, sd) = (p.dim, p.stored_dim());
    let mut out = vec![0f32; input.len() / d * sd];
    out.par_chunks_mut(sd)
        .zip(input.par_chunks(d))
        .enumerate()
        .try_for_each(|(i, (dst, src))| prepare_one(p.metric, src, &mut dst[..d], what, i))?;
    Ok(out)
}

fn prepare_one(metric: Metric, src: &[f32], dst: &mut [f32], what: &str, row: usize) -> Result<()> {
    if let Some(j) = src.iter().position(|x| !x.is_finite()) {
        return Err(Error::invalid(format!("{what} {row} has a non-finite value ({}) at component {j}", src[j])));
    }
    dst.copy_from_slice(src);
    if metric == Metric::Cosine {
        let norm = src.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>().sqrt();
        if norm == 0.0 {
            return Err(Error::invalid(format!("{what} {row} is all zeros; cosine needs a non-zero vector")));
        }
        dst.iter_mut().for_each(|x| *x = (*x as f64 / norm) as f32);
    }
    Ok(())
}
