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
  LakeIoError,
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
  loadIndexAsync,
  recommend,
  type Recommendation,
  type RecommendOptions,
  type Metric,
  type IdsInput,
  type IndexOptions,
  type BuildOptions,
  type SearchHit,
  type SearchOptions,
  type BatchOptions,
} from "./index/index.ts";
export {
  Embedder,
  Tokenizer,
  rowViews,
  models,
  modelInfo,
  modelDir,
  ensureModelFiles,
  importModelFilesAsync,
  verifyModelFilesAsync,
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
  type ModelFileStatus,
  type OrtResolveOptions,
} from "./embed/index.ts";
export {
  readFvecs,
  readIvecs,
  readNpy,
  writeFvecs,
  writeNpy,
  parseFvecs,
  parseIvecs,
  parseNpy,
  encodeFvecs,
  encodeNpy,
  type Matrix,
} from "./formats.ts";
export * from "./a2a/index.ts";
export * from "./lake/index.ts";
