//! IvfRabitqIndex: recall against exact neighbours, determinism, persistence
//! validation and edge cases.

mod common;
use common::data;
use ruvector::error::Status;
use ruvector::index::ivf::{IvfParams, IvfRabitqIndex, SearchOptions, StoreKind};
use ruvector::index::Metric;
use ruvector::kernels;

/// `n × dim` points around 40 centres (spread 0.15 around centres in [-1, 1)).
fn clustered(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let centres = data(40, dim, 1000);
    let noise = data(n, dim, seed);
    (0..n * dim).map(|i| centres[(i / dim * 7 % 40) * dim + i % dim] + 0.15 * noise[i]).collect()
}

fn exact(base: &[f32], q: &[f32], dim: usize, k: usize) -> Vec<u32> {
    let mut d: Vec<(f64, u32)> = base
        .chunks_exact(dim)
        .enumerate()
        .map(|(i, r)| (r.iter().zip(q).map(|(a, b)| ((a - b) as f64).powi(2)).sum(), i as u32))
        .collect();
    d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    d.into_iter().take(k).map(|x| x.1).collect()
}

fn recall(idx: &IvfRabitqIndex, base: &[f32], queries: &[f32], dim: usize, opts: SearchOptions) -> f64 {
    let mut hit = 0;
    let nq = queries.len() / dim;
    for q in queries.chunks_exact(dim) {
        let truth = exact(base, q, dim, 10);
        let got = idx.search(q, 10, opts).unwrap();
        hit += got.iter().filter(|h| truth.contains(&h.0)).count();
    }
    hit as f64 / (nq * 10) as f64
}

fn params(dim: usize) -> IvfParams {
    IvfParams::new(dim, Metric::L2)
}

#[test]
fn more_probes_and_bits_raise_recall_and_every_probe_finds_exact_with_a_store() {
    let dim = 48;
    let base = clustered(6000, dim, 1);
    let queries = clustered(60, dim, 2);
    let mut p = params(dim);
    p.options.nlist = 64;
    let idx = IvfRabitqIndex::build(&p, &base, ).unwrap();
    let at = |nprobe| recall(&idx, &base, &queries, dim, SearchOptions { nprobe: Some(nprobe), rerank: None });
    let (r1, r8, r64) = (at(1), at(8), at(64));
    assert!(r1 < r8 && r8 <= r64 + 1e-9, "recall by nprobe: {r1} {r8} {r64}");
    assert!(r64 > 0.9, "all lists, 7 bits: {r64}");
    p.options.store = StoreKind::F32;
    p.options.rerank = 50;
    let stored = IvfRabitqIndex::build(&p, &base).unwrap();
    let full = recall(&stored, &base, &queries, dim, SearchOptions { nprobe: Some(64), rerank: None });
    assert!(full >= 0.999, "every list + exact rerank of 50: {full}");
}

#[test]
fn target_recall_is_reached_on_held_out_queries() {
    let dim = 32;
    let base = clustered(8000, dim, 3);
    let queries = clustered(100, dim, 4);
    let mut p = params(dim);
    p.options.target_recall = Some(0.95);
    let idx = IvfRabitqIndex::build(&p, &base).unwrap();
    let cal = *idx.calibration().unwrap();
    assert!(cal.measured_recall >= 0.95 && cal.nprobe as usize == idx.params().options.nprobe, "{cal:?}");
    let r = recall(&idx, &base, &queries, dim, SearchOptions::default());
    assert!(r >= 0.95, "held-out recall {r} at calibrated nprobe {}", cal.nprobe);
    p.options.target_recall = Some(0.99);
    p.options.store = StoreKind::F16;
    p.options.rerank = 40;
    let stored = IvfRabitqIndex::build(&p, &base).unwrap();
    let r = recall(&stored, &base, &queries, dim, SearchOptions::default());
    assert!(r >= 0.99, "held-out recall {r} with an f16 store at target 0.99");
}

