//! AVX2 paths: two ymm registers hold the 16 canonical lanes. Only installed
//! by `super::available` after `is_x86_feature_detected!("avx2")`, which is
//! what makes the `unsafe` calls below sound.

use std::arch::x86_64::*;

use super::{excode, scalar, Kernels, TagMask, BLOCK, LANES, LUT_ENTRIES};

pub static KERNELS: Kernels = Kernels {
    name: "avx2",
    sq_l2: |a, b| unsafe { sq_l2(a, b) },
    dot: |a, b| unsafe { dot(a, b) },
    sq_l2_x4: |q, rows| unsafe { sq_l2_x4(q, rows) },
    fastscan: |c, l, out| unsafe { fastscan(c, l, out) },
    ex_ip: |c, q, bits| unsafe { ex_ip(c, q, bits) },
    fht: |x| scalar::fht_stages(x, 8, |x, h| unsafe { wide_stage(x, h) }),
    tag_fails: |m, t| unsafe { tag_fails(m, t) },
};

/// 16 lanes as (lanes 0..8, lanes 8..16).
type Acc = (__m256, __m256);

/// `MASKS[16 - r..]` enables the first r of 16 lanes.
static MASKS: [i32; 32] = {
    let mut m = [0i32; 32];
    let mut i = 0;
    while i < 16 {
        m[i] = -1;
        i += 1;
    }
    m
};

/// Chunk `i` of 16 floats; past the end, masked lanes read as zero, and adding
/// a zero term leaves a lane unchanged, so the tail matches the scalar remainder.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn load16(x: &[f32], i: usize) -> Acc {
    let start = i * LANES;
    let p = x.as_ptr().add(start);
    let rest = x.len() - start;
    if rest >= LANES {
        return (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
    }
    let m = MASKS.as_ptr().add(LANES - rest);
    let (lo, hi) = (_mm256_loadu_si256(m as *const __m256i), _mm256_loadu_si256(m.add(8) as *const __m256i));
    // The high half's mask is all zero when rest ≤ 8, so its address is never read.
    (_mm256_maskload_ps(p, lo), _mm256_maskload_ps(p.add(8.min(rest)), hi))
}

#[inline]
#[target_feature(enable = "avx2")]
unsafe fn l2_step(acc: Acc, a: Acc, b: Acc) -> Acc {
    let (d0, d1) = (_mm256_sub_ps(a.0, b.0), _mm256_sub_ps(a.1, b.1));
    (_mm256_add_ps(acc.0, _mm256_mul_ps(d0, d0)), _mm256_add_ps(acc.1, _mm256_mul_ps(d1, d1)))
}

/// `scalar::reduce16`'s tree: i+8, i+4, i+2, i+1.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn reduce(acc: Acc) -> f32 {
    let s8 = _mm256_add_ps(acc.0, acc.1);
    let s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)))
}

#[target_feature(enable = "avx2")]
unsafe fn sq_l2(a: &[f32], b: &[f32]) -> f32 {
    let zero = _mm256_setzero_ps();
    let mut acc = (zero, zero);
    for i in 0..a.len().div_ceil(LANES) {
        acc = l2_step(acc, load16(a, i), load16(b, i));
    }
    reduce(acc)
}

#[target_feature(enable = "avx2")]
unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
    let zero = _mm256_setzero_ps();
    let mut acc = (zero, zero);
    for i in 0..a.len().div_ceil(LANES) {
        let (x, y) = (load16(a, i), load16(b, i));
        acc = (_mm256_add_ps(acc.0, _mm256_mul_ps(x.0, y.0)), _mm256_add_ps(acc.1, _mm256_mul_ps(x.1, y.1)));
    }
    reduce(acc)
}

#[target_feature(enable = "avx2")]
unsafe fn sq_l2_x4(q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
    let zero = _mm256_setzero_ps();
    let (mut a0, mut a1, mut a2, mut a3) = ((zero, zero), (zero, zero), (zero, zero), (zero, zero));
    for i in 0..q.len().div_ceil(LANES) {
        let x = load16(q, i);
        a0 = l2_step(a0, x, load16(rows[0], i));
        a1 = l2_step(a1, x, load16(rows[1], i));
        a2 = l2_step(a2, x, load16(rows[2], i));
        a3 = l2_step(a3, x, load16(rows[3], i));
    }
    [reduce(a0), reduce(a1), reduce(a2), reduce(a3)]
}

