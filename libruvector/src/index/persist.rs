//! Index files. The body of every variant that keeps vectors is upstream's
//! `rbpx0001` layout (32-byte header, then `{u32 id, dim × f32}` records), so
//! upstream's `load_index` reads our `RabitqPlusIndex` files and we read its
//! files. The codes-only variant uses the same header under magic `rbcx0001`
//! with `{u32 id, f32 norm, words × u64}` records. A trailer that upstream
//! never reads carries what its format lacks: variant, metric, logical dim,
//! full u64 ids, the rows' tags (trailer version 2, only when some row has
//! tags) and a CRC-32 of the whole file.
//!
//! `IvfRabitqIndex` files are our own sectioned `RVIVFRQ1` format (see
//! `ivf::persist`), which carries the ids itself.
//!
//! Header claims are checked against the real file length before anything is
//! allocated, and writes go to a temporary file that is fsynced and renamed.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use super::ivf::{persist::MAGIC as IVF_MAGIC, slab::Mapping, IvfRabitqIndex};
use super::{codes, engine::Engine, ids::IdMap, Kind, Metric, Params, VectorIndex, MAX_DIM, MAX_RERANK_FACTOR};
use crate::error::{Error, Result};
use crate::fsio;

const VECTORS_MAGIC: &[u8; 8] = b"rbpx0001";
const CODES_MAGIC: &[u8; 8] = b"rbcx0001";
const TAIL_MAGIC: &[u8; 8] = b"ruvxtail";
const END_MAGIC: &[u8; 8] = b"ruvx-end";
const HEADER_LEN: usize = 32;
const TAIL_FIXED_LEN: usize = 40;
const TAIL_END_LEN: usize = 24;
const MAX_N: u64 = 100_000_000;
/// Header version of files that carry our trailer. Upstream's reader accepts
/// any version up to 1 and ignores trailing bytes, so it still reads them; a
/// version-0 body without its trailer is a file cut at the trailer boundary.
const TRAILER_VERSION: u32 = 0;
/// Largest stored dimension whose dense random rotation (O(dim³) to create) a
/// synchronous load builds on the calling thread; larger ones must load off-thread.
pub(crate) const SYNC_MAX_ROTATION_DIM: usize = 1024;

/// Saves the live rows: an index with removed rows is written compacted, so
/// every reader (upstream's too) sees exactly the live vectors.
pub fn save(idx: &VectorIndex, path: &Path) -> Result<()> {
    let compacted;
    let idx = if idx.removed_rows() == 0 {
        idx
    } else {
        compacted = idx.compacted()?;
        &compacted
    };
    write_atomic(path, |w| encode(idx, w))
}

/// Loads an index file, of the `expected` variant when given.
pub fn load(path: &Path, expected: Option<Kind>) -> Result<VectorIndex> {
    load_limited(path, expected, None)
}

/// `load` for the calling thread: a quantized file whose rotation is too costly
/// to create there (stored dim above [`SYNC_MAX_ROTATION_DIM`]) is refused.
pub fn load_sync(path: &Path, expected: Option<Kind>) -> Result<VectorIndex> {
    load_limited(path, expected, Some(SYNC_MAX_ROTATION_DIM))
}

/// `load`, refusing a quantized file whose stored dim exceeds `max_rotation_dim`
/// before its O(dim³) rotation is built.
pub fn load_limited(path: &Path, expected: Option<Kind>, max_rotation_dim: Option<usize>) -> Result<VectorIndex> {
    let in_file = |e: Error| Error::new(e.status, format!("{}: {}", path.display(), e.message));
    let bytes = read_index_file(path).map_err(|e| Error::persist(e.message))?;
    decode_limited(&bytes, expected, max_rotation_dim).map_err(in_file)
}

/// How a file is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Map an `IvfRabitqIndex` file read-only and search it in place instead
    /// of copying it (other variants are refused): it opens in milliseconds
    /// and its pages are shared with the page cache.
    pub mmap: bool,
    /// With `mmap`: also check every section's CRC and content, which reads
    /// the whole file (a copy load always does).
    pub verify: bool,
}

