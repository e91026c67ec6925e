//! ONNX Runtime: one environment per process (loaded dynamically from a path
//! the host resolves) and one cached session per verified model file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::builder::SessionBuilder;
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

/// ONNX Runtime thread settings of every session. Defaults chosen by measurement
/// (bench/embed.ts, "ONNX Runtime threads"): one intra-op thread per core, and
/// no spinning, so idle ORT threads leave the core the next chunk is tokenized
/// on. Execution is sequential, so one inter-op thread. `RUVECTOR_ORT_THREADS`
/// (intra-op threads) and `RUVECTOR_ORT_SPIN` (`1` = spin) override them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threads {
    pub intra: usize,
    pub spin: bool,
}

impl Threads {
    /// The defaults, overridden by the environment's values when they are valid.
    pub fn from_env(threads: Option<&str>, spin: Option<&str>) -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let intra = match threads {
            None => cores,
            Some(t) => t.parse().ok().filter(|&n: &usize| (1..=1024).contains(&n)).ok_or_else(|| {
                embed_err(format!("RUVECTOR_ORT_THREADS must be a thread count in 1..=1024, got {t:?}"))
            })?,
        };
        let spin = match spin {
            None | Some("0") => false,
            Some("1") => true,
            Some(s) => return Err(embed_err(format!("RUVECTOR_ORT_SPIN must be 0 or 1, got {s:?}"))),
        };
        Ok(Self { intra, spin })
    }
}

fn builder(env: &Environment) -> std::result::Result<SessionBuilder, String> {
    let var = |k| std::env::var(k).ok();
    let t = Threads::from_env(var("RUVECTOR_ORT_THREADS").as_deref(), var("RUVECTOR_ORT_SPIN").as_deref()).map_err(|e| e.message)?;
    let text = |e: ort::Error<SessionBuilder>| e.to_string();
    let builder = Session::builder(env).map_err(|e| e.to_string())?;
    let builder = builder.with_intra_threads(t.intra).map_err(text)?;
    builder.with_inter_threads(1).map_err(text)?.with_intra_op_spinning(t.spin).map_err(text)
}

/// The cached session for a verified model file, created on first use.
pub fn session(env: &Environment, model: &Path, sha256: &str) -> Result<SharedSession> {
    static CACHE: OnceLock<Mutex<HashMap<(PathBuf, String), SharedSession>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    let key = (model.to_path_buf(), sha256.to_string());
    if let Some(s) = cache.get(&key) {
        return Ok(Arc::clone(s));
    }
    let session = builder(env)
        .and_then(|mut b| b.commit_from_file(model).map_err(|e| e.to_string()))
        .map_err(|e| embed_err(format!("cannot open ONNX model {}: {e}", model.display())))?;
    let shared = Arc::new(Mutex::new(session));
    cache.insert(key, Arc::clone(&shared));
    Ok(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_settings_from_the_environment() {
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(Threads::from_env(None, None).unwrap(), Threads { intra: cores, spin: false });
        assert_eq!(Threads::from_env(Some("3"), Some("1")).unwrap(), Threads { intra: 3, spin: true });
        for bad in ["0", "-1", "two", "5000"] {
            assert!(Threads::from_env(Some(bad), None).unwrap_err().message.contains(&format!("got \"{bad}\"")), "{bad}");
        }
        assert!(Threads::from_env(None, Some("yes")).unwrap_err().message.contains("RUVECTOR_ORT_SPIN must be 0 or 1"));
    }
}
