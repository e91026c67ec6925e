//! Removal, upsert and compaction on every variant: removed ids never come
//! back from a search, `get`, `ids`, `vectors` or a saved file; survivors
//! answer as a fresh index over them does; writes behind snapshots land whole.

mod common;
use common::data;
use ruvector::error::Status;
use ruvector::index::ivf::StoreKind;
use ruvector::index::shared::SharedIndex;
use ruvector::index::{persist, IvfOptions, Kind, Metric, Params, SearchParams, VectorIndex};

const DIM: usize = 24;
const N: usize = 600;

fn params(kind: Kind) -> Params {
    let mut p = Params::new(kind, DIM, 42, 4, Metric::L2, false);
    if kind == Kind::Ivf {
        p.ivf = IvfOptions { nlist: 8, store: StoreKind::F32, rerank: 40, nprobe: 8, ..IvfOptions::default() };
    }
    p
}

const KINDS: [Kind; 5] = [Kind::Flat, Kind::Rabitq, Kind::Plus, Kind::Asym, Kind::Ivf];

fn odd_ids() -> Vec<u64> {
    (0..N as u64).filter(|i| i % 2 == 1).collect()
}

fn shared(kind: Kind) -> std::sync::Arc<SharedIndex> {
    SharedIndex::new(VectorIndex::build(params(kind), &data(N, DIM, 1), None).unwrap())
}

fn search_ids(idx: &VectorIndex, k: usize) -> Vec<Vec<u64>> {
    data(20, DIM, 9).chunks_exact(DIM).map(|q| idx.search_owned(q, k, &SearchParams::default()).unwrap().0).collect()
}

