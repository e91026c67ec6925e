//! Inverted lists in the FastScan layout. Per list, vectors come in blocks of
//! 32: for each 4-component sub-quantizer m, 16 bytes whose byte j holds the
//! sign nibble of vector j (low) and of vector j+16 (high), bit k of a nibble
//! being component 4m+k; then the 1-bit factors of the block's 32 slots, as
//! 16-bit steps of per-block scales (`factors16`).
//! Each vector also has one record with everything else its refinement reads —
//! the B − 1 low bits of its code, bit-packed (`kernels::excode`; the top bit
//! is the sign, which the nibbles already hold), its extended factors and its
//! row position — so a refined candidate costs one contiguous fetch.

use super::encode::{Encoded, Factors};
use super::factors16;
use super::slab::Slab;
use crate::kernels::{excode, BLOCK, LUT_ENTRIES};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct InvList {
    pub len: usize,
    /// blocks × (dim/4) × 16 sign-nibble bytes.
    pub signs: Slab<u8>,
    /// 1-bit factors as i16 steps (their bits), 32 slots per block (unused
    /// slots are zero), each block's in units of its scales.
    pub add: Slab<u16>,
    pub res: Slab<u16>,
    pub err: Slab<u16>,
    /// Per block the powers of two of its add, res and err.
    pub scale: Slab<f32>,
    /// len × `Layout::record_bytes`: packed low code bits, then ex_add,
    /// ex_res (f32 LE) and the row position (u32 LE).
    pub records: Slab<u8>,
}

/// Bytes of sign nibbles per block at width `dim`.
pub fn block_bytes(dim: usize) -> usize {
    dim / 4 * LUT_ENTRIES
}

/// The shape of an index's codes: padded width and total bits B per component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub dim: usize,
    pub bits: u32,
}

impl Layout {
    /// Bits a record keeps per component: all but the sign.
    pub fn low_bits(self) -> u32 {
        self.bits - 1
    }

    /// The code value from which a component counts as non-negative.
    pub fn sign_bit(self) -> u8 {
        1u8 << (self.bits - 1)
    }

    pub fn packed_bytes(self) -> usize {
        excode::packed_bytes(self.dim, self.low_bits())
    }

    /// Bytes of one vector's record.
    pub fn record_bytes(self) -> usize {
        self.packed_bytes() + 12
    }
}

/// Appends one vector's record to `out`: `low` is its packed low code bits.
pub fn write_record(out: &mut Vec<u8>, low: &[u8], ex_add: f32, ex_res: f32, pos: u32) {
    out.extend_from_slice(low);
    for w in [ex_add.to_le_bytes(), ex_res.to_le_bytes(), pos.to_le_bytes()] {
        out.extend_from_slice(&w);
    }
}

/// One vector's record, split into its fields.
pub struct Record<'a> {
    /// The packed B − 1 low bits of the code.
    pub low: &'a [u8],
    pub ex_add: f32,
    pub ex_res: f32,
    pub pos: u32,
}

fn word(b: &[u8], at: usize) -> [u8; 4] {
    [b[at], b[at + 1], b[at + 2], b[at + 3]]
}

impl<'a> Record<'a> {
    pub fn parse(r: &'a [u8]) -> Self {
        let packed = r.len() - 12;
        Record {
            low: &r[..packed],
            ex_add: f32::from_le_bytes(word(r, packed)),
            ex_res: f32::from_le_bytes(word(r, packed + 4)),
            pos: u32::from_le_bytes(word(r, packed + 8)),
        }
    }
}

impl InvList {
    pub fn blocks(&self) -> usize {
        self.len.div_ceil(BLOCK)
    }

    /// Record bytes of vector `v` of this list.
    #[inline]
    pub fn record_raw(&self, v: usize, layout: Layout) -> &[u8] {
        let rb = layout.record_bytes();
        &self.records[v * rb..(v + 1) * rb]
    }

