//! Every SIMD path this machine can run against the scalar reference, bit for bit.

use ruvector::kernels::{self, excode, scalar, Kernels, TagMask, BLOCK, LUT_ENTRIES};

const DIMS: [usize; 7] = [1, 3, 64, 100, 384, 784, 1536];

/// Deterministic values spanning several magnitudes and both signs.
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let unit = (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            unit * [1e-3f32, 1.0, 37.0, 1e4][(s & 3) as usize]
        })
        .collect()
}

fn bytes(n: usize, seed: u64) -> Vec<u8> {
    values(n, seed).iter().map(|v| v.to_bits() as u8).collect()
}

/// The SIMD paths under test; the ones this CPU must offer are asserted, so
/// a detection failure cannot leave the comparisons vacuous.
fn simd_paths() -> Vec<&'static Kernels> {
    let paths: Vec<&'static Kernels> = kernels::available().into_iter().filter(|k| k.name != "scalar").collect();
    let names: Vec<&str> = paths.iter().map(|k| k.name).collect();
    #[cfg(target_arch = "aarch64")]
    assert!(names.contains(&"neon"), "{names:?}");
    #[cfg(target_arch = "x86_64")]
    assert_eq!(names.contains(&"avx2"), std::arch::is_x86_feature_detected!("avx2"), "{names:?}");
    paths
}

#[test]
fn float_kernels_equal_scalar_bit_for_bit() {
    for k in simd_paths() {
        for d in DIMS {
            let (a, b) = (values(d, d as u64), values(d, d as u64 + 99));
            assert_eq!((k.sq_l2)(&a, &b).to_bits(), scalar::sq_l2(&a, &b).to_bits(), "{} sq_l2 d={d}", k.name);
            assert_eq!((k.dot)(&a, &b).to_bits(), scalar::dot(&a, &b).to_bits(), "{} dot d={d}", k.name);
            let rows: Vec<Vec<f32>> = (0..4).map(|r| values(d, 1000 + r)).collect();
            let refs = [&rows[0][..], &rows[1][..], &rows[2][..], &rows[3][..]];
            let got = (k.sq_l2_x4)(&a, refs).map(f32::to_bits);
            assert_eq!(got, scalar::sq_l2_x4(&a, refs).map(f32::to_bits), "{} sq_l2_x4 d={d}", k.name);
        }
    }
}

#[test]
fn canonical_order_is_not_the_sequential_sum_but_close_to_it() {
    let (a, b) = (values(100, 1), values(100, 2));
    let exact: f64 = a.iter().zip(&b).map(|(&x, &y)| ((x - y) as f64).powi(2)).sum();
    let got = scalar::sq_l2(&a, &b) as f64;
    assert!((got - exact).abs() <= exact * 1e-6, "{got} vs {exact}");
}

#[test]
fn fastscan_equals_scalar_on_every_width_and_extreme_luts() {
    for k in simd_paths() {
        for d in DIMS {
            let m = d.div_ceil(4);
            let codes = bytes(m * LUT_ENTRIES, d as u64);
            for lut in [bytes(m * LUT_ENTRIES, 7 + d as u64), vec![255; m * LUT_ENTRIES], vec![0; m * LUT_ENTRIES]] {
                let (mut want, mut got) = ([0u32; BLOCK], [1u32; BLOCK]);
                scalar::fastscan(&codes, &lut, &mut want);
                (k.fastscan)(&codes, &lut, &mut got);
                assert_eq!(got, want, "{} fastscan m={m}", k.name);
            }
        }
        // Past the u16 flush point: 600 sub-quantizers all at 255 sum to 153,000 exactly.
        let (codes, lut) = (vec![0xA5u8; 600 * 16], vec![255u8; 600 * 16]);
        let mut got = [0u32; BLOCK];
        (k.fastscan)(&codes, &lut, &mut got);
        assert_eq!(got, [600 * 255; BLOCK], "{} fastscan overflow", k.name);
    }
}

