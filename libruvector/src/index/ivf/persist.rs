//! The `RVIVFRQ1` file: little-endian, a 128-byte header, a section table of
//! (id, offset, length, crc32) and sections at 64-byte-aligned offsets with
//! zero padding between them, so a reader could map the file and use the
//! arrays in place. Every header claim is checked against the file size and
//! every section length against what the header implies before anything is
//! allocated; the content is then validated (permutation of positions, finite
//! factors, zero padding bits in packed codes and unused slots).
//!
//! Header: magic[8] · version u32 · header bytes u32 · dim u32 · padded dim u32
//! · metric u32 · ex bits u32 · nlist u32 · store u32 · n u64 · seed u64 ·
//! t_const f32 · ε₀ f32 · nprobe u32 · rerank u32 · k-means iterations u32 ·
//! train per list u32 · calibrated u32 · target f32 · measured f32 ·
//! calibrated nprobe u32 · calibration queries u32 · sections u32 · zero[20] ·
//! crc32 u32 of the header's first 124 bytes and the section table.
//!
//! Sections in order: 1 rotation signs (4·D/8 bytes) · 2 rotated centroids
//! (nlist × D f32) · 3 list sizes (nlist u64) · 4 sign-nibble blocks of all
//! lists · 5 1-bit factors (per list: add, res, err as i16 steps, 32 per
//! block; then per block the f32 power-of-two scales of add, res and err,
//! see `factors16`) ·
//! 6 records (per vector, in list order: the code's B − 1 low bits packed as
//! `kernels::excode` lays them out, extended add and res f32, row position
//! u32) · 7 the caller's ids (n u64, by position) · 8 the
//! store (n × dim f16/f32, insertion order; present only with a store) · 9 the
//! rows' tags (n u64, by position; present only when some row has tags) · 10
//! the id order (n u32, see `id_section`; always written, optional to read).
//! So a file has ids 1..=7, then 8 if it has a store, 9 if it has tags and 10
//! if it has an id order, in that order. Lists appear in id order in every
//! section. Sections 4, 5, 6, 7, 8 and 10 are exactly the in-memory arrays, so
//! an `mmap` load uses them in place.
//!
//! Checks: a copy load verifies everything above and every section's CRC,
//! and that ids are unique and in range with the id order a permutation of
//! the positions in ascending id order. A mapped load verifies the header CRC
//! (which covers the section table) and every structural claim (sizes,
//! offsets, alignment, padding, list sizes), but reads no section content
//! unless asked to verify — that is what makes it open in milliseconds; only
//! a file without an id order has its ids read (and checked) to make one.
//! `verify` adds exactly the copy load's content checks. Unverified content
//! is only ever read through bounds-checked slices, so a corrupt section
//! gives wrong scores, missed id lookups, unchecked ids or a typed error at
//! search time, never undefined behaviour or a panic.

use std::sync::Arc;

use super::{factors16, id_section};
use super::lists::{block_bytes, InvList, Layout};
use super::slab::{Mapping, Plain, Slab};
use super::rotation::{Rotation, ROUNDS};
use super::store::{Store, StoreKind};
use super::tune::Calibration;
use super::{upgrade, IvfParams, IvfRabitqIndex};
use crate::error::{Error, Result};
use crate::index::ids::IdMap;
use crate::index::{Metric, MAX_DIM};
use crate::kernels::{excode, BLOCK};

pub const MAGIC: &[u8; 8] = b"RVIVFRQ1";
/// 4: the 1-bit factors are 16-bit steps of per-block scales. Version 3 had them
/// as f32, version 2 also one byte per code component (sign bit included) in
/// its records, version 1 codes, extended factors and positions in three
/// sections: all still load by copy (see `upgrade`), and saving writes
/// version 4.
const VERSION: u32 = 4;
const SECTIONS: usize = 7;
const V1_SECTIONS: usize = 9;
/// The tags section's id.
const TAGS_ID: u32 = 9;
/// Ids of the sections a version-2 file may add after the fixed ones, in order.
const OPTIONAL: [u32; 2] = [TAGS_ID, id_section::ID];
const HEADER: usize = 128;
/// Bytes of one block's 1-bit factors: 32 slots × 3 i16, then 3 f32 scales.
const FACTOR_BLOCK_BYTES: usize = BLOCK * 6 + 12;
const ENTRY: usize = 32;
const ALIGN: usize = 64;

