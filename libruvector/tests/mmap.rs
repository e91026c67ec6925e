//! `load` with `mmap`: an IvfRabitqIndex file mapped and used in place answers
//! bit for bit like a copy load, survives every mutation and a save over its
//! own file, and is refused (typed) when truncated, foreign or not IVF.

mod common;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::data;
use ruvector::error::Status;
use ruvector::kernels::excode;
use ruvector::index::ivf::StoreKind;
use ruvector::index::persist::{self, LoadOptions};
use ruvector::index::shared::SharedIndex;
use ruvector::index::{IvfOptions, Kind, Metric, Params, SearchParams, VectorIndex};

const DIM: usize = 40;
const N: usize = 1500;
const MMAP: LoadOptions = LoadOptions { mmap: true, verify: false };

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ruv-mmap-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn saved(store: StoreKind, path: &Path) -> VectorIndex {
    let mut p = Params::new(Kind::Ivf, DIM, 7, 1, Metric::Cosine, false);
    let rerank = if store == StoreKind::None { 0 } else { 30 };
    p.ivf = IvfOptions { nlist: 16, store, rerank, target_recall: Some(0.9), ..IvfOptions::default() };
    let ids: Vec<u64> = (0..N as u64).map(|i| i * 13 + 5).collect();
    let idx = VectorIndex::build(p, &data(N, DIM, 1), Some(&ids)).unwrap();
    persist::save(&idx, path).unwrap();
    idx
}

fn mapped(path: &Path) -> VectorIndex {
    persist::load_with(path, Some(Kind::Ivf), None, MMAP).unwrap()
}

/// Batch answers (ids, score bits) on `threads` threads.
fn answers(idx: &VectorIndex, threads: usize) -> (Vec<u64>, Vec<u32>) {
    let (q, k) = (data(25, DIM, 9), 10);
    let (mut ids, mut scores) = (vec![0u64; 25 * k], vec![0f32; 25 * k]);
    idx.search_batch(&q, k, &SearchParams::default(), threads, &mut ids, &mut scores).unwrap();
    (ids, scores.iter().map(|s| s.to_bits()).collect())
}

#[test]
fn a_mapped_load_answers_bit_for_bit_like_a_copy_load_on_one_and_two_threads() {
    let d = dir("same");
    for store in [StoreKind::None, StoreKind::F16, StoreKind::F32] {
        let path = d.join(format!("{store:?}.ivf"));
        let built = saved(store, &path);
        let (copy, map) = (persist::load(&path, None).unwrap(), mapped(&path));
        assert!(map.mapped_bytes() > 0 && copy.mapped_bytes() == 0, "{store:?}");
        assert!(map.memory_bytes() + map.mapped_bytes() >= copy.memory_bytes() / 2, "{store:?}: mapped bytes count the lists");
        assert!(map.memory_bytes() < copy.memory_bytes(), "{store:?}: the lists are not copied");
        for threads in [1, 2] {
            assert_eq!(answers(&map, threads), answers(&copy, threads), "{store:?}, {threads} threads");
            assert_eq!(answers(&map, threads), answers(&built, threads), "{store:?}, {threads} threads");
        }
        assert!(map.equals(&copy) && map.calibration() == copy.calibration());
        let again = d.join("again.ivf");
        persist::save(&map, &again).unwrap();
        assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&path).unwrap(), "{store:?}: a mapped index saves the same bytes");
        let verified = persist::load_with(&path, None, None, LoadOptions { mmap: true, verify: true }).unwrap();
        assert_eq!(answers(&verified, 1), answers(&copy, 1));
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn adds_removes_compaction_and_a_save_over_its_own_file_work_on_a_mapped_index() {
    let d = dir("mutate");
    let path = d.join("i.ivf");
    saved(StoreKind::F16, &path);
    let (copy, map) = (SharedIndex::new(persist::load(&path, None).unwrap()), SharedIndex::new(mapped(&path)));
    let before = map.mapped_bytes();
    let extra = data(300, DIM, 4);
    let extra_ids: Vec<u64> = (0..300).map(|i| 1_000_000 + i).collect();
    let gone: Vec<u64> = (0..N as u64).step_by(3).map(|i| i * 13 + 5).collect();
    let upserted = [5u64, 18];
    for s in [&copy, &map] {
        s.add(&extra, &extra_ids).unwrap();
        s.remove(&gone[2..], false).unwrap();
        s.upsert(&data(2, DIM, 11), &upserted).unwrap();
    }
    let (c, m) = (copy.read().unwrap(), map.read().unwrap());
    assert!(m.mapped_bytes() < before, "touched lists and the store became owned");
    assert_eq!(answers(&m, 2), answers(&c, 2));
    assert_eq!(m.get(1_000_299).unwrap(), c.get(1_000_299).unwrap());
    // Saving over the mapped file renames a new file into place: the mapping
    // keeps the old inode, so the index still reads valid memory.
    persist::save(&m, &path).unwrap();
    assert_eq!(answers(&m, 1), answers(&c, 1));
    let reloaded = mapped(&path);
    assert_eq!(answers(&reloaded, 1), answers(&c.compacted().unwrap(), 1));
    drop((c, m));
    map.compact().unwrap();
    copy.compact().unwrap();
    let (c, m) = (copy.read().unwrap(), map.read().unwrap());
    assert_eq!((m.mapped_bytes(), answers(&m, 2)), (0, answers(&c, 2)));
    let left: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["i.ivf"], "no temporary file is left behind");
    std::fs::remove_dir_all(&d).unwrap();
}

