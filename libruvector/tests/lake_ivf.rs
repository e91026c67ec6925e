//! The lake on the IVF engine: engine choice, the witness over its
//! parameters, format-3 sidecars, warm restarts from `index.ivf` and change
//! sets applied to a cached index instead of a full pull.

mod common;
use common::data;
use std::path::PathBuf;

use ruvector::error::Status;
use ruvector::index::ivf::StoreKind;
use ruvector::index::{filter::SearchFilter, IvfOptions, SearchParams};
use ruvector::lake::witness::{CacheEngine, Descriptor, Generation};
use ruvector::lake::{Bundle, Changes, Config, Consistency, EngineChoice, Lake, Scope};

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lake-ivf-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn ivf_lake(engine: EngineChoice) -> Lake {
    Lake::new(Config { engine, ivf: IvfOptions { target_recall: Some(0.95), ..IvfOptions::default() }, ..Config::default() }).unwrap()
}

fn top(lake: &Lake, key: u32, q: &[f32], k: usize) -> Vec<u64> {
    let (mut ids, mut scores) = (vec![0u64; k], vec![0f32; k]);
    let n = lake.search(key, q, k, &SearchFilter::default(), &mut ids, &mut scores).unwrap();
    ids.truncate(n);
    ids
}

fn plus_descriptor() -> Descriptor {
    Descriptor { data_ref: "local://hot-shard/docs".into(), dim: 128, rotation_seed: 42, rerank_factor: 20, generation: Generation::Num(7), engine: CacheEngine::Plus }
}

#[test]
fn every_ivf_parameter_changes_the_witness_and_plus_keeps_upstreams() {
    // Upstream's value for these fields (tests/lake.rs checks it against an independent SHAKE-256).
    assert_eq!(plus_descriptor().witness(), "f736b2ffd629d52d086210743b9813e38384854a62a05288303273a3bed6fb16");
    let base = IvfOptions::default();
    let with = |o: IvfOptions| Descriptor { engine: CacheEngine::Ivf(o), ..plus_descriptor() }.witness();
    let variants = [
        base,
        IvfOptions { nlist: 64, ..base },
        IvfOptions { ex_bits: 4, ..base },
        IvfOptions { store: StoreKind::F16, ..base },
        IvfOptions { store: StoreKind::F32, ..base },
        IvfOptions { nprobe: 9, ..base },
        IvfOptions { store: StoreKind::F16, rerank: 40, ..base },
        IvfOptions { target_recall: Some(0.95), ..base },
        IvfOptions { target_recall: Some(0.99), ..base },
    ];
    let mut witnesses: Vec<String> = variants.iter().map(|&o| with(o)).collect();
    witnesses.push(plus_descriptor().witness());
    let distinct: std::collections::HashSet<&String> = witnesses.iter().collect();
    assert_eq!(distinct.len(), witnesses.len(), "{witnesses:?}");
}

#[test]
fn a_format_3_sidecar_round_trips_its_engine_and_refuses_tampering() {
    let o = IvfOptions { nlist: 32, store: StoreKind::F16, rerank: 40, target_recall: Some(0.99), ..IvfOptions::default() };
    let d = Descriptor { engine: CacheEngine::Ivf(o), ..plus_descriptor() };
    let json = Bundle::new(&d).to_json();
    assert!(json.contains("\"format_version\": 3") && json.contains("\"engine\""), "{json}");
    let back = Bundle::from_json(json.as_bytes()).unwrap();
    assert_eq!(back.descriptor(), d);
    assert_eq!(back.witness(), d.witness());
    let tampered = json.replace("\"nlist\": 32", "\"nlist\": 64");
    assert!(Bundle::from_json(tampered.as_bytes()).unwrap_err().message.contains("witness mismatch"));
    let bad_store = json.replace("\"f16\"", "\"f8\"");
    assert!(Bundle::from_json(bad_store.as_bytes()).unwrap_err().message.contains("unknown engine store \"f8\""));
    let other_kind = json.replace("\"kind\": \"ivf\"", "\"kind\": \"hnsw\"");
    assert!(Bundle::from_json(other_kind.as_bytes()).unwrap_err().message.contains("unknown engine kind \"hnsw\""));
    let v2_with_engine = json.replace("\"format_version\": 3", "\"format_version\": 2");
    assert!(Bundle::from_json(v2_with_engine.as_bytes()).unwrap_err().message.contains("format_version 2 with an engine"));
    let plus = Bundle::new(&plus_descriptor()).to_json();
    assert!(plus.contains("\"format_version\": 2") && !plus.contains("engine"));
}

