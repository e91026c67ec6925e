//! NEON paths: four q registers hold the 16 canonical lanes. NEON is part of
//! the aarch64 baseline; `super::available` still checks it before installing.

use std::arch::aarch64::*;

use super::{excode, scalar, Kernels, TagMask, BLOCK, LANES, LUT_ENTRIES};

pub static KERNELS: Kernels = Kernels {
    name: "neon",
    sq_l2: |a, b| unsafe { sq_l2(a, b) },
    dot: |a, b| unsafe { dot(a, b) },
    sq_l2_x4: |q, rows| unsafe { sq_l2_x4(q, rows) },
    fastscan: |c, l, out| unsafe { fastscan(c, l, out) },
    ex_ip: |c, q, bits| unsafe { ex_ip(c, q, bits) },
    fht: |x| scalar::fht_stages(x, 4, |x, h| unsafe { wide_stage(x, h) }),
    tag_fails: |m, t| unsafe { tag_fails(m, t) },
};

type Acc = [float32x4_t; 4];

/// Loads chunk `i` of 16 floats, zero-filling past the end (see avx2.rs).
#[inline]
#[target_feature(enable = "neon")]
unsafe fn load16(x: &[f32], i: usize) -> Acc {
    let start = i * LANES;
    let mut buf = [0f32; LANES];
    let p = if start + LANES <= x.len() {
        x.as_ptr().add(start)
    } else {
        buf[..x.len() - start].copy_from_slice(&x[start..]);
        buf.as_ptr()
    };
    [vld1q_f32(p), vld1q_f32(p.add(4)), vld1q_f32(p.add(8)), vld1q_f32(p.add(12))]
}

#[inline]
#[target_feature(enable = "neon")]
unsafe fn l2_step(acc: Acc, a: Acc, b: Acc) -> Acc {
    let mut out = acc;
    for k in 0..4 {
        let d = vsubq_f32(a[k], b[k]);
        out[k] = vaddq_f32(acc[k], vmulq_f32(d, d));
    }
    out
}

/// `scalar::reduce16`'s tree: i+8, i+4, i+2, i+1.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn reduce(acc: Acc) -> f32 {
    let s4 = vaddq_f32(vaddq_f32(acc[0], acc[2]), vaddq_f32(acc[1], acc[3]));
    let s2 = vadd_f32(vget_low_f32(s4), vget_high_f32(s4));
    vget_lane_f32::<0>(s2) + vget_lane_f32::<1>(s2)
}

#[target_feature(enable = "neon")]
unsafe fn sq_l2(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [vdupq_n_f32(0.0); 4];
    for i in 0..a.len().div_ceil(LANES) {
        acc = l2_step(acc, load16(a, i), load16(b, i));
    }
    reduce(acc)
}

#[target_feature(enable = "neon")]
unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [vdupq_n_f32(0.0); 4];
    for i in 0..a.len().div_ceil(LANES) {
        let (x, y) = (load16(a, i), load16(b, i));
        for k in 0..4 {
            acc[k] = vaddq_f32(acc[k], vmulq_f32(x[k], y[k]));
        }
    }
    reduce(acc)
}

#[target_feature(enable = "neon")]
unsafe fn sq_l2_x4(q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
    let mut acc = [[vdupq_n_f32(0.0); 4]; 4];
    for i in 0..q.len().div_ceil(LANES) {
        let x = load16(q, i);
        for (a, r) in acc.iter_mut().zip(rows) {
            *a = l2_step(*a, x, load16(r, i));
        }
    }
    acc.map(|a| reduce(a))
}

/// One sub-quantizer per 16-byte load through `tbl`; u16 sums flushed to u32
/// every 256 sub-quantizers, before 256 × 255 could overflow.
#[target_feature(enable = "neon")]
unsafe fn fastscan(codes: &[u8], lut: &[u8], out: &mut [u32; BLOCK]) {
    *out = [0; BLOCK];
    let m = lut.len() / LUT_ENTRIES;
    let nib = vdupq_n_u8(0x0f);
    let mut start = 0;
    while start < m {
        let end = (start + 256).min(m);
        let mut acc = [vdupq_n_u16(0); 4];
        for s in start..end {
            let c = vld1q_u8(codes.as_ptr().add(16 * s));
            let l = vld1q_u8(lut.as_ptr().add(16 * s));
            let rl = vqtbl1q_u8(l, vandq_u8(c, nib));
            let rh = vqtbl1q_u8(l, vshrq_n_u8::<4>(c));
            acc[0] = vaddw_u8(acc[0], vget_low_u8(rl));
            acc[1] = vaddw_high_u8(acc[1], rl);
            acc[2] = vaddw_u8(acc[2], vget_low_u8(rh));
            acc[3] = vaddw_high_u8(acc[3], rh);
        }
        for (k, a) in acc.iter().enumerate() {
            let mut v = [0u16; 8];
            vst1q_u16(v.as_mut_ptr(), *a);
            for (o, x) in out[8 * k..8 * k + 8].iter_mut().zip(v) {
                *o += x as u32;
            }
        }
        start = end;
    }
}

