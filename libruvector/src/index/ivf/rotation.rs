//! The FHT-Kac rotation (after RaBitQ-Library's `FhtKacRotator`): four rounds
//! of a random sign flip, a normalised Hadamard transform over a power-of-two
//! window (front and back alternately) and, when the padded width is not a
//! power of two, a Kac butterfly that mixes the two halves. Every step is
//! orthogonal, so norms and distances are kept; cost O(D log D), 4·D bits.

use crate::kernels::Kernels;

pub(crate) const ROUNDS: usize = 4;

#[derive(Clone, Debug, PartialEq)]
pub struct Rotation {
    dim: usize,
    window: usize,
    /// Bit `r·dim + i` set ⇒ component i is negated in round r.
    signs: Vec<u8>,
}

/// SplitMix64: the one seeded generator of the engine (rotation signs, k-means
/// sampling, the t_const probe), so a seed fixes every random choice.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
    /// Standard normal (Box–Muller), in f64.
    pub fn gaussian(&mut self) -> f64 {
        let u1 = ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u2 = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

impl Rotation {
    /// A rotation of `dim` (a multiple of 64) components drawn from `seed`.
    pub fn new(dim: usize, seed: u64) -> Self {
        let mut rng = SplitMix(seed ^ 0x005E_ED0F_0FAC);
        let signs = (0..ROUNDS * dim / 8).map(|_| rng.next_u64() as u8).collect();
        Self::from_signs(dim, signs)
    }

    pub fn from_signs(dim: usize, signs: Vec<u8>) -> Self {
        let window = 1usize << (usize::BITS - 1 - dim.leading_zeros());
        Self { dim, window, signs }
    }

    pub fn sign_bytes(&self) -> &[u8] {
        &self.signs
    }

    /// Rotates `x` (length `dim`) in place.
    pub fn apply(&self, kern: &Kernels, x: &mut [f32]) {
        debug_assert_eq!(x.len(), self.dim);
        for round in 0..ROUNDS {
            self.flip_signs(round, x);
            self.transform_window(kern, round, x);
            if self.window != self.dim {
                kac_butterfly(x);
            }
        }
    }

    /// Undoes [`Rotation::apply`] in place: its steps are each their own
    /// inverse (sign flips, the normalised Hadamard transform, the butterfly),
    /// so they run again in reverse order.
    pub fn invert(&self, kern: &Kernels, x: &mut [f32]) {
        debug_assert_eq!(x.len(), self.dim);
        for round in (0..ROUNDS).rev() {
            if self.window != self.dim {
                kac_butterfly(x);
            }
            self.transform_window(kern, round, x);
            self.flip_signs(round, x);
        }
    }

    /// Negates the components round `round` draws.
    fn flip_signs(&self, round: usize, x: &mut [f32]) {
        // The signs are random, so a branch here would mispredict half
        // the time: flip the float's sign bit arithmetically instead.
        for (i, v) in x.iter_mut().enumerate() {
            let bit = round * self.dim + i;
            let flip = ((self.signs[bit / 8] >> (bit % 8)) & 1) as u32;
            *v = f32::from_bits(v.to_bits() ^ (flip << 31));
        }
    }

    /// The normalised Hadamard transform over round `round`'s window.
    fn transform_window(&self, kern: &Kernels, round: usize, x: &mut [f32]) {
        let (d, w) = (self.dim, self.window);
        let win = if round.is_multiple_of(2) { &mut x[..w] } else { &mut x[d - w..] };
        (kern.fht)(win);
        let scale = 1.0 / (w as f32).sqrt();
        win.iter_mut().for_each(|v| *v *= scale);
    }
}

/// (a, b) → ((a + b)/√2, (a − b)/√2) between the two halves.
fn kac_butterfly(x: &mut [f32]) {
    let s = std::f32::consts::FRAC_1_SQRT_2;
    let (lo, hi) = x.split_at_mut(x.len() / 2);
    for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
        let (u, v) = (*a, *b);
        *a = (u + v) * s;
        *b = (u - v) * s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::SCALAR;

    #[test]
    fn invert_undoes_apply() {
        for dim in [64, 192, 832] {
            let r = Rotation::new(dim, 11);
            let x: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.37).sin()).collect();
            let mut y = x.clone();
            r.apply(&SCALAR, &mut y);
            r.invert(&SCALAR, &mut y);
            let err = x.iter().zip(&y).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(err < 1e-5, "dim {dim}: max error {err}");
        }
    }

    #[test]
    fn keeps_norms_and_mixes_every_component() {
        for dim in [64, 128, 192, 832] {
            let r = Rotation::new(dim, 7);
            let mut x = vec![0f32; dim];
            x[dim - 1] = 1.0;
            r.apply(&SCALAR, &mut x);
            let norm: f64 = x.iter().map(|v| (*v as f64).powi(2)).sum();
            assert!((norm - 1.0).abs() < 1e-5, "dim {dim}: norm² {norm}");
            assert!(x.iter().filter(|v| v.abs() > 1e-4).count() > dim / 2, "dim {dim}: a unit vector stays sparse");
        }
    }
}
