//! SIMD features detected at run time, as a bit set.

pub(crate) const AVX2: u32 = 1;
pub(crate) const POPCNT: u32 = 2;
pub(crate) const AVX512F: u32 = 4;
pub(crate) const AVX512VPOPCNTDQ: u32 = 8;
pub(crate) const FMA: u32 = 16;
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
pub(crate) const NEON: u32 = 32;

pub fn features() -> u32 {
    let mut bits = 0;
    #[cfg(target_arch = "x86_64")]
    {
        let checks = [
            (std::arch::is_x86_feature_detected!("avx2"), AVX2),
            (std::arch::is_x86_feature_detected!("popcnt"), POPCNT),
            (std::arch::is_x86_feature_detected!("avx512f"), AVX512F),
            (std::arch::is_x86_feature_detected!("avx512vpopcntdq"), AVX512VPOPCNTDQ),
            (std::arch::is_x86_feature_detected!("fma"), FMA),
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
            bits |= NEON;
        }
    }
    bits
}
