//! Our layer against upstream `ruvector-rabitq` itself: file compatibility in
//! both directions, bit-identical quantized search, exact scores within a few ulp.

mod common;
use common::data;
use ruvector::index::{persist, Kind, Metric, Params, SearchParams, VectorIndex};
use ruvector_rabitq::{persist as up, AnnIndex, FlatF32Index, RabitqPlusIndex};


fn params(kind: Kind, dim: usize, pad: bool) -> Params {
    Params::new(kind, dim, 42, 20, Metric::L2, pad)
}

fn search_all(idx: &VectorIndex, queries: &[f32], dim: usize, k: usize) -> Vec<(u64, f32)> {
    let mut out = Vec::new();
    for q in queries.chunks_exact(dim) {
        let (mut ids, mut scores) = (vec![0u64; k], vec![0f32; k]);
        let n = idx.search_into(q, k, &SearchParams::default(), &mut ids, &mut scores).unwrap();
        out.extend(ids[..n].iter().copied().zip(scores[..n].iter().copied()));
    }
    out
}

#[test]
fn upstream_reads_our_plus_files_and_finds_the_same_neighbours() {
    let (n, dim) = (500, 48);
    let v = data(n, dim, 1);
    let ids: Vec<u64> = (0..n as u64).map(|i| i * 7 + 3).collect();
    let ours = VectorIndex::build(params(Kind::Plus, dim, false), &v, Some(&ids)).unwrap();
    let path = std::env::temp_dir().join(format!("compat-{}.rbpx", std::process::id()));
    persist::save(&ours, &path).unwrap();
    let theirs = up::load_index(&mut std::fs::File::open(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let queries = data(20, dim, 2);
    let mine = search_all(&ours, &queries, dim, 10);
    let upstream: Vec<(u64, f32)> =
        queries.chunks_exact(dim).flat_map(|q| theirs.search(q, 10).unwrap().into_iter().map(|h| (h.id as u64, h.score))).collect();
    assert_eq!(mine, upstream);
}

#[test]
fn we_read_upstream_plus_files() {
    let (n, dim) = (300, 33);
    let v = data(n, dim, 3);
    let items: Vec<(usize, Vec<f32>)> = v.chunks_exact(dim).enumerate().map(|(i, r)| (i * 2, r.to_vec())).collect();
    let theirs = RabitqPlusIndex::from_vectors_parallel(dim, 9, 5, items.clone()).unwrap();
    let mut bytes = Vec::new();
    up::save_index(&theirs, 9, &items, &mut bytes).unwrap();
    let ours = persist::decode(&bytes, Some(Kind::Plus)).unwrap();
    assert_eq!(ours.params().rerank_factor, 5);
    assert_eq!(ours.ids(), items.iter().map(|(id, _)| *id as u64).collect::<Vec<_>>());
    let queries = data(10, dim, 4);
    let mine = search_all(&ours, &queries, dim, 5);
    let upstream: Vec<(u64, f32)> =
        queries.chunks_exact(dim).flat_map(|q| theirs.search(q, 5).unwrap().into_iter().map(|h| (h.id as u64, h.score))).collect();
    assert_eq!(mine, upstream);
}

/// Our flat scan sums in the canonical 16-lane order, upstream sums in index
/// order: same ids, scores within a few ulp (the documented contract).
#[test]
fn flat_scan_matches_upstream_flat_within_ulps() {
    let (n, dim) = (400, 17);
    let v = data(n, dim, 5);
    let ours = VectorIndex::build(params(Kind::Flat, dim, false), &v, None).unwrap();
    let mut theirs = FlatF32Index::new(dim);
    for (i, r) in v.chunks_exact(dim).enumerate() {
        theirs.add(i, r.to_vec()).unwrap();
    }
    let queries = data(15, dim, 6);
    let mine = search_all(&ours, &queries, dim, 12);
    let upstream: Vec<(u64, f32)> =
        queries.chunks_exact(dim).flat_map(|q| theirs.search(q, 12).unwrap().into_iter().map(|h| (h.id as u64, h.score))).collect();
    assert_eq!(mine.iter().map(|h| h.0).collect::<Vec<_>>(), upstream.iter().map(|h| h.0).collect::<Vec<_>>());
    for ((_, a), (_, b)) in mine.iter().zip(&upstream) {
        assert!(a.to_bits().abs_diff(b.to_bits()) <= 4, "score {a} vs upstream {b}");
    }
}

#[test]
fn every_variant_round_trips_bit_identically() {
    for kind in [Kind::Flat, Kind::Rabitq, Kind::Plus, Kind::Asym] {
        for (dim, pad) in [(1, true), (7, false), (64, true), (100, true), (130, false)] {
            let v = data(200, dim, dim as u64);
            let ids: Vec<u64> = (0..200).map(|i| (1u64 << 53) - 1 - i * 1000).collect();
            let idx = VectorIndex::build(params(kind, dim, pad), &v, Some(&ids)).unwrap();
            let path = std::env::temp_dir().join(format!("rt-{}-{kind:?}-{dim}.idx", std::process::id()));
            persist::save(&idx, &path).unwrap();
            let back = persist::load(&path, Some(kind)).unwrap();
            std::fs::remove_file(&path).unwrap();
            assert!(idx.equals(&back), "{kind:?} dim {dim}");
            let queries = data(8, dim, 77);
            assert_eq!(search_all(&idx, &queries, dim, 10), search_all(&back, &queries, dim, 10), "{kind:?} dim {dim}");
        }
    }
}

#[test]
fn batch_search_matches_single_searches() {
    let dim = 40;
    let v = data(1000, dim, 8);
    let idx = VectorIndex::build(params(Kind::Plus, dim, true), &v, None).unwrap();
    let queries = data(64, dim, 9);
    let (mut ids, mut scores) = (vec![0u64; 64 * 10], vec![0f32; 64 * 10]);
    idx.search_batch(&queries, 10, &SearchParams::default(), 0, &mut ids, &mut scores).unwrap();
    let single = search_all(&idx, &queries, dim, 10);
    assert_eq!(single, ids.into_iter().zip(scores).collect::<Vec<_>>());
}