#[test]
fn fastscan_scalar_reads_the_documented_nibbles() {
    let mut codes = vec![0u8; 16];
    codes[3] = 0x52; // vector 3 takes entry 2, vector 19 takes entry 5
    let lut: Vec<u8> = (0..16).map(|i| i * 10).collect();
    let mut out = [0u32; BLOCK];
    scalar::fastscan(&codes, &lut, &mut out);
    assert_eq!((out[3], out[19], out[0]), (20, 50, 0));
}

#[test]
fn ex_ip_equals_scalar_on_every_width_including_extremes() {
    for k in simd_paths() {
        for d in DIMS.iter().copied().chain([4096, 8192]) {
            let q: Vec<i16> = values(d, 5 + d as u64).iter().map(|v| v.to_bits() as i16).collect();
            for bits in 0..=8u32 {
                let top = ((1u32 << bits) - 1) as u8;
                let mut packed = Vec::new();
                excode::pack(&bytes(d, d as u64 + bits as u64).iter().map(|b| b & top).collect::<Vec<_>>(), bits, &mut packed);
                assert_eq!((k.ex_ip)(&packed, &q, bits), scalar::ex_ip(&packed, &q, bits), "{} ex_ip d={d} bits={bits}", k.name);
                let mut high = Vec::new();
                excode::pack(&vec![top; d], bits, &mut high);
                let low = vec![i16::MIN; d];
                assert_eq!((k.ex_ip)(&high, &low, bits), -(top as i64 * 32768 * d as i64), "{} ex_ip extreme d={d} bits={bits}", k.name);
            }
        }
    }
}

#[test]
fn fht_equals_scalar_and_is_orthogonal_up_to_scale() {
    for k in simd_paths() {
        for n in [1, 2, 4, 8, 16, 64, 128, 512, 1024] {
            let x = values(n, n as u64);
            let (mut a, mut b) = (x.clone(), x.clone());
            scalar::fht(&mut a);
            (k.fht)(&mut b);
            assert_eq!(a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), b.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "{} fht n={n}", k.name);
        }
    }
    let x = values(64, 3);
    let mut y = x.clone();
    scalar::fht(&mut y);
    let (nx, ny): (f64, f64) = (x.iter().map(|v| (*v as f64).powi(2)).sum(), y.iter().map(|v| (*v as f64).powi(2)).sum());
    assert!((ny / 64.0 - nx).abs() <= nx * 1e-5);
}

#[test]
fn tag_fails_equals_scalar_on_every_length_and_mask() {
    let words = |n: usize, seed: u64| bytes(n * 8, seed).chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap()) & 0xF0F).collect::<Vec<u64>>();
    let masks = [TagMask::default(), TagMask { any: 0x3, ..TagMask::default() }, TagMask { all: 0x101, ..TagMask::default() }, TagMask { none: 0x800, ..TagMask::default() }, TagMask { any: 0x6, all: 0x100, none: 0x1 }, TagMask { any: 0, all: u64::MAX, none: 0 }];
    for k in simd_paths() {
        for n in [0, 1, 2, 3, 4, 5, 31, 63, 64] {
            let tags = words(n, n as u64 + 7);
            for m in &masks {
                let want = scalar::tag_fails(m, &tags);
                assert_eq!((k.tag_fails)(m, &tags), want, "{} n={n} {m:?}", k.name);
                let by_row = tags.iter().enumerate().fold(0u64, |b, (j, &t)| b | (!m.admits(t) as u64) << j);
                assert_eq!(want, by_row, "scalar n={n} {m:?}");
            }
        }
    }
}

#[test]
fn forcing_an_unknown_or_missing_path_is_a_clear_error() {
    let e = kernels::by_name("sse9").err().unwrap();
    assert!(e.message.contains("sse9") && e.message.contains("scalar"), "{}", e.message);
    assert_eq!(kernels::by_name("scalar").unwrap().name, "scalar");
    #[cfg(target_arch = "x86_64")]
    assert!(kernels::by_name("neon").err().unwrap().message.contains("not available"));
}
