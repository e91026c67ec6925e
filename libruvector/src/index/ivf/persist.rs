//! The `RVIVFRQ1` file: little-endian, a 128-byte header, a section table of
//! (id, offset, length, crc32) and sections at 64-byte-aligned offsets with
//! zero padding between them, so a reader could map the file and use the
//! arrays in place. Every header claim is checked against the file size and
//! every section length against what the header implies before anything is
//! allocated; the content is then validated (permutation of positions, finite
//! factors, codes within B bits, sign nibbles matching the codes, zero padding).
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
//! lists · 5 1-bit factors (per list: add, res, err, 32 per block, f32) ·
//! 6 records (per vector, in list order: B-bit code D × u8, extended add and
//! res f32, row position u32) · 7 the caller's ids (n u64, by position) · 8 the
//! store (n × dim f16/f32, insertion order; present only with a store) · 9 the
//! rows' tags (n u64, by position; present only when some row has tags, always
//! last, so a file has 7, 8 or 9 sections with ids 1..=7, then 8 if it has a
//! store, then 9 if it has tags). Lists appear in id order in every section. Sections 4, 5, 6 and 8 are exactly the
//! in-memory arrays, so an `mmap` load uses them in place.
//!
//! Checks: a copy load verifies everything above and every section's CRC. A
//! mapped load verifies the header CRC (which covers the section table) and
//! every structural claim (sizes, offsets, alignment, padding, list sizes,
//! ids), but reads no section content unless asked to verify — that is what
//! makes it open in milliseconds. Unverified content is only ever read through
//! bounds-checked slices, so a corrupt section gives wrong scores or a typed
//! internal error at search time, never undefined behaviour.

use std::sync::Arc;

use super::lists::{block_bytes, record_bytes, InvList};
use super::slab::{Mapping, Plain, Slab};
use super::rotation::{Rotation, ROUNDS};
use super::store::{Store, StoreKind};
use super::tune::Calibration;
use super::{upgrade, IvfParams, IvfRabitqIndex};
use crate::error::{Error, Result};
use crate::index::{Metric, MAX_DIM};
use crate::kernels::BLOCK;

pub const MAGIC: &[u8; 8] = b"RVIVFRQ1";
/// 2: one records section in the in-memory layout. Version 1 had codes,
/// extended factors and positions in three sections: it still loads by copy
/// (see `upgrade`), and saving it writes version 2.
const VERSION: u32 = 2;
const SECTIONS: usize = 7;
const V1_SECTIONS: usize = 9;
/// The tags section's id: always the last section when present.
const TAGS_ID: u32 = 9;
const HEADER: usize = 128;
const ENTRY: usize = 32;
const ALIGN: usize = 64;

impl IvfRabitqIndex {
    /// The file's bytes with `ids` (one per position; deterministic: equal
    /// indexes give equal bytes).
    pub fn to_bytes(&self, ids: &[u64]) -> Vec<u8> {
        self.to_bytes_tagged(ids, &[])
    }