/// Two sub-quantizers per 32-byte load (one per 128-bit lane, as `vpshufb`
/// shuffles within lanes). u16 sums of even and odd bytes are widened into
/// u32 totals every 256 pairs, before 256 × 255 could overflow; the totals
/// stay in registers and are stored once, as whole vectors.
#[target_feature(enable = "avx2")]
unsafe fn fastscan(codes: &[u8], lut: &[u8], out: &mut [u32; BLOCK]) {
    let pairs = lut.len() / (2 * LUT_ENTRIES);
    let nib = _mm256_set1_epi8(0x0f);
    let low_byte = _mm256_set1_epi16(0x00ff);
    let z = _mm256_setzero_si256();
    let mut totals = [z; 4];
    let mut start = 0;
    while start < pairs {
        let end = (start + 256).min(pairs);
        let (mut le, mut lo, mut he, mut ho) = (z, z, z, z);
        for p in start..end {
            let c = _mm256_loadu_si256(codes.as_ptr().add(32 * p) as *const __m256i);
            let l = _mm256_loadu_si256(lut.as_ptr().add(32 * p) as *const __m256i);
            let rl = _mm256_shuffle_epi8(l, _mm256_and_si256(c, nib));
            let rh = _mm256_shuffle_epi8(l, _mm256_and_si256(_mm256_srli_epi16(c, 4), nib));
            le = _mm256_add_epi16(le, _mm256_and_si256(rl, low_byte));
            lo = _mm256_add_epi16(lo, _mm256_srli_epi16(rl, 8));
            he = _mm256_add_epi16(he, _mm256_and_si256(rh, low_byte));
            ho = _mm256_add_epi16(ho, _mm256_srli_epi16(rh, 8));
        }
        let (v0, v8) = widen(le, lo);
        let (v16, v24) = widen(he, ho);
        for (t, v) in totals.iter_mut().zip([v0, v8, v16, v24]) {
            *t = _mm256_add_epi32(*t, v);
        }
        start = end;
    }
    for (i, t) in totals.iter().enumerate() {
        _mm256_storeu_si256(out.as_mut_ptr().add(8 * i) as *mut __m256i, *t);
    }
    let done = pairs * 2 * LUT_ENTRIES;
    if done < lut.len() {
        let mut tail = [0; BLOCK];
        scalar::fastscan(&codes[done..], &lut[done..], &mut tail);
        out.iter_mut().zip(tail).for_each(|(o, t)| *o += t);
    }
}

/// u16 sums of the even and odd vectors of 16 (u16 t of 128-bit lane h:
/// vector 2t (+1 for odd) over the sub-quantizers ≡ h mod 2) into u32 totals
/// of vectors 0..8 and 8..16.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn widen(even: __m256i, odd: __m256i) -> (__m256i, __m256i) {
    let both = |x: __m256i| {
        let (a, b) = (_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
        _mm256_add_epi32(_mm256_cvtepu16_epi32(a), _mm256_cvtepu16_epi32(b))
    };
    let (e, o) = (both(even), both(odd));
    // Per 128-bit lane: unpacklo gives vectors 0–3 | 8–11, unpackhi 4–7 | 12–15.
    let (lo, hi) = (_mm256_unpacklo_epi32(e, o), _mm256_unpackhi_epi32(e, o));
    (_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31))
}

/// A packed code's value, with a loop specialised per width.
#[target_feature(enable = "avx2")]
unsafe fn ex_ip(packed: &[u8], q: &[i16], bits: u32) -> i64 {
    excode::per_width!(ex_ip_planes, packed, q, bits)
}

