//! Contiguous row-major storage of f32 vectors, and the exact squared-L2 scan.
//!
//! Exact scores come from the canonical 16-lane kernel (`crate::kernels`):
//! identical on every CPU, and within about 1 ulp per term of upstream
//! `ruvector-rabitq`'s sequential sum (the two orders round differently), so
//! scores may differ from upstream's in the last bit or two while ids and
//! their order agree except between rows whose distances tie to that precision.

use super::rowset::{admits, RowSet};
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

    pub fn len(&self) -> usize {
        self.data.len() / self.dim.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
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

    /// These rows without the positions in `drop`, in order.
    pub fn without(&self, drop: &RowSet) -> Rows {
        let kept = self.data.chunks_exact(self.dim).enumerate().filter(|(p, _)| !drop.contains(*p as u32));
        let mut data: Vec<f32> = kept.flat_map(|(_, r)| r).copied().collect();
        data.shrink_to_fit();
        Rows { dim: self.dim, data }
    }

    /// Exact top-k by squared L2, ties broken by lower position, over the rows
    /// `skip` admits. Four rows are in flight per kernel call; only an admitted
    /// row that beats the current k-th best reaches the heap.
    pub fn scan(&self, query: &[f32], k: usize, skip: Option<&RowSet>) -> Vec<(u32, f32)> {
        let kern = kernels::active();
        let mut top = TopK::new(k);
        let d = self.dim;
        let quads = self.data.chunks_exact(4 * d);
        let tail = quads.remainder();
        for (i, quad) in quads.enumerate() {
            let rows = [&quad[..d], &quad[d..2 * d], &quad[2 * d..3 * d], &quad[3 * d..]];
            for (j, score) in (kern.sq_l2_x4)(query, rows).into_iter().enumerate() {
                let pos = 4 * i as u32 + j as u32;
                if admits(skip, pos) {
                    top.offer(pos, score);
                }
            }
        }
        let first = (self.data.len() - tail.len()) / d;
        for (j, row) in tail.chunks_exact(d).enumerate() {
            let pos = (first + j) as u32;
            if admits(skip, pos) {
                top.offer(pos, (kern.sq_l2)(query, row));
            }
        }
        top.into_sorted()
    }

    /// Exact top-k by squared L2 over the rows at `positions` only (ties →
    /// lower position): the scan of a selective filter.
    /// Four rows are in flight per kernel call, as in [`Rows::scan`].
    pub fn scan_at(&self, query: &[f32], k: usize, positions: impl Iterator<Item = u32>) -> Vec<(u32, f32)> {
        let kern = kernels::active();
        let mut top = TopK::new(k);
        let mut quad = [0u32; 4];
        let mut held = 0;
        for pos in positions {
            quad[held] = pos;
            held += 1;
            if held == 4 {
                let rows = quad.map(|p| self.row(p as usize));
                for (p, score) in quad.into_iter().zip((kern.sq_l2_x4)(query, rows)) {
                    top.offer(p, score);
                }
                held = 0;
            }
        }
        for &p in &quad[..held] {
            top.offer(p, (kern.sq_l2)(query, self.row(p as usize)));
        }
        top.into_sorted()
    }
}
