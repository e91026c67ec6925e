//! Pooling of token states into one vector, and L2 normalisation.

use super::registry::Pooling;

/// Pools `hidden` ([batch, seq, dim]) with the attention `mask` ([batch, seq])
/// into `out` ([batch, dim]), L2-normalised.
pub fn pool(pooling: Pooling, hidden: &[f32], mask: &[i64], seq: usize, dim: usize, out: &mut [f32]) {
    for (b, row) in out.chunks_exact_mut(dim).enumerate() {
        let states = &hidden[b * seq * dim..(b + 1) * seq * dim];
        row.fill(0.0);
        match pooling {
            Pooling::Cls => row.copy_from_slice(&states[..dim]),
            Pooling::Mean => {
                let m = &mask[b * seq..(b + 1) * seq];
                let mut count = 0.0f32;
                for (t, state) in states.chunks_exact(dim).enumerate() {
                    if m[t] != 0 {
                        count += 1.0;
                        row.iter_mut().zip(state).for_each(|(r, s)| *r += s);
                    }
                }
                let scale = 1.0 / count.max(1e-9);
                row.iter_mut().for_each(|r| *r *= scale);
            }
        }
        l2_normalize(row);
    }
}

/// Scales `v` to unit length (left as is when its norm is zero, like
/// sentence-transformers' `normalize` with its epsilon).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_pooling_ignores_padding() {
        // batch 1, seq 3 (last token padded), dim 2
        let hidden = [1.0, 0.0, 3.0, 0.0, 100.0, 100.0];
        let mut out = [0.0; 2];
        pool(Pooling::Mean, &hidden, &[1, 1, 0], 3, 2, &mut out);
        assert_eq!(out, [1.0, 0.0]);
        pool(Pooling::Cls, &[0.0, 2.0, 5.0, 5.0], &[1, 1], 2, 2, &mut out);
        assert_eq!(out, [0.0, 1.0]);
    }
}