/// 32 components per step: each plane's 16-byte group is broadcast to both
/// 128-bit lanes, shifted by the two fields' bit positions (`vpsrlvd`; the
/// bits that cross into a byte from its neighbour are masked off), moved to
/// the plane's bits and OR-ed into 32 u8 values, which are widened to i16 and
/// `vpmaddwd`-ed with q. An i32 lane takes 4 products ≤ 255 × 32768 per step,
/// so flushing to i64 every 2,048 components keeps it exact.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn ex_ip_planes<const BITS: u32>(packed: &[u8], q: &[i16]) -> i64 {
    let dim = q.len();
    let (planes, used) = excode::planes(dim, BITS);
    let full = dim / 32 * 32;
    let mut total = 0i64;
    let mut start = 0;
    while start < full {
        let end = (start + 2048).min(full);
        let mut acc = _mm256_setzero_si256();
        for i in (start..end).step_by(32) {
            let mut v = _mm256_setzero_si256();
            for p in &planes[..used] {
                let span = excode::group_span(p.width);
                let (g, t) = (i / span, (i % span / 16) as i32);
                let group = _mm256_broadcastsi128_si256(_mm_loadu_si128(packed.as_ptr().add(p.offset + 16 * g) as *const __m128i));
                let (lo, hi) = (t * p.width as i32, (t + 1) * p.width as i32);
                let counts = _mm256_setr_epi32(lo, lo, lo, lo, hi, hi, hi, hi);
                let field = _mm256_and_si256(_mm256_srlv_epi32(group, counts), _mm256_set1_epi8(((1u32 << p.width) - 1) as i8));
                v = _mm256_or_si256(v, _mm256_sll_epi16(field, _mm_cvtsi32_si128(p.shift as i32)));
            }
            let c0 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(v));
            let c1 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(v, 1));
            let x0 = _mm256_loadu_si256(q.as_ptr().add(i) as *const __m256i);
            let x1 = _mm256_loadu_si256(q.as_ptr().add(i + 16) as *const __m256i);
            acc = _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(c0, x0), _mm256_madd_epi16(c1, x1)));
        }
        let mut lanes = [0i32; 8];
        _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, acc);
        total += lanes.iter().map(|&v| v as i64).sum::<i64>();
        start = end;
    }
    total + excode::ip_from(packed, q, BITS, full)
}

/// One FHT stage of stride `h` ≥ 8, 8 butterflies at once.
#[target_feature(enable = "avx2")]
unsafe fn wide_stage(x: &mut [f32], h: usize) {
    let n = x.len();
    let p = x.as_mut_ptr();
    for base in (0..n).step_by(2 * h) {
        for j in (base..base + h).step_by(8) {
            let (a, b) = (_mm256_loadu_ps(p.add(j)), _mm256_loadu_ps(p.add(j + h)));
            _mm256_storeu_ps(p.add(j), _mm256_add_ps(a, b));
            _mm256_storeu_ps(p.add(j + h), _mm256_sub_ps(a, b));
        }
    }
}

/// Four rows per step: each test is a 64-bit lane compare, and a movemask
/// gathers the four fail bits; the last (< 4) rows go through the scalar test.
#[target_feature(enable = "avx2")]
unsafe fn tag_fails(m: &TagMask, tags: &[u64]) -> u64 {
    debug_assert!(tags.len() <= 64);
    let zero = _mm256_setzero_si256();
    let [any, all, none] = [m.any, m.all, m.none].map(|w| _mm256_set1_epi64x(w as i64));
    // All ones when `any` is set, so an empty intersection fails only then.
    let any_set = _mm256_set1_epi64x(if m.any == 0 { 0 } else { -1 });
    let quads = tags.chunks_exact(4);
    let tail = quads.remainder();
    let mut bits = 0u64;
    for (i, quad) in quads.enumerate() {
        let t = _mm256_loadu_si256(quad.as_ptr() as *const __m256i);
        let miss_any = _mm256_and_si256(any_set, _mm256_cmpeq_epi64(_mm256_and_si256(t, any), zero));
        let has_all = _mm256_cmpeq_epi64(_mm256_and_si256(t, all), all);
        let has_none = _mm256_cmpeq_epi64(_mm256_and_si256(t, none), zero);
        let pass = _mm256_andnot_si256(miss_any, _mm256_and_si256(has_all, has_none));
        let fail = !(_mm256_movemask_pd(_mm256_castsi256_pd(pass)) as u64) & 0xF;
        bits |= fail << (4 * i);
    }
    if tail.is_empty() {
        return bits;
    }
    bits | scalar::tag_fails(m, tail) << (tags.len() - tail.len())
}
