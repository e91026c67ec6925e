//! The one error type of the native core and its stable status codes.

use std::any::Any;
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

impl Status {
    /// Every status, in code order.
    pub const ALL: [Status; 15] = [
        Status::Ok,
        Status::InvalidArgument,
        Status::DimensionMismatch,
        Status::EmptyIndex,
        Status::Persist,
        Status::Io,
        Status::Panic,
        Status::NullHandle,
        Status::NotFound,
        Status::Pending,
        Status::BufferTooSmall,
        Status::CacheMiss,
        Status::WitnessMismatch,
        Status::Bundle,
        Status::Embed,
    ];

    /// The status with code `code`, if there is one.
    pub fn from_code(code: i32) -> Option<Status> {
        Self::ALL.into_iter().find(|s| *s as i32 == code)
    }

    /// A short description of the status, NUL-terminated for `ruv_status_str`.
    pub fn description(self) -> &'static str {
        match self {
            Status::Ok => concat!("ok", "\0"),
            Status::InvalidArgument => concat!("invalid argument", "\0"),
            Status::DimensionMismatch => concat!("dimension mismatch", "\0"),
            Status::EmptyIndex => concat!("empty index", "\0"),
            Status::Persist => concat!("index file unreadable or invalid", "\0"),
            Status::Io => concat!("I/O error", "\0"),
            Status::Panic => concat!("internal panic", "\0"),
            Status::NullHandle => concat!("null handle or output pointer", "\0"),
            Status::NotFound => concat!("not found", "\0"),
            Status::Pending => concat!("job still running", "\0"),
            Status::BufferTooSmall => concat!("buffer too small", "\0"),
            Status::CacheMiss => concat!("collection not cached", "\0"),
            Status::WitnessMismatch => concat!("witness mismatch", "\0"),
            Status::Bundle => concat!("bundle unreadable or invalid", "\0"),
            Status::Embed => concat!("embedding model error", "\0"),
        }
    }
}

/// The message carried by a caught panic.
pub fn panic_message(p: &Box<dyn Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// An error with its status and a message naming the values involved.
#[derive(Debug, Clone)]
pub struct Error {
    pub status: Status,
    pub message: String,
    /// `(expected, actual)` for a `DimensionMismatch`, so callers need not parse the message.
    pub dims: Option<(u64, u64)>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), dims: None }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Status::InvalidArgument, message)
    }
    pub fn persist(message: impl Into<String>) -> Self {
        Self::new(Status::Persist, message)
    }
    pub fn dim_mismatch(expected: usize, actual: usize) -> Self {
        let message = format!("dimension mismatch: expected {expected}, got {actual}");
        Self { dims: Some((expected as u64, actual as u64)), ..Self::new(Status::DimensionMismatch, message) }
    }
    pub fn io(context: &str, err: std::io::Error) -> Self {
        Self::new(Status::Io, format!("{context}: {}", describe_io(&err)))
    }
}

/// An I/O error as a person reads it: the usual kinds in words, without Rust's "(os error N)".
fn describe_io(err: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match err.kind() {
        K::NotFound => "no such file or directory".into(),
        K::PermissionDenied => "permission denied".into(),
        K::AlreadyExists => "already exists".into(),
        K::IsADirectory => "is a directory".into(),
        K::NotADirectory => "a parent is not a directory".into(),
        K::StorageFull => "no space left on the device".into(),
        _ => {
            let text = err.to_string();
            text.split(" (os error").next().unwrap_or(&text).to_string()
        }
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
        match e {
            R::DimensionMismatch { expected, actual } => Self::dim_mismatch(expected, actual),
            R::EmptyIndex => Self::new(Status::EmptyIndex, e.to_string()),
            _ => Self::invalid(e.to_string()),
        }
    }
}
