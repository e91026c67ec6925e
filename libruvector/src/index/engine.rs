//! The search engines behind each variant. Quantized variants are the upstream
//! `ruvector-rabitq` types, fed row positions as ids; the exact variant scans
//! our own contiguous rows (upstream's `FlatF32Index` keeps rows private); the
//! IVF variant is our own engine (`super::ivf`).
//! Upstream's Plus and asymmetric indexes lend no view of their originals
//! (`export_items` copies every row), so those variants keep the rows beside
//! them: `get` reads one row and saves stream rows without a copy.

use std::borrow::Cow;

use rayon::prelude::*;
use ruvector_rabitq::{AnnIndex, RabitqAsymIndex, RabitqIndex, RabitqPlusIndex};

use super::ivf::{self, IvfParams, IvfRabitqIndex};
use super::rows::Rows;
use super::rowset::{admits, RowSet};
use super::{Kind, Params, SearchParams};
use crate::error::{Error, Result};
use crate::kernels;
use crate::runtime::Reporter;

pub enum Engine {
    Flat(Rows),
    Rabitq(RabitqIndex),
    Plus(RabitqPlusIndex, Rows),
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
            Kind::Plus => Engine::Plus(RabitqPlusIndex::new(d, seed, rf), Rows::new(d)),
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
            let idx = RabitqPlusIndex::from_vectors_parallel(d, p.seed, p.rerank_factor, items)?;
            Reporter::current().advance(n);
            return Ok(Engine::Plus(idx, Rows::from_flat(d, rows)));
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
            Engine::Plus(i, r) => {
                add_each(i, first, rows, d)?;
                r.extend(rows);
            }
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
            Engine::Plus(i, _) => i.dim(),
            Engine::Asym(i, _) => i.dim(),
            Engine::Ivf(i) => i.params().dim,
            Engine::IvfUntrained(p) => p.dim,
        }
    }

    /// Top-k (position, squared L2) pairs, best first, among the rows `skip`
    /// admits. `k` is at least 1; `sp` overrides the search defaults its
    /// variant has. Our own engines skip rows during their scan; upstream's
    /// are asked for more hits until k admitted ones come back.
    pub fn search(&self, query: &[f32], k: usize, sp: &SearchParams, skip: Option<&RowSet>) -> Result<Vec<(u32, f32)>> {
        self.check_overrides(sp)?;
        if let Engine::Ivf(i) = self {
            return i.search_positions(kernels::active(), query, k, ivf::SearchOptions { nprobe: sp.nprobe, rerank: sp.rerank }, skip);
        }
        if let Engine::Flat(r) = self {
            return Ok(r.scan(query, k, skip));
        }
        let Some(skip) = skip else { return self.search_upstream(query, k, sp) };
        let slots = self.slots();
        let live = slots - skip.len();
        let want = k.min(live);
        // Ask for enough that, at the live fraction, about twice k admitted
        // rows come back; double until they do (at most every slot).
        let mut fetch = (want * slots).div_ceil(live.max(1)) * 2 + 8;
        loop {
            fetch = fetch.min(slots);
            let hits = self.search_upstream(query, fetch, sp)?;
            let admitted: Vec<(u32, f32)> = hits.into_iter().filter(|h| admits(Some(skip), h.0)).take(want).collect();
            if admitted.len() == want || fetch == slots {
                return Ok(admitted);
            }
            fetch *= 2;
        }
    }

    /// Top-k over only the rows `skip` admits, scanning just those: exact
    /// where the variant keeps vectors, IVF's code estimate where it keeps
    /// codes only; `None` for the upstream codes-only variant.
    pub fn search_among(&self, query: &[f32], k: usize, skip: &RowSet) -> Option<Vec<(u32, f32)>> {
        match self {
            Engine::Flat(r) | Engine::Plus(_, r) | Engine::Asym(_, r) => Some(r.scan_at(query, k, skip.complement(r.len()))),
            Engine::Ivf(i) => Some(i.search_among(kernels::active(), query, k, skip)),
            Engine::Rabitq(_) | Engine::IvfUntrained(_) => None,
        }
    }

    /// Checks that `sp` overrides only what this variant has.
    pub fn check_overrides(&self, sp: &SearchParams) -> Result<()> {
        let ivf = matches!(self, Engine::Ivf(_) | Engine::IvfUntrained(_));
        if ivf && sp.rerank_factor.is_some() {
            return Err(Error::invalid("IvfRabitqIndex takes rerank (candidates reranked from its store), not rerankFactor"));
        }
        if !ivf && (sp.nprobe.is_some() || sp.rerank.is_some()) {
            return Err(Error::invalid("nprobe and rerank are IvfRabitqIndex search options"));
        }
        if sp.rerank_factor.is_some() && !matches!(self, Engine::Plus(..)) {
            return Err(Error::invalid("a per-search rerankFactor is supported by RabitqPlusIndex only"));
        }
        Ok(())
    }

    fn search_upstream(&self, query: &[f32], k: usize, sp: &SearchParams) -> Result<Vec<(u32, f32)>> {
        let hits = match (self, sp.rerank_factor) {
            (Engine::Rabitq(i), None) => i.search(query, k)?,
            (Engine::Plus(i, _), None) => i.search(query, k)?,
            (Engine::Plus(i, _), Some(rf)) => i.search_with_rerank(query, k, rf)?,
            (Engine::Asym(i, _), None) => i.search(query, k)?,
            (Engine::IvfUntrained(_) | Engine::Ivf(_) | Engine::Flat(_), _) => return Ok(Vec::new()),
            (_, Some(_)) => return Err(Error::invalid("a per-search rerankFactor is supported by RabitqPlusIndex only")),
        };
        Ok(hits.into_iter().map(|h| (h.id as u32, h.score)).collect())
    }

    /// Rows held, removed ones included.
    pub fn slots(&self) -> usize {
        match self {
            Engine::Flat(r) | Engine::Plus(_, r) | Engine::Asym(_, r) => r.len(),
            Engine::Rabitq(i) => i.norms().len(),
            Engine::Ivf(i) => i.len(),
            Engine::IvfUntrained(_) => 0,
        }
    }

    /// This engine without the rows in `drop`; the rest are renumbered 0.. in
    /// order. Runs on the calling thread.
    pub fn without(&self, p: &Params, drop: &RowSet) -> Result<Engine> {
        match self {
            Engine::Flat(r) => Ok(Engine::Flat(r.without(drop))),
            Engine::Ivf(i) => Ok(Engine::Ivf(i.without(drop))),
            Engine::IvfUntrained(_) => Ok(Engine::new(p)),
            Engine::Rabitq(i) => {
                let (d, words) = (i.dim(), i.n_words());
                let keep = |pos: usize| !drop.contains(pos as u32);
                let packed: Vec<u64> = i.packed().chunks_exact(words).enumerate().filter(|(p, _)| keep(*p)).flat_map(|(_, c)| c).copied().collect();
                let norms: Vec<f32> = i.norms().iter().enumerate().filter(|(p, _)| keep(*p)).map(|(_, n)| *n).collect();
                Ok(Engine::Rabitq(on_one_thread("rebuild the codes", || super::codes::rebuild(d, p.seed, &packed, &norms))?))
            }
            Engine::Plus(..) | Engine::Asym(..) => {
                let rows = self.rows().expect("these variants keep rows").without(drop);
                let mut engine = Engine::new(p);
                engine.append(0, rows.as_flat())?;
                Ok(engine)
            }
        }
    }

    /// Bytes of a mapped file read in place (IVF loaded with `mmap`).
    pub fn mapped_bytes(&self) -> usize {
        match self {
            Engine::Ivf(i) => i.mapped_bytes(),
            _ => 0,
        }
    }

    pub fn memory_bytes(&self) -> usize {
        match self {
            Engine::Flat(r) => r.memory_bytes(),
            Engine::Rabitq(i) => i.memory_bytes(),
            Engine::Plus(i, r) => i.memory_bytes() + r.memory_bytes(),
            Engine::Asym(i, r) => i.memory_bytes() + r.memory_bytes(),
            Engine::Ivf(i) => i.memory_bytes(),
            Engine::IvfUntrained(_) => 0,
        }
    }

    /// All stored rows in position order, or `None` for the codes-only
    /// variants; borrowed except from an IVF store (decoded from f16 or copied).
    pub fn rows(&self) -> Option<Cow<'_, Rows>> {
        let d = self.dim();
        match self {
            Engine::Flat(r) | Engine::Plus(_, r) | Engine::Asym(_, r) => Some(Cow::Borrowed(r)),
            Engine::Ivf(i) => i.stored_rows(0..i.len()).map(|flat| Cow::Owned(Rows::from_flat(d, flat))),
            Engine::IvfUntrained(p) => (p.options.store != ivf::StoreKind::None).then(|| Cow::Owned(Rows::new(d))),
            Engine::Rabitq(_) => None,
        }
    }

    /// One stored row, or `None` for the codes-only variants.
    pub fn row(&self, pos: usize) -> Option<Cow<'_, [f32]>> {
        match self {
            Engine::Flat(r) | Engine::Plus(_, r) | Engine::Asym(_, r) => Some(Cow::Borrowed(r.row(pos))),
            Engine::Ivf(i) => i.stored_rows(pos..pos + 1).map(Cow::Owned),
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
    on_one_thread("train the lists", || IvfRabitqIndex::build_prepared(p, rows))
}

/// Runs `work` on a private one-thread pool: a writer on the host thread must
/// not wait on a pool that jobs keep busy.
fn on_one_thread<T: Send>(what: &str, work: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| Error::invalid(format!("cannot start a thread to {what}: {e}")))?;
    pool.install(work)
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
        let p = Params::new(Kind::Plus, d, 3, 4, Metric::L2, false);
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
            let p = Params::new(kind, 4, 1, 2, Metric::L2, false);
            let engine = Engine::build(&p, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
            assert_eq!(engine.row(0).is_some(), kind != Kind::Rabitq, "{}", kind.name());
        }
    }
}
