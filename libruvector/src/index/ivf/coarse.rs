//! Choosing the nearest lists without reading every f32 centroid. Past a
//! cache-sized centroid table (high dimension or many lists) the f32 scan of
//! all nlist centroids is the dominant cost of a query, bound by memory
//! bandwidth. So each centroid also keeps an 8-bit code (a quarter of the
//! bytes) whose distance to the i16-quantised query comes from the exact
//! integer kernel, with a rigorous interval around the true distance (the two
//! quantisation errors by the triangle inequality, plus the f32 kernel's
//! rounding). Only centroids whose lower bound does not exceed the nprobe-th
//! smallest upper bound can be among the nprobe nearest; their exact f32
//! distances are then computed as before, so the lists probed, their order
//! and their ‖q′ − c′‖² are exactly those of the full scan.

use crate::kernels::{excode, Kernels};

/// f32 centroid tables up to this size stay in a core's cache, where the full
/// scan costs less than the coded pass plus the exact distances it keeps.
const FROM_BYTES: usize = 1 << 20;
/// The coded pass pays off while the nprobe nearest are at most this part of the lists.
const MAX_PROBE_SHARE: usize = 4;
/// Bits per code component: whole bytes, packed as `excode` lays out every code the kernel reads.
const CODE_BITS: u32 = 8;
/// Codes are stored as u8 = w + OFFSET for w in −127..=127 (the kernel multiplies u8 codes).
const OFFSET: i64 = 128;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Coarse {
    dp: usize,
    /// nlist packed codes of dp components; centroid j's component i ≈ scale[j]·(code − OFFSET).
    codes: Vec<u8>,
    scale: Vec<f64>,
    /// ‖w_j‖² of the signed codes (exact).
    code_sq: Vec<f64>,
    /// ‖c_j − ĉ_j‖ (quantisation error) and ‖ĉ_j‖.
    err: Vec<f64>,
    norm: Vec<f64>,
}

impl Coarse {
    /// Codes for `centroids` (nlist × dp), or none when the f32 table is cache-sized.
    pub fn new(centroids: &[f32], dp: usize) -> Self {
        let mut coarse = Coarse { dp, ..Default::default() };
        if centroids.len() * 4 <= FROM_BYTES {
            return coarse;
        }
        for c in centroids.chunks_exact(dp) {
            let peak = c.iter().fold(0f64, |a, &v| a.max((v as f64).abs()));
            let scale = peak / 127.0;
            let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
            let (mut sq, mut err) = (0f64, 0f64);
            let mut code = Vec::with_capacity(dp);
            for &v in c {
                let w = (v as f64 * inv).round().clamp(-127.0, 127.0);
                code.push((w as i64 + OFFSET) as u8);
                sq += w * w;
                err += (v as f64 - scale * w).powi(2);
            }
            excode::pack(&code, CODE_BITS, &mut coarse.codes);
            coarse.scale.push(scale);
            coarse.code_sq.push(sq);
            coarse.err.push(err.sqrt());
            coarse.norm.push(scale * sq.sqrt());
        }
        coarse
    }

    /// Reads the codes and their bounds once per cache line (see `IvfRabitqIndex::warm_caches`).
    pub fn warm_caches(&self) {
        super::touch(&self.codes);
        for v in [&self.scale, &self.code_sq, &self.err, &self.norm] {
            super::touch(v);
        }
    }

    pub fn memory_bytes(&self) -> usize {
        self.codes.capacity() + 8 * (self.scale.capacity() + self.code_sq.capacity() + self.err.capacity() + self.norm.capacity())
    }

    /// Ids of the lists that can be among the `nprobe` nearest to `qr`
    /// (ascending; a superset of the nearest), or `None` when every list
    /// should be measured exactly instead.
    pub fn candidates(&self, kern: &Kernels, qr: &[f32], nprobe: usize) -> Option<Vec<u32>> {
        let nlist = self.scale.len();
        if nlist == 0 || nprobe * MAX_PROBE_SHARE > nlist {
            return None;
        }
        let q = QuantQuery::new(qr);
        // The f32 kernel's rounding, relative to the distance: 16 lanes of
        // dp/16 non-negative terms, a 4-level tree and the sub and mul of each
        // term, each at most ½ ulp; twice that for margin.
        let slack = (self.dp as f64 / 16.0 + 8.0) * f32::EPSILON as f64;
        let mut bounds: Vec<(f64, f64)> = Vec::with_capacity(nlist);
        for (j, code) in self.codes.chunks_exact(excode::packed_bytes(self.dp, CODE_BITS)).enumerate() {
            let ip = ((kern.ex_ip)(code, &q.v, CODE_BITS) - OFFSET * q.v_sum) as f64;
            let s = self.scale[j];
            let d = q.scale * q.scale * q.v_sq - 2.0 * q.scale * s * ip + s * s * self.code_sq[j];
            // f64 cancellation in d costs at most ~1e-15·(‖q̂‖ + ‖ĉ‖)²; 1e-6 covers its square root.
            let pad = q.err + self.err[j] + 1e-6 * (q.norm + self.norm[j]);
            let r = d.max(0.0).sqrt();
            bounds.push(((r - pad).max(0.0).powi(2) * (1.0 - slack), (r + pad).powi(2) * (1.0 + slack)));
        }
        let mut uppers: Vec<f64> = bounds.iter().map(|b| b.1).collect();
        let (_, &mut tau, _) = uppers.select_nth_unstable_by(nprobe - 1, f64::total_cmp);
        // Beyond f32's range the f32 distances saturate and the interval no longer holds.
        if tau >= f32::MAX as f64 {
            return None;
        }
        Some((0..nlist as u32).filter(|&j| bounds[j as usize].0 <= tau).collect())
    }
}

