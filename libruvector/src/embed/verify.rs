//! SHA-256 verification of model files against their pinned hashes.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::registry::ModelFile;
use crate::error::{Error, Result, Status};

/// Largest model or tokenizer file read: ONNX protobuf files cannot exceed 2 GiB.
const MAX_MODEL_FILE_BYTES: u64 = 2 << 30;

/// Lower-case hex SHA-256 of a regular file's bytes (at most 2 GiB).
pub fn sha256_file(path: &Path) -> Result<String> {
    let (mut file, size) = crate::fsio::open_regular(path, "model file")?;
    crate::fsio::check_size(path, size, MAX_MODEL_FILE_BYTES, "model file")?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(&format!("cannot read model file {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Checks `dir/<file.name>` against the file's pinned hashes; returns its path.
/// A missing file or a hash mismatch is an `Embed` error naming the file and both hashes.
pub fn verified_path(dir: &Path, file: &ModelFile) -> Result<PathBuf> {
    let path = dir.join(file.name);
    if !path.exists() {
        return Err(Error::new(Status::Embed, format!("model file {} is missing", path.display())));
    }
    let actual = sha256_file(&path).map_err(|e| Error::new(Status::Embed, format!("cannot read model file {}: {e}", path.display())))?;
    if file.sha256.contains(&actual.as_str()) {
        return Ok(path);
    }
    Err(Error::new(
        Status::Embed,
        format!(
            "model file {} failed SHA-256 verification: expected {}, got {actual}; the file is truncated, corrupt or not the pinned one and was not used",
            path.display(),
            file.sha256.join(" or ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_names_file_and_both_hashes() {
        let dir = std::env::temp_dir().join(format!("ruv-verify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("f.bin"), b"abc").unwrap();
        let good = ModelFile { name: "f.bin", url_path: "f.bin", sha256: &["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"], source: "" };
        assert!(verified_path(&dir, &good).is_ok());
        let bad = ModelFile { sha256: &["00"], ..good };
        let e = verified_path(&dir, &bad).unwrap_err();
        assert_eq!(e.status, Status::Embed);
        assert!(e.message.contains("f.bin") && e.message.contains("expected 00") && e.message.contains("got ba7816bf"), "{}", e.message);
        let missing = ModelFile { name: "nope.bin", ..bad };
        assert!(verified_path(&dir, &missing).unwrap_err().message.contains("missing"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
