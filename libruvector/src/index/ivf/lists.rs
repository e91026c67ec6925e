//! Inverted lists in the FastScan layout. Per list, vectors come in blocks of
//! 32: for each 4-component sub-quantizer m, 16 bytes whose byte j holds the
//! sign nibble of vector j (low) and of vector j+16 (high), bit k of a nibble
//! being component 4m+k; then the 1-bit factors of the block's 32 slots.
//! Each vector also has one record with everything its refinement reads —
//! its B-bit code (one byte per component), its extended factors and its row
//! position — so a refined candidate costs one contiguous fetch, not four.

use super::encode::{Encoded, Factors};
use super::slab::Slab;
use crate::kernels::{BLOCK, LUT_ENTRIES};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct InvList {
    pub len: usize,
    /// blocks × (dim/4) × 16 sign-nibble bytes.
    pub signs: Slab<u8>,
    /// 1-bit factors, 32 slots per block (unused slots are zero).
    pub add: Slab<f32>,
    pub res: Slab<f32>,
    pub err: Slab<f32>,
    /// len × `record_bytes(dim)`: code, then ex_add, ex_res (f32 LE) and the
    /// row position (u32 LE).
    pub records: Slab<u8>,
}

/// Bytes of sign nibbles per block at width `dim`.
pub fn block_bytes(dim: usize) -> usize {
    dim / 4 * LUT_ENTRIES
}

/// Bytes of one vector's record at width `dim`.
pub fn record_bytes(dim: usize) -> usize {
    dim + 12
}

/// Appends one vector's record to `out`.
pub fn write_record(out: &mut Vec<u8>, code: &[u8], ex_add: f32, ex_res: f32, pos: u32) {
    out.extend_from_slice(code);
    for w in [ex_add.to_le_bytes(), ex_res.to_le_bytes(), pos.to_le_bytes()] {
        out.extend_from_slice(&w);
    }
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
        let signs = self.signs.to_mut();
        let (adds, ress, errs) = (self.add.to_mut(), self.res.to_mut(), self.err.to_mut());
        if slot == 0 {
            signs.resize(signs.len() + block_bytes(dim), 0);
            for v in [&mut *adds, &mut *ress, &mut *errs] {
                v.resize(v.len() + BLOCK, 0.0);
            }
        }
        let base = signs.len() - block_bytes(dim);
        for (m, quad) in e.code.chunks_exact(4).enumerate() {
            let nibble = quad.iter().enumerate().fold(0u8, |acc, (k, &c)| acc | (((c >= sign_bit) as u8) << k));
            let byte = &mut signs[base + m * LUT_ENTRIES + slot % 16];
            *byte |= if slot < 16 { nibble } else { nibble << 4 };
        }
        let at = adds.len() - BLOCK + slot;
        let Factors { add, res, err } = e.one_bit;
        (adds[at], ress[at], errs[at]) = (add, res, err);
        self.push_record(&e.code, e.ex.add, e.ex.res, pos);
        self.len += 1;
    }

    fn push_record(&mut self, code: &[u8], ex_add: f32, ex_res: f32, pos: u32) {
        write_record(self.records.to_mut(), code, ex_add, ex_res, pos);
    }

    /// Drops the spare capacity growth left behind.
    pub fn shrink_to_fit(&mut self) {
        self.signs.shrink_to_fit();
        for v in [&mut self.add, &mut self.res, &mut self.err] {
            v.shrink_to_fit();
        }
        self.records.shrink_to_fit();
    }

    /// The entries whose position `new_pos` maps to `Some`, renumbered so,
    /// in their order, re-packed into blocks.
    pub fn retained(&self, sign_bit: u8, new_pos: impl Fn(u32) -> Option<u32>) -> InvList {
        let dim = self.records.len().checked_div(self.len).map_or(0, |rb| rb - record_bytes(0));
        let mut out = InvList::default();
        for (v, r) in self.records(dim).enumerate() {
            let Some(pos) = new_pos(r.pos) else { continue };
            let e = Encoded {
                code: r.code.to_vec(),
                one_bit: Factors { add: self.add[v], res: self.res[v], err: self.err[v] },
                ex: Factors { add: r.ex_add, res: r.ex_res, err: 0.0 },
            };
            out.push(&e, pos, sign_bit);
        }
        out
    }

    /// Heap bytes (mapped arrays count in `mapped_bytes`).
    pub fn memory_bytes(&self) -> usize {
        self.signs.owned_bytes() + self.records.owned_bytes() + [&self.add, &self.res, &self.err].iter().map(|v| v.owned_bytes()).sum::<usize>()
    }

    /// Bytes read in place from a mapped file.
    pub fn mapped_bytes(&self) -> usize {
        self.signs.mapped_bytes() + self.records.mapped_bytes() + [&self.add, &self.res, &self.err].iter().map(|v| v.mapped_bytes()).sum::<usize>()
    }
}
