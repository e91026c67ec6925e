//! ONNX Runtime: one environment per process (loaded dynamically from a path
//! the host resolves) and one cached session per verified model file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::Session;

use crate::error::{Error, Result, Status};

/// A session shared by every embedder of the same model file. `run` needs
/// exclusive access, so calls on one model are serialised.
pub type SharedSession = Arc<Mutex<Session>>;

fn embed_err(message: String) -> Error {
    Error::new(Status::Embed, message)
}

/// Loads ONNX Runtime from `lib_path` and creates the process's environment
/// (only the first call's path counts; later calls reuse the environment).
pub fn environment(lib_path: &Path) -> Result<&'static Environment> {
    static ENV: OnceLock<std::result::Result<Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let builder = ort::init_from(lib_path).map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", lib_path.display()))?;
        builder.with_name("ruvector").build().map_err(|e| format!("cannot create the ONNX Runtime environment: {e}"))
    })
    .as_ref()
    .map_err(|e| embed_err(e.clone()))
}

/// The cached session for a verified model file, created on first use.
pub fn session(env: &Environment, model: &Path, sha256: &str) -> Result<SharedSession> {
    static CACHE: OnceLock<Mutex<HashMap<(PathBuf, String), SharedSession>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    let key = (model.to_path_buf(), sha256.to_string());
    if let Some(s) = cache.get(&key) {
        return Ok(Arc::clone(s));
    }
    let session = Session::builder(env)
        .and_then(|mut b| b.commit_from_file(model))
        .map_err(|e| embed_err(format!("cannot open ONNX model {}: {e}", model.display())))?;
    let shared = Arc::new(Mutex::new(session));
    cache.insert(key, Arc::clone(&shared));
    Ok(shared)
}
