//! Cache counters, kept globally and per collection.

/// Cache counters; `#[repr(C)]` because `RuvCacheStats` hands them to C as they are.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub hits: u64,
    pub misses: u64,
    pub primes: u64,
    pub invalidations: u64,
    pub shared_hits: u64,
    pub evictions: u64,
    pub warm_installs: u64,
    pub total_prime_us: u64,
    pub last_prime_us: u64,
    /// Vectors pulled in full by primes.
    pub rows_pulled: u64,
    /// Change sets applied to a cached index in place of a full pull.
    pub change_sets: u64,
    /// Rows those change sets removed or upserted.
    pub rows_applied: u64,
}

/// Number of fields in [`Stats::to_array`].
const FIELDS: usize = 12;

impl Stats {
    fn to_array(self) -> [u64; FIELDS] {
        [
            self.hits,
            self.misses,
            self.primes,
            self.invalidations,
            self.shared_hits,
            self.evictions,
            self.warm_installs,
            self.total_prime_us,
            self.last_prime_us,
            self.rows_pulled,
            self.change_sets,
            self.rows_applied,
        ]
    }

    pub fn add(&mut self, o: &Stats) {
        let (mut a, b) = (self.to_array(), o.to_array());
        a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        // last_prime_us is a latest value, not a sum.
        a[8] = self.last_prime_us.max(o.last_prime_us);
        *self = Stats::from_array(a);
    }

    fn from_array(a: [u64; FIELDS]) -> Self {
        Stats {
            hits: a[0],
            misses: a[1],
            primes: a[2],
            invalidations: a[3],
            shared_hits: a[4],
            evictions: a[5],
            warm_installs: a[6],
            total_prime_us: a[7],
            last_prime_us: a[8],
            rows_pulled: a[9],
            change_sets: a[10],
            rows_applied: a[11],
        }
    }
}