/// `load_limited` with `opts`.
pub fn load_with(path: &Path, expected: Option<Kind>, max_rotation_dim: Option<usize>, opts: LoadOptions) -> Result<VectorIndex> {
    if !opts.mmap {
        return load_limited(path, expected, max_rotation_dim);
    }
    if let Some(kind) = expected.filter(|&k| k != Kind::Ivf) {
        return Err(Error::invalid(format!("{} files cannot be memory-mapped (mmap is for IvfRabitqIndex files): load without mmap", kind.name())));
    }
    load_mapped(path, opts.verify, false).map_err(|e| in_file(path, e))
}

/// An `IvfRabitqIndex` file mapped when it is in the current layout and
/// copied when it is older (it upgrades in memory; `verify` is then implied):
/// for a warm start, where mapping is this library's choice, not the caller's.
pub fn load_ivf_mapped_or_copied(path: &Path, verify: bool) -> Result<VectorIndex> {
    load_mapped(path, verify, true).map_err(|e| in_file(path, e))
}

fn in_file(path: &Path, e: Error) -> Error {
    Error::new(e.status, format!("{}: {}", path.display(), e.message))
}

/// An `IvfRabitqIndex` whose arrays borrow from the mapped file; an older
/// layout is copied when `copy_older`, else refused.
fn load_mapped(path: &Path, verify: bool, copy_older: bool) -> Result<VectorIndex> {
    let (file, size) = fsio::open_regular(path, "index file").map_err(|e| Error::persist(e.message))?;
    let len = usize::try_from(size).map_err(|_| Error::persist(format!("a {size}-byte file does not fit this address space")))?;
    if len < IVF_MAGIC.len() {
        return decode(&[], Some(Kind::Ivf)).map_err(|e| Error::persist(format!("{} ({len} bytes)", e.message)));
    }
    let map = Mapping::map(&file, len)?;
    if !map.bytes().starts_with(IVF_MAGIC) {
        let why = decode(map.bytes(), Some(Kind::Ivf)).err().map_or_else(String::new, |e| e.message);
        return Err(Error::persist(format!("only IvfRabitqIndex files can be memory-mapped: {why}")));
    }
    if copy_older && !IvfRabitqIndex::maps_in_place(map.bytes())? {
        return decode_ivf(map.bytes());
    }
    let (ivf, ids, tags) = IvfRabitqIndex::load_mapped(&map, verify)?;
    ivf_index(ivf, ids, tags)
}

/// The file's bytes, refused by size before reading when its header allows fewer.
fn read_index_file(path: &Path) -> Result<Vec<u8>> {
    let what = "index file";
    let (mut file, size) = fsio::open_regular(path, what)?;
    let mut head = [0u8; HEADER_LEN];
    let got = (&mut file).take(HEADER_LEN as u64).read(&mut head).map_err(|e| Error::io(&format!("cannot read {what} {}", path.display()), e))?;
    if !could_be_index(&head[..got]) {
        // Refused from its first bytes: a foreign file (a vector file, say) is never read whole.
        return Err(Error::persist(format!("{}: {}", path.display(), foreign_file(&head[..got], size).message)));
    }
    if let Some(cap) = max_file_len(&head[..got]) {
        fsio::check_size(path, size, cap, what)?;
    }
    let mut bytes = head[..got].to_vec();
    bytes.extend(fsio::read_rest(file, path, size.saturating_sub(got as u64), what)?);
    Ok(bytes)
}

/// The longest file a header allows (body plus the largest trailer), or `None`
/// when the header is not one of ours (decoding then names what is wrong).
fn max_file_len(head: &[u8]) -> Option<u64> {
    if head.len() < HEADER_LEN {
        return None;
    }
    let record = |dim: u64, codes: bool| if codes { 8 + dim.div_ceil(64) * 8 } else { 4 + dim * 4 };
    let codes = match &head[..8] {
        m if m == VECTORS_MAGIC => false,
        m if m == CODES_MAGIC => true,
        _ => return None,
    };
    let dim = u32::from_le_bytes(head[12..16].try_into().ok()?) as u64;
    let n = u32::from_le_bytes(head[28..32].try_into().ok()?) as u64;
    // Trailer: ids and (version 2) tags, one u64 each per row.
    Some(HEADER_LEN as u64 + n * record(dim, codes) + (TAIL_FIXED_LEN + TAIL_END_LEN) as u64 + 16 * n)
}

