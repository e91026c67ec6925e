/**
 * Vector indexes over the native RaBitQ engines: exact {@link FlatF32Index}
 * and the 1-bit {@link RabitqIndex}, {@link RabitqPlusIndex} (recommended) and
 * {@link RabitqAsymIndex}. The `@ruvector/bun/index` entry point.
 * @module
 */
export { VectorIndex } from "./vector-index.ts";
export { FlatF32Index, RabitqIndex, RabitqPlusIndex, RabitqAsymIndex, loadIndex, loadIndexAsync } from "./variants.ts";
export { BatchResult, type Metric, type IdsInput, type IndexOptions, type BuildOptions, type SearchHit, type SearchOptions, type BatchOptions } from "./types.ts";
export { recommend, type Recommendation, type RecommendOptions } from "./recommend.ts";
export { DimensionMismatch, EmptyIndex, IndexError, InvalidArgument, PersistError, ClosedError } from "../errors.ts";
