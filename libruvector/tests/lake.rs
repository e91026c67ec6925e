//! The lake core: witness and sidecar compatibility (test vectors computed
//! independently with Python's hashlib.shake_256), cache semantics, the
//! memory bound, federation and warm restarts with original ids.

mod common;
use common::data;
use std::path::PathBuf;
use std::time::Duration;

use ruvector::lake::witness::{CacheEngine, Descriptor, Generation};
use ruvector::index::filter::{IdRule, SearchFilter};
use ruvector::lake::{Bundle, Check, Config, Consistency, Lake, Refresh, Scope};

fn descriptor(data_ref: &str, dim: usize, seed: u64, rf: usize, generation: Generation) -> Descriptor {
    Descriptor { data_ref: data_ref.into(), dim, rotation_seed: seed, rerank_factor: rf, generation, engine: CacheEngine::Plus }
}

fn config(consistency: Consistency, max_entries: usize, max_bytes: usize) -> Config {
    Config { consistency, max_entries, max_bytes, ..Config::default() }
}


fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lake-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn witness_matches_an_independent_shake256() {
    let num = descriptor("local://hot-shard/docs", 128, 42, 20, Generation::Num(7));
    assert_eq!(num.witness(), "f736b2ffd629d52d086210743b9813e38384854a62a05288303273a3bed6fb16");
    let opaque = descriptor("file:///data/lake/docs.ruvec", 384, u64::MAX, 5, Generation::Opaque("1732212345000000000-4096".into()));
    assert_eq!(opaque.witness(), "8ad408818cee1ab36f25f6160cc040bef4dae90b9e1299af31b273de27a547f2");
}

#[test]
fn sidecar_bytes_follow_upstream_serde_layout() {
    let b = Bundle::new(&descriptor("local://hot-shard/docs", 128, 42, 20, Generation::Num(7)));
    let expected = r#"{
  "format_version": 2,
  "data_ref": "local://hot-shard/docs",
  "dim": 128,
  "rotation_seed": 42,
  "rerank_factor": 20,
  "generation": 7,
  "rvf_witness": "f736b2ffd629d52d086210743b9813e38384854a62a05288303273a3bed6fb16",
  "pii_policy": null,
  "lineage_id": null
}"#;
    assert_eq!(b.to_json(), expected);
    assert_eq!(Bundle::from_json(expected.as_bytes()).unwrap(), b);
    let tampered = expected.replace("\"dim\": 128", "\"dim\": 129");
    assert!(Bundle::from_json(tampered.as_bytes()).unwrap_err().message.contains("witness mismatch"));
    let opaque = Bundle::new(&descriptor("x", 3, 1, 1, Generation::Opaque("etag-9".into())));
    assert!(opaque.to_json().contains("\"generation\": \"etag-9\""));
    assert!(Bundle::from_json(&vec![b' '; 70_000]).unwrap_err().message.contains("cap"));
}

#[test]
fn check_prime_search_and_sharing() {
    let lake = Lake::new(config(Consistency::Fresh, 0, 0)).unwrap();
    let (a, b) = (lake.key("local", "a"), lake.key("local", "b"));
    assert_eq!(lake.key("local", "a"), a);
    let dim = 16;
    let v = data(300, dim, 1);
    let ids: Vec<u64> = (0..300).map(|i| (1 << 50) + i * 3).collect();
    let d = lake.descriptor("local://x".into(), dim, Generation::Num(1));
    assert_eq!(lake.check(a, &d).unwrap(), Check::Miss);
    lake.prime(a, d.clone(), &v, &ids).unwrap();
    assert_eq!(lake.check(a, &d).unwrap(), Check::Hit);
    assert_eq!(lake.check(b, &d).unwrap(), Check::Shared);
    let (mut out, mut scores) = (vec![0u64; 3], vec![0f32; 3]);
    lake.search(b, &v[5 * dim..6 * dim], 3, &SearchFilter::default(), &mut out, &mut scores).unwrap();
    assert_eq!(out[0], ids[5]);
    let (s, entries, _) = lake.stats(Scope::Global).unwrap();
    assert_eq!((s.hits, s.misses, s.primes, s.shared_hits, entries), (1, 1, 1, 1, 1));
    assert!(lake.needs_check(a, true).unwrap(), "fresh always checks");
}