impl IvfRabitqIndex {
    /// The file's bytes with `ids` (one per position; deterministic: equal
    /// indexes give equal bytes).
    ///
    /// # Panics
    /// When `ids` are not one unique id (up to 2^53-1) per position.
    pub fn to_bytes(&self, ids: &[u64]) -> Vec<u8> {
        self.to_bytes_tagged(&IdMap::from_ids(ids.to_vec()).expect("unique ids in range"), &[])
    }

    /// The file's bytes with the id map `ids` (of a compacted index: one live
    /// id per position) and the rows' `tags` (one per position, or empty).
    pub(crate) fn to_bytes_tagged(&self, ids: &IdMap, tags: &[u64]) -> Vec<u8> {
        assert_eq!(ids.len(), self.len, "one id per position");
        assert!(tags.is_empty() || tags.len() == self.len, "one tag per position, or none");
        let mut sections = self.sections(ids.as_slice());
        let mut section_ids: Vec<u32> = (1..=sections.len() as u32).collect();
        if !tags.is_empty() {
            sections.push(tags.iter().flat_map(|t| t.to_le_bytes()).collect());
            section_ids.push(TAGS_ID);
        }
        sections.push(id_section::bytes(ids));
        section_ids.push(id_section::ID);
        let table_end = HEADER + ENTRY * sections.len();
        let mut out = vec![0u8; table_end];
        let mut table = Vec::with_capacity(ENTRY * sections.len());
        for (s, id) in sections.iter().zip(section_ids) {
            out.resize(out.len().next_multiple_of(ALIGN), 0);
            table.extend(id.to_le_bytes());
            table.extend(0u32.to_le_bytes());
            table.extend((out.len() as u64).to_le_bytes());
            table.extend((s.len() as u64).to_le_bytes());
            table.extend(crc32fast::hash(s).to_le_bytes());
            table.extend(0u32.to_le_bytes());
            out.extend_from_slice(s);
        }
        let header = self.header(sections.len());
        out[..124].copy_from_slice(&header);
        out[HEADER..table_end].copy_from_slice(&table);
        let crc = header_crc(&out[..124], &table);
        out[124..128].copy_from_slice(&crc.to_le_bytes());
        out
    }

    fn header(&self, sections: usize) -> Vec<u8> {
        let p = &self.params;
        let cal = self.calibration.unwrap_or(Calibration { target_recall: 0.0, measured_recall: 0.0, nprobe: 0, rerank: 0, queries: 0 });
        let mut h = Vec::with_capacity(124);
        h.extend_from_slice(MAGIC);
        for v in [VERSION, HEADER as u32, p.dim as u32, p.padded_dim() as u32, p.metric as u32, p.options.ex_bits, p.options.nlist as u32, p.options.store as u32] {
            h.extend(v.to_le_bytes());
        }
        h.extend((self.len as u64).to_le_bytes());
        h.extend(p.seed.to_le_bytes());
        h.extend(self.t_const.to_le_bytes());
        h.extend(p.eps0.to_le_bytes());
        for v in [p.options.nprobe as u32, p.options.rerank as u32, p.kmeans_iters as u32, p.train_per_list as u32, self.calibration.is_some() as u32] {
            h.extend(v.to_le_bytes());
        }
        h.extend(cal.target_recall.to_le_bytes());
        h.extend(cal.measured_recall.to_le_bytes());
        for v in [cal.nprobe, cal.queries, sections as u32] {
            h.extend(v.to_le_bytes());
        }
        h.resize(124, 0);
        h
    }

    fn sections(&self, ids: &[u64]) -> Vec<Vec<u8>> {
        let lists = &self.lists;
        let f32s = |v: &mut Vec<u8>, x: &[f32]| v.extend(x.iter().flat_map(|f| f.to_le_bytes()));
        let u16s = |v: &mut Vec<u8>, x: &[u16]| v.extend(x.iter().flat_map(|h| h.to_le_bytes()));
        let mut s: Vec<Vec<u8>> = vec![Vec::new(); 6];
        s[0] = self.rotation.sign_bytes().to_vec();
        f32s(&mut s[1], &self.centroids);
        s[2] = lists.iter().flat_map(|l| (l.len as u64).to_le_bytes()).collect();
        for l in lists {
            s[3].extend_from_slice(&l.signs);
            for v in [&l.add, &l.res, &l.err] {
                u16s(&mut s[4], v);
            }
            f32s(&mut s[4], &l.scale);
            s[5].extend_from_slice(&l.records);
        }
        s.push(ids.iter().flat_map(|id| id.to_le_bytes()).collect());
        if self.store.kind() != StoreKind::None {
            s.push(self.store.to_le_bytes());
        }
        s
    }