#[test]
fn auto_picks_ivf_from_the_threshold_and_plus_below() {
    let lake = ivf_lake(EngineChoice::Auto { ivf_from_rows: 1000 });
    let dim = 16;
    let (small, big) = (lake.key("b", "small"), lake.key("b", "big"));
    let v = data(1000, dim, 3);
    let ids: Vec<u64> = (0..1000).collect();
    lake.prime(small, lake.descriptor("local://b/small".into(), dim, Generation::Num(1)), &v[..999 * dim], &ids[..999]).unwrap();
    let d_big = lake.descriptor("local://b/big".into(), dim, Generation::Num(1));
    lake.prime(big, d_big.clone(), &v, &ids).unwrap();
    assert_eq!(lake.engine_of(small).unwrap(), CacheEngine::Plus);
    assert!(matches!(lake.engine_of(big).unwrap(), CacheEngine::Ivf(o) if o.target_recall == Some(0.95)));
    // The check finds the IVF state although the lake's first candidate is Plus.
    assert_eq!(lake.check(big, &d_big).unwrap(), ruvector::lake::Check::Hit);
    assert_eq!(top(&lake, big, &v[7 * dim..8 * dim], 1), vec![7]);
    // Publishing under auto takes the engine the state is cached with.
    let dir = temp("auto-publish");
    let w = lake.publish(&d_big, &dir).unwrap();
    assert_eq!(Some(w), lake.witness_of(big).unwrap());
    let never = lake.key("b", "never");
    assert!(lake.engine_of(never).unwrap_err().message.contains("b/never is not cached, so it has no engine yet"));
    let unknown = lake.descriptor("local://b/none".into(), dim, Generation::Num(1));
    assert!(lake.publish(&unknown, &dir).unwrap_err().message.contains("search or prime it before publishing"));
}

#[test]
fn an_invalid_ivf_configuration_is_refused_when_the_lake_is_made() {
    let config = Config { engine: EngineChoice::Ivf, ivf: IvfOptions { rerank: 10, ..IvfOptions::default() }, ..Config::default() };
    assert!(Lake::new(config).err().unwrap().message.contains("rerank 10 needs a store"));
}