    pub fn record(&self, v: usize, layout: Layout) -> Record<'_> {
        Record::parse(self.record_raw(v, layout))
    }

    /// Every record in list order.
    pub fn records(&self, layout: Layout) -> impl Iterator<Item = Record<'_>> {
        self.records.chunks_exact(layout.record_bytes()).map(Record::parse)
    }

    /// The sign nibble of sub-quantizer `m` of vector `v`.
    #[inline]
    pub fn nibble(&self, v: usize, m: usize, dim: usize) -> u8 {
        let (b, j) = (v / BLOCK, v % BLOCK);
        let byte = self.signs[b * block_bytes(dim) + m * LUT_ENTRIES + j % 16];
        if j < 16 { byte & 15 } else { byte >> 4 }
    }

    /// Vector `v`'s whole B-bit code, one byte per component: the record's
    /// low bits under the sign bits of its nibbles.
    pub fn code(&self, v: usize, layout: Layout) -> Vec<u8> {
        let mut code = excode::unpack(self.record(v, layout).low, layout.dim, layout.low_bits());
        for (i, c) in code.iter_mut().enumerate() {
            if self.nibble(v, i / 4, layout.dim) >> (i % 4) & 1 == 1 {
                *c |= layout.sign_bit();
            }
        }
        code
    }

    /// Appends one encoded vector.
    pub fn push(&mut self, e: &Encoded, pos: u32, layout: Layout) {
        let (dim, sign_bit) = (layout.dim, layout.sign_bit());
        let slot = self.len % BLOCK;
        let signs = self.signs.to_mut();
        if slot == 0 {
            signs.resize(signs.len() + block_bytes(dim), 0);
        }
        let base = signs.len() - block_bytes(dim);
        for (m, quad) in e.code.chunks_exact(4).enumerate() {
            let nibble = quad.iter().enumerate().fold(0u8, |acc, (k, &c)| acc | (((c >= sign_bit) as u8) << k));
            let byte = &mut signs[base + m * LUT_ENTRIES + slot % 16];
            *byte |= if slot < 16 { nibble } else { nibble << 4 };
        }
        factors16::store([self.add.to_mut(), self.res.to_mut(), self.err.to_mut()], self.scale.to_mut(), self.len, e.one_bit);
        let low: Vec<u8> = e.code.iter().map(|&c| c & (sign_bit - 1)).collect();
        let mut packed = Vec::with_capacity(layout.packed_bytes());
        excode::pack(&low, layout.low_bits(), &mut packed);
        write_record(self.records.to_mut(), &packed, e.ex.add, e.ex.res, pos);
        self.len += 1;
    }

    /// Drops the spare capacity growth left behind.
    pub fn shrink_to_fit(&mut self) {
        self.signs.shrink_to_fit();
        for v in [&mut self.add, &mut self.res, &mut self.err] {
            v.shrink_to_fit();
        }
        self.scale.shrink_to_fit();
        self.records.shrink_to_fit();
    }

    /// The entries whose position `new_pos` maps to `Some`, renumbered so,
    /// in their order, re-packed into blocks.
    pub fn retained(&self, layout: Layout, new_pos: impl Fn(u32) -> Option<u32>) -> InvList {
        let mut out = InvList::default();
        for (v, r) in self.records(layout).enumerate() {
            let Some(pos) = new_pos(r.pos) else { continue };
            let e = Encoded {
                code: self.code(v, layout),
                one_bit: self.one_bit(v),
                ex: Factors { add: r.ex_add, res: r.ex_res, err: 0.0 },
            };
            out.push(&e, pos, layout);
        }
        out
    }

    /// The 1-bit factors of vector `v` as stored (add below, err above the
    /// encoded values).
    pub fn one_bit(&self, v: usize) -> Factors {
        factors16::factors_at([&self.add, &self.res, &self.err], &self.scale, v)
    }

    /// Heap bytes (mapped arrays count in `mapped_bytes`).
    pub fn memory_bytes(&self) -> usize {
        let factors: usize = [&self.add, &self.res, &self.err].iter().map(|v| v.owned_bytes()).sum();
        self.signs.owned_bytes() + self.records.owned_bytes() + factors + self.scale.owned_bytes()
    }

    /// Bytes read in place from a mapped file.
    pub fn mapped_bytes(&self) -> usize {
        let factors: usize = [&self.add, &self.res, &self.err].iter().map(|v| v.mapped_bytes()).sum();
        self.signs.mapped_bytes() + self.records.mapped_bytes() + factors + self.scale.mapped_bytes()
    }
}
