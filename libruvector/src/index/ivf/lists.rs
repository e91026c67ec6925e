//! Inverted lists in the FastScan layout. Per list, vectors come in blocks of
//! 32: for each 4-component sub-quantizer m, 16 bytes whose byte j holds the
//! sign nibble of vector j (low) and of vector j+16 (high), bit k of a nibble
//! being component 4m+k; then the 1-bit factors of the block's 32 slots.
//! Each vector also has one record with everything its refinement reads —
//! its B-bit code (one byte per component), its extended factors and its row
//! position — so a refined candidate costs one contiguous fetch, not four.

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
    /// len × `record_bytes(dim)`: code, then ex_add, ex_res (f32 LE) and the
    /// row position (u32 LE).
    pub records: Vec<u8>,
}

/// Bytes of sign nibbles per block at width `dim`.
pub fn block_bytes(dim: usize) -> usize {
    dim / 4 * LUT_ENTRIES
}

/// Bytes of one vector's record at width `dim`.
pub fn record_bytes(dim: usize) -> usize {
    dim + 12
}

/// One vector's record, split into its fields.
pub struct Record<'a> {
    pub code: &'a [u8],
    pub ex_add: f32,
    pub ex_res: f32,
    pub pos: u32,
}

fn word(b: &[u8], at: usize) -> [u8; 4] {
    [b[at], b[at + 1], b[at + 2], b[at + 3]]
}

impl<'a> Record<'a> {
    pub fn parse(r: &'a [u8]) -> Self {
        let dim = r.len() - 12;
        Record {
            code: &r[..dim],
            ex_add: f32::from_le_bytes(word(r, dim)),
            ex_res: f32::from_le_bytes(word(r, dim + 4)),
            pos: u32::from_le_bytes(word(r, dim + 8)),
        }
    }
}

impl InvList {
    pub fn blocks(&self) -> usize {
        self.len.div_ceil(BLOCK)
    }

    /// Record bytes of vector `v` of this list (`dim` = padded width).
    #[inline]
    pub fn record_raw(&self, v: usize, dim: usize) -> &[u8] {
        let rb = record_bytes(dim);
        &self.records[v * rb..(v + 1) * rb]
    }

    pub fn record(&self, v: usize, dim: usize) -> Record<'_> {
        Record::parse(self.record_raw(v, dim))
    }

    /// Every record in list order.
    pub fn records(&self, dim: usize) -> impl Iterator<Item = Record<'_>> {
        self.records.chunks_exact(record_bytes(dim)).map(Record::parse)
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
        self.push_record(&e.code, e.ex.add, e.ex.res, pos);
        self.len += 1;
    }

    /// Appends a record only (the loader fills the block arrays itself).
    pub fn push_record(&mut self, code: &[u8], ex_add: f32, ex_res: f32, pos: u32) {
        self.records.extend_from_slice(code);
        for w in [ex_add.to_le_bytes(), ex_res.to_le_bytes(), pos.to_le_bytes()] {
            self.records.extend_from_slice(&w);
        }
    }

    /// Drops the spare capacity growth left behind.
    pub fn shrink_to_fit(&mut self) {
        self.signs.shrink_to_fit();
        for v in [&mut self.add, &mut self.res, &mut self.err] {
            v.shrink_to_fit();
        }
        self.records.shrink_to_fit();
    }

    pub fn memory_bytes(&self) -> usize {
        self.signs.capacity() + self.records.capacity() + 4 * (self.add.capacity() + self.res.capacity() + self.err.capacity())
    }
}
