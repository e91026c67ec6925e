//! Inverted lists in the FastScan layout. Per list, vectors come in blocks of
//! 32: for each 4-component sub-quantizer m, 16 bytes whose byte j holds the
//! sign nibble of vector j (low) and of vector j+16 (high), bit k of a nibble
//! being component 4m+k; then the 1-bit factors of the block's 32 slots.
//! Each vector also has its B-bit code (one byte per component), its
//! extended factors and its row position.

use super::encode::{Encoded, Factors};
use crate::kernels::{BLOCK, LUT_ENTRIES};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct InvList {
    pub len: usize,
    /// blocks × (dim/4) × 16 sign-nibble bytes.
    pub signs: Vec<u8>,
    /// 1-bit factors, 32 slots per block (unused slots are zero).
    pub add: Vec<f32>,
    pub res: Vec<f32>,
    pub err: Vec<f32>,
    /// len × dim B-bit codes.
    pub codes: Vec<u8>,
    pub ex_add: Vec<f32>,
    pub ex_res: Vec<f32>,
    pub pos: Vec<u32>,
}

/// Bytes of sign nibbles per block at width `dim`.
pub fn block_bytes(dim: usize) -> usize {
    dim / 4 * LUT_ENTRIES
}

impl InvList {
    pub fn blocks(&self) -> usize {
        self.len.div_ceil(BLOCK)
    }

    /// Appends one encoded vector; `sign_bit` is 2^(B−1), the code value
    /// from which a component counts as non-negative.
    pub fn push(&mut self, e: &Encoded, pos: u32, sign_bit: u8) {
        let dim = e.code.len();
        let slot = self.len % BLOCK;
        if slot == 0 {
            self.signs.resize(self.signs.len() + block_bytes(dim), 0);
            for v in [&mut self.add, &mut self.res, &mut self.err] {
                v.resize(v.len() + BLOCK, 0.0);
            }
        }
        let base = self.signs.len() - block_bytes(dim);
        for (m, quad) in e.code.chunks_exact(4).enumerate() {
            let nibble = quad.iter().enumerate().fold(0u8, |acc, (k, &c)| acc | (((c >= sign_bit) as u8) << k));
            let byte = &mut self.signs[base + m * LUT_ENTRIES + slot % 16];
            *byte |= if slot < 16 { nibble } else { nibble << 4 };
        }
        let at = self.add.len() - BLOCK + slot;
        let Factors { add, res, err } = e.one_bit;
        (self.add[at], self.res[at], self.err[at]) = (add, res, err);
        self.codes.extend_from_slice(&e.code);
        self.ex_add.push(e.ex.add);
        self.ex_res.push(e.ex.res);
        self.pos.push(pos);
        self.len += 1;
    }

    /// The entries whose position `new_pos` maps to `Some`, renumbered so,
    /// in their order, re-packed into blocks.
    pub fn retained(&self, sign_bit: u8, new_pos: impl Fn(u32) -> Option<u32>) -> InvList {
        let dim = self.codes.len().checked_div(self.len).unwrap_or(0);
        let mut out = InvList::default();
        for v in 0..self.len {
            let Some(pos) = new_pos(self.pos[v]) else { continue };
            let e = Encoded {
                code: self.codes[v * dim..(v + 1) * dim].to_vec(),
                one_bit: Factors { add: self.add[v], res: self.res[v], err: self.err[v] },
                ex: Factors { add: self.ex_add[v], res: self.ex_res[v], err: 0.0 },
            };
            out.push(&e, pos, sign_bit);
        }
        out
    }

    pub fn memory_bytes(&self) -> usize {
        self.signs.capacity() + self.codes.capacity()
            + 4 * (self.add.capacity() + self.res.capacity() + self.err.capacity())
            + 4 * (self.ex_add.capacity() + self.ex_res.capacity() + self.pos.capacity())
    }
}