// ── writing ────────────────────────────────────────────────────────────────

/// A writer that keeps a running CRC-32 of everything written through it.
struct Checksummed<W: Write> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Checksummed<W> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.crc.update(bytes);
        self.inner.write_all(bytes).map_err(|e| Error::io("write", e))
    }
}

fn encode<W: Write>(idx: &VectorIndex, mut out: W) -> Result<()> {
    if idx.params.kind == Kind::Ivf {
        let ivf = idx.engine.ivf().ok_or_else(|| Error::new(crate::error::Status::EmptyIndex, "an empty IvfRabitqIndex has no lists to save yet: add vectors first"))?;
        return out.write_all(&ivf.to_bytes_tagged(&idx.ids, idx.tags_by_position())).and_then(|_| out.flush()).map_err(|e| Error::io("write", e));
    }
    let p = idx.params();
    let mut w = Checksummed { inner: out, crc: crc32fast::Hasher::new() };
    let codes = idx.engine.codes();
    let magic = if codes.is_some() { CODES_MAGIC } else { VECTORS_MAGIC };
    let n = idx.len();
    w.put(magic)?;
    w.put(&TRAILER_VERSION.to_le_bytes())?;
    w.put(&(p.stored_dim() as u32).to_le_bytes())?;
    w.put(&p.seed.to_le_bytes())?;
    w.put(&(p.rerank_factor as u32).to_le_bytes())?;
    w.put(&(n as u32).to_le_bytes())?;
    // Upstream's record id is u32: write the real ids when they all fit, else
    // row positions (the trailer keeps the real ones either way).
    let real_ids = idx.ids.fits_u32();
    let record_id = |pos: usize| if real_ids { idx.ids.as_slice()[pos] as u32 } else { pos as u32 };
    match codes {
        Some((packed, norms, words)) => {
            for (pos, (code, norm)) in packed.chunks_exact(words).zip(norms).enumerate() {
                w.put(&record_id(pos).to_le_bytes())?;
                w.put(&norm.to_le_bytes())?;
                w.put(as_bytes_u64(code))?;
            }
        }
        None => {
            let rows = idx.engine.rows().expect("variants without codes keep rows");
            for pos in 0..n {
                w.put(&record_id(pos).to_le_bytes())?;
                w.put(as_bytes_f32(rows.row(pos)))?;
            }
        }
    }
    let tags = idx.tags_by_position();
    let version = if tags.is_empty() { 1u32 } else { 2 };
    let tail_len = (TAIL_FIXED_LEN + 8 * n * version as usize + TAIL_END_LEN) as u64;
    w.put(TAIL_MAGIC)?;
    for v in [version, p.kind as u32, p.metric as u32, p.dim as u32, 0, 0] {
        w.put(&v.to_le_bytes())?;
    }
    w.put(&(n as u64).to_le_bytes())?;
    w.put(as_bytes_u64(idx.ids.as_slice()))?;
    w.put(as_bytes_u64(tags))?;
    let crc = w.crc.clone().finalize();
    w.put(&crc.to_le_bytes())?;
    w.put(&0u32.to_le_bytes())?;
    w.put(&tail_len.to_le_bytes())?;
    w.put(END_MAGIC)?;
    w.inner.flush().map_err(|e| Error::io("write", e))
}

fn as_bytes_f32(v: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding and any byte pattern is a valid u8; the
    // format is little-endian and so are all supported targets.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast(), v.len() * 4) }
}

fn as_bytes_u64(v: &[u64]) -> &[u8] {
    // SAFETY: as above.
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast(), v.len() * 8) }
}

/// Writes `path` through a temporary sibling that is fsynced then renamed, so a
/// crash or a failed write leaves any previous file intact.
pub fn write_atomic(path: &Path, fill: impl FnOnce(&mut BufWriter<&File>) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| Error::invalid(format!("not a file path: {}", path.display())))?;
    fsio::reclaim_stale_temporaries(dir);
    let tmp = fsio::temporary_path(dir, &name.to_string_lossy());
    let result: Result<()> = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io(&format!("cannot create {}", tmp.display()), e))?;
        let mut w = BufWriter::with_capacity(1 << 20, &file);
        fill(&mut w)?;
        w.flush().map_err(|e| Error::io("write", e))?;
        drop(w);
        file.sync_all().map_err(|e| Error::io("fsync", e))?;
        fs::rename(&tmp, path).map_err(|e| Error::io(&format!("cannot rename onto {}", path.display()), e))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| Error::persist(e.message))
}