#[test]
fn warm_restart_from_a_saved_ivf_cache_returns_the_original_ids() {
    let dir = temp("warm");
    let dim = 24;
    let v = data(3000, dim, 5);
    let ids: Vec<u64> = (0..3000).map(|i| 5_000_000_000 + i * 3).collect();
    let publisher = ivf_lake(EngineChoice::Ivf);
    let k = publisher.key("prod", "docs");
    publisher.prime(k, publisher.descriptor("local://prod/docs".into(), dim, Generation::Num(4)), &v, &ids).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.rbpx"), b"left by an earlier Plus save").unwrap();
    publisher.save_to_dir(k, &dir).unwrap();
    assert!(dir.join("index.ivf").exists() && !dir.join("index.rbpx").exists());
    let q = &v[11 * dim..12 * dim];
    let before = top(&publisher, k, q, 10);

    // A Plus-configured lake warms it too: the engine comes from the sidecar.
    let reader = Lake::new(Config { consistency: Consistency::Frozen, ..Config::default() }).unwrap();
    let k2 = reader.key("prod", "docs");
    let uncached = reader.key("prod", "other");
    assert_eq!(reader.index(uncached).err().map(|e| e.status), Some(Status::CacheMiss));
    assert_eq!(reader.warm_from_dir(k2, &dir).unwrap(), 3000);
    let samples = reader.index(k2).unwrap().sample_rows(8);
    assert_eq!(samples.len(), 8 * dim);
    assert_eq!(reader.index(k2).unwrap().sample_rows(5000).len(), 3000 * dim, "at most every row once");
    assert_eq!(reader.stats(Scope::Global).unwrap().0.hits, 0, "a warm start counts no hit");
    assert_eq!(top(&reader, k2, q, 10), before);
    assert_eq!(before[0], ids[11]);
    assert_eq!(reader.witness_of(k2).unwrap(), publisher.witness_of(k).unwrap());
    assert!(matches!(reader.engine_of(k2).unwrap(), CacheEngine::Ivf(_)));

    // The sidecar's engine must describe the index file it sits beside.
    let sidecar = dir.join("table.rulake.json");
    let text = std::fs::read_to_string(&sidecar).unwrap();
    let forged = Bundle::from_json(text.as_bytes()).unwrap().descriptor();
    let lie = Descriptor { engine: CacheEngine::Ivf(IvfOptions { store: StoreKind::F32, ..IvfOptions::default() }), ..forged };
    Bundle::new(&lie).write_to_dir(&dir).unwrap();
    let err = reader.warm_from_dir(k2, &dir).unwrap_err();
    assert!(err.message.contains("does not match its bundle"), "{}", err.message);
}

#[test]
fn a_change_set_moves_the_cache_to_the_new_witness_without_a_pull() {
    for engine in [EngineChoice::Plus, EngineChoice::Ivf] {
        let lake = ivf_lake(engine);
        let dim = 16;
        let v = data(2000, dim, 9);
        let ids: Vec<u64> = (0..2000).collect();
        let k = lake.key("b", "c");
        let g1 = lake.descriptor("local://b/c".into(), dim, Generation::Num(1));
        lake.prime(k, g1.clone(), &v, &ids).unwrap();
        let w1 = lake.witness_of(k).unwrap();
        let g2 = lake.descriptor("local://b/c".into(), dim, Generation::Num(2));
        let replacement = data(1, dim, 77);
        let removed = [3u64, 4, 5];
        let changes = Changes { removed: &removed, upserted: &[6], vectors: &replacement };
        assert!(lake.apply_changes(k, &g1, g2.clone(), changes).unwrap());
        let w2 = lake.witness_of(k).unwrap();
        assert_ne!(w1, w2);
        assert_eq!(w2, Some(Descriptor { engine: lake.engine_of(k).unwrap(), ..g2.clone() }.witness()));
        for id in removed {
            assert!(!top(&lake, k, &v[id as usize * dim..(id as usize + 1) * dim], 10).contains(&id));
        }
        assert_eq!(top(&lake, k, &replacement, 1), vec![6]);
        let (s, _, _) = lake.stats(Scope::Key(k)).unwrap();
        assert_eq!((s.primes, s.rows_pulled, s.change_sets, s.rows_applied), (1, 2000, 1, 4));
        assert_eq!(lake.check(k, &g2).unwrap(), ruvector::lake::Check::Hit);

        // Stale `from` (the cache is at 2 now): not applied, the caller pulls.
        let g3 = lake.descriptor("local://b/c".into(), dim, Generation::Num(3));
        assert!(!lake.apply_changes(k, &g1, g3.clone(), Changes { removed: &[7], upserted: &[], vectors: &[] }).unwrap());
        // Invalid changes: an error, and the cache stays at 2.
        let bad = Changes { removed: &[8], upserted: &[8], vectors: &replacement };
        assert!(lake.apply_changes(k, &g2, g3.clone(), bad).unwrap_err().message.contains("id 8 is both removed and upserted"));
        let short = Changes { removed: &[], upserted: &[9], vectors: &replacement[..3] };
        assert!(lake.apply_changes(k, &g2, g3, short).is_err());
        assert_eq!(lake.witness_of(k).unwrap(), w2);
        assert_eq!(top(&lake, k, &v[8 * dim..9 * dim], 1), vec![8]);
    }
}

