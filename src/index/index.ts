/**
 * Vector indexes over the native RaBitQ engines: the sub-linear
 * {@link IvfRabitqIndex} (large collections), exact {@link FlatF32Index} and the
 * upstream-compatible 1-bit {@link RabitqIndex}, {@link RabitqPlusIndex} and
 * {@link RabitqAsymIndex}. The `@ruvector/bun/index` entry point.
 * @module
 */
export { VectorIndex, type ClassicOptions, type IvfOptionTypes } from "./vector-index.ts";
export { IvfRabitqIndex } from "./ivf.ts";
export { FlatF32Index, RabitqIndex, RabitqPlusIndex, RabitqAsymIndex, loadIndex, loadIndexAsync } from "./variants.ts";
export { BatchResult, type Metric, type IdsInput, type IndexOptions, type BuildOptions, type SearchHit, type SearchOptions, type RemoveOptions, type LoadOptions, type BatchOptions, type Store, type IvfIndexOptions, type IvfBuildOptions, type IvfSearchOptions, type IvfBatchOptions, type Calibration } from "./types.ts";
export { type IdList, type FilterSpec, type SearchFilter } from "./filter.ts";
export { recommend, type Recommendation, type RecommendOptions } from "./recommend.ts";
export { DimensionMismatch, EmptyIndex, IndexError, InvalidArgument, PersistError, ClosedError, UnknownId } from "../errors.ts";
