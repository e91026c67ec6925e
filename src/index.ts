/**
 * @ruvector/bun — RaBitQ vector indexes, the ruLake vector lake, local embeddings and A2A agents for Bun,
 * over a native Rust core.
 * @module
 */
export { version } from "./version.ts";
export { nativeVersion, cpuFeatures, type CpuFeature } from "./ffi.ts";
export {
  RuVectorError,
  NativeLibraryError,
  ClosedError,
  IndexError,
  DimensionMismatch,
  EmptyIndex,
  PersistError,
  InvalidArgument,
  LakeError,
  BackendError,
  CacheMissError,
  WitnessMismatch,
  EmbedError,
  EmbedAborted,
  type BackendErrorOptions,
} from "./errors.ts";
export {
  VectorIndex,
  FlatF32Index,
  RabitqIndex,
  RabitqPlusIndex,
  RabitqAsymIndex,
  BatchResult,
  loadIndex,
  type Metric,
  type IdsInput,
  type IndexOptions,
  type BuildOptions,
  type SearchHit,
  type SearchOptions,
  type BatchOptions,
} from "./indexes.ts";
export {
  Embedder,
  Tokenizer,
  rowViews,
  models,
  modelInfo,
  modelDir,
  ensureModelFiles,
  resolveOrtLibrary,
  ORT_INSTALL_HINT,
  type ImageSize,
  type PretrainedOptions,
  type EmbedBatchOptions,
  type EmbedProgress,
  type TokenizerOptions,
  type ModelInfo,
  type ModelFileInfo,
  type CacheOptions,
  type DownloadProgress,
  type OrtResolveOptions,
} from "./embed/index.ts";
export { recommend, type Recommendation, type RecommendOptions } from "./recommend.ts";
export * from "./a2a/index.ts";
export {
  RuLake,
  RuLakeBuilder,
  type CollectionKey,
  type LakeHit,
  type LakeOptions,
} from "./lake/lake.ts";
export { Consistency, RefreshResult } from "./lake/consistency.ts";
export { LakeSession, type WritableBackend } from "./lake/session.ts";
export type { CacheStats } from "./lake/stats.ts";
export type { BackendAdapter, BundleInfo, Generation, PulledBatch, MaybePromise } from "./lake/backend.ts";
export { LocalBackend } from "./lake/local.ts";
export { FsBackend } from "./lake/fs.ts";
export { PostgresBackend, type PostgresConnection } from "./lake/postgres.ts";
export type { VectorWrite } from "./lake/validate.ts";