#[test]
fn consistency_rules() {
    let dim = 8;
    let v = data(50, dim, 2);
    let ids: Vec<u64> = (0..50).collect();
    for (c, expect_after_prime) in [(Consistency::Fresh, true), (Consistency::Eventual(Duration::from_secs(60)), false), (Consistency::Frozen, false)] {
        let lake = Lake::new(config(c, 0, 0)).unwrap();
        let k = lake.key("b", "c");
        assert!(lake.needs_check(k, true).unwrap(), "{c:?}: nothing cached yet");
        lake.prime(k, lake.descriptor("r".into(), dim, Generation::Num(1)), &v, &ids).unwrap();
        assert_eq!(lake.needs_check(k, false).unwrap(), expect_after_prime, "{c:?}: uncounted answers alike");
        let hits = lake.stats(Scope::Global).unwrap().0.hits;
        assert_eq!(lake.needs_check(k, true).unwrap(), expect_after_prime, "{c:?}");
        assert_eq!(lake.stats(Scope::Global).unwrap().0.hits, hits + u64::from(!expect_after_prime), "{c:?}: only a counted skip is a hit");
    }
    let lake = Lake::new(config(Consistency::Eventual(Duration::from_millis(1)), 0, 0)).unwrap();
    let k = lake.key("b", "c");
    lake.prime(k, lake.descriptor("r".into(), dim, Generation::Num(1)), &v, &ids).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    assert!(lake.needs_check(k, true).unwrap(), "ttl elapsed");
}

#[test]
fn the_cache_bound_holds_for_referenced_entries_and_counts_evictions() {
    let dim = 32;
    let v = data(1000, dim, 3);
    let ids: Vec<u64> = (0..1000).collect();
    let one = {
        let probe = Lake::new(config(Consistency::Fresh, 0, 0)).unwrap();
        let k = probe.key("p", "p");
        probe.prime(k, probe.descriptor("p".into(), dim, Generation::Num(0)), &v, &ids).unwrap();
        probe.stats(Scope::Global).unwrap().2
    };
    let lake = Lake::new(config(Consistency::Fresh, 0, one * 3 + one / 2)).unwrap();
    for c in 0..10 {
        let k = lake.key("local", &format!("c{c}"));
        lake.prime(k, lake.descriptor(format!("local://c{c}"), dim, Generation::Num(1)), &v, &ids).unwrap();
        let (_, entries, bytes) = lake.stats(Scope::Global).unwrap();
        assert!(bytes <= one * 3 + one / 2 && entries <= 3, "bytes {bytes} entries {entries}");
    }
    let (s, _, _) = lake.stats(Scope::Global).unwrap();
    assert_eq!(s.evictions, 7);
    assert!(!lake.is_primed(lake.key("local", "c0")).unwrap());
    assert!(lake.is_primed(lake.key("local", "c9")).unwrap());
    let too_small = Lake::new(config(Consistency::Fresh, 0, one / 2)).unwrap();
    let k = too_small.key("a", "b");
    assert!(too_small.prime(k, too_small.descriptor("a".into(), dim, Generation::Num(1)), &v, &ids).unwrap_err().message.contains("over the cache bound"));
}

#[test]
fn federation_merges_shards_by_score() {
    let lake = Lake::new(config(Consistency::Fresh, 0, 0)).unwrap();
    let dim = 24;
    let v = data(2000, dim, 4);
    let keys: Vec<u32> = (0..4)
        .map(|s| {
            let k = lake.key(&format!("shard{s}"), "docs");
            let rows = &v[s * 500 * dim..(s + 1) * 500 * dim];
            let ids: Vec<u64> = (0..500).map(|i| (s * 500 + i) as u64).collect();
            lake.prime(k, lake.descriptor(format!("s{s}"), dim, Generation::Num(1)), rows, &ids).unwrap();
            k
        })
        .collect();
    let q = &v[1234 * dim..1235 * dim];
    let hits = lake.search_federated(&keys, q, 10, &SearchFilter::default()).unwrap();
    assert_eq!(hits.len(), 10);
    assert_eq!((hits[0].0, hits[0].1), (2, 1234));
    assert!(hits.windows(2).all(|w| w[0].2 <= w[1].2));
    // One filter for every shard, by the backends' ids: the best hit is denied,
    // and an allow-list spanning two shards returns exactly its ids.
    let denied = lake.search_federated(&keys, q, 10, &SearchFilter { ids: IdRule::Deny(&[1234]), ..SearchFilter::default() }).unwrap();
    assert!(denied.iter().all(|h| h.1 != 1234) && denied.len() == 10);
    let allow = [3u64, 1234, 1999, 77_777];
    let allowed = lake.search_federated(&keys, q, 10, &SearchFilter { ids: IdRule::Allow(&allow), ..SearchFilter::default() }).unwrap();
    let mut got: Vec<u64> = allowed.iter().map(|h| h.1).collect();
    got.sort_unstable();
    assert_eq!(got, vec![3, 1234, 1999]);
    lake.invalidate(keys[3]).unwrap();
    assert!(lake.search_federated(&keys, q, 10, &SearchFilter::default()).unwrap_err().message.contains("shard3/docs is not cached"));
}