    /// Parses and fully validates a file image into the index and its ids
    /// (by position); any inconsistency is a `Persist` error.
    pub fn load_from(bytes: &[u8]) -> Result<(Self, Vec<u64>)> {
        Self::parse(bytes, None, true).map(|(index, ids, _)| (index, ids.as_slice().to_vec()))
    }

    /// `load_from`, returning the id map and the rows' tags (by position;
    /// empty when the file has none).
    pub(crate) fn load_tagged(bytes: &[u8]) -> Result<(Self, IdMap, Vec<u64>)> {
        Self::parse(bytes, None, true)
    }

    /// Like `load_tagged`, but the lists, codes, store, ids and id order
    /// borrow from `map` (the whole file). Section CRCs and content are
    /// checked only when `verify` (which reads every page); the header,
    /// section table and all sizes always are.
    pub(crate) fn load_mapped(map: &Arc<Mapping>, verify: bool) -> Result<(Self, IdMap, Vec<u64>)> {
        Self::parse(map.bytes(), Some(map), verify)
    }

    /// True when `bytes` (a whole file) are in the current layout, the one a
    /// mapped load searches in place; older files load only by copy.
    pub(crate) fn maps_in_place(bytes: &[u8]) -> Result<bool> {
        Ok(Header::parse(bytes)?.version == VERSION)
    }

    fn parse(bytes: &[u8], map: Option<&Arc<Mapping>>, verify: bool) -> Result<(Self, IdMap, Vec<u64>)> {
        let h = Header::parse(bytes)?;
        if h.version < VERSION && map.is_some() {
            return Err(bad(format!("a version-{} file cannot be memory-mapped: load it without mmap and save it to upgrade it to version {VERSION}", h.version)));
        }
        let (sections, optional) = h.sections(bytes, verify)?;
        let optional_section = |id: u32| optional.iter().find(|s| s.0 == id).map(|s| s.1);
        let (dp, nlist, n) = (h.params.padded_dim(), h.params.options.nlist, h.n);
        let signs = sections[0];
        expect_len("rotation signs", signs, ROUNDS * dp / 8)?;
        let centroids = finite_f32s("centroids", sections[1], nlist.checked_mul(dp))?;
        expect_len("list sizes", sections[2], nlist * 8)?;
        let sizes: Vec<usize> = sections[2].chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap()) as usize).collect();
        let total = sizes.iter().try_fold(0usize, |a, &s| a.checked_add(s));
        if total != Some(n) {
            return Err(bad(format!("list sizes sum to {total:?}, header says {n} vectors")));
        }
        let layout = h.params.layout();
        let blocks: usize = sizes.iter().map(|s| s.div_ceil(BLOCK)).sum();
        expect_len("sign blocks", sections[3], blocks * block_bytes(dp))?;
        let (upgraded, factors);
        let mut sections = match h.version {
            1 => {
                upgraded = upgrade::records_from_v1(&sizes, layout, sections[3], &sections[5..8]).map_err(bad)?;
                [&sections[..5], &[upgraded.as_slice()], &sections[8..]].concat()
            }
            2 => {
                upgraded = upgrade::records_from_v2(&sizes, layout, sections[3], sections[5]).map_err(bad)?;
                [&sections[..5], &[upgraded.as_slice()], &sections[6..]].concat()
            }
            _ => sections,
        };
        if h.version < VERSION {
            expect_len("1-bit factors", sections[4], blocks * BLOCK * 12)?;
            factors = upgrade::factors_from_f32(&sizes, sections[4]).map_err(bad)?;
            sections[4] = &factors;
        }
        expect_len("1-bit factors", sections[4], blocks * FACTOR_BLOCK_BYTES)?;
        expect_len("records", sections[5], n * layout.record_bytes())?;
        expect_len("ids", sections[6], n * 8)?;
        let view = Viewer { map };
        let ids = id_section::read(sections[6], optional_section(id_section::ID), &view, verify)?;
        let store = match h.params.options.store {
            StoreKind::None => Store::None,
            kind => {
                let raw = sections[7];
                expect_len("store", raw, n * h.params.dim * kind.bytes_per_value())?;
                let store = view.store(kind, raw);
                if verify {
                    check_store(&store)?;
                }
                store
            }
        };
        let tags = match optional_section(TAGS_ID) {
            Some(raw) => {
                expect_len("tags", raw, n * 8)?;
                raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
            }
            None => Vec::new(),
        };
        let lists = read_lists(&h, &sizes, &sections, &view);
        if verify {
            for (id, l) in lists.iter().enumerate() {
                check_list(l, layout).map_err(|msg| bad(format!("list {id}: {msg}")))?;
            }
            check_permutation(&lists, layout, n)?;
        }
        let index = IvfRabitqIndex {
            params: h.params,
            rotation: Rotation::from_signs(dp, signs.to_vec()),
            t_const: h.t_const,
            coarse: super::coarse::Coarse::new(&centroids, dp),
            centroids,
            lists,
            store,
            len: n,
            calibration: h.calibration,
        };
        Ok((index, ids, tags))
    }
}