/// q′ scaled to i16, with what the interval needs.
struct QuantQuery {
    v: Vec<i16>,
    v_sum: i64,
    v_sq: f64,
    /// q′ᵢ ≈ scale·vᵢ; ‖q′ − q̂‖ and ‖q̂‖.
    scale: f64,
    err: f64,
    norm: f64,
}

impl QuantQuery {
    fn new(qr: &[f32]) -> Self {
        let peak = qr.iter().fold(0f64, |a, &v| a.max((v as f64).abs()));
        let scale = peak / 32767.0;
        let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
        let v: Vec<i16> = qr.iter().map(|&x| (x as f64 * inv).round().clamp(-32767.0, 32767.0) as i16).collect();
        let v_sum = v.iter().map(|&x| x as i64).sum();
        let v_sq = v.iter().map(|&x| (x as i64 * x as i64) as f64).sum::<f64>();
        let err = qr.iter().zip(&v).map(|(&x, &w)| (x as f64 - scale * w as f64).powi(2)).sum::<f64>().sqrt();
        Self { v, v_sum, v_sq, scale, err, norm: scale * v_sq.sqrt() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::ivf::rotation::SplitMix;
    use crate::kernels::{available, SCALAR};

    fn table(nlist: usize, dp: usize, seed: u64) -> Vec<f32> {
        let mut rng = SplitMix(seed);
        (0..nlist * dp).map(|i| rng.gaussian() as f32 * (1.0 + (i / dp % 7) as f32)).collect()
    }

    #[test]
    fn keeps_every_list_the_exact_scan_would_pick() {
        let (nlist, dp) = (512, 640);
        let centroids = table(nlist, dp, 3);
        let coarse = Coarse::new(&centroids, dp);
        assert_eq!(coarse.scale.len(), nlist, "a table past the cache size is coded");
        let mut rng = SplitMix(9);
        for trial in 0..20 {
            // Queries near a centroid (the hard case: many close distances) and far from all.
            let near = trial % nlist;
            let q: Vec<f32> = (0..dp).map(|i| centroids[near * dp + i] + rng.gaussian() as f32 * 0.3 * (trial % 3) as f32).collect();
            for nprobe in [1, 8, 64, 128] {
                let mut exact: Vec<(f32, u32)> = centroids.chunks_exact(dp).map(|c| (SCALAR.sq_l2)(&q, c)).zip(0..).collect();
                exact.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                for kern in available() {
                    let kept = coarse.candidates(kern, &q, nprobe).expect("coded pass");
                    assert!(kept.len() >= nprobe && kept.len() < nlist, "nprobe {nprobe}: kept {} of {nlist}", kept.len());
                    for (_, id) in &exact[..nprobe] {
                        assert!(kept.binary_search(id).is_ok(), "{}: nprobe {nprobe} lost list {id}", kern.name);
                    }
                    assert_eq!(kept, coarse.candidates(&SCALAR, &q, nprobe).unwrap(), "{} differs from scalar", kern.name);
                }
            }
        }
    }

    #[test]
    fn an_index_probes_the_lists_of_the_full_scan_in_the_same_order_with_the_same_distances() {
        use crate::index::ivf::{sort_nearest, IvfOptions, IvfParams, IvfRabitqIndex};
        use crate::index::Metric;
        // 256 lists × 1,152 padded components: past the cache-sized table, so the coded pass runs.
        let (n, dim) = (300, 1100);
        let rows = table(n, dim, 5);
        let p = IvfParams::new(dim, Metric::L2);
        let index = IvfRabitqIndex::build(&IvfParams { options: IvfOptions { nlist: 256, ..p.options }, ..p }, &rows).unwrap();
        let mut pruned = false;
        for kern in available() {
            for row in rows.chunks_exact(dim).step_by(37) {
                let (qr, _) = index.rotated_query(kern, row);
                let mut full = index.centroid_distances(kern, &qr, None);
                sort_nearest(&mut full, usize::MAX);
                for nprobe in [1, 4, 16, 64] {
                    let got = index.nearest_lists(kern, &qr, nprobe);
                    pruned |= got.len() < index.nlist();
                    let bits = |v: &[(f32, u32)]| v.iter().map(|(d, j)| (d.to_bits(), *j)).collect::<Vec<_>>();
                    assert_eq!(bits(&got[..nprobe]), bits(&full[..nprobe]), "{}: nprobe {nprobe}", kern.name);
                }
            }
        }
        assert!(pruned, "the coded pass never skipped a centroid");
    }

    #[test]
    fn small_tables_and_wide_probes_use_the_full_scan() {
        let small = Coarse::new(&table(64, 128, 1), 128);
        assert_eq!(small.memory_bytes(), 0);
        assert!(small.candidates(&SCALAR, &[0.0; 128], 4).is_none());
        let big = Coarse::new(&table(512, 640, 1), 640);
        assert!(big.candidates(&SCALAR, &vec![1.0; 640], 128).is_some());
        assert!(big.candidates(&SCALAR, &vec![1.0; 640], 129).is_none(), "more than a quarter of the lists");
    }
}
