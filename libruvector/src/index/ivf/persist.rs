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
//! 6 B-bit codes (n × D u8) · 7 extended factors (per list: add, res, f32) ·
//! 8 row positions (n u32) · 9 the caller's ids (n u64, by position) · 10 the
//! store (n × dim f16/f32, insertion order; present only with a store) · 11
//! the rows' tags (n u64, by position; present only when some row has tags,
//! always last, so a file has 9, 10 or 11 sections with ids 1..=9, then 10 if
//! it has a store, then 11 if it has tags). Lists appear in id order in every section.

use super::lists::{block_bytes, record_bytes, InvList};
use super::rotation::{Rotation, ROUNDS};
use super::store::{Store, StoreKind};
use super::tune::Calibration;
use super::{IvfParams, IvfRabitqIndex};
use crate::error::{Error, Result};
use crate::index::{Metric, MAX_DIM};
use crate::kernels::BLOCK;

pub const MAGIC: &[u8; 8] = b"RVIVFRQ1";
const VERSION: u32 = 1;
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
        let store_sections = 9 + (self.store.kind() != StoreKind::None) as usize;
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
        for v in [VERSION, HEADER as u32, p.dim as u32, p.padded_dim() as u32, p.metric as u32, p.ex_bits, p.nlist as u32, p.store as u32] {
            h.extend(v.to_le_bytes());
        }
        h.extend((self.len as u64).to_le_bytes());
        h.extend(p.seed.to_le_bytes());
        h.extend(self.t_const.to_le_bytes());
        h.extend(p.eps0.to_le_bytes());
        for v in [p.nprobe as u32, p.rerank as u32, p.kmeans_iters as u32, p.train_per_list as u32, self.calibration.is_some() as u32] {
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
        let mut s: Vec<Vec<u8>> = vec![Vec::new(); 8];
        s[0] = self.rotation.sign_bytes().to_vec();
        f32s(&mut s[1], &self.centroids);
        s[2] = lists.iter().flat_map(|l| (l.len as u64).to_le_bytes()).collect();
        for l in lists {
            s[3].extend_from_slice(&l.signs);
            for v in [&l.add, &l.res, &l.err] {
                f32s(&mut s[4], v);
            }
            let dp = self.params.padded_dim();
            l.records(dp).for_each(|r| s[5].extend_from_slice(r.code));
            s[6].extend(l.records(dp).flat_map(|r| r.ex_add.to_le_bytes()));
            s[6].extend(l.records(dp).flat_map(|r| r.ex_res.to_le_bytes()));
            s[7].extend(l.records(dp).flat_map(|r| r.pos.to_le_bytes()));
        }
        s.push(ids.iter().flat_map(|id| id.to_le_bytes()).collect());
        if self.store.kind() != StoreKind::None {
            s.push(self.store.to_le_bytes());
        }
        s
    }

    /// Parses and validates a file image into the index and its ids (by
    /// position); any inconsistency is a `Persist` error.
    pub fn load_from(bytes: &[u8]) -> Result<(Self, Vec<u64>)> {
        Self::load_tagged(bytes).map(|(index, ids, _)| (index, ids))
    }

    /// `load_from`, also returning the rows' tags (by position; empty when
    /// the file has none).
    pub fn load_tagged(bytes: &[u8]) -> Result<(Self, Vec<u64>, Vec<u64>)> {
        let h = Header::parse(bytes)?;
        let sections = h.sections(bytes)?;
        let (dp, nlist, n) = (h.params.padded_dim(), h.params.nlist, h.n);
        let signs = sections[0];
        expect_len("rotation signs", signs, ROUNDS * dp / 8)?;
        let centroids = finite_f32s("centroids", sections[1], nlist.checked_mul(dp))?;
        expect_len("list sizes", sections[2], nlist * 8)?;
        let sizes: Vec<usize> = sections[2].chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap()) as usize).collect();
        let total = sizes.iter().try_fold(0usize, |a, &s| a.checked_add(s));
        if total != Some(n) {
            return Err(bad(format!("list sizes sum to {total:?}, header says {n} vectors")));
        }
        let blocks: usize = sizes.iter().map(|s| s.div_ceil(BLOCK)).sum();
        expect_len("sign blocks", sections[3], blocks * block_bytes(dp))?;
        expect_len("1-bit factors", sections[4], blocks * BLOCK * 12)?;
        expect_len("codes", sections[5], n * dp)?;
        expect_len("extended factors", sections[6], n * 8)?;
        expect_len("positions", sections[7], n * 4)?;
        expect_len("ids", sections[8], n * 8)?;
        let ids = sections[8].chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
        let store = match h.params.store {
            StoreKind::None => Store::None,
            kind => {
                let raw = sections[9];
                expect_len("store", raw, n * h.params.dim * kind.bytes_per_value())?;
                read_store(kind, raw)?
            }
        };
        let tags = match sections.get(h.store_sections()) {
            Some(raw) => {
                expect_len("tags", raw, n * 8)?;
                raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
            }
            None => Vec::new(),
        };
        let lists = read_lists(&h, &sizes, &sections)?;
        check_permutation(&lists, dp, n)?;
        let index = IvfRabitqIndex {
            params: h.params,
            rotation: Rotation::from_signs(dp, signs.to_vec()),
            t_const: h.t_const,
            centroids,
            lists,
            store,
            len: n,
            calibration: h.calibration,
        };
        Ok((index, ids, tags))
    }
}

