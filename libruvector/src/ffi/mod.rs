//! C ABI glue: the thread-local last error, panic containment, and the one set
//! of checked conversions for arguments (buffers, UTF-8 strings, paths,
//! versioned structs) and outputs.
//!
//! Conventions for every `ruv_*` function: returns an `i32` status (0 = ok);
//! outputs go through pointers; on failure the error is kept for
//! `ruv_last_error` on the calling thread. Buffers are `(ptr, len)` with `len`
//! in elements. Structs start with `struct_size` (bytes, set by the caller):
//! fields are only ever appended, so a later library reads the prefix an older
//! caller passes.

pub mod embed;
pub mod fs;
pub mod index;
pub mod lake;
pub mod runtime;

use std::cell::RefCell;
use std::ffi::{c_char, OsStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use crate::error::{panic_message, Error, Result, Status};

thread_local! {
    static LAST_ERROR: RefCell<Option<Error>> = const { RefCell::new(None) };
}

fn set_last_error(error: Error) {
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(error));
}

/// Runs `f`, converting its error or panic into a status and a last error.
pub fn guard(f: impl FnOnce() -> Result<()>) -> i32 {
    let outcome = catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|p| Err(Error::new(Status::Panic, format!("internal panic: {}", panic_message(&p)))));
    match outcome {
        Ok(()) => Status::Ok as i32,
        Err(e) => {
            let status = e.status as i32;
            set_last_error(e);
            status
        }
    }
}

/// A shared view of `len` elements at `ptr`; null is allowed only when `len` is 0.
///
/// # Safety
/// `ptr` must be valid for reads of `len` elements for the duration of the call.
pub unsafe fn slice<'a, T>(ptr: *const T, len: u64, what: &str) -> Result<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::invalid(format!("{what} is null but its length is {len}")));
    }
    Ok(std::slice::from_raw_parts(ptr, len as usize))
}

/// A mutable view of `len` elements at `ptr`; null is allowed only when `len` is 0.
///
/// # Safety
/// `ptr` must be valid for writes of `len` elements for the duration of the call.
pub unsafe fn slice_mut<'a, T>(ptr: *mut T, len: u64, what: &str) -> Result<&'a mut [T]> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(Error::invalid(format!("{what} is null but its length is {len}")));
    }
    Ok(std::slice::from_raw_parts_mut(ptr, len as usize))
}

/// `len` bytes at `ptr` as UTF-8 text.
///
/// # Safety
/// As [`slice`].
pub unsafe fn utf8<'a>(ptr: *const u8, len: u64, what: &str) -> Result<&'a str> {
    std::str::from_utf8(slice(ptr, len, what)?).map_err(|e| Error::invalid(format!("{what} is not valid UTF-8: {e}")))
}

/// A file-system path of `len` bytes: any bytes but NUL on Unix, UTF-8 elsewhere.
///
/// # Safety
/// As [`slice`].
pub unsafe fn path(ptr: *const u8, len: u64, what: &str) -> Result<PathBuf> {
    let bytes = slice(ptr, len, what)?;
    if bytes.is_empty() || bytes.contains(&0) {
        return Err(Error::invalid(format!("{what} is empty or contains a NUL byte")));
    }
    Ok(PathBuf::from(os_str(bytes, what)?))
}

#[cfg(unix)]
fn os_str<'a>(bytes: &'a [u8], _what: &str) -> Result<&'a OsStr> {
    use std::os::unix::ffi::OsStrExt;
    Ok(OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn os_str<'a>(bytes: &'a [u8], what: &str) -> Result<&'a OsStr> {
    std::str::from_utf8(bytes).map(OsStr::new).map_err(|e| Error::invalid(format!("{what} is not valid UTF-8: {e}")))
}

/// Writes `value` through an output pointer.
///
/// # Safety
/// `ptr` must be null or valid for a write of one `T`.
pub unsafe fn write_out<T>(ptr: *mut T, value: T, what: &str) -> Result<()> {
    if ptr.is_null() {
        return Err(Error::new(Status::NullHandle, format!("output pointer {what} is null")));
    }
    ptr.write(value);
    Ok(())
}

/// Hands a new object to the caller as an owned handle (`Box::into_raw`).
///
/// # Safety
/// `out` must be null or valid for one pointer write.
pub unsafe fn handle_out<T>(out: *mut *mut T, value: T) -> Result<()> {
    write_out(out, Box::into_raw(Box::new(value)), "out")
}

/// Borrows the object behind an opaque handle.
///
/// # Safety
/// `ptr` must be null or a live handle created by this library.
pub unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> Result<&'a T> {
    ptr.as_ref().ok_or_else(|| Error::new(Status::NullHandle, format!("{what} handle is null")))
}