/// A packed code's value, with a loop specialised per width.
#[target_feature(enable = "neon")]
unsafe fn ex_ip(packed: &[u8], q: &[i16], bits: u32) -> i64 {
    excode::per_width!(ex_ip_planes, packed, q, bits)
}

/// 16 components per step: each plane's 16-byte group shifted right by the
/// field's bit position (`ushl` by a negative count), masked, moved to the
/// plane's bits and OR-ed into 16 u8 values, widened to i16 and `smlal`-ed
/// with q. An i32 lane takes 2 products ≤ 255 × 32768 per step, so flushing
/// to i64 every 2,048 components keeps it exact.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn ex_ip_planes<const BITS: u32>(packed: &[u8], q: &[i16]) -> i64 {
    let dim = q.len();
    let (planes, used) = excode::planes(dim, BITS);
    let full = dim / 16 * 16;
    let mut total = 0i64;
    let mut start = 0;
    while start < full {
        let end = (start + 2048).min(full);
        let (mut lo, mut hi) = (vdupq_n_s32(0), vdupq_n_s32(0));
        for i in (start..end).step_by(16) {
            let mut v = vdupq_n_u8(0);
            for p in &planes[..used] {
                let span = excode::group_span(p.width);
                let (g, t) = (i / span, (i % span / 16) as i8);
                let group = vld1q_u8(packed.as_ptr().add(p.offset + 16 * g));
                let field = vandq_u8(vshlq_u8(group, vdupq_n_s8(-t * p.width as i8)), vdupq_n_u8(((1u32 << p.width) - 1) as u8));
                v = vorrq_u8(v, vshlq_u8(field, vdupq_n_s8(p.shift as i8)));
            }
            let c0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v)));
            let c1 = vreinterpretq_s16_u16(vmovl_high_u8(v));
            let (x0, x1) = (vld1q_s16(q.as_ptr().add(i)), vld1q_s16(q.as_ptr().add(i + 8)));
            lo = vmlal_s16(lo, vget_low_s16(c0), vget_low_s16(x0));
            hi = vmlal_high_s16(hi, c0, x0);
            lo = vmlal_s16(lo, vget_low_s16(c1), vget_low_s16(x1));
            hi = vmlal_high_s16(hi, c1, x1);
        }
        total += vaddlvq_s32(lo) + vaddlvq_s32(hi);
        start = end;
    }
    total + excode::ip_from(packed, q, BITS, full)
}

/// One FHT stage of stride `h` ≥ 4, 4 butterflies at once.
#[target_feature(enable = "neon")]
unsafe fn wide_stage(x: &mut [f32], h: usize) {
    let n = x.len();
    let p = x.as_mut_ptr();
    for base in (0..n).step_by(2 * h) {
        for j in (base..base + h).step_by(4) {
            let (a, b) = (vld1q_f32(p.add(j)), vld1q_f32(p.add(j + h)));
            vst1q_f32(p.add(j), vaddq_f32(a, b));
            vst1q_f32(p.add(j + h), vsubq_f32(a, b));
        }
    }
}

/// Two rows per step (see the AVX2 path); an odd last row goes through the scalar test.
#[target_feature(enable = "neon")]
unsafe fn tag_fails(m: &TagMask, tags: &[u64]) -> u64 {
    debug_assert!(tags.len() <= 64);
    let zero = vdupq_n_u64(0);
    let [any, all, none] = [m.any, m.all, m.none].map(|w| vdupq_n_u64(w));
    let any_set = vdupq_n_u64(if m.any == 0 { 0 } else { u64::MAX });
    let pairs = tags.chunks_exact(2);
    let tail = pairs.remainder();
    let mut bits = 0u64;
    for (i, pair) in pairs.enumerate() {
        let t = vld1q_u64(pair.as_ptr());
        let miss_any = vandq_u64(any_set, vceqq_u64(vandq_u64(t, any), zero));
        let has_all = vceqq_u64(vandq_u64(t, all), all);
        let has_none = vceqq_u64(vandq_u64(t, none), zero);
        let pass = vbicq_u64(vandq_u64(has_all, has_none), miss_any);
        let fail = (!vgetq_lane_u64::<0>(pass) & 1) | (!vgetq_lane_u64::<1>(pass) & 1) << 1;
        bits |= fail << (2 * i);
    }
    if tail.is_empty() {
        return bits;
    }
    bits | scalar::tag_fails(m, tail) << (tags.len() - tail.len())
}