#[test]
fn removed_ids_are_gone_from_every_read_and_from_saved_files() {
    let dir = std::env::temp_dir().join(format!("ruv-remove-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for kind in KINDS {
        let s = shared(kind);
        assert_eq!(s.remove(&odd_ids(), false).unwrap(), N / 2, "{kind:?}");
        assert_eq!(s.len(), N / 2);
        let r = s.read().unwrap();
        for hits in search_ids(&r, 50) {
            assert_eq!(hits.len(), 50, "{kind:?}: k live hits");
            assert!(hits.iter().all(|id| id % 2 == 0), "{kind:?}: a removed id came back: {hits:?}");
        }
        assert_eq!(r.ids(), (0..N as u64).step_by(2).collect::<Vec<_>>());
        assert_eq!(r.get(3).unwrap_err().status, Status::NotFound);
        if kind != Kind::Rabitq {
            assert_eq!(r.vectors().unwrap().len(), N / 2 * DIM);
        }
        let path = dir.join(format!("{kind:?}.idx"));
        persist::save(&r, &path).unwrap();
        let loaded = persist::load(&path, Some(kind)).unwrap();
        assert_eq!(loaded.len(), N / 2);
        assert_eq!(loaded.removed_rows(), 0, "{kind:?}: saved compacted");
        assert!(search_ids(&loaded, 50).iter().flatten().all(|id| id % 2 == 0));
        assert_eq!(search_ids(&loaded, 10), search_ids(&r.compacted().unwrap(), 10), "{kind:?}: the file answers as the compacted index");
        assert!(loaded.equals(&r), "{kind:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn upstream_reads_a_compacted_plus_file() {
    let s = shared(Kind::Plus);
    s.remove(&odd_ids(), false).unwrap();
    let path = std::env::temp_dir().join(format!("ruv-remove-up-{}.rbpx", std::process::id()));
    persist::save(&s.read().unwrap(), &path).unwrap();
    let up = ruvector_rabitq::persist::load_index(&mut std::fs::File::open(&path).unwrap()).unwrap();
    use ruvector_rabitq::AnnIndex;
    assert_eq!(up.len(), N / 2);
    let hits = up.search(&data(1, DIM, 9), 20).unwrap();
    assert!(hits.iter().all(|h| h.id % 2 == 0), "upstream sees only live ids");
    std::fs::remove_file(&path).unwrap();
}

fn recall(got: &[Vec<u64>], truth: &[Vec<u64>]) -> f64 {
    let hits: usize = got.iter().zip(truth).map(|(g, t)| g.iter().filter(|id| t.contains(id)).count()).sum();
    hits as f64 / truth.iter().map(Vec::len).sum::<usize>() as f64
}

#[test]
fn survivors_answer_like_a_fresh_index_over_them() {
    let all = data(N, DIM, 1);
    let survivors: Vec<f32> = all.chunks_exact(DIM).step_by(2).flatten().copied().collect();
    let survivor_ids: Vec<u64> = (0..N as u64).step_by(2).collect();
    for kind in KINDS {
        let s = shared(kind);
        s.remove(&odd_ids(), false).unwrap();
        let fresh = VectorIndex::build(params(kind), &survivors, Some(&survivor_ids)).unwrap();
        let tombstoned = search_ids(&s.read().unwrap(), 10);
        s.compact().unwrap();
        let compacted = s.read().unwrap();
        assert_eq!(compacted.removed_rows(), 0);
        let truth = search_ids(&VectorIndex::build(params(Kind::Flat), &survivors, Some(&survivor_ids)).unwrap(), 10);
        match kind {
            // While rows are tombstoned, reranking variants rerank more
            // candidates and IVF probes more lists.
            Kind::Plus | Kind::Asym | Kind::Ivf => assert!(recall(&tombstoned, &truth) >= recall(&search_ids(&compacted, 10), &truth)),
            _ => assert_eq!(search_ids(&compacted, 10), tombstoned, "{kind:?}: skipping in the scan is compaction"),
        }
        match kind {
            // A fresh IVF build trains other lists.
            Kind::Ivf => assert!(recall(&tombstoned, &truth) >= recall(&search_ids(&fresh, 10), &truth) - 0.05),
            _ => assert!(compacted.equals(&fresh), "{kind:?}: compacted is a fresh build over the survivors"),
        }
        if kind == Kind::Flat {
            assert_eq!(tombstoned, truth, "exact results equal a fresh build");
        }
    }
}

#[test]
fn missing_ids_fail_by_name_unless_ignored_and_nothing_is_removed() {
    let s = shared(Kind::Flat);
    let e = s.remove(&[4, 5_000, 6], false).unwrap_err();
    assert_eq!((e.status, e.message.as_str()), (Status::NotFound, "id 5000 is not in the index"));
    assert_eq!(s.len(), N, "all or nothing");
    assert!(s.remove(&[4, 4], false).unwrap_err().message.contains("duplicate id 4 at position 1"));
    assert_eq!(s.remove(&[4, 5_000], true).unwrap(), 1);
    assert_eq!(s.remove(&[4], true).unwrap(), 0);
    assert_eq!(s.remove(&[4], false).unwrap_err().status, Status::NotFound);
}

#[test]
fn a_removed_id_can_be_added_again_and_upsert_replaces() {
    for kind in KINDS {
        let s = shared(kind);
        let v = vec![0.5f32; DIM];
        s.remove(&[7], false).unwrap();
        s.add(&v, &[7]).unwrap();
        assert_eq!(s.len(), N);
        s.upsert(&[v.clone(), vec![-0.5; DIM]].concat(), &[7, 10_000]).unwrap();
        assert_eq!(s.len(), N + 1, "{kind:?}: 7 replaced, 10000 added");
        let r = s.read().unwrap();
        assert_eq!(r.search_owned(&v, 1, &SearchParams::default()).unwrap().0, vec![7], "{kind:?}");
        assert_eq!(r.ids().iter().filter(|&&id| id == 7).count(), 1);
        assert!(s.upsert(&[v.clone(), v.clone()].concat(), &[1, 1]).unwrap_err().message.contains("duplicate id 1"));
    }
}

#[test]
fn writes_behind_a_snapshot_wait_and_land_whole() {
    let s = shared(Kind::Ivf);
    let before = s.read().unwrap();
    s.remove(&odd_ids(), false).unwrap();
    s.upsert(&[0.25; DIM], &[1]).unwrap();
    assert_eq!(s.len(), N / 2 + 1, "pending writes are counted");
    assert_eq!(s.remove(&[3], false).unwrap_err().status, Status::NotFound, "checked against pending writes");
    assert_eq!(before.len(), N, "the snapshot keeps its version");
    assert!(search_ids(&before, 10).iter().flatten().any(|id| id % 2 == 1));
    drop(before);
    let after = s.read().unwrap();
    assert_eq!(after.len(), N / 2 + 1);
    assert!(search_ids(&after, 10).iter().flatten().all(|&id| id % 2 == 0 || id == 1));
    assert!(after.memory_bytes() > 0);
}

#[test]
fn compaction_frees_memory_and_an_emptied_index_refuses_searches() {
    let s = shared(Kind::Flat);
    let full = s.memory_bytes();
    s.remove(&odd_ids(), false).unwrap();
    let tombstoned = s.memory_bytes();
    assert!(tombstoned > full * 9 / 10, "tombstoned rows are still held: {tombstoned} of {full}");
    s.compact().unwrap();
    assert!(s.memory_bytes() < tombstoned * 2 / 3, "compaction drops them: {} of {tombstoned}", s.memory_bytes());
    let evens: Vec<u64> = (0..N as u64).step_by(2).collect();
    s.remove(&evens, false).unwrap();
    assert!(s.is_empty());
    let e = s.read().unwrap().search_owned(&[0.0; DIM], 3, &SearchParams::default()).unwrap_err();
    assert_eq!(e.status, Status::EmptyIndex);
}