/// Frees a handle made by `Box::into_raw`; null is a no-op.
///
/// # Safety
/// `ptr` must be null or a live handle of type `T`, freed at most once.
pub unsafe fn free_handle<T>(ptr: *mut T) -> i32 {
    guard(|| {
        if !ptr.is_null() {
            drop(Box::from_raw(ptr));
        }
        Ok(())
    })
}

/// Copies `src` into a caller buffer of `cap` elements; a larger buffer is fine.
///
/// # Safety
/// `out` must be valid for `cap` elements.
pub unsafe fn copy_into<T: Copy>(src: &[T], out: *mut T, cap: u64, what: &str) -> Result<()> {
    if cap < src.len() as u64 {
        return Err(Error::new(Status::BufferTooSmall, format!("{what} holds {cap} elements, need {}", src.len())));
    }
    slice_mut(out, src.len() as u64, what)?.copy_from_slice(src);
    Ok(())
}

/// Copies `bytes` into a caller buffer of `cap` bytes as a NUL-terminated
/// string (truncated to `cap - 1` bytes) and reports the full length without
/// the NUL, so the caller can retry with a larger buffer when `*out_len >= cap`.
///
/// # Safety
/// `buf` must be valid for `cap` bytes and `out_len` null or valid for one write.
pub unsafe fn copy_string_out(bytes: &[u8], buf: *mut u8, cap: u64, out_len: *mut u64) -> Result<()> {
    if cap > 0 {
        let n = (cap - 1).min(bytes.len() as u64) as usize;
        let dst = slice_mut(buf, n as u64 + 1, "buffer")?;
        dst[..n].copy_from_slice(&bytes[..n]);
        dst[n] = 0;
    }
    if !out_len.is_null() {
        out_len.write(bytes.len() as u64);
    }
    Ok(())
}

/// A `#[repr(C)]` struct of the ABI whose first field is `struct_size: u32`.
pub trait AbiStruct: Copy {
    /// Bytes of the struct's first published version: the least a caller may pass.
    const MIN_SIZE: usize;
    /// The value of fields a caller's (older, shorter) struct does not have.
    fn defaults() -> Self;
}

/// Implements [`AbiStruct`] for structs still at their first version, whose
/// fields all have their `Default` value when a caller's struct lacks them.
macro_rules! first_version {
    ($($t:ty),+) => {$(
        impl $crate::ffi::AbiStruct for $t {
            const MIN_SIZE: usize = std::mem::size_of::<Self>();
            fn defaults() -> Self {
                Self::default()
            }
        }
    )+};
}
pub(crate) use first_version;

fn declared_size<T: AbiStruct>(declared: u32, what: &str) -> Result<usize> {
    let declared = declared as usize;
    if declared < T::MIN_SIZE {
        return Err(Error::invalid(format!("{what}.struct_size is {declared}, at least {} expected", T::MIN_SIZE)));
    }
    Ok(declared.min(std::mem::size_of::<T>()))
}

/// Reads an input struct: the caller's prefix over defaults for appended fields.
///
/// # Safety
/// `ptr` must be null or valid for reads of its `struct_size` bytes.
pub unsafe fn read_struct<T: AbiStruct>(ptr: *const T, what: &str) -> Result<T> {
    if ptr.is_null() {
        return Err(Error::new(Status::NullHandle, format!("{what} is null")));
    }
    let n = declared_size::<T>(ptr.cast::<u32>().read_unaligned(), what)?;
    let mut value = T::defaults();
    std::ptr::copy_nonoverlapping(ptr.cast::<u8>(), (&mut value as *mut T).cast::<u8>(), n);
    Ok(value)
}

/// Writes an output struct into the caller's `struct_size` bytes (a prefix of
/// `value` for an older caller), leaving the caller's `struct_size` as it is.
///
/// # Safety
/// `ptr` must be null or valid for writes of its `struct_size` bytes.
pub unsafe fn write_struct<T: AbiStruct>(ptr: *mut T, value: T, what: &str) -> Result<()> {
    if ptr.is_null() {
        return Err(Error::new(Status::NullHandle, format!("output pointer {what} is null")));
    }
    let n = declared_size::<T>(ptr.cast::<u32>().read_unaligned(), what)?;
    let size = std::mem::size_of::<u32>();
    std::ptr::copy_nonoverlapping((&value as *const T).cast::<u8>().add(size), ptr.cast::<u8>().add(size), n - size);
    Ok(())
}