#[test]
fn many_removals_compact_and_memory_follows() {
    let lake = ivf_lake(EngineChoice::Ivf);
    let dim = 8;
    let v = data(1000, dim, 2);
    let ids: Vec<u64> = (0..1000).collect();
    let k = lake.key("b", "c");
    let g = |n| lake.descriptor("local://b/c".into(), dim, Generation::Num(n));
    lake.prime(k, g(1), &v, &ids).unwrap();
    let (_, _, before) = lake.stats(Scope::Global).unwrap();
    let gone: Vec<u64> = (0..600).collect();
    assert!(lake.apply_changes(k, &g(1), g(2), Changes { removed: &gone, upserted: &[], vectors: &[] }).unwrap());
    let (_, _, after) = lake.stats(Scope::Global).unwrap();
    assert!(after < before, "{after} bytes after removing 60% vs {before}");
    assert_eq!(lake.index(k).unwrap().len(), 400);
    assert_eq!(lake.index(k).unwrap().removed_rows(), 0);
}

#[test]
fn the_c_config_refuses_an_unknown_engine_and_store_by_number() {
    use ruvector::ffi::lake::{ruv_lake_free, ruv_lake_new, RuvLake, RuvLakeConfig};
    let make = |engine: u32, store: u32| {
        let config = RuvLakeConfig { struct_size: std::mem::size_of::<RuvLakeConfig>() as u32, rerank_factor: 20, engine, store, ..RuvLakeConfig::default() };
        let mut out: *mut RuvLake = std::ptr::null_mut();
        let status = unsafe { ruv_lake_new(&config, &mut out) };
        let mut msg = [0u8; 256];
        unsafe { ruvector::ffi::ruv_last_error(msg.as_mut_ptr(), msg.len() as u64, std::ptr::null_mut()) };
        if !out.is_null() {
            unsafe { ruv_lake_free(out) };
        }
        (status, String::from_utf8_lossy(&msg).trim_end_matches('\0').to_string())
    };
    assert_eq!(make(2, 0).0, 0);
    let (status, message) = make(7, 0);
    assert_ne!(status, 0);
    assert!(message.contains("unknown lake engine 7 (0 plus, 1 ivf, 2 auto)"), "{message}");
    let (status, message) = make(1, 9);
    assert_ne!(status, 0);
    assert!(message.contains("unknown store kind 9"), "{message}");
    // A caller of the first ABI (no engine fields) gets the Plus engine.
    let old = RuvLakeConfig { struct_size: 48, rerank_factor: 20, engine: 7, ..RuvLakeConfig::default() };
    let mut out: *mut RuvLake = std::ptr::null_mut();
    assert_eq!(unsafe { ruv_lake_new(&old, &mut out) }, 0);
    unsafe { ruv_lake_free(out) };
}

#[test]
fn a_search_holding_the_old_version_keeps_it_while_changes_land_in_a_copy() {
    let lake = ivf_lake(EngineChoice::Ivf);
    let dim = 8;
    let v = data(500, dim, 4);
    let ids: Vec<u64> = (0..500).collect();
    let k = lake.key("b", "c");
    let g = |n| lake.descriptor("local://b/c".into(), dim, Generation::Num(n));
    lake.prime(k, g(1), &v, &ids).unwrap();
    let in_flight = lake.index(k).unwrap();
    assert!(lake.apply_changes(k, &g(1), g(2), Changes { removed: &[3], upserted: &[], vectors: &[] }).unwrap());
    let q = &v[3 * dim..4 * dim];
    let old = in_flight.search_owned(q, 1, &SearchParams::default()).unwrap().0;
    assert_eq!(old, vec![3], "the snapshot a search holds is unchanged");
    assert!(!top(&lake, k, q, 10).contains(&3));
    assert_eq!((in_flight.len(), lake.index(k).unwrap().len()), (500, 499));
}
