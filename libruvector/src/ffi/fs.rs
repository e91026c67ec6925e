//! `ruv_file_*`: the file-safety helpers the TypeScript writers share with the
//! native ones — traceable temporary names with stale-temporary reclaim, and
//! advisory locks.

use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use super::{copy_string_out, guard, path, write_out};
use crate::error::Error;
use crate::fsio::{self, FileLock};

/// Writes a fresh temporary path for an atomic write of `path` (a sibling named
/// after this process) into `buf`, after removing the temporaries that dead
/// processes left in that directory, NUL-terminated. `*out_len` gets the full length.
///
/// # Safety
/// `path_ptr` valid for `path_len` bytes; `buf` for `cap` bytes; `out_len` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_file_temporary(path_ptr: *const u8, path_len: u64, buf: *mut u8, cap: u64, out_len: *mut u64) -> i32 {
    guard(|| {
        let target = path(path_ptr, path_len, "path")?;
        let name = target.file_name().ok_or_else(|| Error::invalid(format!("not a file path: {}", target.display())))?;
        let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        fsio::reclaim_stale_temporaries(dir);
        let tmp = fsio::temporary_path(dir, &name.to_string_lossy());
        copy_string_out(tmp.as_os_str().as_bytes(), buf, cap, out_len)
    })
}

/// Takes an exclusive advisory lock on `path` (created if missing), waiting at
/// most `timeout_ms` (0 = just try); release it with `ruv_file_unlock`.
/// `*out_fd` is -1 when another holder still has it. The kernel releases a
/// lock when its holder dies, so a crash never leaves it stale.
///
/// # Safety
/// `path_ptr` valid for `path_len` bytes; `out_fd` for one i32.
#[no_mangle]
pub unsafe extern "C" fn ruv_file_lock(path_ptr: *const u8, path_len: u64, timeout_ms: u32, out_fd: *mut i32) -> i32 {
    guard(|| {
        let lock = FileLock::acquire(&path(path_ptr, path_len, "path")?, Duration::from_millis(timeout_ms as u64))?;
        write_out(out_fd, lock.map_or(-1, FileLock::into_raw_fd), "out_fd")
    })
}

/// Releases a lock taken with `ruv_file_lock`.
///
/// # Safety
/// `fd` must come from `ruv_file_lock` and be released once.
#[no_mangle]
pub unsafe extern "C" fn ruv_file_unlock(fd: i32) -> i32 {
    guard(|| {
        if fd < 0 {
            return Err(Error::invalid(format!("lock descriptor {fd} is not valid")));
        }
        FileLock::release(fd);
        Ok(())
    })
}
