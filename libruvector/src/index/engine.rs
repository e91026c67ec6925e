//! The search engines behind each variant. Quantized variants are the upstream
//! `ruvector-rabitq` types, fed row positions as ids; the exact variant scans
//! our own contiguous rows (upstream's `FlatF32Index` keeps rows private); the
//! IVF variant is our own engine (`super::ivf`).

use rayon::prelude::*;
use ruvector_rabitq::{AnnIndex, RabitqAsymIndex, RabitqIndex, RabitqPlusIndex};

use super::ivf::{self, IvfParams, IvfRabitqIndex};
use super::rows::Rows;
use super::{Kind, Params, SearchParams};
use crate::error::{Error, Result};
use crate::kernels;
use crate::runtime::Reporter;

pub enum Engine {
    Flat(Rows),
    Rabitq(RabitqIndex),
    Plus(RabitqPlusIndex),
    /// Upstream's asymmetric index exposes neither codes nor originals, so the
    /// rows are kept beside it for `get`, iteration and persistence.
    Asym(RabitqAsymIndex, Rows),
    Ivf(IvfRabitqIndex),
    /// An IVF index created empty: its first rows train the lists.
    IvfUntrained(IvfParams),
}

impl Engine {
    pub fn new(p: &Params) -> Self {
        let (d, seed, rf) = (p.stored_dim(), p.seed, p.rerank_factor);
        match p.kind {
            Kind::Flat => Engine::Flat(Rows::new(d)),
            Kind::Rabitq => Engine::Rabitq(RabitqIndex::new(d, seed)),
            Kind::Plus => Engine::Plus(RabitqPlusIndex::new(d, seed, rf)),
            Kind::Asym => Engine::Asym(RabitqAsymIndex::new(d, seed, rf), Rows::new(d)),
            Kind::Ivf => Engine::IvfUntrained(p.ivf_params()),
        }
    }

    /// Builds an engine over `rows` (prepared, `stored_dim` wide) at positions
    /// 0..n, reporting n units per stage (see [`build_stages`]) to a running job.
    pub fn build(p: &Params, rows: Vec<f32>) -> Result<Self> {
        let d = p.stored_dim();
        let n = (rows.len() / d.max(1)) as u64;
        if let Kind::Plus = p.kind {
            let items: Vec<(usize, Vec<f32>)> =
                rows.par_chunks_exact(d).enumerate().map(|(i, r)| (i, r.to_vec())).collect();
            drop(rows);
            let idx = RabitqPlusIndex::from_vectors_parallel(d, p.seed, p.rerank_factor, items)?;
            Reporter::current().advance(n);
            return Ok(Engine::Plus(idx));
        }
        if let Kind::Ivf = p.kind {
            return Ok(Engine::Ivf(IvfRabitqIndex::build_prepared(&p.ivf_params(), &rows)?));
        }
        let mut engine = Engine::new(p);
        engine.append(0, &rows)?;
        Reporter::current().advance(n);
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
            Engine::Ivf(i) => i.append_prepared_here(rows)?,
            Engine::IvfUntrained(_) if rows.is_empty() => {}
            Engine::IvfUntrained(p) => *self = Engine::Ivf(train_here(p, rows)?),
        }
        Ok(())
    }

    /// `p` with what this engine settled at build (IVF: nlist, nprobe, calibration).
    pub fn resolve(&self, mut p: Params) -> Params {
        if let Engine::Ivf(i) = self {
            p.ivf = i.params().options();
        }
        p
    }

    /// The IVF engine, when this is one that holds rows.
    pub fn ivf(&self) -> Option<&IvfRabitqIndex> {
        match self {
            Engine::Ivf(i) => Some(i),
            _ => None,
        }
    }

    pub fn dim(&self) -> usize {
        match self {
            Engine::Flat(r) => r.dim(),
            Engine::Rabitq(i) => i.dim(),
            Engine::Plus(i) => i.dim(),
            Engine::Asym(i, _) => i.dim(),
            Engine::Ivf(i) => i.params().dim,
            Engine::IvfUntrained(p) => p.dim,
        }
    }

    /// Top-k (position, squared L2) pairs, best first. `k` is at least 1;
    /// `sp` overrides the search defaults its variant has.
    pub fn search(&self, query: &[f32], k: usize, sp: &SearchParams) -> Result<Vec<(u32, f32)>> {
        if let Engine::Ivf(i) = self {
            if sp.rerank_factor.is_some() {
                return Err(Error::invalid("IvfRabitqIndex takes rerank (candidates reranked from its store), not rerankFactor"));
            }
            return i.search_positions(kernels::active(), query, k, ivf::SearchOptions { nprobe: sp.nprobe, rerank: sp.rerank });
        }
        if sp.nprobe.is_some() || sp.rerank.is_some() {
            return Err(Error::invalid("nprobe and rerank are IvfRabitqIndex search options"));
        }
        let hits = match (self, sp.rerank_factor) {
            (Engine::Flat(r), None) => return Ok(r.scan(query, k)),
            (Engine::Rabitq(i), None) => i.search(query, k)?,
            (Engine::Plus(i), None) => i.search(query, k)?,
            (Engine::Plus(i), Some(rf)) => i.search_with_rerank(query, k, rf)?,
            (Engine::Asym(i, _), None) => i.search(query, k)?,
            (Engine::IvfUntrained(_) | Engine::Ivf(_), _) => return Ok(Vec::new()),
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
            Engine::Ivf(i) => i.memory_bytes(),
            Engine::IvfUntrained(_) => 0,
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
            Engine::Ivf(i) => i.stored_rows(0..i.len()).map(|flat| Rows::from_flat(d, flat)),
            Engine::IvfUntrained(p) => (p.store != ivf::StoreKind::None).then(|| Rows::new(d)),
            Engine::Rabitq(_) => None,
        }
    }

    /// One stored row, or `None` for the codes-only variant.
    pub fn row(&self, pos: usize) -> Option<Vec<f32>> {
        match self {
            Engine::Flat(r) | Engine::Asym(_, r) => Some(r.row(pos).to_vec()),
            Engine::Plus(i) => i.export_items().into_iter().nth(pos).map(|(_, v)| v),
            Engine::Ivf(i) => i.stored_rows(pos..pos + 1),
            Engine::Rabitq(_) | Engine::IvfUntrained(_) => None,
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
        match (self, other) {
            (Engine::Ivf(a), Engine::Ivf(b)) => return a == b,
            (Engine::IvfUntrained(a), Engine::IvfUntrained(b)) => return a == b,
            (Engine::Ivf(_) | Engine::IvfUntrained(_), _) | (_, Engine::Ivf(_) | Engine::IvfUntrained(_)) => return false,
            _ => {}
        }
        match (self.codes(), other.codes()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.rows() == other.rows(),
            _ => false,
        }
    }
}

/// Stages of n work units each that [`Engine::build`] reports.
pub fn build_stages(p: &Params) -> u64 {
    match p.kind {
        Kind::Ivf => ivf::build_stages(&p.ivf_params()),
        _ => 1,
    }
}

/// Trains an IVF engine on its first rows on a private one-thread pool: a
/// writer on the host thread must not wait on a pool that jobs keep busy.
fn train_here(p: &IvfParams, rows: &[f32]) -> Result<IvfRabitqIndex> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| Error::invalid(format!("cannot start a thread to train the lists: {e}")))?;
    pool.install(|| IvfRabitqIndex::build_prepared(p, rows))
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