fn build_on(threads: usize, p: &IvfParams, v: &[f32]) -> IvfRabitqIndex {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
        let mut idx = IvfRabitqIndex::build(p, &v[..v.len() / 2]).unwrap();
        idx.add_batch(&v[v.len() / 2..]).unwrap();
        idx
    })
}

#[test]
fn same_inputs_give_identical_files_and_answers_on_one_or_two_threads_and_after_reload() {
    let dim = 100;
    let base = clustered(3000, dim, 5);
    let mut p = params(dim);
    p.metric = Metric::Cosine;
    p.options.store = StoreKind::F16;
    p.options.rerank = 20;
    p.options.target_recall = Some(0.9);
    let (a, b) = (build_on(1, &p, &base), build_on(2, &p, &base));
    let ids: Vec<u64> = (0..a.len() as u64).map(|i| i * 7 + 3).collect();
    let bytes = a.to_bytes(&ids);
    assert_eq!(bytes, b.to_bytes(&ids));
    let (loaded, loaded_ids) = IvfRabitqIndex::load_from(&bytes).unwrap();
    assert!(loaded == a, "reloaded index differs");
    assert_eq!(loaded_ids, ids);
    assert_eq!(loaded.to_bytes(&ids), bytes);
    let queries = clustered(20, dim, 6);
    let opts = SearchOptions::default();
    let batch = a.search_batch(&queries, 10, opts).unwrap();
    for (q, want) in queries.chunks_exact(dim).zip(&batch) {
        for kern in kernels::available() {
            let bits = |h: Vec<(u32, f32)>| h.into_iter().map(|(p, s)| (p, s.to_bits())).collect::<Vec<_>>();
            let got = loaded.search_with(kern, q, 10, opts).unwrap();
            assert_eq!(bits(got), bits(want.clone()), "path {}", kern.name);
        }
    }
}

/// The k-means tree (nlist ≥ 2048) is as deterministic as flat Lloyd steps,
/// on narrow and wide rows.
#[test]
fn tree_builds_are_identical_on_one_or_two_threads() {
    for (n, dim, nlist) in [(4200, 8, 2048), (2100, 300, 2048)] {
        let base = clustered(n, dim, 9);
        let mut p = params(dim);
        p.options.nlist = nlist;
        p.options.target_recall = Some(0.9);
        let on = |threads| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| IvfRabitqIndex::build(&p, &base).unwrap());
        let (a, b) = (on(1), on(2));
        let ids: Vec<u64> = (0..n as u64).collect();
        assert!(a.to_bytes(&ids) == b.to_bytes(&ids), "dim {dim}, nlist {nlist}: files differ");
        assert_eq!(a.nlist(), nlist);
        assert!(a.list_sizes().iter().filter(|&&s| s > 0).count() > nlist / 2, "dim {dim}: most lists hold rows");
        let r = recall(&a, &base, &clustered(20, dim, 10), dim, SearchOptions::default());
        assert!(r >= 0.85, "dim {dim}, nlist {nlist}: recall {r} at the calibrated nprobe");
    }
}

#[test]
fn every_simd_path_gives_the_same_ids_and_score_bits_on_every_width() {
    for dim in [1, 3, 64, 100, 384, 784] {
        let base = clustered(300, dim, dim as u64);
        let mut p = params(dim);
        p.options.nlist = 7;
        p.options.ex_bits = 5;
        let idx = IvfRabitqIndex::build(&p, &base).unwrap();
        for q in clustered(5, dim, 77).chunks_exact(dim) {
            let opts = SearchOptions { nprobe: Some(3), rerank: None };
            let want = idx.search_with(&kernels::SCALAR, q, 10, opts).unwrap();
            for kern in kernels::available() {
                let got = idx.search_with(kern, q, 10, opts).unwrap();
                let same = got.iter().zip(&want).all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits());
                assert!(same && got.len() == want.len(), "dim {dim} path {}", kern.name);
            }
        }
    }
}

