//! The search engines behind each variant. Quantized variants are the upstream
//! `ruvector-rabitq` types, fed row positions as ids; the exact variant scans
//! our own contiguous rows (upstream's `FlatF32Index` keeps rows private).

use rayon::prelude::*;
use ruvector_rabitq::{AnnIndex, RabitqAsymIndex, RabitqIndex, RabitqPlusIndex};

use super::rows::Rows;
use super::{Kind, Params};
use crate::error::{Error, Result};

pub enum Engine {
    Flat(Rows),
    Rabitq(RabitqIndex),
    Plus(RabitqPlusIndex),
    /// Upstream's asymmetric index exposes neither codes nor originals, so the
    /// rows are kept beside it for `get`, iteration and persistence.
    Asym(RabitqAsymIndex, Rows),
}

impl Engine {
    pub fn new(p: &Params) -> Self {
        let (d, seed, rf) = (p.stored_dim(), p.seed, p.rerank_factor);
        match p.kind {
            Kind::Flat => Engine::Flat(Rows::new(d)),
            Kind::Rabitq => Engine::Rabitq(RabitqIndex::new(d, seed)),
            Kind::Plus => Engine::Plus(RabitqPlusIndex::new(d, seed, rf)),
            Kind::Asym => Engine::Asym(RabitqAsymIndex::new(d, seed, rf), Rows::new(d)),
        }
    }

    /// Builds an engine over `rows` (prepared, `stored_dim` wide) at positions 0..n.
    pub fn build(p: &Params, rows: Vec<f32>) -> Result<Self> {
        let d = p.stored_dim();
        if let Kind::Plus = p.kind {
            let items: Vec<(usize, Vec<f32>)> =
                rows.par_chunks_exact(d).enumerate().map(|(i, r)| (i, r.to_vec())).collect();
            drop(rows);
            let idx = RabitqPlusIndex::from_vectors_parallel(d, p.seed, p.rerank_factor, items)?;
            return Ok(Engine::Plus(idx));
        }
        let mut engine = Engine::new(p);
        engine.append(0, &rows)?;
        Ok(engine)
    }

    /// Appends prepared rows at positions `first..`.
    pub fn append(&mut self, first: usize, rows: &[f32]) -> Result<()> {
        let d = self.dim();
        match self {
            Engine::Flat(r) => r.extend(rows),
            Engine::Rabitq(i) => add_each(i, first, rows, d)?,
            Engine::Plus(i) => add_each(i, first, rows, d)?,
            Engine::Asym(i, r) => {
                add_each(i, first, rows, d)?;
                r.extend(rows);
            }
        }
        Ok(())
    }

    pub fn dim(&self) -> usize {
        match self {
            Engine::Flat(r) => r.dim(),
            Engine::Rabitq(i) => i.dim(),
            Engine::Plus(i) => i.dim(),
            Engine::Asym(i, _) => i.dim(),
        }
    }

    /// Top-k (position, squared L2) pairs, best first. `k` is at least 1;
    /// `rerank` overrides the rerank factor for this call (Plus only).
    pub fn search(&self, query: &[f32], k: usize, rerank: Option<usize>) -> Result<Vec<(u32, f32)>> {
        let hits = match (self, rerank) {
            (Engine::Flat(r), None) => return Ok(r.scan(query, k)),
            (Engine::Rabitq(i), None) => i.search(query, k)?,
            (Engine::Plus(i), None) => i.search(query, k)?,
            (Engine::Plus(i), Some(rf)) => i.search_with_rerank(query, k, rf)?,
            (Engine::Asym(i, _), None) => i.search(query, k)?,
            (_, Some(_)) => return Err(Error::invalid("a per-search rerankFactor is supported by RabitqPlusIndex only")),
        };
        Ok(hits.into_iter().map(|h| (h.id as u32, h.score)).collect())
    }

    pub fn memory_bytes(&self) -> usize {
        match self {
            Engine::Flat(r) => r.memory_bytes(),
            Engine::Rabitq(i) => i.memory_bytes(),
            Engine::Plus(i) => i.memory_bytes(),
            Engine::Asym(i, r) => i.memory_bytes() + r.memory_bytes(),
        }
    }

    /// All stored rows in position order, or `None` for the codes-only variant.
    pub fn rows(&self) -> Option<Rows> {
        let d = self.dim();
        match self {
            Engine::Flat(r) | Engine::Asym(_, r) => Some(r.clone()),
            Engine::Plus(i) => {
                let flat = i.export_items().into_iter().flat_map(|(_, v)| v).collect();
                Some(Rows::from_flat(d, flat))
            }
            Engine::Rabitq(_) => None,
        }
    }

    /// One stored row, or `None` for the codes-only variant.
    pub fn row(&self, pos: usize) -> Option<Vec<f32>> {
        match self {
            Engine::Flat(r) | Engine::Asym(_, r) => Some(r.row(pos).to_vec()),
            Engine::Plus(i) => i.export_items().into_iter().nth(pos).map(|(_, v)| v),
            Engine::Rabitq(_) => None,
        }
    }

    /// Binary codes and norms, for the variant that stores nothing else.
    pub fn codes(&self) -> Option<(&[u64], &[f32], usize)> {
        match self {
            Engine::Rabitq(i) => Some((i.packed(), i.norms(), i.n_words())),
            _ => None,
        }
    }

    pub fn same_content(&self, other: &Engine) -> bool {
        match (self.codes(), other.codes()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.rows() == other.rows(),
            _ => false,
        }
    }
}

fn add_each<I: AnnIndex>(idx: &mut I, first: usize, rows: &[f32], d: usize) -> Result<()> {
    if d == 0 {
        return Err(Error::invalid("dimension must be at least 1"));
    }
    for (i, row) in rows.chunks_exact(d).enumerate() {
        idx.add(first + i, row.to_vec())?;
    }
    Ok(())
}
