//! SIMD features detected at run time, as a bit set (`ruv_cpu_features`).
//! Every bit is part of the C ABI on every target, so none is dead code on
//! the targets where it can never be set.

/// x86-64 AVX2.
pub const RUV_CPU_AVX2: u32 = 1;
/// x86-64 POPCNT.
pub const RUV_CPU_POPCNT: u32 = 2;
/// x86-64 AVX-512F.
pub const RUV_CPU_AVX512F: u32 = 4;
/// x86-64 AVX-512 VPOPCNTDQ.
pub const RUV_CPU_AVX512VPOPCNTDQ: u32 = 8;
/// x86-64 FMA.
pub const RUV_CPU_FMA: u32 = 16;
/// AArch64 NEON.
pub const RUV_CPU_NEON: u32 = 32;

pub fn features() -> u32 {
    let mut bits = 0;
    #[cfg(target_arch = "x86_64")]
    {
        let checks = [
            (std::arch::is_x86_feature_detected!("avx2"), RUV_CPU_AVX2),
            (std::arch::is_x86_feature_detected!("popcnt"), RUV_CPU_POPCNT),
            (std::arch::is_x86_feature_detected!("avx512f"), RUV_CPU_AVX512F),
            (std::arch::is_x86_feature_detected!("avx512vpopcntdq"), RUV_CPU_AVX512VPOPCNTDQ),
            (std::arch::is_x86_feature_detected!("fma"), RUV_CPU_FMA),
        ];
        for (on, bit) in checks {
            if on {
                bits |= bit;
            }
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            bits |= RUV_CPU_NEON;
        }
    }
    bits
}
