/**
 * ruLake, the cache-first federated vector lake, and its backends. The
 * `@ruvector/bun/lake` entry point.
 * @module
 */
export { RuLake, RuLakeBuilder, type CollectionKey, type LakeHit, type LakeOptions, type LakeSearchOptions, type LakeBatchOptions, type WarmOptions } from "./lake.ts";
export type { IdFilter, IdList } from "../index/filter.ts";
export { Consistency, RefreshResult } from "./consistency.ts";
export type { LakeEngine, LakeIvfOptions } from "./engine.ts";
export { LakeSession, type WritableBackend } from "./session.ts";
export type { CacheStats } from "./stats.ts";
export type { BackendAdapter, BundleInfo, ChangeSet, Generation, PulledBatch, MaybePromise } from "./backend.ts";
export { LocalBackend } from "./local.ts";
export { FsBackend } from "./fs.ts";
export { PostgresBackend, type PostgresConnection } from "./postgres.ts";
export type { VectorWrite } from "./validate.ts";
export { LakeError, LakeIoError, BackendError, CacheMissError, WitnessMismatch, type BackendErrorOptions } from "../errors.ts";
