//! What identifies a collection's state, and its SHAKE-256 witness, computed
//! byte for byte as upstream `ruvector-rulake` does.

use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::Shake256;

/// A backend's version marker: a counter or an opaque string (in a sidecar: a JSON number or string).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Generation {
    Num(u64),
    Opaque(String),
}

/// The fields a witness covers (never the vector bytes: data changes are seen
/// through the generation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub data_ref: String,
    pub dim: usize,
    pub rotation_seed: u64,
    pub rerank_factor: usize,
    pub generation: Generation,
}

impl Descriptor {
    /// Lowercase hex of the 32-byte SHAKE-256 XOF output over the domain tag
    /// and length-prefixed fields.
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
        let mut out = [0u8; 32];
        h.finalize_xof().read(&mut out);
        out.iter().map(|b| format!("{b:02x}")).collect()
    }
}