// ── reading ────────────────────────────────────────────────────────────────

struct Header {
    codes: bool,
    version: u32,
    dim: usize,
    seed: u64,
    rerank_factor: usize,
    n: usize,
}

struct Tail {
    kind: Kind,
    metric: Metric,
    dim: usize,
    ids: Vec<u64>,
    /// One per row, or empty (trailer version 1).
    tags: Vec<u64>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        s
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().unwrap())
    }
    fn f32(&mut self) -> f32 {
        f32::from_le_bytes(self.take(4).try_into().unwrap())
    }
}

pub fn decode(bytes: &[u8], expected: Option<Kind>) -> Result<VectorIndex> {
    decode_limited(bytes, expected, None)
}

fn decode_limited(bytes: &[u8], expected: Option<Kind>, max_rotation_dim: Option<usize>) -> Result<VectorIndex> {
    if bytes.starts_with(IVF_MAGIC) {
        check_expected(Kind::Ivf, expected)?;
        return decode_ivf(bytes);
    }
    let (body, tail) = split_tail(bytes)?;
    let header = parse_header(body)?;
    let (kind, metric, dim, ids, tags) = match tail {
        Some(t) => (t.kind, t.metric, t.dim, Some(t.ids), t.tags),
        None if header.codes => return Err(Error::persist("codes file without its trailer")),
        None if header.version == TRAILER_VERSION => {
            return Err(Error::persist(format!("truncated: the header says a trailer follows, but the file ends after the body ({} bytes)", body.len())))
        }
        None => (Kind::Plus, Metric::L2, header.dim, None, Vec::new()),
    };
    check_expected(kind, expected)?;
    if header.codes != (kind == Kind::Rabitq) {
        return Err(Error::persist(format!("body layout does not match variant {}", kind.name())));
    }
    let pad_to_word = header.dim != dim;
    let params = Params::new(kind, dim, header.seed, header.rerank_factor, metric, pad_to_word);
    params.validate().map_err(|e| Error::persist(e.message))?;
    if params.stored_dim() != header.dim {
        return Err(Error::persist(format!("stored dim {} does not fit logical dim {dim}", header.dim)));
    }
    if let Some(max) = max_rotation_dim.filter(|&max| kind != Kind::Flat && header.dim > max) {
        return Err(Error::invalid(format!(
            "stored dim {} needs a {0}×{0} random rotation, above the limit {max} of this load (synchronous loads build at most {SYNC_MAX_ROTATION_DIM}: load larger files asynchronously; a warm restart at most its bundle's dim)",
            header.dim
        )));
    }
    let mut r = Reader { bytes: body, at: HEADER_LEN };
    let (record_ids, engine) = if header.codes { read_codes(&mut r, &header)? } else { read_vectors(&mut r, &header, &params)? };
    if !tags.is_empty() && tags.len() != header.n {
        return Err(Error::persist(format!("trailer holds {} tags for {} records", tags.len(), header.n)));
    }
    VectorIndex::from_parts(params, id_map(ids.unwrap_or(record_ids))?, engine).with_tags(tags).map_err(|e| Error::persist(e.message))
}

fn check_expected(kind: Kind, expected: Option<Kind>) -> Result<()> {
    match expected {
        Some(want) if want != kind => Err(Error::persist(format!("file holds a {}, not a {}", kind.name(), want.name()))),
        _ => Ok(()),
    }
}

fn id_map(ids: Vec<u64>) -> Result<IdMap> {
    IdMap::from_ids(ids).map_err(|e| Error::persist(e.message))
}

fn decode_ivf(bytes: &[u8]) -> Result<VectorIndex> {
    let (ivf, ids, tags) = IvfRabitqIndex::load_tagged(bytes)?;
    ivf_index(ivf, ids, tags)
}

fn ivf_index(ivf: IvfRabitqIndex, ids: IdMap, tags: Vec<u64>) -> Result<VectorIndex> {
    let p = ivf.params();
    let params = Params { ivf: p.options(), ..Params::new(Kind::Ivf, p.dim, p.seed, 1, p.metric, false) };
    VectorIndex::from_parts(params, ids, Engine::Ivf(ivf)).with_tags(tags).map_err(|e| Error::persist(e.message))
}

