//! Image preprocessing as torchvision trains ImageNet models: resize the shorter
//! side (bilinear, antialiased, the PIL/torchvision separable filter), centre
//! crop, scale to [0, 1], normalise by the ImageNet mean and std, NCHW.

use crate::error::{Error, Result, Status};

const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Filter weights of one output sample: (first input index, weights).
fn coefficients(in_size: usize, out_size: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = filterscale; // bilinear support 1, widened when downscaling
    (0..out_size)
        .map(|o| {
            let center = (o as f64 + 0.5) * scale;
            let lo = ((center - support + 0.5).floor().max(0.0)) as usize;
            let hi = ((center + support + 0.5).floor() as usize).min(in_size);
            let mut w: Vec<f64> = (lo..hi).map(|i| (1.0 - ((i as f64 - center + 0.5) / filterscale).abs()).max(0.0)).collect();
            let total: f64 = w.iter().sum();
            if total > 0.0 {
                w.iter_mut().for_each(|x| *x /= total);
            }
            (lo, w.into_iter().map(|x| x as f32).collect())
        })
        .collect()
}

/// Output size of the resize: shorter side to `size`, the other scaled and rounded
/// (as the reference preprocessing of the shipped model does; it differs from
/// torchvision's truncation by at most one pixel).
fn resized(w: usize, h: usize, size: usize) -> (usize, usize) {
    if w <= h {
        (size, ((size * h + w / 2) / w).max(1))
    } else {
        (((size * w + h / 2) / h).max(1), size)
    }
}

/// Python's `round` (half to even) of `d / 2`, as torchvision's centre crop uses.
fn half_round_even(d: usize) -> usize {
    let q = d / 2;
    if d % 2 == 1 && q % 2 == 1 {
        q + 1
    } else {
        q
    }
}

/// Preprocesses interleaved RGB (3 bytes per pixel) or RGBA (4, alpha ignored)
/// `pixels` of `width` × `height` into a `[1, 3, side, side]` NCHW tensor.
pub fn preprocess(pixels: &[u8], width: usize, height: usize, resize: usize, side: usize) -> Result<Vec<f32>> {
    let n = width.checked_mul(height).filter(|&n| n > 0);
    let channels = match n {
        Some(n) if pixels.len() == n * 3 => 3,
        Some(n) if pixels.len() == n * 4 => 4,
        _ => {
            return Err(Error::new(
                Status::Embed,
                format!(
                    "image of {width}x{height} needs {} bytes (RGB, {height}x{width}x3) or {} bytes (RGBA, {height}x{width}x4), got {}",
                    width * height * 3,
                    width * height * 4,
                    pixels.len()
                ),
            ))
        }
    };
    let (rw, rh) = resized(width, height, resize);
    let (cx, cy) = (coefficients(width, rw), coefficients(height, rh));
    let top = half_round_even(rh.saturating_sub(side));
    let left = half_round_even(rw.saturating_sub(side));
    let mut out = vec![0f32; 3 * side * side];
    // Horizontal pass over every input row, only for the cropped columns.
    let mut horizontal = vec![0f32; 3 * height * side];
    for y in 0..height {
        for (ox, (lo, w)) in cx[left..left + side].iter().enumerate() {
            let mut acc = [0f32; 3];
            for (k, wk) in w.iter().enumerate() {
                let p = (y * width + lo + k) * channels;
                for c in 0..3 {
                    acc[c] += wk * pixels[p + c] as f32;
                }
            }
            for (c, a) in acc.iter().enumerate() {
                horizontal[(c * height + y) * side + ox] = *a;
            }
        }
    }
    // Vertical pass for the cropped rows, then normalisation.
    for (oy, (lo, w)) in cy[top..top + side].iter().enumerate() {
        for c in 0..3 {
            for ox in 0..side {
                let v: f32 = w.iter().enumerate().map(|(k, wk)| wk * horizontal[(c * height + lo + k) * side + ox]).sum();
                out[(c * side + oy) * side + ox] = (v / 255.0 - MEAN[c]) / STD[c];
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_image_stays_uniform_and_shapes_are_checked() {
        let px = vec![255u8; 300 * 200 * 4];
        let t = preprocess(&px, 300, 200, 256, 224).unwrap();
        assert_eq!(t.len(), 3 * 224 * 224);
        for c in 0..3 {
            let want = (1.0 - MEAN[c]) / STD[c];
            assert!(t[c * 224 * 224..(c + 1) * 224 * 224].iter().all(|v| (v - want).abs() < 1e-4));
        }
        let e = preprocess(&px[..10], 300, 200, 256, 224).unwrap_err();
        assert!(e.message.contains("300x200") && e.message.contains("got 10"), "{}", e.message);
        assert!(preprocess(&[], 0, 0, 256, 224).is_err());
    }

    #[test]
    fn torchvision_sizes() {
        assert_eq!(resized(451, 300, 256), (385, 256));
        assert_eq!(resized(300, 451, 256), (256, 385));
        assert_eq!(resized(100, 100, 256), (256, 256));
        assert_eq!(half_round_even(1), 0);
        assert_eq!(half_round_even(3), 2);
        assert_eq!(half_round_even(32), 16);
    }
}
