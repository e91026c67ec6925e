//! C ABI glue: status codes, the thread-local last error, panic containment and
//! checked conversions of (pointer, length) arguments.
//!
//! Conventions for every `ruv_*` function: returns an `i32` status (0 = ok);
//! outputs go through pointers; on failure the message is kept for
//! `ruv_last_error`. Buffers are `(ptr, len)` with `len` in elements.

pub mod embed;
pub mod fs;
pub mod index;
pub mod lake;
pub mod runtime;

use std::any::Any;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result, Status};

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

pub fn set_last_error(message: &str) {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        e.push_str(message);
    });
}

pub fn panic_message(p: &Box<dyn Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs `f`, converting its error or panic into a status and a last error.
pub fn guard(f: impl FnOnce() -> Result<()>) -> i32 {
    let outcome = catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|p| Err(Error::new(Status::Panic, format!("internal panic: {}", panic_message(&p)))));
    match outcome {
        Ok(()) => Status::Ok as i32,
        Err(e) => {
            set_last_error(&e.message);
            e.status as i32
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

/// Copies `bytes` into a caller buffer of `cap` bytes and reports the full length,
/// so the caller can retry with a larger buffer when `*out_len > cap`.
///
/// # Safety
/// `buf` must be valid for `cap` bytes and `out_len` for one write.
pub unsafe fn copy_bytes_out(bytes: &[u8], buf: *mut u8, cap: u64, out_len: *mut u64) -> Result<()> {
    let dst = slice_mut(buf, cap.min(bytes.len() as u64), "buffer")?;
    dst.copy_from_slice(&bytes[..dst.len()]);
    write_out(out_len, bytes.len() as u64, "out_len")
}

/// The last error message of this thread (UTF-8, not NUL-terminated).
///
/// # Safety
/// `buf` must be valid for `cap` bytes; `out_len` for one u64.
#[no_mangle]
pub unsafe extern "C" fn ruv_last_error(buf: *mut u8, cap: u64, out_len: *mut u64) -> i32 {
    let message = LAST_ERROR.with(|e| e.borrow().clone());
    guard(|| copy_bytes_out(message.as_bytes(), buf, cap, out_len))
}
