/**
 * A2A: a verifying client for A2A 1.0 and rvAgent agents, and an agent server for Bun.
 * @module
 */
export {
  A2aError,
  CardSignatureInvalid,
  PolicyViolation,
  BudgetExceeded,
  TransportError,
  type A2aErrorOptions,
  type TransportErrorOptions,
} from "./errors.ts";
export { A2aClient, type ConnectOptions, type CallOptions, type GetTaskOptions } from "./client.ts";
export {
  A2aServer,
  type A2aServerOptions,
  type ServerSigning,
  type ServerStats,
} from "./server.ts";
export type { SkillDefinition } from "./server-http.ts";
export type {
  HandlerState,
  SkillContext,
  SkillHandler,
  SkillOutcome,
  SkillResult,
  TaskEmitter,
} from "./server-handler.ts";
export { GlobalBudget, type BudgetLimits } from "./policy.ts";
export { CardCache } from "./card.ts";
export type { FetchLike } from "./http.ts";
export {
  agentIdOf,
  ed25519Jwk,
  p256Jwk,
  publicJwk,
  signingKey,
  type Ed25519Jwk,
  type P256Jwk,
  type JwsAlg,
  type SigningKey,
  type TrustedKey,
  type TrustedKeys,
} from "./keys.ts";
export { signA2aCard, signRvAgentCard } from "./sign.ts";
export { jcs } from "./jcs.ts";
export {
  endsTurn,
  isInterrupted,
  isTerminal,
  SKILL_COST_EXTENSION,
  type AgentCardView,
  type Artifact,
  type CardSignatureInfo,
  type DataPart,
  type Dialect,
  type FilePart,
  type ListTasksQuery,
  type Message,
  type Metadata,
  type Part,
  type SkillCost,
  type SkillInfo,
  type Task,
  type TaskPage,
  type TaskPolicy,
  type TaskRequest,
  type TaskState,
  type TaskStatus,
  type TaskUpdate,
  type TextPart,
} from "./types.ts";