fn split_tail(bytes: &[u8]) -> Result<(&[u8], Option<Tail>)> {
    if bytes.len() < HEADER_LEN + TAIL_FIXED_LEN + TAIL_END_LEN || !bytes.ends_with(END_MAGIC) {
        return Ok((bytes, None));
    }
    let len = bytes.len();
    let mut end = Reader { bytes, at: len - TAIL_END_LEN };
    let crc = end.u32();
    end.u32();
    let tail_len = end.u64();
    if tail_len < (TAIL_FIXED_LEN + TAIL_END_LEN) as u64 || tail_len > (len - HEADER_LEN) as u64 {
        return Err(Error::persist(format!("corrupt trailer length {tail_len}")));
    }
    let actual = crc32fast::hash(&bytes[..len - TAIL_END_LEN]);
    if actual != crc {
        return Err(Error::persist(format!("checksum mismatch: stored {crc:08x}, computed {actual:08x} (file corrupted)")));
    }
    let start = len - tail_len as usize;
    let mut r = Reader { bytes, at: start };
    if r.take(8) != TAIL_MAGIC {
        return Err(Error::persist("corrupt trailer: bad magic"));
    }
    let version = r.u32();
    if !(1..=2).contains(&version) {
        return Err(Error::persist(format!("unsupported trailer version {version} (1 or 2)")));
    }
    let kind = Kind::from_u32(r.u32()).map_err(|e| Error::persist(e.message))?;
    let metric = Metric::from_u32(r.u32()).map_err(|e| Error::persist(e.message))?;
    let dim = r.u32() as usize;
    r.u32();
    r.u32();
    let n = r.u64();
    // Version 1 holds n ids; version 2 n ids then n tags.
    if n.checked_mul(8 * version as u64).and_then(|b| b.checked_add((TAIL_FIXED_LEN + TAIL_END_LEN) as u64)) != Some(tail_len) {
        return Err(Error::persist(format!("corrupt trailer: {n} ids{} do not fit {tail_len} bytes", if version == 2 { " and tags" } else { "" })));
    }
    let mut u64s = |count: usize| -> Vec<u64> { r.take(count * 8).chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect() };
    let ids = u64s(n as usize);
    let tags = if version == 2 { u64s(n as usize) } else { Vec::new() };
    Ok((&bytes[..start], Some(Tail { kind, metric, dim, ids, tags })))
}

/// Whether `head` (a file's first bytes) can start one of our index files.
fn could_be_index(head: &[u8]) -> bool {
    let prefix = &head[..head.len().min(8)];
    [VECTORS_MAGIC, CODES_MAGIC, IVF_MAGIC].iter().any(|m| m.starts_with(prefix))
}

/// Why a file of `len` bytes starting with `head` is not an index, naming the
/// vector formats people load by mistake; only the head is needed.
fn foreign_file(head: &[u8], len: u64) -> Error {
    const NPY_MAGIC: &[u8] = b"\x93NUMPY";
    if head.starts_with(NPY_MAGIC) {
        return Error::persist("not an index file: it is a NumPy .npy array; build an index from it first (readNpy + build, or `ruvector index build FILE.npy -o INDEX`)");
    }
    if head.len() >= 4 {
        let dim = u32::from_le_bytes(head[..4].try_into().unwrap()) as u64;
        if (1..=1 << 20).contains(&dim) && len.is_multiple_of(4 + 4 * dim) {
            return Error::persist(format!(
                "not an index file: it looks like a .fvecs vector file ({} rows of dim {dim}); build an index from it first (readFvecs + build, or `ruvector index build FILE.fvecs -o INDEX`)",
                len / (4 + 4 * dim)
            ));
        }
    }
    let bytes: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Error::persist(format!("not an index file: it starts with bytes {} (index files start with \"rbpx0001\", \"rbcx0001\" or \"RVIVFRQ1\")", bytes.join(" ")))
}

