/** Cache counters as the native lake reports them. */
import type { CacheStatsStruct, NativeStruct } from "../structs.ts";

/** Counters of the lake's cache (globally, for a backend, or for a collection). */
export interface CacheStats {
  /** Searches answered from the cache, including those consistency let skip the backend. */
  hits: number;
  /** Freshness checks that found the cache stale or empty. */
  misses: number;
  /** Indexes built from pulled vectors. */
  primes: number;
  /** Cached states dropped because their collection changed or was invalidated. */
  invalidations: number;
  /** Checks answered by a state another collection had already cached. */
  sharedHits: number;
  /** Entries dropped to keep the cache within its bound. */
  evictions: number;
  /** Collections installed from a saved directory. */
  warmInstalls: number;
  /** Time spent building indexes, in ms. */
  totalPrimeMs: number;
  /** Time of the latest build, in ms. */
  lastPrimeMs: number;
  /** Vectors pulled in full from backends by primes. */
  rowsPulled: number;
  /** Change sets (deletes and upserts since the cached generation) applied to a cached index instead of a full pull. */
  changeSets: number;
  /** Rows those change sets removed or upserted. */
  rowsApplied: number;
  /** hits / (hits + misses), or 0 before any search. */
  hitRate: number;
  /** Cached indexes (lake-wide). */
  entries: number;
  /** Bytes held by cached indexes (lake-wide). */
  bytes: number;
}

/** Converts a native `RuvCacheStats`. */
export function toCacheStats(s: NativeStruct<keyof typeof CacheStatsStruct.fields>): CacheStats {
  const n = (field: keyof typeof CacheStatsStruct.fields) => Number(s.u64(field));
  const [hits, misses] = [n("counters.hits"), n("counters.misses")];
  return {
    hits,
    misses,
    primes: n("counters.primes"),
    invalidations: n("counters.invalidations"),
    sharedHits: n("counters.shared_hits"),
    evictions: n("counters.evictions"),
    warmInstalls: n("counters.warm_installs"),
    totalPrimeMs: n("counters.total_prime_us") / 1000,
    lastPrimeMs: n("counters.last_prime_us") / 1000,
    rowsPulled: n("counters.rows_pulled"),
    changeSets: n("counters.change_sets"),
    rowsApplied: n("counters.rows_applied"),
    hitRate: hits + misses === 0 ? 0 : hits / (hits + misses),
    entries: n("entries"),
    bytes: n("bytes"),
  };
}