/// Details of the calling thread's last failed call, filled by `ruv_last_error`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RuvErrorInfo {
    /// Set by the caller: `sizeof(RuvErrorInfo)`.
    pub struct_size: u32,
    /// The status of the failed call (`RUV_STATUS_OK` when there was none).
    pub status: i32,
    /// Length of the whole message in bytes, without the NUL.
    pub message_len: u64,
    /// For `RUV_STATUS_DIMENSION_MISMATCH`: the dimension expected, else 0.
    pub expected_dim: u64,
    /// For `RUV_STATUS_DIMENSION_MISMATCH`: the dimension passed, else 0.
    pub actual_dim: u64,
}

first_version!(RuvErrorInfo);

/// The last error of the calling thread: its message as a NUL-terminated UTF-8
/// string in `buf` (truncated to `cap - 1` bytes; `char msg[256];
/// ruv_last_error((uint8_t *)msg, sizeof msg, NULL)` is safe), and, when `info`
/// is not null, its status, full message length and dimensions. Each thread
/// has its own last error; a successful call does not clear it.
///
/// # Safety
/// `buf` must be valid for `cap` bytes; `info` null or valid for its `struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn ruv_last_error(buf: *mut u8, cap: u64, info: *mut RuvErrorInfo) -> i32 {
    let (status, message, (expected_dim, actual_dim)) = LAST_ERROR.with(|e| match &*e.borrow() {
        Some(e) => (e.status as i32, e.message.clone(), e.dims.unwrap_or_default()),
        None => (Status::Ok as i32, String::new(), (0, 0)),
    });
    let message_len = message.len() as u64;
    guard(|| {
        copy_string_out(message.as_bytes(), buf, cap, std::ptr::null_mut())?;
        if info.is_null() {
            return Ok(());
        }
        write_struct(info, RuvErrorInfo { struct_size: 0, status, message_len, expected_dim, actual_dim }, "info")
    })
}

/// A static, NUL-terminated description of a status code ("unknown status" for
/// a code this library does not define). Never null; never free it.
#[no_mangle]
pub extern "C" fn ruv_status_str(status: i32) -> *const c_char {
    Status::from_code(status).map_or(concat!("unknown status", "\0"), Status::description).as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_into_accepts_a_larger_buffer_and_refuses_a_smaller_one() {
        let mut big = [0u32; 4];
        unsafe { copy_into(&[1, 2], big.as_mut_ptr(), 4, "out") }.unwrap();
        assert_eq!(big, [1, 2, 0, 0]);
        let mut small = [0u32; 1];
        let err = unsafe { copy_into(&[1, 2], small.as_mut_ptr(), 1, "out") }.unwrap_err();
        assert_eq!(err.status, Status::BufferTooSmall);
        assert_eq!(err.message, "out holds 1 elements, need 2");
    }

    #[test]
    fn copy_string_out_always_terminates_and_reports_the_full_length() {
        let mut buf = [0xffu8; 4];
        let mut len = 0u64;
        unsafe { copy_string_out(b"hello", buf.as_mut_ptr(), 4, &mut len) }.unwrap();
        assert_eq!((&buf, len), (b"hel\0", 5));
        unsafe { copy_string_out(b"hi", buf.as_mut_ptr(), 4, &mut len) }.unwrap();
        assert_eq!((&buf[..3], len), (&b"hi\0"[..], 2));
    }

    #[test]
    fn structs_shorter_than_their_first_version_are_refused() {
        let mut info = RuvErrorInfo { struct_size: 8, ..Default::default() };
        let err = unsafe { write_struct(&mut info, RuvErrorInfo::default(), "info") }.unwrap_err();
        assert_eq!(err.message, "info.struct_size is 8, at least 32 expected");
    }

    #[test]
    fn every_status_has_a_description_and_unknown_codes_say_so() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s as i32), Some(s));
            let text = std::ffi::CStr::from_bytes_with_nul(s.description().as_bytes()).unwrap();
            assert!(!text.is_empty());
        }
        let unknown = unsafe { std::ffi::CStr::from_ptr(ruv_status_str(999)) };
        assert_eq!(unknown.to_str(), Ok("unknown status"));
    }

    #[test]
    fn non_utf8_bytes_are_a_path_on_unix_but_not_text() {
        let bytes = [b'a', 0xff];
        assert!(unsafe { utf8(bytes.as_ptr(), 2, "name") }.unwrap_err().message.starts_with("name is not valid UTF-8"));
        #[cfg(unix)]
        assert!(unsafe { path(bytes.as_ptr(), 2, "dir") }.is_ok());
        assert_eq!(unsafe { path([b'a', 0].as_ptr(), 2, "dir") }.unwrap_err().message, "dir is empty or contains a NUL byte");
    }
}
