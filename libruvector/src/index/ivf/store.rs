//! The optional exact store: prepared rows (unit-normalised under cosine, not
//! rotated, not padded) in insertion order, as f16 or f32, for a short exact
//! rerank of the best code estimates.

use half::f16;
use half::slice::{HalfBitsSliceExt, HalfFloatSliceExt};

use super::slab::Slab;
use crate::error::{Error, Result};
use crate::kernels::Kernels;

#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    None = 0,
    F16 = 1,
    F32 = 2,
}

impl StoreKind {
    pub fn from_u32(v: u32) -> Result<Self> {
        [StoreKind::None, StoreKind::F16, StoreKind::F32]
            .into_iter()
            .find(|k| *k as u32 == v)
            .ok_or_else(|| Error::invalid(format!("unknown store kind {v} (0 = none, 1 = f16, 2 = f32)")))
    }
    pub fn bytes_per_value(self) -> usize {
        self as usize * 2
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Store {
    None,
    F16(Slab<u16>),
    F32(Slab<f32>),
}

impl Store {
    pub fn new(kind: StoreKind) -> Self {
        match kind {
            StoreKind::None => Store::None,
            StoreKind::F16 => Store::F16(Slab::default()),
            StoreKind::F32 => Store::F32(Slab::default()),
        }
    }

    pub fn kind(&self) -> StoreKind {
        match self {
            Store::None => StoreKind::None,
            Store::F16(_) => StoreKind::F16,
            Store::F32(_) => StoreKind::F32,
        }
    }

    pub fn extend(&mut self, rows: &[f32]) {
        match self {
            Store::None => {}
            Store::F16(v) => {
                let mut narrow = vec![f16::ZERO; rows.len()];
                narrow.convert_from_f32_slice(rows);
                v.to_mut().extend(narrow.iter().map(|h| h.to_bits()));
            }
            Store::F32(v) => v.to_mut().extend_from_slice(rows),
        }
    }

    /// Exact squared L2 between `q` and row `pos` (canonical kernel order).
    pub fn sq_l2(&self, kern: &Kernels, q: &[f32], pos: usize, buf: &mut Vec<f32>) -> Option<f32> {
        let d = q.len();
        match self {
            Store::None => None,
            Store::F32(v) => Some((kern.sq_l2)(q, &v[pos * d..(pos + 1) * d])),
            Store::F16(v) => {
                buf.resize(d, 0.0);
                widen(&v[pos * d..(pos + 1) * d], buf);
                Some((kern.sq_l2)(q, buf))
            }
        }
    }

    /// Rows `range` (in insertion order) as f32, or `None` without a store.
    pub fn rows(&self, dim: usize, range: std::ops::Range<usize>) -> Option<Vec<f32>> {
        let values = range.start * dim..range.end * dim;
        match self {
            Store::None => None,
            Store::F32(v) => Some(v[values].to_vec()),
            Store::F16(v) => {
                let mut out = vec![0f32; values.len()];
                widen(&v[values], &mut out);
                Some(out)
            }
        }
    }

    /// The rows `keep` accepts (by position), in order.
    pub fn retained(&self, dim: usize, keep: impl Fn(usize) -> bool) -> Store {
        fn rows<T: Copy>(v: &[T], dim: usize, keep: impl Fn(usize) -> bool) -> Vec<T> {
            let mut kept: Vec<T> = v.chunks_exact(dim).enumerate().filter(|(p, _)| keep(*p)).flat_map(|(_, r)| r).copied().collect();
            kept.shrink_to_fit();
            kept
        }
        match self {
            Store::None => Store::None,
            Store::F16(v) => Store::F16(rows(v, dim, keep).into()),
            Store::F32(v) => Store::F32(rows(v, dim, keep).into()),
        }
    }

    /// The stored values as little-endian bytes.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        match self {
            Store::None => Vec::new(),
            Store::F16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Store::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    /// Reads the store once per cache line (see `IvfRabitqIndex::warm_caches`).
    pub fn warm_caches(&self) {
        match self {
            Store::None => {}
            Store::F16(v) => super::touch(v),
            Store::F32(v) => super::touch(v),
        }
    }

    /// Heap bytes (a mapped store counts in `mapped_bytes`).
    pub fn memory_bytes(&self) -> usize {
        match self {
            Store::None => 0,
            Store::F16(v) => v.owned_bytes(),
            Store::F32(v) => v.owned_bytes(),
        }
    }

    pub fn mapped_bytes(&self) -> usize {
        match self {
            Store::None => 0,
            Store::F16(v) => v.mapped_bytes(),
            Store::F32(v) => v.mapped_bytes(),
        }
    }
}

/// f16 bits to f32, exactly (the conversion is lossless), with the CPU's
/// vector conversion where it has one: the store's rerank reads whole rows.
fn widen(bits: &[u16], out: &mut [f32]) {
    bits.reinterpret_cast::<f16>().convert_to_f32_slice(out);
}