/// The id of the `i`-th section of a file whose sections without tags number
/// `store_sections`: the tags section, when present, is always id 11.
fn section_id(i: usize, store_sections: usize) -> u32 {
    if i < store_sections { i as u32 + 1 } else { 11 }
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

fn read_store(kind: StoreKind, raw: &[u8]) -> Result<Store> {
    if kind == StoreKind::F32 {
        return Ok(Store::F32(finite_f32s("store", raw, Some(raw.len() / 4))?));
    }
    let v: Vec<u16> = raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    if let Some(i) = v.iter().position(|&b| b & 0x7c00 == 0x7c00) {
        return Err(bad(format!("store value {i} is not finite (f16 bits {:#06x})", v[i])));
    }
    Ok(Store::F16(v))
}

/// Splits the per-list sections back into lists, checking every slot.
fn read_lists(h: &Header, sizes: &[usize], s: &[&[u8]]) -> Result<Vec<InvList>> {
    let dp = h.params.padded_dim();
    let bb = block_bytes(dp);
    let sign_bit = 1u8 << (h.params.ex_bits - 1);
    let top = ((1u32 << h.params.ex_bits) - 1) as u8;
    let (mut at_blocks, mut at_vecs) = (0usize, 0usize);
    let mut lists = Vec::with_capacity(sizes.len());
    for (id, &len) in sizes.iter().enumerate() {
        let blocks = len.div_ceil(BLOCK);
        let floats = |sec: &[u8], start: usize, count: usize| finite_f32s("factors", &sec[start * 4..(start + count) * 4], Some(count));
        let fb = 3 * at_blocks * BLOCK;
        let codes = &s[5][at_vecs * dp..(at_vecs + len) * dp];
        if let Some(c) = codes.iter().find(|&&c| c > top) {
            return Err(bad(format!("list {id} has code {c} above {top} for {} bits", h.params.ex_bits)));
        }
        let (ex_add, ex_res) = (floats(s[6], 2 * at_vecs, len)?, floats(s[6], 2 * at_vecs + len, len)?);
        let pos = s[7][at_vecs * 4..(at_vecs + len) * 4].chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap()));
        let mut l = InvList {
            len,
            signs: s[3][at_blocks * bb..(at_blocks + blocks) * bb].to_vec(),
            add: floats(s[4], fb, blocks * BLOCK)?,
            res: floats(s[4], fb + blocks * BLOCK, blocks * BLOCK)?,
            err: floats(s[4], fb + 2 * blocks * BLOCK, blocks * BLOCK)?,
            records: Vec::with_capacity(len * record_bytes(dp)),
        };
        for (((code, &a), &r), p) in codes.chunks_exact(dp).zip(&ex_add).zip(&ex_res).zip(pos) {
            l.push_record(code, a, r, p);
        }
        check_signs(&l, dp, sign_bit).map_err(|msg| bad(format!("list {id}: {msg}")))?;
        at_blocks += blocks;
        at_vecs += len;
        lists.push(l);
    }
    Ok(lists)
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
        9 + (self.params.store != StoreKind::None) as usize
    }

    fn parse(b: &[u8]) -> Result<Self> {
        if b.len() < HEADER || &b[..8] != MAGIC {
            return Err(bad(format!("not an RVIVFRQ1 file ({} bytes, magic {:?})", b.len(), &b[..b.len().min(8)])));
        }
        let (version, header_len) = (u32_at(b, 8), u32_at(b, 12));
        if version != VERSION || header_len as usize != HEADER {
            return Err(bad(format!("unsupported version {version} / header size {header_len}")));
        }
        let sections = u32_at(b, 100) as usize;
        if !(9..=11).contains(&sections) || HEADER + ENTRY * sections > b.len() {
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
        p.ex_bits = u32_at(b, 28);
        p.nlist = u32_at(b, 32) as usize;
        p.store = StoreKind::from_u32(u32_at(b, 36)).map_err(|e| bad(e.message))?;
        let n = u64_at(b, 40);
        p.seed = u64_at(b, 48);
        p.eps0 = f32_at(b, 60);
        p.nprobe = u32_at(b, 64) as usize;
        p.rerank = u32_at(b, 68) as usize;
        p.kmeans_iters = u32_at(b, 72) as usize;
        p.train_per_list = u32_at(b, 76) as usize;
        p.validate().map_err(|e| bad(e.message))?;
        let t_const = f32_at(b, 56);
        if n == 0 || n > u32::MAX as u64 || p.nlist == 0 || p.nlist as u64 > n {
            return Err(bad(format!("{n} vectors in {} lists", p.nlist)));
        }
        if p.nprobe == 0 || p.nprobe > p.nlist || !(t_const.is_finite() && t_const >= 0.0) {
            return Err(bad(format!("nprobe {} of {} lists, t_const {t_const}", p.nprobe, p.nlist)));
        }
        let want_sections = if p.store == StoreKind::None { 9 } else { 10 };
        if sections != want_sections && sections != want_sections + 1 {
            return Err(bad(format!("{sections} sections, store {:?} needs {want_sections} (or one more for tags)", p.store)));
        }
        let calibration: Option<Calibration> = match u32_at(b, 80) {
            0 => None,
            1 => Some(Calibration { target_recall: f32_at(b, 84), measured_recall: f32_at(b, 88), nprobe: u32_at(b, 92), queries: u32_at(b, 96) }),
            v => return Err(bad(format!("calibration flag {v}"))),
        };
        if let Some(c) = calibration {
            let sane = c.target_recall > 0.0 && c.target_recall <= 1.0 && (0.0..=1.0).contains(&c.measured_recall);
            if !sane || c.nprobe as usize != p.nprobe {
                return Err(bad(format!("calibration {c:?} does not match nprobe {}", p.nprobe)));
            }
        }
        p.target_recall = calibration.map(|c| c.target_recall);
        Ok(Header { params: p, n: n as usize, t_const, calibration, sections })
    }

    /// The section slices, after checking ids, alignment, bounds, order,
    /// zero padding and checksums.
    fn sections<'a>(&self, b: &'a [u8]) -> Result<Vec<&'a [u8]>> {
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
            if crc32fast::hash(s) != crc {
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