    /// `to_bytes` with the rows' `tags` (one per position, or empty for none).
    pub fn to_bytes_tagged(&self, ids: &[u64], tags: &[u64]) -> Vec<u8> {
        assert_eq!(ids.len(), self.len, "one id per position");
        assert!(tags.is_empty() || tags.len() == self.len, "one tag per position, or none");
        let mut sections = self.sections(ids);
        if !tags.is_empty() {
            sections.push(tags.iter().flat_map(|t| t.to_le_bytes()).collect());
        }
        let table_end = HEADER + ENTRY * sections.len();
        let mut out = vec![0u8; table_end];
        let mut table = Vec::with_capacity(ENTRY * sections.len());
        let store_sections = SECTIONS + (self.store.kind() != StoreKind::None) as usize;
        for (i, s) in sections.iter().enumerate() {
            out.resize(out.len().next_multiple_of(ALIGN), 0);
            table.extend(section_id(i, store_sections).to_le_bytes());
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
        let cal = self.calibration.unwrap_or(Calibration { target_recall: 0.0, measured_recall: 0.0, nprobe: 0, queries: 0 });
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
        let mut s: Vec<Vec<u8>> = vec![Vec::new(); 6];
        s[0] = self.rotation.sign_bytes().to_vec();
        f32s(&mut s[1], &self.centroids);
        s[2] = lists.iter().flat_map(|l| (l.len as u64).to_le_bytes()).collect();
        for l in lists {
            s[3].extend_from_slice(&l.signs);
            for v in [&l.add, &l.res, &l.err] {
                f32s(&mut s[4], v);
            }
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
        Self::parse(bytes, None, true).map(|(index, ids, _)| (index, ids))
    }

    /// `load_from`, also returning the rows' tags (by position; empty when
    /// the file has none).
    pub fn load_tagged(bytes: &[u8]) -> Result<(Self, Vec<u64>, Vec<u64>)> {
        Self::parse(bytes, None, true)
    }

    /// Like `load_tagged`, but the lists, codes and store borrow from `map`
    /// (the whole file). Section CRCs and content are checked only when
    /// `verify` (which reads every page); the header, section table and all
    /// sizes always are.
    pub fn load_mapped(map: &Arc<Mapping>, verify: bool) -> Result<(Self, Vec<u64>, Vec<u64>)> {
        Self::parse(map.bytes(), Some(map), verify)
    }

    fn parse(bytes: &[u8], map: Option<&Arc<Mapping>>, verify: bool) -> Result<(Self, Vec<u64>, Vec<u64>)> {
        let h = Header::parse(bytes)?;
        if h.version == 1 && map.is_some() {
            return Err(bad("a version-1 file cannot be memory-mapped: load it without mmap and save it to upgrade it to version 2".into()));
        }
        let sections = h.sections(bytes, verify)?;
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
        let upgraded;
        let sections = if h.version == 1 {
            upgraded = upgrade::records_from_v1(&sizes, dp, &sections[5..8]).map_err(bad)?;
            [&sections[..5], &[upgraded.as_slice()], &sections[8..]].concat()
        } else {
            sections
        };
        let blocks: usize = sizes.iter().map(|s| s.div_ceil(BLOCK)).sum();
        expect_len("sign blocks", sections[3], blocks * block_bytes(dp))?;
        expect_len("1-bit factors", sections[4], blocks * BLOCK * 12)?;
        expect_len("records", sections[5], n * record_bytes(dp))?;
        expect_len("ids", sections[6], n * 8)?;
        let ids = sections[6].chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
        let view = Viewer { map };
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
        let tags = match sections.get(h.store_sections()) {
            Some(raw) => {
                expect_len("tags", raw, n * 8)?;
                raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
            }
            None => Vec::new(),
        };
        let lists = read_lists(&h, &sizes, &sections, &view);
        if verify {
            for (id, l) in lists.iter().enumerate() {
                check_list(l, dp, h.params.options.ex_bits).map_err(|msg| bad(format!("list {id}: {msg}")))?;
            }
            check_permutation(&lists, dp, n)?;
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
struct Viewer<'a> {
    map: Option<&'a Arc<Mapping>>,
}

impl Viewer<'_> {
    fn slab<T: Plain>(&self, bytes: &[u8]) -> Slab<T> {
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

/// The id of the `i`-th section of a file whose sections without tags number
/// `store_sections`: the tags section, when present, is always id 9.
fn section_id(i: usize, store_sections: usize) -> u32 {
    if i < store_sections { i as u32 + 1 } else { TAGS_ID }
}

fn header_crc(header: &[u8], table: &[u8]) -> u32 {
    let mut c = crc32fast::Hasher::new();
    c.update(header);
    c.update(table);
    c.finalize()
}

fn bad(msg: String) -> Error {
    Error::persist(format!("invalid IvfRabitqIndex file: {msg}"))
}

fn expect_len(what: &str, s: &[u8], want: usize) -> Result<()> {
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
    let dp = h.params.padded_dim();
    let (bb, rb) = (block_bytes(dp), record_bytes(dp));
    let (mut at_blocks, mut at_vecs) = (0usize, 0usize);
    let mut lists = Vec::with_capacity(sizes.len());
    for &len in sizes {
        let blocks = len.div_ceil(BLOCK);
        let slots = blocks * BLOCK * 4;
        let fb = 3 * at_blocks * BLOCK * 4;
        let factor = |i: usize| view.slab(&s[4][fb + i * slots..fb + (i + 1) * slots]);
        lists.push(InvList {
            len,
            signs: view.slab(&s[3][at_blocks * bb..(at_blocks + blocks) * bb]),
            add: factor(0),
            res: factor(1),
            err: factor(2),
            records: view.slab(&s[5][at_vecs * rb..(at_vecs + len) * rb]),
        });
        at_blocks += blocks;
        at_vecs += len;
    }
    lists
}

/// Codes within B bits, finite factors, sign nibbles matching the codes.
fn check_list(l: &InvList, dp: usize, bits: u32) -> std::result::Result<(), String> {
    let top = ((1u32 << bits) - 1) as u8;
    for (v, r) in l.records(dp).enumerate() {
        if let Some(c) = r.code.iter().find(|&&c| c > top) {
            return Err(format!("vector {v} has code {c} above {top} for {bits} bits"));
        }
        if !(r.ex_add.is_finite() && r.ex_res.is_finite()) {
            return Err(format!("vector {v} has non-finite extended factors {} / {}", r.ex_add, r.ex_res));
        }
    }
    if let Some(x) = [&l.add, &l.res, &l.err].iter().flat_map(|v| v.iter()).find(|x| !x.is_finite()) {
        return Err(format!("a 1-bit factor is not finite ({x})"));
    }
    check_signs(l, dp, 1u8 << (bits - 1))
}

/// Sign nibbles must be the codes' top bits; unused slots must be zero.
fn check_signs(l: &InvList, dp: usize, sign_bit: u8) -> std::result::Result<(), String> {
    let bb = block_bytes(dp);
    for slot in 0..l.blocks() * BLOCK {
        let (b, j) = (slot / BLOCK, slot % BLOCK);
        let shift = if j < 16 { 0 } else { 4 };
        for m in 0..dp / 4 {
            let nibble = l.signs[b * bb + m * 16 + j % 16] >> shift & 15;
            let want = if slot < l.len {
                let code = &l.record(slot, dp).code[4 * m..4 * m + 4];
                code.iter().enumerate().fold(0u8, |a, (k, &c)| a | (((c >= sign_bit) as u8) << k))
            } else {
                0
            };
            if nibble != want {
                return Err(format!("sign nibble of slot {slot}, sub-quantizer {m} does not match its code"));
            }
        }
        let unused = slot >= l.len && (l.add[slot] != 0.0 || l.res[slot] != 0.0 || l.err[slot] != 0.0);
        if unused {
            return Err(format!("unused slot {slot} has non-zero factors"));
        }
    }
    Ok(())
}

fn check_permutation(lists: &[InvList], dp: usize, n: usize) -> Result<()> {
    let mut seen = vec![false; n];
    for r in lists.iter().flat_map(|l| l.records(dp)) {
        let p = r.pos as usize;
        if p >= n || std::mem::replace(&mut seen[p], true) {
            return Err(bad(format!("row positions are not a permutation of 0..{n} (at {p})")));
        }
    }
    Ok(())
}

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
    /// Sections before the optional tags section.
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
        if !(base..=base + 2).contains(&sections) || HEADER + ENTRY * sections > b.len() {
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
        // Version 1 had no tags section.
        if sections != want_sections && (version == 1 || sections != want_sections + 1) {
            return Err(bad(format!("{sections} sections, store {:?} needs {want_sections} (or one more for tags)", p.options.store)));
        }
        let calibration: Option<Calibration> = match u32_at(b, 80) {
            0 => None,
            1 => Some(Calibration { target_recall: f32_at(b, 84), measured_recall: f32_at(b, 88), nprobe: u32_at(b, 92), queries: u32_at(b, 96) }),
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

    /// The section slices, after checking ids, alignment, bounds, order,
    /// zero padding and (when `verify`) checksums.
    fn sections<'a>(&self, b: &'a [u8], verify: bool) -> Result<Vec<&'a [u8]>> {
        let mut end = HEADER + ENTRY * self.sections;
        let mut out = Vec::with_capacity(self.sections);
        for i in 0..self.sections {
            let e = HEADER + ENTRY * i;
            let (id, offset, len, crc) = (u32_at(b, e), u64_at(b, e + 8), u64_at(b, e + 16), u32_at(b, e + 24));
            if id != section_id(i, self.store_sections()) || u32_at(b, e + 4) != 0 || u32_at(b, e + 28) != 0 {
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
            out.push(s);
            end = offset + len;
        }
        if end != b.len() {
            return Err(bad(format!("{} trailing bytes after the last section", b.len() - end)));
        }
        Ok(out)
    }
}
