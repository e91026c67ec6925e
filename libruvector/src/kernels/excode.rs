//! The bit-packed layout of extended codes. A code of `bits` bits per
//! component is split greedily into planes of 4, 2 and 1 bits (7 = 4 + 2 + 1,
//! 6 = 4 + 2, 5 = 4 + 1, 3 = 2 + 1), low bits in the first plane, so no width
//! wastes a bit. Each plane is a run of 16-byte groups: in a plane of width
//! w, byte j of group g holds in bits [t·w, t·w + w) component
//! g·(128/w) + 16t + j. So one 16-byte load yields 16 consecutive components
//! per field with one shift and one mask (`vpsrlvd`/`ushl` + `and`), in
//! registers, for every width alike; components past `dim` are zero.

/// Bytes per group of every plane.
pub const GROUP: usize = 16;

/// One plane: its width, the position of its bits in the code value and its
/// byte offset in the packed code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plane {
    pub width: u32,
    pub shift: u32,
    pub offset: usize,
}

/// Components one group of a `width`-bit plane covers.
pub const fn group_span(width: u32) -> usize {
    GROUP * 8 / width as usize
}

/// Bytes of one `width`-bit plane of `dim` components.
pub const fn plane_bytes(dim: usize, width: u32) -> usize {
    dim.div_ceil(group_span(width)) * GROUP
}

/// The planes of a `bits`-bit code (0..=8) over `dim` components, lowest bits
/// first, and how many of the three slots are used.
pub const fn planes(dim: usize, bits: u32) -> ([Plane; 3], usize) {
    let mut out = [Plane { width: 0, shift: 0, offset: 0 }; 3];
    let (mut used, mut shift, mut offset) = (0, 0, 0);
    let mut left = bits;
    let widths = [4, 4, 2, 1];
    let mut i = 0;
    while i < widths.len() && left > 0 {
        let w = widths[i];
        if left >= w && used < 3 {
            out[used] = Plane { width: w, shift, offset };
            used += 1;
            shift += w;
            offset += plane_bytes(dim, w);
            left -= w;
        }
        i += 1;
    }
    // 8 = 4 + 4 takes two nibble planes; the loop visits 4 twice for it.
    (out, used)
}

/// Bytes of a packed `bits`-bit code of `dim` components.
pub const fn packed_bytes(dim: usize, bits: u32) -> usize {
    let (p, used) = planes(dim, bits);
    let mut total = 0;
    let mut i = 0;
    while i < used {
        total += plane_bytes(dim, p[i].width);
        i += 1;
    }
    total
}

/// (byte within its plane, bit position) of component `i` in a `width`-bit plane.
#[inline]
pub fn slot(i: usize, width: u32) -> (usize, u32) {
    let span = group_span(width);
    let (g, r) = (i / span, i % span);
    (g * GROUP + r % GROUP, (r / GROUP) as u32 * width)
}

/// Appends the packed form of `values` (each below 2^bits) to `out`.
pub fn pack(values: &[u8], bits: u32, out: &mut Vec<u8>) {
    let dim = values.len();
    let start = out.len();
    out.resize(start + packed_bytes(dim, bits), 0);
    let (planes, used) = planes(dim, bits);
    for p in &planes[..used] {
        let mask = (1u8 << p.width) - 1;
        for (i, &v) in values.iter().enumerate() {
            let (byte, at) = slot(i, p.width);
            out[start + p.offset + byte] |= (v >> p.shift & mask) << at;
        }
    }
}

/// The `dim` values of a packed `bits`-bit code.
pub fn unpack(packed: &[u8], dim: usize, bits: u32) -> Vec<u8> {
    let (planes, used) = planes(dim, bits);
    let mut values = vec![0u8; dim];
    for p in &planes[..used] {
        let mask = (1u8 << p.width) - 1;
        for (i, v) in values.iter_mut().enumerate() {
            let (byte, at) = slot(i, p.width);
            *v |= (packed[p.offset + byte] >> at & mask) << p.shift;
        }
    }
    values
}

/// Σ valueᵢ·qᵢ over components `from..q.len()` of a packed `bits`-bit code,
/// exact in integers: per plane Σ fieldᵢ·qᵢ, shifted to the plane's bits.
pub fn ip_from(packed: &[u8], q: &[i16], bits: u32, from: usize) -> i64 {
    let (planes, used) = planes(q.len(), bits);
    let mut total = 0i64;
    for p in &planes[..used] {
        let mask = (1u8 << p.width) - 1;
        let mut acc = 0i64;
        for (i, &x) in q.iter().enumerate().skip(from) {
            let (byte, at) = slot(i, p.width);
            acc += (packed[p.offset + byte] >> at & mask) as i64 * x as i64;
        }
        total += acc << p.shift;
    }
    total
}

/// `$f::<BITS>(packed, q)` for the `bits` given (0 bits: 0), so each width
/// runs its own unrolled loop; first checks the packed length, which the SIMD
/// loops' unchecked loads rely on.
macro_rules! per_width {
    ($f:ident, $packed:expr, $q:expr, $bits:expr) => {{
        let (packed, q, bits): (&[u8], &[i16], u32) = ($packed, $q, $bits);
        assert!(packed.len() >= $crate::kernels::excode::packed_bytes(q.len(), bits), "packed code shorter than its layout");
        match bits {
            0 => 0,
            1 => $f::<1>(packed, q),
            2 => $f::<2>(packed, q),
            3 => $f::<3>(packed, q),
            4 => $f::<4>(packed, q),
            5 => $f::<5>(packed, q),
            6 => $f::<6>(packed, q),
            7 => $f::<7>(packed, q),
            _ => $f::<8>(packed, q),
        }
    }};
}
#[allow(unused_imports)]
pub(crate) use per_width;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_packs_without_waste_and_round_trips() {
        for bits in 0..=8u32 {
            let (p, used) = planes(128, bits);
            assert_eq!(p[..used].iter().map(|p| p.width).sum::<u32>(), bits);
            assert_eq!(packed_bytes(128, bits), 16 * bits as usize, "bits {bits}");
            for dim in [1, 3, 64, 100, 128, 192, 384] {
                let values: Vec<u8> = (0..dim).map(|i| ((i * 37 + 11) % (1 << bits)) as u8).collect();
                let mut out = vec![0xEE];
                pack(&values, bits, &mut out);
                assert_eq!(out.len(), 1 + packed_bytes(dim, bits));
                assert_eq!(unpack(&out[1..], dim, bits), values, "bits {bits} dim {dim}");
                let q: Vec<i16> = (0..dim).map(|i| (i as i16).wrapping_mul(997) ^ 0x5555).collect();
                let want: i64 = values.iter().zip(&q).map(|(&v, &x)| v as i64 * x as i64).sum();
                assert_eq!(ip_from(&out[1..], &q, bits, 0), want);
            }
        }
    }

    #[test]
    fn a_group_holds_sixteen_consecutive_components_per_field() {
        assert_eq!((slot(0, 4), slot(15, 4), slot(16, 4), slot(32, 4)), ((0, 0), (15, 0), (0, 4), (16, 0)));
        assert_eq!((slot(17, 2), slot(63, 2), slot(64, 2)), ((1, 2), (15, 6), (16, 0)));
        assert_eq!((slot(127, 1), slot(128, 1)), ((15, 7), (16, 0)));
    }
}
