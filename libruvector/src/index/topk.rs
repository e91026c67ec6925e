//! Bounded top-k selection by (score, position), ascending; NaN-safe.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

#[derive(Clone, Copy)]
struct Entry {
    score: f32,
    pos: u32,
}

impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        self.score.total_cmp(&o.score).then(self.pos.cmp(&o.pos))
    }
}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Entry {}

/// Keeps the `k` smallest (score, position) pairs seen so far.
pub struct TopK {
    k: usize,
    heap: BinaryHeap<Entry>,
}

impl TopK {
    pub fn new(k: usize) -> Self {
        Self { k, heap: BinaryHeap::with_capacity(k + 1) }
    }

    #[inline]
    pub fn push(&mut self, pos: u32, score: f32) {
        let e = Entry { score, pos };
        if self.heap.len() < self.k {
            self.heap.push(e);
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if e < *worst {
                *worst = e;
            }
        }
    }

    /// Entries held: min(k, pairs pushed).
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// The score a candidate must beat to enter: the k-th best so far, or
    /// +∞ while fewer than k are held.
    #[inline]
    pub fn threshold(&self) -> f32 {
        match self.heap.peek() {
            Some(worst) if self.heap.len() == self.k => worst.score,
            _ => f32::INFINITY,
        }
    }

    /// `push`, with the cheap threshold test first. A score equal to the
    /// threshold still goes to `push`, which breaks the tie by position.
    #[inline]
    pub fn offer(&mut self, pos: u32, score: f32) {
        if score <= self.threshold() {
            self.push(pos, score);
        }
    }

    /// (position, score) pairs, best first.
    pub fn into_sorted(self) -> Vec<(u32, f32)> {
        self.heap.into_sorted_vec().into_iter().map(|e| (e.pos, e.score)).collect()
    }
}
