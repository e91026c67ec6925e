//! Compute kernels with one scalar reference each and SIMD paths chosen once
//! at run time. Every path returns bit-identical results: float kernels use a
//! canonical 16-lane order (separate sub/mul/add, never FMA, a fixed pairwise
//! lane tree), integer kernels are exact. So an index answers identically on
//! every CPU.
//!
//! `RUVECTOR_SIMD=scalar|avx2|avx512|neon` forces a path for the whole
//! process. A forced path this CPU (or build) cannot run, or an unknown name,
//! falls back to `scalar` — always correct — and [`selection`] says why.

pub mod excode;
pub mod scalar;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "aarch64")]
mod neon;

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// Lanes of the canonical float order.
pub const LANES: usize = 16;
/// Vectors per FastScan block.
pub const BLOCK: usize = 32;
/// LUT entries per 4-dimension sub-quantizer.
pub const LUT_ENTRIES: usize = 16;

/// One implementation of every kernel.
pub struct Kernels {
    pub name: &'static str,
    /// Squared L2 distance in the canonical order.
    pub sq_l2: fn(&[f32], &[f32]) -> f32,
    /// Dot product in the canonical order.
    pub dot: fn(&[f32], &[f32]) -> f32,
    /// Four squared-L2 distances from one query (four rows in flight).
    pub sq_l2_x4: fn(&[f32], [&[f32]; 4]) -> [f32; 4],
    /// FastScan accumulate of one block (`codes`, `lut`: 16 bytes per sub-quantizer).
    pub fastscan: fn(&[u8], &[u8], &mut [u32; BLOCK]),
    /// Exact Σ valueᵢ·qᵢ of a code packed by [`excode::pack`] with the given bits.
    pub ex_ip: fn(&[u8], &[i16], u32) -> i64,
    /// Unnormalised Hadamard transform of a power-of-two window.
    pub fht: fn(&mut [f32]),
    /// Bit j set where tags[j] (at most 64 of them) fails the tag mask.
    pub tag_fails: fn(&TagMask, &[u64]) -> u64,
}

/// 64 tag bits tested per row: `t & any != 0` unless `any` is 0, `t & all == all`
/// and `t & none == 0` must all hold for a row to pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TagMask {
    pub any: u64,
    pub all: u64,
    pub none: u64,
}

impl TagMask {
    /// True when the mask lets every row through.
    pub fn is_open(&self) -> bool {
        self.any == 0 && self.all == 0 && self.none == 0
    }

    /// True when a row with tags `t` passes.
    #[inline]
    pub fn admits(&self, t: u64) -> bool {
        scalar::tag_passes(self, t)
    }
}

pub static SCALAR: Kernels = Kernels {
    name: "scalar",
    sq_l2: scalar::sq_l2,
    dot: scalar::dot,
    sq_l2_x4: scalar::sq_l2_x4,
    fastscan: scalar::fastscan,
    ex_ip: scalar::ex_ip,
    fht: scalar::fht,
    tag_fails: scalar::tag_fails,
};

/// Every path this process can run, best last; `scalar` always first.
pub fn available() -> Vec<&'static Kernels> {
    let mut paths = vec![&SCALAR];
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        paths.push(&avx2::KERNELS);
    }
    #[cfg(target_arch = "aarch64")]
    if std::arch::is_aarch64_feature_detected!("neon") {
        paths.push(&neon::KERNELS);
    }
    paths
}

/// The path named `name`, or an error naming it and the paths available.
pub fn by_name(name: &str) -> Result<&'static Kernels> {
    let paths = available();
    if let Some(k) = paths.iter().find(|k| k.name == name) {
        return Ok(k);
    }
    let names: Vec<&str> = paths.iter().map(|k| k.name).collect();
    let known = ["scalar", "avx2", "avx512", "neon"].contains(&name);
    let why = if known { "is not available on this CPU or build" } else { "is not a SIMD path name" };
    Err(Error::invalid(format!("RUVECTOR_SIMD={name} {why}; available: {}", names.join(", "))))
}

/// The chosen path and, when `RUVECTOR_SIMD` could not be honoured, why.
pub struct Selection {
    pub kernels: &'static Kernels,
    pub note: Option<String>,
}

/// The process-wide selection, made once.
pub fn selection() -> &'static Selection {
    static CHOSEN: OnceLock<Selection> = OnceLock::new();
    CHOSEN.get_or_init(|| match std::env::var("RUVECTOR_SIMD") {
        Ok(name) if !name.is_empty() => match by_name(&name) {
            Ok(kernels) => Selection { kernels, note: None },
            Err(e) => Selection { kernels: &SCALAR, note: Some(format!("{e}; using scalar")) },
        },
        _ => Selection { kernels: available().pop().unwrap_or(&SCALAR), note: None },
    })
}

/// Hints that `bytes` are read soon, so several cache misses overlap
/// (a no-op where the hint is not available).
#[inline(always)]
pub fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(last) = bytes.len().checked_sub(1) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        for at in (0..last).step_by(64).chain([last]) {
            // SAFETY: a hint with an in-bounds address; SSE is baseline on x86_64.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().add(at) as *const i8) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// The kernels every index uses.
#[inline]
pub fn active() -> &'static Kernels {
    selection().kernels
}