#[test]
fn tiny_and_degenerate_inputs_answer_correctly() {
    let dim = 5;
    // n = 1: the one vector, exactly.
    let one = IvfRabitqIndex::build(&params(dim), &[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    let hits = one.search(&[1.0, 2.0, 3.0, 4.0, 6.0], 10, SearchOptions::default()).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].0, 0);
    assert!((hits[0].1 - 1.0).abs() < 1e-5, "{hits:?}");
    // n < 32, k > n, nprobe > nlist: every vector once, finite scores.
    let small = data(20, dim, 9);
    let mut p = params(dim);
    p.options.nlist = 4;
    let idx = IvfRabitqIndex::build(&p, &small).unwrap();
    let hits = idx.search(&small[..dim], 50, SearchOptions { nprobe: Some(99), rerank: None }).unwrap();
    let mut pos: Vec<u32> = hits.iter().map(|h| h.0).collect();
    pos.sort();
    assert_eq!(pos, (0..20).collect::<Vec<u32>>());
    assert!(hits.iter().all(|h| h.1.is_finite() && h.1 >= 0.0));
    assert_eq!(hits[0].0, 0);
    // nprobe 1 still returns min(k, n) hits by probing further lists.
    assert_eq!(idx.search(&small[..dim], 20, SearchOptions { nprobe: Some(1), rerank: None }).unwrap().len(), 20);
    // All-equal and zero vectors, duplicates: distances exact, no NaN.
    for v in [vec![0.0f32; 40 * dim], vec![0.25f32; 40 * dim]] {
        let mut p = params(dim);
        p.options.nlist = 3;
        let idx = IvfRabitqIndex::build(&p, &v).unwrap();
        let hits = idx.search(&v[..dim], 5, SearchOptions::default()).unwrap();
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        assert!(hits.iter().all(|h| h.1 == 0.0), "{hits:?}");
    }
}

#[test]
fn bad_arguments_are_typed_errors_naming_the_values() {
    let dim = 4;
    let v = data(50, dim, 1);
    let err = |r: Result<IvfRabitqIndex, ruvector::error::Error>| r.expect_err("an error");
    let mut p = params(dim);
    p.options.nlist = 51;
    assert!(err(IvfRabitqIndex::build(&p, &v)).message.contains("nlist 51"));
    p = params(dim);
    p.options.ex_bits = 9;
    assert!(err(IvfRabitqIndex::build(&p, &v)).message.contains("exBits 9"));
    p = params(dim);
    p.options.rerank = 5;
    assert!(err(IvfRabitqIndex::build(&p, &v)).message.contains("needs a store"));
    p = params(dim);
    p.options.target_recall = Some(1.5);
    assert!(err(IvfRabitqIndex::build(&p, &v)).message.contains("1.5"));
    assert_eq!(err(IvfRabitqIndex::build(&params(dim), &[])).status, Status::EmptyIndex);
    assert!(err(IvfRabitqIndex::build(&params(dim), &v[..7])).message.contains("multiple of dim 4"));
    assert!(err(IvfRabitqIndex::build(&params(dim), &[1.0, f32::NAN, 0.0, 0.0])).message.contains("non-finite"));
    let mut cos = params(dim);
    cos.metric = Metric::Cosine;
    assert!(err(IvfRabitqIndex::build(&cos, &[0.0; 4])).message.contains("all zeros"));
    let idx = IvfRabitqIndex::build(&params(dim), &v).unwrap();
    let s = |q: &[f32], k, o| idx.search(q, k, o).expect_err("an error");
    assert_eq!(s(&[0.0; 3], 1, SearchOptions::default()).status, Status::DimensionMismatch);
    assert!(s(&[0.0; 4], 0, SearchOptions::default()).message.contains("k must be"));
    assert!(s(&[0.0; 4], 1, SearchOptions { nprobe: Some(0), rerank: None }).message.contains("nprobe"));
    assert!(s(&[0.0; 4], 1, SearchOptions { nprobe: None, rerank: Some(3) }).message.contains("needs a store"));
    let mut grown = idx.clone();
    assert!(grown.add_batch(&[1.0, f32::INFINITY, 0.0, 0.0]).is_err());
    assert!(grown == idx, "a rejected batch adds nothing");
}

