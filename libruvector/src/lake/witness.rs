//! What identifies a collection's state, and its SHAKE-256 witness, computed
//! byte for byte as upstream `ruvector-rulake` does for the Plus engine.

use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::Shake256;

use crate::index::ivf::StoreKind;
use crate::index::IvfOptions;

/// A backend's version marker: a counter or an opaque string (in a sidecar: a JSON number or string).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Generation {
    Num(u64),
    Opaque(String),
}

/// The index a cached collection is built as.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CacheEngine {
    /// `RabitqPlusIndex` (upstream's engine; its witness is upstream's).
    Plus,
    /// `IvfRabitqIndex` with these (as configured, before a build resolves them).
    Ivf(IvfOptions),
}

impl CacheEngine {
    /// `"plus"` or `"ivf"`, as the builder and `engineOf` spell it.
    pub fn name(&self) -> &'static str {
        match self {
            CacheEngine::Plus => "plus",
            CacheEngine::Ivf(_) => "ivf",
        }
    }
}

/// The fields a witness covers (never the vector bytes: data changes are seen
/// through the generation).
#[derive(Clone, Debug, PartialEq)]
pub struct Descriptor {
    pub data_ref: String,
    pub dim: usize,
    pub rotation_seed: u64,
    pub rerank_factor: usize,
    pub generation: Generation,
    pub engine: CacheEngine,
}

/// The name of a store kind as the witness and the sidecar spell it.
pub fn store_name(s: StoreKind) -> &'static str {
    match s {
        StoreKind::None => "none",
        StoreKind::F16 => "f16",
        StoreKind::F32 => "f32",
    }
}

/// Feeds one `name = value` field: both length-prefixed (u64 LE), so no two
/// field lists hash the same bytes.
fn field(h: &mut Shake256, name: &str, value: &[u8]) {
    h.update(&(name.len() as u64).to_le_bytes());
    h.update(name.as_bytes());
    h.update(&(value.len() as u64).to_le_bytes());
    h.update(value);
}

impl Descriptor {
    /// Lowercase hex of the 32-byte SHAKE-256 XOF output over the domain tag
    /// and length-prefixed fields. The Plus engine adds nothing to upstream's
    /// fields; the IVF engine appends `|` and its parameters as length-prefixed
    /// `name = value` fields (see [`field`]).
    pub fn witness(&self) -> String {
        let mut h = Shake256::default();
        h.update(b"rulake-bundle-witness-v1|");
        h.update(&(self.data_ref.len() as u64).to_le_bytes());
        h.update(self.data_ref.as_bytes());
        h.update(b"|");
        h.update(&(self.dim as u64).to_le_bytes());
        h.update(&self.rotation_seed.to_le_bytes());
        h.update(&(self.rerank_factor as u64).to_le_bytes());
        h.update(b"|");
        let g: Vec<u8> = match &self.generation {
            Generation::Num(n) => [&[0u8][..], &n.to_le_bytes()].concat(),
            Generation::Opaque(s) => [&[1u8][..], s.as_bytes()].concat(),
        };
        h.update(&(g.len() as u64).to_le_bytes());
        h.update(&g);
        if let CacheEngine::Ivf(o) = &self.engine {
            h.update(b"|");
            field(&mut h, "engine", b"ivf");
            field(&mut h, "nlist", &(o.nlist as u64).to_le_bytes());
            field(&mut h, "ex_bits", &u64::from(o.ex_bits).to_le_bytes());
            field(&mut h, "store", store_name(o.store).as_bytes());
            field(&mut h, "nprobe", &(o.nprobe as u64).to_le_bytes());
            field(&mut h, "rerank", &(o.rerank as u64).to_le_bytes());
            // Absent: an empty value; present: the f32's bits, so 0.95 and 0.950001 differ.
            let target = o.target_recall.map(|t| t.to_bits().to_le_bytes().to_vec()).unwrap_or_default();
            field(&mut h, "target_recall", &target);
        }
        let mut out = [0u8; 32];
        h.finalize_xof().read(&mut out);
        out.iter().map(|b| format!("{b:02x}")).collect()
    }
}
