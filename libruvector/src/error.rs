//! The one error type of the native core and its stable status codes.

use std::fmt;

/// Stable status codes returned by every `ruv_*` function. Zero is success.
/// The numbers are part of the C ABI: never renumber, only append.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    InvalidArgument = 1,
    DimensionMismatch = 2,
    EmptyIndex = 3,
    Persist = 4,
    Io = 5,
    Panic = 6,
    NullHandle = 7,
    NotFound = 8,
    Pending = 9,
    BufferTooSmall = 10,
    CacheMiss = 11,
    WitnessMismatch = 12,
    Bundle = 13,
    /// Embedding models: unknown/unavailable model, missing or unverified file, ONNX Runtime, bad input.
    Embed = 14,
}

/// An error with its status and a message naming the values involved.
#[derive(Debug, Clone)]
pub struct Error {
    pub status: Status,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Status::InvalidArgument, message)
    }
    pub fn persist(message: impl Into<String>) -> Self {
        Self::new(Status::Persist, message)
    }
    pub fn dim_mismatch(expected: usize, actual: usize) -> Self {
        Self::new(
            Status::DimensionMismatch,
            format!("dimension mismatch: expected {expected}, got {actual}"),
        )
    }
    pub fn io(context: &str, err: std::io::Error) -> Self {
        Self::new(Status::Io, format!("{context}: {err}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<ruvector_rabitq::RabitqError> for Error {
    fn from(e: ruvector_rabitq::RabitqError) -> Self {
        use ruvector_rabitq::RabitqError as R;
        let status = match e {
            R::DimensionMismatch { .. } => Status::DimensionMismatch,
            R::EmptyIndex => Status::EmptyIndex,
            _ => Status::InvalidArgument,
        };
        Self::new(status, e.to_string())
    }
}
