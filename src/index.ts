/**
 * @ruvector/bun — RaBitQ vector indexes for Bun over a native Rust core.
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
export { recommend, type Recommendation, type RecommendOptions } from "./recommend.ts";