/// Makes arrays from section bytes: in place from a mapping, else copies.
pub(super) struct Viewer<'a> {
    map: Option<&'a Arc<Mapping>>,
}

impl Viewer<'_> {
    pub(super) fn slab<T: Plain>(&self, bytes: &[u8]) -> Slab<T> {
        match self.map {
            Some(map) => Slab::view(map, bytes),
            None => Slab::decode(bytes),
        }
    }

    fn store(&self, kind: StoreKind, raw: &[u8]) -> Store {
        match kind {
            StoreKind::None => Store::None,
            StoreKind::F16 => Store::F16(self.slab(raw)),
            StoreKind::F32 => Store::F32(self.slab(raw)),
        }
    }
}

fn header_crc(header: &[u8], table: &[u8]) -> u32 {
    let mut c = crc32fast::Hasher::new();
    c.update(header);
    c.update(table);
    c.finalize()
}

pub(super) fn bad(msg: String) -> Error {
    Error::persist(format!("invalid IvfRabitqIndex file: {msg}"))
}

pub(super) fn expect_len(what: &str, s: &[u8], want: usize) -> Result<()> {
    if s.len() != want {
        return Err(bad(format!("{what} section has {} bytes, the header implies {want}", s.len())));
    }
    Ok(())
}

fn finite_f32s(what: &str, s: &[u8], count: Option<usize>) -> Result<Vec<f32>> {
    let count = count.ok_or_else(|| bad(format!("{what} size overflows")))?;
    expect_len(what, s, count * 4)?;
    let v: Vec<f32> = s.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(bad(format!("{what} value {i} is not finite ({})", v[i])));
    }
    Ok(v)
}

fn check_store(store: &Store) -> Result<()> {
    let bad_value = match store {
        Store::None => None,
        Store::F32(v) => v.iter().position(|x| !x.is_finite()).map(|i| format!("{i} is not finite ({})", v[i])),
        Store::F16(v) => v.iter().position(|&b| b & 0x7c00 == 0x7c00).map(|i| format!("{i} is not finite (f16 bits {:#06x})", v[i])),
    };
    bad_value.map_or(Ok(()), |msg| Err(bad(format!("store value {msg}"))))
}

/// Splits the per-list sections into lists (lengths already checked).
fn read_lists(h: &Header, sizes: &[usize], s: &[&[u8]], view: &Viewer) -> Vec<InvList> {
    let layout = h.params.layout();
    let (bb, rb) = (block_bytes(layout.dim), layout.record_bytes());
    let (mut at_blocks, mut at_vecs) = (0usize, 0usize);
    let mut lists = Vec::with_capacity(sizes.len());
    for &len in sizes {
        let blocks = len.div_ceil(BLOCK);
        let slots = blocks * BLOCK * 2;
        let fb = at_blocks * FACTOR_BLOCK_BYTES;
        let factor = |i: usize| view.slab(&s[4][fb + i * slots..fb + (i + 1) * slots]);
        lists.push(InvList {
            len,
            signs: view.slab(&s[3][at_blocks * bb..(at_blocks + blocks) * bb]),
            add: factor(0),
            res: factor(1),
            err: factor(2),
            scale: view.slab(&s[4][fb + 3 * slots..fb + 3 * slots + 12 * blocks]),
            records: view.slab(&s[5][at_vecs * rb..(at_vecs + len) * rb]),
        });
        at_blocks += blocks;
        at_vecs += len;
    }
    lists
}

