/** Consistency modes and refresh outcomes of the lake. */
import { InvalidArgument } from "../errors.ts";

/** When a search may use the cache without asking the backend for its current state. */
export type Consistency =
  | { readonly kind: "fresh" }
  | { readonly kind: "eventual"; readonly ttlMs: number }
  | { readonly kind: "frozen" };

/** Constructors of {@link Consistency} values. */
export const Consistency = {
  /** Ask the backend on every search (the default). */
  fresh: (): Consistency => ({ kind: "fresh" }),
  /** Ask at most once per `ttlMs` per collection. */
  eventual: ({ ttlMs }: { ttlMs: number }): Consistency => {
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 0) throw new InvalidArgument(`ttlMs must be a non-negative integer, got ${ttlMs}`);
    return { kind: "eventual", ttlMs };
  },
  /** Ask only when nothing is cached (upstream's `Frozen`; the seed's `STALE`). */
  frozen: (): Consistency => ({ kind: "frozen" }),
} as const;

/** Outcome of {@link RuLake.refreshFromBundleDir}. */
export const RefreshResult = {
  /** The published witness equals the cached one (or nothing is cached). */
  UpToDate: "up-to-date",
  /** The published witness differs: the cached copy was dropped. */
  Invalidated: "invalidated",
  /** The directory holds no `table.rulake.json`. */
  BundleMissing: "bundle-missing",
} as const;
/** See {@link RefreshResult}. */
export type RefreshResult = (typeof RefreshResult)[keyof typeof RefreshResult];

/** Refresh outcomes by their native `RUV_REFRESH_RESULT_*` code. */
export const REFRESH_RESULTS: readonly RefreshResult[] = [RefreshResult.UpToDate, RefreshResult.Invalidated, RefreshResult.BundleMissing];