fn load_err(path: &Path, opts: LoadOptions, expected: Option<Kind>) -> ruvector::error::Error {
    persist::load_with(path, expected, None, opts).err().expect("refused")
}

#[test]
fn damaged_foreign_and_other_variant_files_are_typed_errors_at_open() {
    let d = dir("bad");
    let path = d.join("good.ivf");
    saved(StoreKind::F16, &path);
    let good = std::fs::read(&path).unwrap();
    let bad = d.join("bad.ivf");
    for len in (0..good.len()).step_by(97).chain([good.len() - 1]) {
        std::fs::write(&bad, &good[..len]).unwrap();
        assert_eq!(load_err(&bad, MMAP, None).status, Status::Persist, "truncated to {len}");
    }
    let verify = LoadOptions { mmap: true, verify: true };
    let mut caught_lazily = 0;
    for at in (0..good.len()).step_by(41) {
        let mut b = good.clone();
        b[at] ^= 0x10;
        std::fs::write(&bad, &b).unwrap();
        assert_eq!(load_err(&bad, verify, None).status, Status::Persist, "byte {at} flipped, verified");
        // Unverified, a flip in a section's content may load (documented);
        // the header, table and structure are always checked.
        let lazy = persist::load_with(&bad, None, None, MMAP);
        if let Ok(idx) = &lazy {
            // Lookups through a damaged id order or ids section are safe.
            for id in [5, 18, 13 * 1499 + 5, 6] {
                assert!(!idx.contains(id) || idx.get(id).is_ok(), "byte {at} flipped: id {id}");
            }
        }
        caught_lazily += lazy.is_err() as usize;
        if at < 128 + 32 * 8 {
            assert_eq!(lazy.err().map(|e| e.status), Some(Status::Persist), "header byte {at} flipped");
        }
    }
    assert!(caught_lazily > 0);
    // Ids are checked by a copy load and with verify; a plain mapped open
    // reads none, so damaged ids load and only make lookups miss or return
    // an unchecked id.
    let ids_at = section_at(&good, 6);
    for (value, why) in [(good[ids_at..ids_at + 8].to_vec(), "duplicate id in the id order: id 5 at position 0 before id 5 at position 1"), ((1u64 << 53).to_le_bytes().to_vec(), "id 9007199254740992 at position 1 exceeds the maximum id")] {
        let mut b = good.clone();
        b[ids_at + 8..ids_at + 16].copy_from_slice(&value);
        std::fs::write(&bad, rechecksummed(&b)).unwrap();
        for opts in [verify, LoadOptions::default()] {
            let e = load_err(&bad, opts, None);
            assert!(e.status == Status::Persist && e.message.contains(why), "{}", e.message);
        }
        let lazy = mapped(&bad);
        assert!(lazy.contains(5) && lazy.get(18).is_err(), "{why}: id 18 was overwritten");
        assert_eq!(answers(&lazy, 1).0.len(), 250);
    }
    // A future version is refused by name.
    let mut v5 = good.clone();
    v5[8..12].copy_from_slice(&5u32.to_le_bytes());
    let crc = { let mut h = crc32fast::Hasher::new(); h.update(&v5[..124]); h.update(&v5[128..128 + 32 * 8]); h.finalize() };
    v5[124..128].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&bad, &v5).unwrap();
    for opts in [MMAP, LoadOptions::default()] {
        let e = load_err(&bad, opts, None);
        assert!(e.status == Status::Persist && e.message.contains("unsupported version 5"), "{}", e.message);
    }
    let flat = d.join("flat.idx");
    let p = Params::new(Kind::Flat, DIM, 7, 1, Metric::L2, false);
    persist::save(&VectorIndex::build(p, &data(50, DIM, 1), None).unwrap(), &flat).unwrap();
    let e = load_err(&flat, MMAP, Some(Kind::Flat));
    assert_eq!(e.status, Status::InvalidArgument);
    assert!(e.message.contains("FlatF32Index files cannot be memory-mapped"), "{}", e.message);
    let e = load_err(&flat, MMAP, None);
    assert!(e.status == Status::Persist && e.message.contains("only IvfRabitqIndex files can be memory-mapped"), "{}", e.message);
    std::fs::write(&bad, b"not an index at all").unwrap();
    assert_eq!(load_err(&bad, MMAP, None).status, Status::Persist);
    assert_eq!(load_err(&d, MMAP, None).status, Status::Persist, "a directory");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn mapped_indexes_are_shared_across_threads() {
    let d = dir("threads");
    let path = d.join("i.ivf");
    saved(StoreKind::F32, &path);
    let idx = Arc::new(mapped(&path));
    let want = answers(&idx, 1);
    let workers: Vec<_> = (0..2).map(|_| { let i = Arc::clone(&idx); std::thread::spawn(move || answers(&i, 1)) }).collect();
    for w in workers {
        assert_eq!(w.join().unwrap(), want);
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn the_c_abi_loads_by_mmap_and_refuses_bad_load_options() {
    use ruvector::ffi::index::{ruv_index_free, ruv_index_info, ruv_index_load_with, RuvIndex, RuvIndexInfo, RuvLoadOptions, RUV_INDEX_KIND_ANY, RUV_LOAD_MMAP, RUV_LOAD_VERIFY};
    let d = dir("ffi");
    let path = d.join("i.ivf");
    saved(StoreKind::None, &path);
    let p = path.to_str().unwrap().as_bytes();
    let load = |flags: u32, reserved: u32, size: usize| {
        let opts = RuvLoadOptions { struct_size: size as u32, expected_kind: RUV_INDEX_KIND_ANY, flags, reserved };
        let mut out: *mut RuvIndex = std::ptr::null_mut();
        // SAFETY: valid path bytes, options struct and out pointer.
        let status = unsafe { ruv_index_load_with(p.as_ptr(), p.len() as u64, &opts, &mut out) };
        (status, out)
    };
    let size = size_of::<RuvLoadOptions>();
    let (status, idx) = load(RUV_LOAD_MMAP, 0, size);
    assert_eq!(status, Status::Ok as i32);
    let mut info = RuvIndexInfo { struct_size: size_of::<RuvIndexInfo>() as u32, ..RuvIndexInfo::default() };
    // SAFETY: a live handle and a sized info struct; the handle is freed once.
    unsafe {
        assert_eq!(ruv_index_info(idx, &mut info), Status::Ok as i32);
        assert_eq!(ruv_index_free(idx), Status::Ok as i32);
    }
    assert!(info.len == N as u64 && info.mapped_bytes > 0);
    for (flags, reserved, size) in [(4, 0, size), (RUV_LOAD_VERIFY, 0, size), (RUV_LOAD_MMAP, 1, size), (RUV_LOAD_MMAP, 0, 8)] {
        let (status, idx) = load(flags, reserved, size);
        assert_eq!((status, idx.is_null()), (Status::InvalidArgument as i32, true), "flags {flags}, reserved {reserved}, size {size}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// The byte offset of the `i`-th section of an `RVIVFRQ1` file.
fn section_at(file: &[u8], i: usize) -> usize {
    let e = 128 + 32 * i + 8;
    u64::from_le_bytes(file[e..e + 8].try_into().unwrap()) as usize
}

/// The sections of an `RVIVFRQ1` file, in table order.
fn sections_of(file: &[u8]) -> Vec<Vec<u8>> {
    let count = u32::from_le_bytes(file[100..104].try_into().unwrap()) as usize;
    (0..count)
        .map(|i| {
            let len = u64::from_le_bytes(file[128 + 32 * i + 16..128 + 32 * i + 24].try_into().unwrap()) as usize;
            file[section_at(file, i)..section_at(file, i) + len].to_vec()
        })
        .collect()
}

/// A file with `file`'s header fields, `version` and the `sections` (id, bytes).
fn assemble(file: &[u8], version: u32, sections: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![0u8; 128 + 32 * sections.len()];
    for (i, (id, sec)) in sections.iter().enumerate() {
        out.resize(out.len().next_multiple_of(64), 0);
        let (e, offset) = (128 + 32 * i, out.len() as u64);
        out[e..e + 4].copy_from_slice(&id.to_le_bytes());
        out[e + 8..e + 16].copy_from_slice(&offset.to_le_bytes());
        out[e + 16..e + 24].copy_from_slice(&(sec.len() as u64).to_le_bytes());
        out[e + 24..e + 28].copy_from_slice(&crc32fast::hash(sec).to_le_bytes());
        out.extend_from_slice(sec);
    }
    out[..124].copy_from_slice(&file[..124]);
    out[8..12].copy_from_slice(&version.to_le_bytes());
    out[100..104].copy_from_slice(&(sections.len() as u32).to_le_bytes());
    let crc = { let mut h = crc32fast::Hasher::new(); h.update(&out[..124]); h.update(&out[128..128 + 32 * sections.len()]); h.finalize() };
    out[124..128].copy_from_slice(&crc.to_le_bytes());
    out
}

/// `file` with every checksum matching its (damaged) content, so the
/// content checks behind them are what refuses it.
fn rechecksummed(file: &[u8]) -> Vec<u8> {
    let s: Vec<(u32, Vec<u8>)> = sections_of(file).into_iter().enumerate().map(|(i, s)| (u32::from_le_bytes(file[128 + 32 * i..132 + 32 * i].try_into().unwrap()), s)).collect();
    let out = assemble(file, u32::from_le_bytes(file[8..12].try_into().unwrap()), &s);
    assert_eq!(out.len(), file.len());
    out
}

/// Sections numbered 1, 2, … (an older file without tags or id order).
fn consecutive(sections: Vec<Vec<u8>>) -> Vec<(u32, Vec<u8>)> {
    (1..).zip(sections).collect()
}

/// The id of each section of a file without tags (1..=7, 8 for a store,
/// then 10 for the id order).
fn numbered(sections: Vec<Vec<u8>>) -> Vec<(u32, Vec<u8>)> {
    let last = sections.len() - 1;
    sections.into_iter().enumerate().map(|(i, s)| (if i == last { 10 } else { i as u32 + 1 }, s)).collect()
}

fn list_sizes(s: &[Vec<u8>]) -> Vec<usize> {
    s[2].chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap()) as usize).collect()
}

/// `file` (version 4, no tags) rewritten as version 3 wrote it: the 1-bit
/// factors as f32 (per list add, res, err, 32 slots per block), each i16
/// step count times its block's scale.
fn as_version_3(file: &[u8]) -> Vec<u8> {
    let mut s = sections_of(file);
    let mut factors = Vec::new();
    let mut at = 0;
    for len in list_sizes(&s) {
        let blocks = len.div_ceil(32);
        let f = &s[4][at..at + blocks * 204];
        let scale = |i: usize, slot: usize| f32::from_le_bytes(f[192 * blocks + 4 * (3 * (slot / 32) + i)..][..4].try_into().unwrap());
        for i in 0..3 {
            for slot in 0..blocks * 32 {
                let k = i16::from_le_bytes(f[2 * (i * blocks * 32 + slot)..][..2].try_into().unwrap());
                factors.extend((k as f32 * scale(i, slot)).to_le_bytes());
            }
        }
        at += blocks * 204;
    }
    s[4] = factors;
    assemble(file, 3, &numbered(s))
}

/// `file` (version 3, no tags) rewritten as version 2 wrote it: each
/// record's code as one byte per component, its sign bit (from the block's
/// nibble) on top of the unpacked low bits, and no id order.
fn as_version_2(file: &[u8], dp: usize) -> Vec<u8> {
    let s = sections_of(file);
    let bits = u32::from_le_bytes(file[28..32].try_into().unwrap());
    let (packed, bb) = (excode::packed_bytes(dp, bits - 1), dp / 4 * 16);
    let rb = packed + 12;
    let mut records = Vec::new();
    let (mut at, mut block_at) = (0, 0);
    for len in list_sizes(&s) {
        for v in 0..len {
            let r = &s[5][(at + v) * rb..(at + v + 1) * rb];
            let mut code = excode::unpack(&r[..packed], dp, bits - 1);
            for (i, c) in code.iter_mut().enumerate() {
                let byte = s[3][(block_at + v / 32) * bb + i / 4 * 16 + v % 16];
                let nibble = if v % 32 < 16 { byte & 15 } else { byte >> 4 };
                *c |= (nibble >> (i % 4) & 1) << (bits - 1);
            }
            records.extend_from_slice(&code);
            records.extend_from_slice(&r[packed..]);
        }
        at += len;
        block_at += len.div_ceil(32);
    }
    let v2: Vec<Vec<u8>> = [&s[..5], &[records], &s[6..s.len() - 1]].concat();
    assemble(file, 2, &consecutive(v2))
}

/// `file` (version 2, no tags) rewritten as version 1 wrote it: each list's
/// records split into codes, extended factors (adds, then ress) and positions.
fn as_version_1(file: &[u8], dp: usize) -> Vec<u8> {
    let s = sections_of(file);
    let rb = dp + 12;
    let (mut codes, mut ex, mut pos) = (Vec::new(), Vec::new(), Vec::new());
    let mut at = 0;
    for len in list_sizes(&s) {
        let records: Vec<&[u8]> = s[5][at * rb..(at + len) * rb].chunks_exact(rb).collect();
        records.iter().for_each(|r| codes.extend_from_slice(&r[..dp]));
        records.iter().for_each(|r| ex.extend_from_slice(&r[dp..dp + 4]));
        records.iter().for_each(|r| ex.extend_from_slice(&r[dp + 4..dp + 8]));
        records.iter().for_each(|r| pos.extend_from_slice(&r[dp + 8..]));
        at += len;
    }
    let v1: Vec<Vec<u8>> = [&s[..5], &[codes, ex, pos], &s[6..]].concat();
    assemble(file, 1, &consecutive(v1))
}

#[test]
fn version_1_to_3_files_load_by_copy_with_the_same_answers_and_save_as_version_4() {
    let d = dir("old");
    let dp = DIM.div_ceil(64) * 64;
    for store in [StoreKind::None, StoreKind::F16] {
        let path = d.join("v4.ivf");
        let built = saved(store, &path);
        let v4 = std::fs::read(&path).unwrap();
        assert!(persist::load_ivf_mapped_or_copied(&path, true).unwrap().mapped_bytes() > 0, "a warm start maps version 4");
        let v3 = as_version_3(&v4);
        let v2 = as_version_2(&v3, dp);
        for (version, bytes) in [(3, v3.clone()), (2, v2.clone()), (1, as_version_1(&v2, dp))] {
            let old = d.join(format!("v{version}.ivf"));
            std::fs::write(&old, bytes).unwrap();
            let loaded = persist::load_with(&old, Some(Kind::Ivf), None, LoadOptions::default()).unwrap();
            assert_eq!(answers(&loaded, 1), answers(&built, 1), "version {version}, store {store:?}");
            assert_eq!(loaded.ids(), built.ids());
            let warm = persist::load_ivf_mapped_or_copied(&old, true).unwrap();
            assert_eq!((answers(&warm, 1), warm.mapped_bytes()), (answers(&built, 1), 0), "a warm start copies version {version}");
            let e = load_err(&old, MMAP, None);
            let want = format!("a version-{version} file cannot be memory-mapped");
            assert!(e.status == Status::Persist && e.message.contains(&want), "{}", e.message);
            persist::save(&loaded, &old).unwrap();
            assert_eq!(std::fs::read(&old).unwrap(), v4, "saving upgrades version {version} to the same version-4 bytes");
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// A file without an id order (every version-1 and -2 file) loads both ways,
/// its order made by sorting and its ids always checked; saving adds the order.
#[test]
fn a_file_without_an_id_order_loads_with_its_ids_checked_and_saves_one() {
    let d = dir("unordered");
    for store in [StoreKind::None, StoreKind::F16] {
        let path = d.join("new.ivf");
        let built = saved(store, &path);
        let new = std::fs::read(&path).unwrap();
        let mut sections = numbered(sections_of(&new));
        assert_eq!(sections.last().unwrap().1.len(), 4 * N, "the id order: one u32 per row");
        sections.pop();
        let unordered = d.join("unordered.ivf");
        std::fs::write(&unordered, assemble(&new, 4, &sections)).unwrap();
        let verify = LoadOptions { mmap: true, verify: true };
        for opts in [LoadOptions::default(), MMAP, verify] {
            let loaded = persist::load_with(&unordered, Some(Kind::Ivf), None, opts).unwrap();
            assert_eq!(answers(&loaded, 1), answers(&built, 1), "store {store:?}, {opts:?}");
            assert!(loaded.contains(18) && !loaded.contains(19) && loaded.ids() == built.ids());
            persist::save(&loaded, &d.join("again.ivf")).unwrap();
            assert_eq!(std::fs::read(d.join("again.ivf")).unwrap(), new, "saving writes today's bytes");
        }
        let mut dup = std::fs::read(&unordered).unwrap();
        let ids_at = section_at(&dup, 6);
        dup.copy_within(ids_at..ids_at + 8, ids_at + 8);
        std::fs::write(&unordered, &dup).unwrap();
        let e = load_err(&unordered, MMAP, None);
        assert!(e.message.contains("duplicate id 5 at position 1"), "without an id order the ids are always checked: {}", e.message);
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_damaged_id_order_fails_verification_and_unverified_only_misses_lookups() {
    let d = dir("order");
    let path = d.join("i.ivf");
    let built = saved(StoreKind::F16, &path);
    let good = std::fs::read(&path).unwrap();
    let order_at = section_at(&good, 8);
    let bad = d.join("bad.ivf");
    let ids: Vec<u64> = (0..N as u64).map(|i| i * 13 + 5).collect();
    type Damage = fn(&mut [u8]);
    let damages: [(&str, Damage); 4] = [
        ("entries swapped", |o| o.copy_within(0..4, 40)),
        ("past the rows", |o| o[8..12].copy_from_slice(&u32::MAX.to_le_bytes())),
        ("reversed", |o| o.reverse()),
        ("zeroed", |o| o.fill(0)),
    ];
    for (what, damage) in damages {
        let mut b = good.clone();
        damage(&mut b[order_at..order_at + 4 * N]);
        std::fs::write(&bad, rechecksummed(&b)).unwrap();
        for opts in [LoadOptions { mmap: true, verify: true }, LoadOptions::default()] {
            let e = load_err(&bad, opts, None);
            assert!(e.status == Status::Persist && e.message.contains("id order"), "{what}, {opts:?}: {}", e.message);
        }
        let mut lazy = mapped(&bad);
        let found = ids.iter().filter(|&&id| lazy.contains(id)).count();
        for &id in &ids {
            if let Ok(v) = lazy.get(id) {
                assert_eq!(v, built.get(id).unwrap(), "{what}: a hit is the right row");
            }
        }
        assert!(found < N, "{what}: some lookups miss ({found} found)");
        assert_eq!(answers(&lazy, 1), answers(&built, 1), "{what}: searches do not use the id order");
        assert!(!lazy.contains(1 << 52) && lazy.check_remove(&[3], true).is_ok());
        lazy.add_batch(&data(1, DIM, 12), &[7]).unwrap();
        assert!(lazy.contains(7) && lazy.remove_present(&[7]) == 1 && !lazy.contains(7));
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_old_code_that_disagrees_with_its_sign_nibbles_or_exceeds_b_bits_is_refused() {
    let d = dir("old-bad");
    let dp = DIM.div_ceil(64) * 64;
    let path = d.join("v3.ivf");
    saved(StoreKind::None, &path);
    let v2 = as_version_2(&std::fs::read(&path).unwrap(), dp);
    let s = sections_of(&v2);
    for (what, flip) in [("does not match its code", true), ("above 127 for 7 bits", false)] {
        let mut records = s[5].clone();
        // Vector 0's first component: its sign bit flipped against its nibble, or out of range.
        records[0] = if flip { records[0] ^ 0x40 } else { 0xFF };
        let old = d.join("bad.ivf");
        let sections: Vec<Vec<u8>> = [&s[..5], &[records], &s[6..]].concat();
        std::fs::write(&old, assemble(&v2, 2, &consecutive(sections))).unwrap();
        let e = load_err(&old, LoadOptions::default(), None);
        assert!(e.status == Status::Persist && e.message.contains(what), "{what}: {}", e.message);
    }
    std::fs::remove_dir_all(&d).unwrap();
}
