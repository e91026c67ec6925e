//! The search engines behind each variant. Quantized variants are the upstream
//! `ruvector-rabitq` types, fed row positions as ids; the exact variant scans
//! our own contiguous rows (upstream's `FlatF32Index` keeps rows private).
//! Upstream's Plus and asymmetric indexes lend no view of their originals
//! (`export_items` copies every row), so those variants keep the rows beside
//! them: `get` reads one row and saves stream rows without a copy.

use rayon::prelude::*;
use ruvector_rabitq::{AnnIndex, RabitqAsymIndex, RabitqIndex, RabitqPlusIndex};

use super::rows::Rows;
use super::{Kind, Params};
use crate::error::{Error, Result};

pub enum Engine {
    Flat(Rows),
    Rabitq(RabitqIndex),
    Plus(RabitqPlusIndex, Rows),
    Asym(RabitqAsymIndex, Rows),
}

impl Engine {
    pub fn new(p: &Params) -> Self {
        let (d, seed, rf) = (p.stored_dim(), p.seed, p.rerank_factor);
        match p.kind {
            Kind::Flat => Engine::Flat(Rows::new(d)),
            Kind::Rabitq => Engine::Rabitq(RabitqIndex::new(d, seed)),
            Kind::Plus => Engine::Plus(RabitqPlusIndex::new(d, seed, rf), Rows::new(d)),
            Kind::Asym => Engine::Asym(RabitqAsymIndex::new(d, seed, rf), Rows::new(d)),
        }
    }

    /// Builds an engine over `rows` (prepared, `stored_dim` wide) at positions 0..n.
    pub fn build(p: &Params, rows: Vec<f32>) -> Result<Self> {
        let d = p.stored_dim();
        if let Kind::Plus = p.kind {
            let items: Vec<(usize, Vec<f32>)> =
                rows.par_chunks_exact(d).enumerate().map(|(i, r)| (i, r.to_vec())).collect();
            let idx = RabitqPlusIndex::from_vectors_parallel(d, p.seed, p.rerank_factor, items)?;
            return Ok(Engine::Plus(idx, Rows::from_flat(d, rows)));
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
            Engine::Plus(i, r) => {
                add_each(i, first, rows, d)?;
                r.extend(rows);
            }
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
            Engine::Plus(i, _) => i.dim(),
            Engine::Asym(i, _) => i.dim(),
        }
    }

    /// Top-k (position, squared L2) pairs, best first. `k` is at least 1;
    /// `rerank` overrides the rerank factor for this call (Plus only).
    pub fn search(&self, query: &[f32], k: usize, rerank: Option<usize>) -> Result<Vec<(u32, f32)>> {
        let hits = match (self, rerank) {
            (Engine::Flat(r), None) => return Ok(r.scan(query, k)),
            (Engine::Rabitq(i), None) => i.search(query, k)?,
            (Engine::Plus(i, _), None) => i.search(query, k)?,
            (Engine::Plus(i, _), Some(rf)) => i.search_with_rerank(query, k, rf)?,
            (Engine::Asym(i, _), None) => i.search(query, k)?,
            (_, Some(_)) => return Err(Error::invalid("a per-search rerankFactor is supported by RabitqPlusIndex only")),
        };
        Ok(hits.into_iter().map(|h| (h.id as u32, h.score)).collect())
    }

    pub fn memory_bytes(&self) -> usize {
        match self {
            Engine::Flat(r) => r.memory_bytes(),
            Engine::Rabitq(i) => i.memory_bytes(),
            Engine::Plus(i, r) => i.memory_bytes() + r.memory_bytes(),
            Engine::Asym(i, r) => i.memory_bytes() + r.memory_bytes(),
        }
    }

    /// All stored rows in position order, or `None` for the codes-only variant.
    pub fn rows(&self) -> Option<&Rows> {
        match self {
            Engine::Flat(r) | Engine::Plus(_, r) | Engine::Asym(_, r) => Some(r),
            Engine::Rabitq(_) => None,
        }
    }

    /// One stored row, or `None` for the codes-only variant.
    pub fn row(&self, pos: usize) -> Option<&[f32]> {
        self.rows().map(|r| r.row(pos))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Metric;

    #[test]
    fn plus_rows_kept_beside_upstream_match_its_originals_after_build_and_append() {
        let d = 8;
        let p = Params { kind: Kind::Plus, dim: d, seed: 3, rerank_factor: 4, metric: Metric::L2, pad_to_word: false };
        let built: Vec<f32> = (0..5 * d).map(|i| i as f32 * 0.25 - 3.0).collect();
        let added: Vec<f32> = (0..2 * d).map(|i| 7.0 - i as f32 * 0.5).collect();
        let mut engine = Engine::build(&p, built.clone()).unwrap();
        engine.append(5, &added).unwrap();
        let Engine::Plus(upstream, _) = &engine else { panic!("not a Plus engine") };
        let theirs: Vec<f32> = upstream.export_items().into_iter().flat_map(|(_, v)| v).collect();
        assert_eq!(engine.rows().unwrap().as_flat(), &theirs[..]);
        assert_eq!(engine.row(6).unwrap(), &added[d..]);
        assert_eq!(engine.row(0).unwrap(), &built[..d]);
    }

    #[test]
    fn only_the_codes_variant_has_no_rows() {
        for kind in [Kind::Flat, Kind::Rabitq, Kind::Plus, Kind::Asym] {
            let p = Params { kind, dim: 4, seed: 1, rerank_factor: 2, metric: Metric::L2, pad_to_word: false };
            let engine = Engine::build(&p, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
            assert_eq!(engine.row(0).is_some(), kind != Kind::Rabitq, "{}", kind.name());
        }
    }
}
