//! libruvector: the native core of `@ruvector/bun`, a stable C ABI over the
//! `ruvector-rabitq` indexes. See `include/ruvector.h` for the contract.

pub mod cpu;
pub mod embed;
pub mod error;
pub mod ffi;
pub mod fsio;
pub mod index;
pub mod kernels;
pub mod lake;
pub mod runtime;

/// Library version; the TypeScript layer refuses a mismatched library.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
