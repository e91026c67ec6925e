//! Contiguous row-major storage of f32 vectors, and the exact squared-L2 scan.

use super::topk::TopK;

#[derive(Clone, PartialEq)]
pub struct Rows {
    dim: usize,
    data: Vec<f32>,
}

/// Squared L2 distance, summed in index order exactly as upstream's `sq_l2`
/// so exact scores agree bit for bit with upstream's flat and rerank paths.
#[inline]
pub fn sq_l2(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b.iter()).map(|(&x, &y)| (x - y) * (x - y)).sum()
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

    /// Exact top-k by squared L2, ties broken by lower position.
    pub fn scan(&self, query: &[f32], k: usize) -> Vec<(u32, f32)> {
        let mut top = TopK::new(k);
        for (pos, row) in self.data.chunks_exact(self.dim).enumerate() {
            top.push(pos as u32, sq_l2(query, row));
        }
        top.into_sorted()
    }
}
