//! `table.rulake.json`: the sidecar that publishes a collection's state.
//! Format 2 (the Plus engine): field order, pretty printing and caps follow
//! upstream, so files are byte-identical to upstream's for the same inputs.
//! Format 3 adds an `engine` object (the IVF engine and its parameters);
//! upstream refuses it by its version rather than misreading it.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::witness::{store_name, CacheEngine, Descriptor, Generation};
use crate::index::ivf::StoreKind;
use crate::index::IvfOptions;
use crate::error::{Error, Result, Status};
use crate::index::persist::write_atomic;

pub const SIDECAR: &str = "table.rulake.json";
const MAX_JSON: usize = 64 * 1024;
const MAX_STRING: usize = 4 * 1024;
const MAX_WITNESS: usize = 128;

/// The IVF engine's parameters as a sidecar spells them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct EngineFields {
    kind: String,
    nlist: usize,
    ex_bits: u32,
    store: String,
    nprobe: usize,
    rerank: usize,
    target_recall: Option<f32>,
}

impl EngineFields {
    fn of(o: &IvfOptions) -> Self {
        Self { kind: "ivf".into(), nlist: o.nlist, ex_bits: o.ex_bits, store: store_name(o.store).into(), nprobe: o.nprobe, rerank: o.rerank, target_recall: o.target_recall }
    }

    fn options(&self) -> Result<IvfOptions> {
        if self.kind != "ivf" {
            return Err(bundle_error(format!("unknown engine kind {:?} (the sidecar's engine object describes \"ivf\")", self.kind)));
        }
        let store = [StoreKind::None, StoreKind::F16, StoreKind::F32]
            .into_iter()
            .find(|s| store_name(*s) == self.store)
            .ok_or_else(|| bundle_error(format!("unknown engine store {:?} (none, f16 or f32)", self.store)))?;
        Ok(IvfOptions { nlist: self.nlist, ex_bits: self.ex_bits, store, nprobe: self.nprobe, rerank: self.rerank, target_recall: self.target_recall })
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Bundle {
    format_version: u32,
    data_ref: String,
    dim: usize,
    rotation_seed: u64,
    rerank_factor: usize,
    generation: Generation,
    rvf_witness: String,
    pii_policy: Option<String>,
    lineage_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    memory_class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    engine: Option<EngineFields>,
}

fn bundle_error(message: impl Into<String>) -> Error {
    Error::new(Status::Bundle, message)
}

impl Bundle {
    pub fn new(d: &Descriptor) -> Self {
        let engine = match &d.engine {
            CacheEngine::Plus => None,
            CacheEngine::Ivf(o) => Some(EngineFields::of(o)),
        };
        Self {
            format_version: if engine.is_some() { 3 } else { 2 },
            data_ref: d.data_ref.clone(),
            dim: d.dim,
            rotation_seed: d.rotation_seed,
            rerank_factor: d.rerank_factor,
            generation: d.generation.clone(),
            rvf_witness: d.witness(),
            pii_policy: None,
            lineage_id: None,
            memory_class: None,
            engine,
        }
    }

    /// The descriptor the sidecar publishes (its engine checked on parsing).
    pub fn descriptor(&self) -> Descriptor {
        self.parsed_descriptor().expect("a parsed bundle has a valid engine")
    }

    fn parsed_descriptor(&self) -> Result<Descriptor> {
        let engine = match &self.engine {
            None => CacheEngine::Plus,
            Some(e) => CacheEngine::Ivf(e.options()?),
        };
        Ok(Descriptor {
            data_ref: self.data_ref.clone(),
            dim: self.dim,
            rotation_seed: self.rotation_seed,
            rerank_factor: self.rerank_factor,
            generation: self.generation.clone(),
            engine,
        })
    }

    pub fn witness(&self) -> &str {
        &self.rvf_witness
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a bundle always serialises")
    }

    /// Parses and bounds-checks a sidecar, then recomputes its witness.
    pub fn from_json(text: &[u8]) -> Result<Self> {
        if text.len() > MAX_JSON {
            return Err(bundle_error(format!("sidecar is {} bytes, over the {MAX_JSON}-byte cap", text.len())));
        }
        let b: Bundle = serde_json::from_slice(text).map_err(|e| bundle_error(format!("invalid sidecar JSON: {e}")))?;
        if b.format_version > 3 {
            return Err(bundle_error(format!("unsupported format_version {}", b.format_version)));
        }
        if (b.format_version == 3) != b.engine.is_some() {
            return Err(bundle_error(format!("format_version {} with{} an engine object (format 3 has one, earlier formats none)", b.format_version, if b.engine.is_some() { "" } else { "out" })));
        }
        let strings = [Some(&b.data_ref), b.pii_policy.as_ref(), b.lineage_id.as_ref(), b.memory_class.as_ref()];
        if strings.into_iter().flatten().any(|s| s.len() > MAX_STRING) {
            return Err(bundle_error(format!("a sidecar string field exceeds {MAX_STRING} bytes")));
        }
        if b.rvf_witness.len() > MAX_WITNESS {
            return Err(bundle_error(format!("witness longer than {MAX_WITNESS} characters")));
        }
        let actual = b.parsed_descriptor()?.witness();
        if actual != b.rvf_witness {
            return Err(Error::new(
                Status::WitnessMismatch,
                format!("witness mismatch: sidecar says {}, its fields hash to {actual}", b.rvf_witness),
            ));
        }
        Ok(b)
    }

    pub fn write_to_dir(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).map_err(|e| Error::io(&format!("cannot create {}", dir.display()), e))?;
        let json = self.to_json();
        write_atomic(&dir.join(SIDECAR), |w| w.write_all(json.as_bytes()).map_err(|e| Error::io("write", e)))
    }

    /// `Ok(None)` when the directory has no sidecar.
    pub fn read_from_dir(dir: &Path) -> Result<Option<Self>> {
        let path = contained(dir, SIDECAR)?;
        if matches!(fs::symlink_metadata(&path), Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
            return Ok(None);
        }
        let bytes = crate::fsio::read_capped(&path, MAX_JSON as u64, "bundle sidecar")?;
        Self::from_json(&bytes).map(Some).map_err(|e| Error::new(e.status, format!("{}: {}", path.display(), e.message)))
    }
}

/// `dir/name`, refusing a symlink that would lead outside the bundle directory.
pub fn contained(dir: &Path, name: &str) -> Result<std::path::PathBuf> {
    let path = dir.join(name);
    if let Ok(meta) = fs::symlink_metadata(&path) {
        if meta.file_type().is_symlink() {
            return Err(bundle_error(format!("{} is a symlink: a bundle file must not escape its directory", path.display())));
        }
    }
    Ok(path)
}
