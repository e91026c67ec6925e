//! Contiguous row-major storage of f32 vectors, and the exact squared-L2 scan.
//!
//! Exact scores come from the canonical 16-lane kernel (`crate::kernels`):
//! identical on every CPU, and within about 1 ulp per term of upstream
//! `ruvector-rabitq`'s sequential sum (the two orders round differently), so
//! scores may differ from upstream's in the last bit or two while ids and
//! their order agree except between rows whose distances tie to that precision.

use super::topk::TopK;
use crate::kernels;

#[derive(Clone, PartialEq)]
pub struct Rows {
    dim: usize,
    data: Vec<f32>,
}

impl Rows {
    pub fn new(dim: usize) -> Self {
        Self { dim, data: Vec::new() }
    }

    pub fn from_flat(dim: usize, data: Vec<f32>) -> Self {
        Self { dim, data }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn row(&self, pos: usize) -> &[f32] {
        &self.data[pos * self.dim..(pos + 1) * self.dim]
    }

    pub fn as_flat(&self) -> &[f32] {
        &self.data
    }

    pub fn extend(&mut self, flat: &[f32]) {
        self.data.extend_from_slice(flat);
    }

    pub fn memory_bytes(&self) -> usize {
        self.data.capacity() * 4 + 24
    }

    /// Exact top-k by squared L2, ties broken by lower position. Four rows
    /// are in flight per kernel call; only a row that beats the current k-th
    /// best reaches the heap.
    pub fn scan(&self, query: &[f32], k: usize) -> Vec<(u32, f32)> {
        let kern = kernels::active();
        let mut top = TopK::new(k);
        let d = self.dim;
        let quads = self.data.chunks_exact(4 * d);
        let tail = quads.remainder();
        for (i, quad) in quads.enumerate() {
            let rows = [&quad[..d], &quad[d..2 * d], &quad[2 * d..3 * d], &quad[3 * d..]];
            for (j, score) in (kern.sq_l2_x4)(query, rows).into_iter().enumerate() {
                top.offer(4 * i as u32 + j as u32, score);
            }
        }
        let first = (self.data.len() - tail.len()) / d;
        for (j, row) in tail.chunks_exact(d).enumerate() {
            top.offer((first + j) as u32, (kern.sq_l2)(query, row));
        }
        top.into_sorted()
    }
}