/// Finite factors, zero padding bits in every packed code, zero unused slots.
fn check_list(l: &InvList, layout: Layout) -> std::result::Result<(), String> {
    let mut repacked = Vec::with_capacity(layout.packed_bytes());
    for (v, r) in l.records(layout).enumerate() {
        repacked.clear();
        excode::pack(&excode::unpack(r.low, layout.dim, layout.low_bits()), layout.low_bits(), &mut repacked);
        if repacked != r.low {
            return Err(format!("vector {v} has non-zero padding bits in its packed code"));
        }
        if !(r.ex_add.is_finite() && r.ex_res.is_finite()) {
            return Err(format!("vector {v} has non-finite extended factors {} / {}", r.ex_add, r.ex_res));
        }
    }
    if let Some(k) = [&l.add, &l.res, &l.err].iter().flat_map(|v| v.iter()).find(|&&k| !factors16::valid_steps(k)) {
        return Err(format!("a 1-bit factor has {} steps, beyond ±{}", *k as i16, factors16::MAX_STEPS));
    }
    if let Some(s) = l.scale.iter().find(|&&s| !factors16::valid_scale(s)) {
        return Err(format!("a block scale is {s}, not a normal power of two"));
    }
    check_unused_slots(l, layout.dim)
}

/// Slots past the list's end must have zero nibbles and factors.
fn check_unused_slots(l: &InvList, dp: usize) -> std::result::Result<(), String> {
    for slot in l.len..l.blocks() * BLOCK {
        if let Some(m) = (0..dp / 4).find(|&m| l.nibble(slot, m, dp) != 0) {
            return Err(format!("unused slot {slot} has a non-zero sign nibble at sub-quantizer {m}"));
        }
        if l.add[slot] != 0 || l.res[slot] != 0 || l.err[slot] != 0 {
            return Err(format!("unused slot {slot} has non-zero factors"));
        }
    }
    Ok(())
}

fn check_permutation(lists: &[InvList], layout: Layout, n: usize) -> Result<()> {
    let mut seen = vec![false; n];
    for r in lists.iter().flat_map(|l| l.records(layout)) {
        let p = r.pos as usize;
        if p >= n || std::mem::replace(&mut seen[p], true) {
            return Err(bad(format!("row positions are not a permutation of 0..{n} (at {p})")));
        }
    }
    Ok(())
}

/// An optional section: its id and bytes.
type Optional<'a> = (u32, &'a [u8]);

struct Header {
    version: u32,
    params: IvfParams,
    n: usize,
    t_const: f32,
    calibration: Option<Calibration>,
    sections: usize,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}
fn f32_at(b: &[u8], at: usize) -> f32 {
    f32::from_bits(u32_at(b, at))
}

impl Header {
    /// Sections before the optional ones.
    fn store_sections(&self) -> usize {
        let base = if self.version == 1 { V1_SECTIONS } else { SECTIONS };
        base + (self.params.options.store != StoreKind::None) as usize
    }