#[test]
fn warm_restart_returns_original_ids_without_a_backend() {
    let dir = temp("warm");
    let dim = 20;
    let v = data(1500, dim, 5);
    let ids: Vec<u64> = (0..1500).map(|i| 9_000_000_000_000 + i * 7).collect();
    let publisher = Lake::new(config(Consistency::Fresh, 0, 0)).unwrap();
    let k = publisher.key("prod", "memories");
    publisher.prime(k, publisher.descriptor("local://prod/memories".into(), dim, Generation::Num(3)), &v, &ids).unwrap();
    publisher.save_to_dir(k, &dir).unwrap();
    let (mut before, mut s1) = (vec![0u64; 5], vec![0f32; 5]);
    publisher.search(k, &v[..dim], 5, &SearchFilter::default(), &mut before, &mut s1).unwrap();

    let reader = Lake::new(config(Consistency::Frozen, 0, 0)).unwrap();
    let k2 = reader.key("prod", "memories");
    assert_eq!(reader.warm_from_dir(k2, &dir).unwrap(), 1500);
    let (mut after, mut s2) = (vec![0u64; 5], vec![0f32; 5]);
    reader.search(k2, &v[..dim], 5, &SearchFilter::default(), &mut after, &mut s2).unwrap();
    assert_eq!((before, s1), (after.clone(), s2));
    assert_eq!(after[0], ids[0]);
    let (s, _, _) = reader.stats(Scope::Global).unwrap();
    assert_eq!((s.warm_installs, s.primes), (1, 0));
    assert_eq!(reader.witness_of(k2).unwrap(), publisher.witness_of(k).unwrap());
}

#[test]
fn refresh_from_a_published_bundle() {
    let dir = temp("refresh");
    let lake = Lake::new(config(Consistency::Fresh, 0, 0)).unwrap();
    let k = lake.key("b", "c");
    assert_eq!(lake.refresh_from_dir(k, &dir).unwrap(), Refresh::BundleMissing);
    let dim = 8;
    let v = data(40, dim, 6);
    let ids: Vec<u64> = (0..40).collect();
    let d1 = lake.descriptor("local://b/c".into(), dim, Generation::Num(1));
    lake.prime(k, d1.clone(), &v, &ids).unwrap();
    lake.publish(&d1, &dir).unwrap();
    assert_eq!(lake.refresh_from_dir(k, &dir).unwrap(), Refresh::UpToDate);
    lake.publish(&lake.descriptor("local://b/c".into(), dim, Generation::Num(2)), &dir).unwrap();
    assert_eq!(lake.refresh_from_dir(k, &dir).unwrap(), Refresh::Invalidated);
    assert!(!lake.is_primed(k).unwrap());
    let sidecar = dir.join("table.rulake.json");
    let text = std::fs::read_to_string(&sidecar).unwrap().replace("\"generation\": 2", "\"generation\": 3");
    std::fs::write(&sidecar, text).unwrap();
    assert!(lake.refresh_from_dir(k, &dir).unwrap_err().message.contains("witness mismatch"));
    std::fs::remove_file(&sidecar).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &sidecar).unwrap();
    assert!(lake.refresh_from_dir(k, &dir).unwrap_err().message.contains("must not escape its directory"));
}