fn parse_header(body: &[u8]) -> Result<Header> {
    if !could_be_index(body) {
        return Err(foreign_file(body, body.len() as u64));
    }
    if body.len() < HEADER_LEN {
        return Err(Error::persist(format!("truncated: {} bytes is shorter than the {HEADER_LEN}-byte header", body.len())));
    }
    let mut r = Reader { bytes: body, at: 0 };
    let magic = r.take(8);
    let codes = match magic {
        m if m == VECTORS_MAGIC => false,
        m if m == CODES_MAGIC => true,
        _ => return Err(foreign_file(body, body.len() as u64)),
    };
    let version = r.u32();
    if version > 1 {
        return Err(Error::persist(format!("unsupported version {version} (max 1)")));
    }
    let dim = r.u32() as usize;
    let seed = r.u64();
    let rerank_factor = r.u32() as usize;
    let n = r.u32() as u64;
    if dim == 0 || dim > MAX_DIM {
        return Err(Error::persist(format!("dim {dim} out of range (1..={MAX_DIM})")));
    }
    if rerank_factor > MAX_RERANK_FACTOR {
        return Err(Error::persist(format!("rerank_factor {rerank_factor} exceeds {MAX_RERANK_FACTOR}")));
    }
    if n > MAX_N {
        return Err(Error::persist(format!("n {n} exceeds {MAX_N}")));
    }
    let record = if codes { 8 + dim.div_ceil(64) * 8 } else { 4 + dim * 4 } as u64;
    let want = HEADER_LEN as u64 + n * record;
    if body.len() as u64 != want {
        let what = if (body.len() as u64) < want { "truncated" } else { "unexpected trailing bytes" };
        return Err(Error::persist(format!("{what}: header declares n={n}, dim={dim} ({want} bytes), file body has {}", body.len())));
    }
    Ok(Header { codes, version, dim, seed, rerank_factor: rerank_factor.max(1), n: n as usize })
}

fn read_vectors(r: &mut Reader, h: &Header, p: &Params) -> Result<(Vec<u64>, Engine)> {
    let mut ids = Vec::with_capacity(h.n);
    let mut rows = Vec::with_capacity(h.n * h.dim);
    for pos in 0..h.n {
        ids.push(r.u32() as u64);
        for j in 0..h.dim {
            let x = r.f32();
            if !x.is_finite() {
                return Err(Error::persist(format!("record {pos} has a non-finite value at component {j}")));
            }
            rows.push(x);
        }
    }
    Ok((ids, Engine::build(p, rows)?))
}

fn read_codes(r: &mut Reader, h: &Header) -> Result<(Vec<u64>, Engine)> {
    let words = h.dim.div_ceil(64);
    let mut ids = Vec::with_capacity(h.n);
    let mut norms = Vec::with_capacity(h.n);
    let mut packed = Vec::with_capacity(h.n * words);
    for pos in 0..h.n {
        ids.push(r.u32() as u64);
        let norm = r.f32();
        if !norm.is_finite() || norm < 0.0 {
            return Err(Error::persist(format!("record {pos} has an invalid norm {norm}")));
        }
        norms.push(norm);
        packed.extend((0..words).map(|_| r.u64()));
    }
    Ok((ids, Engine::Rabitq(codes::rebuild(h.dim, h.seed, &packed, &norms)?)))
}

#[cfg(test)]
mod foreign_tests {
    use super::*;

    #[test]
    fn foreign_files_are_named_by_what_they_look_like() {
        let mut fvecs = 3u32.to_le_bytes().to_vec();
        fvecs.extend([0u8; 12]);
        assert!(foreign_file(&fvecs, 32).message.contains("looks like a .fvecs vector file (2 rows of dim 3)"));
        assert!(foreign_file(b"\x93NUMPY\x01\x00", 200).message.contains("NumPy .npy array"));
        assert_eq!(
            foreign_file(b"\x89PNG\r\n\x1a\n", 100).message,
            "not an index file: it starts with bytes 89 50 4e 47 0d 0a 1a 0a (index files start with \"rbpx0001\", \"rbcx0001\" or \"RVIVFRQ1\")"
        );
        assert!(could_be_index(b"rbpx") && could_be_index(b"") && !could_be_index(b"rbpy0001"));
    }

    #[test]
    fn io_errors_read_as_words_without_os_error_codes() {
        let e = Error::io("cannot read index file /x", std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(e.message, "cannot read index file /x: no such file or directory");
    }
}
