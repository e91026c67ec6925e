//! The witness-keyed cache: entries (one index per distinct collection state)
//! shared by any number of (backend, collection) pointers, bounded by entry
//! count and bytes with LRU eviction. Unlike upstream, the bound holds even for
//! entries that pointers still reference: an evicted collection is simply
//! primed again on its next search.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::stats::Stats;
use super::witness::Descriptor;
use crate::index::VectorIndex;

pub struct Entry {
    pub index: Arc<VectorIndex>,
    pub descriptor: Descriptor,
    pub bytes: usize,
    last_used: u64,
}

pub struct Key {
    pub backend: String,
    pub collection: String,
    pub pointer: Option<String>,
    pub last_checked: Option<Instant>,
    pub stats: Stats,
}

#[derive(Default)]
pub struct Cache {
    pub keys: Vec<Key>,
    pub key_ids: HashMap<(String, String), u32>,
    pub entries: HashMap<String, Entry>,
    pub stats: Stats,
    clock: u64,
}

/// What [`Cache::bound`] may not exceed (0 = unbounded).
#[derive(Clone, Copy)]
pub struct Bound {
    pub max_entries: usize,
    pub max_bytes: usize,
}

impl Cache {
    pub fn key(&self, id: u32) -> &Key {
        &self.keys[id as usize]
    }

    /// Adds an event to the key's and the global counters.
    pub fn count(&mut self, id: u32, f: impl Fn(&mut Stats)) {
        f(&mut self.keys[id as usize].stats);
        f(&mut self.stats);
    }

    /// The entry a key points to, touched for LRU.
    pub fn entry_of(&mut self, id: u32) -> Option<&Entry> {
        // Borrows the pointer rather than cloning it: this runs on every search.
        let witness = self.keys[id as usize].pointer.as_deref()?;
        self.clock += 1;
        let clock = self.clock;
        let e = self.entries.get_mut(witness)?;
        e.last_used = clock;
        Some(e)
    }

    pub fn install(&mut self, witness: &str, index: Arc<VectorIndex>, descriptor: Descriptor) {
        self.clock += 1;
        let bytes = index.memory_bytes();
        let entry = Entry { index, descriptor, bytes, last_used: self.clock };
        self.entries.entry(witness.to_string()).or_insert(entry);
    }

    /// Points `id` at `witness`, dropping the entry it left if nothing else uses it.
    pub fn point(&mut self, id: u32, witness: Option<String>) {
        let old = std::mem::replace(&mut self.keys[id as usize].pointer, witness);
        if let Some(old) = old {
            if !self.keys.iter().any(|k| k.pointer.as_deref() == Some(old.as_str())) && self.entries.remove(&old).is_some() {
                self.count(id, |s| s.invalidations += 1);
            }
        }
    }

    pub fn total_bytes(&self) -> usize {
        self.entries.values().map(|e| e.bytes).sum()
    }

    /// Evicts least-recently-used entries, never `keep`, until within `bound`.
    pub fn bound(&mut self, bound: Bound, keep: &str) {
        let over = |c: &Cache| {
            (bound.max_entries > 0 && c.entries.len() > bound.max_entries) || (bound.max_bytes > 0 && c.total_bytes() > bound.max_bytes)
        };
        while over(self) {
            let victim = self.entries.iter().filter(|(w, _)| w.as_str() != keep).min_by_key(|(_, e)| e.last_used).map(|(w, _)| w.clone());
            let Some(victim) = victim else { return };
            self.entries.remove(&victim);
            self.stats.evictions += 1;
            for k in self.keys.iter_mut().filter(|k| k.pointer.as_deref() == Some(victim.as_str())) {
                k.pointer = None;
                k.stats.evictions += 1;
            }
        }
    }
}
