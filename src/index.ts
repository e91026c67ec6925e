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
export {
  A2aError,
  CardSignatureInvalid,
  PolicyViolation,
  BudgetExceeded,
  TransportError,
  type A2aErrorOptions,
  type TransportErrorOptions,
  A2aClient,
  A2aServer,
  GlobalBudget,
  CardCache,
  agentIdOf,
  ed25519Jwk,
  p256Jwk,
  publicJwk,
  signingKey,
  signA2aCard,
  signRvAgentCard,
  jcs,
  isTerminal,
  SKILL_COST_EXTENSION,
  type ConnectOptions,
  type CallOptions,
  type A2aServerOptions,
  type ServerSigning,
  type ServerStats,
  type SkillDefinition,
  type SkillHandler,
  type SkillContext,
  type TaskEmitter,
  type BudgetLimits,
  type FetchLike,
  type Ed25519Jwk,
  type P256Jwk,
  type JwsAlg,
  type SigningKey,
  type TrustedKey,
  type TrustedKeys,
  type AgentCardView,
  type Artifact,
  type CardSignatureInfo,
  type DataPart,
  type Dialect,
  type FilePart,
  type Message,
  type Metadata,
  type Part,
  type SkillCost,
  type SkillInfo,
  type Task,
  type TaskPolicy,
  type TaskRequest,
  type TaskState,
  type TaskStatus,
  type TaskUpdate,
  type TextPart,
} from "./a2a/index.ts";
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
export { LakeError, BackendError, CacheMissError, WitnessMismatch } from "./errors.ts";
