/**
 * The A2A data model as this library presents it: one shape for both wire dialects
 * (A2A 1.0 and upstream ruvector's rvAgent draft).
 * @module
 */

/** Which wire protocol a peer speaks. */
export type Dialect = "a2a" | "rvagent";

/** Lifecycle state of a task, the same words in both dialects. */
export type TaskState =
  | "submitted"
  | "working"
  | "input-required"
  | "auth-required"
  | "completed"
  | "canceled"
  | "failed"
  | "rejected"
  | "unknown";

const TERMINAL: ReadonlySet<TaskState> = new Set(["completed", "canceled", "failed", "rejected"]);

/** True for the states a task never leaves. */
export function isTerminal(state: TaskState): boolean {
  return TERMINAL.has(state);
}

/** True for the states that wait for the user's next message: `input-required`, `auth-required`. */
export function isInterrupted(state: TaskState): boolean {
  return state === "input-required" || state === "auth-required";
}

/** True where a turn of a task ends (and a stream of it closes): terminal or interrupted states. */
export function endsTurn(state: TaskState): boolean {
  return isTerminal(state) || isInterrupted(state);
}

/** Free-form metadata attached to messages, parts, artifacts and tasks. */
export type Metadata = Record<string, unknown>;

/** Plain text. */
export interface TextPart {
  kind: "text";
  text: string;
  mediaType?: string;
  metadata?: Metadata;
}

/** Structured JSON. */
export interface DataPart {
  kind: "data";
  data: unknown;
  mediaType?: string;
  metadata?: Metadata;
}

/** A file, by URL or inline as base64 bytes. */
export interface FilePart {
  kind: "file";
  url?: string;
  /** Base64 (standard alphabet) file content. */
  bytes?: string;
  filename?: string;
  mediaType?: string;
  metadata?: Metadata;
}

/** One piece of content of a message or artifact. */
export type Part = TextPart | DataPart | FilePart;

/** A turn of the conversation. */
export interface Message {
  role: "user" | "agent";
  parts: Part[];
  messageId?: string;
  /** The conversation the message belongs to, when the peer said (A2A 1.0). */
  contextId?: string;
  metadata?: Metadata;
}

/** An output of a task. rvAgent artifacts have no id; theirs is their index as a string. */
export interface Artifact {
  artifactId: string;
  name?: string;
  description?: string;
  parts: Part[];
  metadata?: Metadata;
}

/** Where a task stands. */
export interface TaskStatus {
  state: TaskState;
  /** RFC 3339 time of the transition, when the peer gave one. */
  timestamp?: string;
  message?: Message;
}

/** A unit of work on a peer agent. */
export interface Task {
  id: string;
  contextId?: string;
  status: TaskStatus;
  artifacts: Artifact[];
  history: Message[];
  metadata?: Metadata;
}

/**
 * One event of a task stream. A status is `final` when the stream ends with it: a terminal
 * state, or one waiting for the user's next message (see {@link endsTurn}).
 */
export type TaskUpdate =
  | { kind: "status"; taskId: string; status: TaskStatus; final: boolean }
  | { kind: "artifact"; taskId: string; artifact: Artifact; append: boolean; lastChunk: boolean }
  | { kind: "message"; message: Message }
  | { kind: "task"; task: Task };

/**
 * Limits a caller puts on one task. The client checks what it can before any request
 * and forwards the rest to the peer.
 */
export interface TaskPolicy {
  /** Refuse a skill whose card declares more tokens per task than this; forwarded as a cap. */
  maxTokens?: number;
  /** Refuse a skill whose card-declared cost is higher, or undeclared. */
  maxCostUsd?: number;
  /** Cancel the task and fail with `PolicyViolation` when it runs longer than this. */
  maxDurationMs?: number;
  /** Refuse any skill not listed here. */
  allowedSkills?: readonly string[];
}

/**
 * What a skill costs, as its agent card declares it. A2A 1.0 cards carry it in the
 * capability extension {@link SKILL_COST_EXTENSION} (`params.skills[skillId]`, so the card
 * signature covers it); rvAgent cards in `metadata.ruvector.skill_costs[skillId]`
 * (`usd_per_task`, `tokens_per_task`).
 */
export interface SkillCost {
  /** Price of one task, in US dollars. */
  usdPerTask: number;
  /** Most tokens one task uses, when the agent bounds it. */
  tokensPerTask?: number;
}

/** URI of the A2A 1.0 card extension that declares per-skill costs. */
export const SKILL_COST_EXTENSION = "https://ruvector.dev/a2a/extensions/skill-cost/v1";

/** What to ask a peer to do. */
export interface TaskRequest {
  /** Id of one of the peer's skills (see `client.card.skills`). */
  skill: string;
  /** The user's input: text, or parts. */
  input: string | Part[];
  /** Limits for this task, combined with the client's default policy (the stricter wins). */
  policy?: TaskPolicy;
  /** The conversation to add this task to (A2A 1.0). */
  contextId?: string;
  /**
   * Continue this task (A2A 1.0): the answer to a task waiting in `input-required` or
   * `auth-required`. The peer refuses an unknown or finished task.
   */
  taskId?: string;
  /**
   * Idempotency key: the A2A message id, or the rvAgent task id. Chosen at random when
   * omitted; a retried send always reuses it, so a deduplicating peer runs the task once.
   */
  id?: string;
  metadata?: Metadata;
}

/** Which tasks {@link A2aClient.listTasks} asks for (A2A 1.0 `ListTasks`). */
export interface ListTasksQuery {
  contextId?: string;
  state?: TaskState;
  /** 1..100; the peer's default (50 for ours) when absent. */
  pageSize?: number;
  /** `nextPageToken` of the previous page. */
  pageToken?: string;
  /** Most recent messages of each task's history to include; 0 for none. */
  historyLength?: number;
  /** Include artifacts (default false). */
  includeArtifacts?: boolean;
  /** Only tasks whose status changed at or after this time. */
  statusTimestampAfter?: Date;
}

/** One page of {@link A2aClient.listTasks}. */
export interface TaskPage {
  tasks: Task[];
  /** Pass as `pageToken` for the next page; `""` on the last one. */
  nextPageToken: string;
  pageSize: number;
  /** Tasks matching the query, on all pages. */
  totalSize: number;
}

/** A skill as a verified agent card declares it. */
export interface SkillInfo {
  id: string;
  name: string;
  description: string;
  tags: readonly string[];
  /** The declared cost, when the card declares one. */
  cost?: SkillCost;
}

/** Which signature made a card trusted. */
export interface CardSignatureInfo {
  scheme: "jws" | "rvagent";
  alg: "EdDSA" | "ES256" | "ed25519-hex";
  /** The JWS key id, or for rvAgent the agent id. */
  kid: string;
}

/** A discovered agent card, after validation and (by default) signature verification. */
export interface AgentCardView {
  name: string;
  description: string;
  version: string;
  dialect: Dialect;
  /** hex(SHAKE-256(public key of the verifying key), 32 bytes); undefined when not verified. */
  agentId: string | undefined;
  skills: readonly SkillInfo[];
  streaming: boolean;
  /** The signature that verified, or undefined when verification was turned off. */
  signature: CardSignatureInfo | undefined;
  /** The card exactly as served (parsed JSON). */
  raw: Readonly<Record<string, unknown>>;
}