    fn parse(b: &[u8]) -> Result<Self> {
        if b.len() < HEADER || &b[..8] != MAGIC {
            return Err(bad(format!("not an RVIVFRQ1 file ({} bytes, magic {:?})", b.len(), &b[..b.len().min(8)])));
        }
        let (version, header_len) = (u32_at(b, 8), u32_at(b, 12));
        if !(1..=VERSION).contains(&version) || header_len as usize != HEADER {
            return Err(bad(format!("unsupported version {version} / header size {header_len}")));
        }
        let base = if version == 1 { V1_SECTIONS } else { SECTIONS };
        let sections = u32_at(b, 100) as usize;
        if !(base..=base + 1 + OPTIONAL.len()).contains(&sections) || HEADER + ENTRY * sections > b.len() {
            return Err(bad(format!("{sections} sections do not fit a {}-byte file", b.len())));
        }
        let table = &b[HEADER..HEADER + ENTRY * sections];
        if header_crc(&b[..124], table) != u32_at(b, 124) {
            return Err(bad("header checksum mismatch".into()));
        }
        if b[104..124].iter().any(|&x| x != 0) {
            return Err(bad("reserved header bytes are not zero".into()));
        }
        let dim = u32_at(b, 16) as usize;
        if dim == 0 || dim > MAX_DIM || u32_at(b, 20) as usize != dim.div_ceil(64) * 64 {
            return Err(bad(format!("dim {dim} / padded {} out of range", u32_at(b, 20))));
        }
        let metric = Metric::from_u32(u32_at(b, 24)).map_err(|e| bad(e.message))?;
        let mut p = IvfParams::new(dim, metric);
        p.options.ex_bits = u32_at(b, 28);
        p.options.nlist = u32_at(b, 32) as usize;
        p.options.store = StoreKind::from_u32(u32_at(b, 36)).map_err(|e| bad(e.message))?;
        let n = u64_at(b, 40);
        p.seed = u64_at(b, 48);
        p.eps0 = f32_at(b, 60);
        p.options.nprobe = u32_at(b, 64) as usize;
        p.options.rerank = u32_at(b, 68) as usize;
        p.kmeans_iters = u32_at(b, 72) as usize;
        p.train_per_list = u32_at(b, 76) as usize;
        p.validate().map_err(|e| bad(e.message))?;
        let t_const = f32_at(b, 56);
        if n == 0 || n > u32::MAX as u64 || p.options.nlist == 0 || p.options.nlist as u64 > n {
            return Err(bad(format!("{n} vectors in {} lists", p.options.nlist)));
        }
        if p.options.nprobe == 0 || p.options.nprobe > p.options.nlist || !(t_const.is_finite() && t_const >= 0.0) {
            return Err(bad(format!("nprobe {} of {} lists, t_const {t_const}", p.options.nprobe, p.options.nlist)));
        }
        let want_sections = base + (p.options.store != StoreKind::None) as usize;
        // Version 1 had no optional sections.
        let most = if version == 1 { want_sections } else { want_sections + OPTIONAL.len() };
        if !(want_sections..=most).contains(&sections) {
            return Err(bad(format!("{sections} sections, store {:?} needs {want_sections} (or up to {most} with tags and an id order)", p.options.store)));
        }
        let calibration: Option<Calibration> = match u32_at(b, 80) {
            0 => None,
            1 => Some(Calibration { target_recall: f32_at(b, 84), measured_recall: f32_at(b, 88), nprobe: u32_at(b, 92), rerank: p.options.rerank as u32, queries: u32_at(b, 96) }),
            v => return Err(bad(format!("calibration flag {v}"))),
        };
        if let Some(c) = calibration {
            let sane = c.target_recall > 0.0 && c.target_recall <= 1.0 && (0.0..=1.0).contains(&c.measured_recall);
            if !sane || c.nprobe as usize != p.options.nprobe {
                return Err(bad(format!("calibration {c:?} does not match nprobe {}", p.options.nprobe)));
            }
        }
        p.options.target_recall = calibration.map(|c| c.target_recall);
        Ok(Header { version, params: p, n: n as usize, t_const, calibration, sections })
    }

    /// The fixed section slices and the optional (id, slice) ones, after
    /// checking ids, alignment, bounds, order, zero padding and (when
    /// `verify`) checksums.
    fn sections<'a>(&self, b: &'a [u8], verify: bool) -> Result<(Vec<&'a [u8]>, Vec<Optional<'a>>)> {
        let mut end = HEADER + ENTRY * self.sections;
        let fixed = self.store_sections();
        let (mut out, mut optional) = (Vec::with_capacity(fixed), Vec::new());
        for i in 0..self.sections {
            let e = HEADER + ENTRY * i;
            let (id, offset, len, crc) = (u32_at(b, e), u64_at(b, e + 8), u64_at(b, e + 16), u32_at(b, e + 24));
            let last = optional.last().map_or(0, |s: &Optional| s.0);
            let known = if i < fixed { id == i as u32 + 1 } else { OPTIONAL.contains(&id) && id > last };
            if !known || u32_at(b, e + 4) != 0 || u32_at(b, e + 28) != 0 {
                return Err(bad(format!("section table entry {i} has id {id}")));
            }
            let fits = offset % ALIGN as u64 == 0 && offset >= end as u64 && offset.checked_add(len).is_some_and(|x| x <= b.len() as u64);
            if !fits {
                return Err(bad(format!("section {id} at {offset} + {len} is misaligned, overlapping or past the {}-byte file", b.len())));
            }
            let (offset, len) = (offset as usize, len as usize);
            if b[end..offset].iter().any(|&x| x != 0) || offset - end >= ALIGN {
                return Err(bad(format!("padding before section {id} is not minimal zero padding")));
            }
            let s = &b[offset..offset + len];
            if verify && crc32fast::hash(s) != crc {
                return Err(bad(format!("section {id} checksum mismatch")));
            }
            if i < fixed {
                out.push(s);
            } else {
                optional.push((id, s));
            }
            end = offset + len;
        }
        if end != b.len() {
            return Err(bad(format!("{} trailing bytes after the last section", b.len() - end)));
        }
        Ok((out, optional))
    }
}