#[test]
fn damaged_files_are_persist_errors_never_panics() {
    let dim = 20;
    let mut p = params(dim);
    p.options.store = StoreKind::F16;
    p.options.rerank = 10;
    p.options.nlist = 5;
    let idx = IvfRabitqIndex::build(&p, &data(70, dim, 3)).unwrap();
    let good = idx.to_bytes(&(0..idx.len() as u64).collect::<Vec<_>>());
    let is_persist = |b: &[u8]| IvfRabitqIndex::load_from(b).err().map(|e| e.status) == Some(Status::Persist);
    for len in (0..good.len()).step_by(7).chain([good.len() - 1]) {
        assert!(is_persist(&good[..len]), "truncated to {len}");
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(is_persist(&longer));
    let mut flips = 0;
    for at in (0..good.len()).step_by(3) {
        for bit in [0, 5] {
            let mut b = good.clone();
            b[at] ^= 1 << bit;
            assert!(is_persist(&b), "bit {bit} of byte {at} flipped");
            flips += 1;
        }
    }
    assert!(flips > 1000);
    // An absurd header with a valid checksum: a huge n and nlist must not allocate.
    let mut absurd = good.clone();
    absurd[40..48].copy_from_slice(&(u32::MAX as u64).to_le_bytes());
    absurd[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
    let table_end = 128 + 32 * u32::from_le_bytes(good[100..104].try_into().unwrap()) as usize;
    let crc = { let mut h = crc32fast::Hasher::new(); h.update(&absurd[..124]); h.update(&absurd[128..table_end]); h.finalize() };
    absurd[124..128].copy_from_slice(&crc.to_le_bytes());
    assert!(is_persist(&absurd));
    assert!(is_persist(b"RVIVFRQ0 not ours"));
}

/// fvecs/ivecs rows of the shared real data sets (i32 dim, then dim values).
fn shared_rows(file: &str) -> (usize, Vec<[u8; 4]>) {
    let root = std::env::var("RUVECTOR_SHARED").unwrap_or_else(|_| format!("{}/../../shared", env!("CARGO_MANIFEST_DIR")));
    let path = format!("{root}/datasets/glove-100-angular-100k/{file}");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let dim = i32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
    (dim, bytes.chunks_exact(4 + 4 * dim).flat_map(|r| r[4..].chunks_exact(4).map(|c| c.try_into().unwrap())).collect())
}

/// The real GloVe-100 (100k, cosine) with held-out queries against the stored
/// exact ground truth: calibration to 0.95 (codes only) and to 0.99 (f16
/// store) must hold on queries it never saw. Needs `--release` to be quick.
#[test]
fn glove_reaches_the_target_recall_on_held_out_queries() {
    let floats = |v: Vec<[u8; 4]>| v.into_iter().map(f32::from_le_bytes).collect::<Vec<f32>>();
    let (dim, base) = shared_rows("base.fvecs");
    let (base, queries) = (floats(base), floats(shared_rows("query.fvecs").1));
    let (k, gt) = shared_rows("groundtruth.ivecs");
    let nq = 500;
    let truth: Vec<Vec<u32>> = gt.chunks_exact(k).take(nq).map(|r| r[..10].iter().map(|b| i32::from_le_bytes(*b) as u32).collect()).collect();
    let mut p = IvfParams::new(dim, Metric::Cosine);
    for (target, store, rerank) in [(0.95, StoreKind::None, 0), (0.99, StoreKind::F16, 30)] {
        (p.options.target_recall, p.options.store, p.options.rerank) = (Some(target), store, rerank);
        let idx = IvfRabitqIndex::build(&p, &base).unwrap();
        let hits: usize = queries
            .chunks_exact(dim)
            .zip(&truth)
            .map(|(q, t)| idx.search(q, 10, SearchOptions::default()).unwrap().iter().filter(|h| t.contains(&h.0)).count())
            .sum();
        let r = hits as f64 / (10 * nq) as f64;
        assert!(r >= target as f64, "target {target}: held-out recall {r} at nprobe {}", idx.params().options.nprobe);
    }
}
