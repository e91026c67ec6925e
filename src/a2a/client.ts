/**
 * `A2aClient`: verified discovery, then tasks in either dialect.
 * @module
 */
import { checkOptionKeys, optionKeys } from "../options.ts";
import { A2aError, TransportError } from "./errors.ts";
import { CardCache, fetchCard, parseCard } from "./card.ts";
import { TaskDeadline } from "./deadline.ts";
import type { FetchLike, HttpSettings } from "./http.ts";
import { MAX_JSON_DEPTH } from "./json.ts";
import type { TrustedKeys } from "./keys.ts";
import { checkPolicy, mergePolicies, validatePolicy, type GlobalBudget } from "./policy.ts";
import type { RpcChannel } from "./rpc.ts";
import { subscribeOrFetch, trackTask } from "./stream.ts";
import { A2aTransport } from "./transport-a2a.ts";
import { RvAgentTransport } from "./transport-rvagent.ts";
import type { SendParams, Transport } from "./transport.ts";
import type { AgentCardView, Dialect, ListTasksQuery, Task, TaskPage, TaskPolicy, TaskRequest, TaskUpdate } from "./types.ts";
import { verifyCard } from "./verify.ts";

/** Options of {@link A2aClient.connect}. */
export interface ConnectOptions {
  /** Keys trusted to sign cards, by JWS `kid` or rvAgent agent id. */
  trustedKeys?: TrustedKeys;
  /** Verify the card's signature (default). `false` accepts unsigned and unverifiable cards. */
  verify?: boolean;
  /** Exact `jku` URLs whose JWKS may be fetched for unknown kids; no other `jku` is fetched. */
  jkuAllowList?: readonly string[];
  /** Which dialect to speak; `"auto"` (default) tries A2A 1.0, then rvAgent. */
  dialect?: Dialect | "auto";
  /** The `fetch` to use (default: the global one). */
  fetch?: FetchLike;
  /** Aborts discovery. */
  signal?: AbortSignal;
  /** Deadline of one request, response included; streams: until headers. Default 30 000. */
  timeoutMs?: number;
  /** Longest silence on a stream before it counts as dropped. Default 60 000. */
  streamIdleTimeoutMs?: number;
  /**
   * Longest one `streamTask` call may last, reconnections included, however the peer paces
   * its bytes; then it fails with a `TransportError` (the task is left running). Default
   * 600 000 (10 minutes); `Infinity` for none.
   */
  streamTimeoutMs?: number;
  /** Deepest nesting accepted in any JSON the peer sends (cards, responses, events). Default 64. */
  maxJsonDepth?: number;
  /** Largest SSE event accepted. Default 1 MiB. */
  maxEventBytes?: number;
  /** Largest non-streaming response accepted. Default 8 MiB. */
  maxResponseBytes?: number;
  /** Consecutive resubscriptions without news before a stream fails. Default 5. */
  maxReconnects?: number;
  /**
   * Retries of a send that failed in transit (peer down, HTTP 5xx). Default 0. A retry
   * reuses the request's idempotency key, so a peer that deduplicates runs the task once.
   */
  sendRetries?: number;
  /** Default policy of every task; a request's own policy can only tighten it. */
  policy?: TaskPolicy;
  /** Shared budget charged before each send. */
  budget?: GlobalBudget;
  /** Card cache for ETag revalidation; `null` disables it. Default: one shared per process. */
  cardCache?: CardCache | null;
  /** Extra headers on every request (e.g. authorization). */
  headers?: Record<string, string>;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** Options of {@link A2aClient.getTask}. */
export interface GetTaskOptions extends CallOptions {
  /** Most recent history messages to return; 0 for none (A2A 1.0). */
  historyLength?: number;
}

const DEFAULTS = {
  timeoutMs: 30_000,
  streamIdleTimeoutMs: 60_000,
  streamTimeoutMs: 600_000,
  maxJsonDepth: MAX_JSON_DEPTH,
  maxEventBytes: 1024 * 1024,
  maxResponseBytes: 8 * 1024 * 1024,
  maxReconnects: 5,
  sendRetries: 0,
};

const CONNECT_KEYS = optionKeys<ConnectOptions>({
  trustedKeys: true, verify: true, jkuAllowList: true, dialect: true, fetch: true, signal: true, timeoutMs: true, streamIdleTimeoutMs: true,
  streamTimeoutMs: true, maxJsonDepth: true, maxEventBytes: true, maxResponseBytes: true, maxReconnects: true, sendRetries: true,
  policy: true, budget: true, cardCache: true, headers: true,
});
const CALL_KEYS = optionKeys<CallOptions>({ signal: true });
const GET_TASK_KEYS = optionKeys<GetTaskOptions>({ signal: true, historyLength: true });
const POLICY_KEYS = optionKeys<TaskPolicy>({ maxTokens: true, maxCostUsd: true, maxDurationMs: true, allowedSkills: true });
const REQUEST_KEYS = optionKeys<TaskRequest>({ skill: true, input: true, policy: true, contextId: true, taskId: true, id: true, metadata: true });
const QUERY_KEYS = optionKeys<ListTasksQuery>({
  contextId: true, state: true, pageSize: true, pageToken: true, historyLength: true, includeArtifacts: true, statusTimestampAfter: true,
});

/** Refuses unknown keys in an object the caller wrote (a misspelt policy limit would go unenforced). */
function checkKeys(value: unknown, allowed: readonly string[], what: string): void {
  checkOptionKeys(value, allowed, what, (message) => new A2aError("INVALID_REQUEST", message));
}

/** A policy the caller wrote: known keys, valid limits. */
function checkCallerPolicy(policy: TaskPolicy | undefined, what: string): void {
  if (policy === undefined) return;
  checkKeys(policy, POLICY_KEYS, what);
  validatePolicy(policy);
}

const sharedCardCache = new CardCache();
const MAX_TRACKED_DEADLINES = 10_000;

/** A connection to one agent whose card has been fetched, validated and (by default) verified. */
export class A2aClient {
  /** The agent's base URL, as given to {@link A2aClient.connect}. */
  readonly url: string;
  /** The agent's card. */
  readonly card: AgentCardView;
  readonly #transport: Transport;
  readonly #policy: TaskPolicy;
  readonly #budget: GlobalBudget | undefined;
  readonly #sendRetries: number;
  readonly #maxReconnects: number;
  readonly #streamTimeoutMs: number;
  readonly #started = new Map<string, { at: number; maxDurationMs: number }>();

  private constructor(url: string, card: AgentCardView, transport: Transport, options: ConnectOptions) {
    this.url = url;
    this.card = card;
    this.#transport = transport;
    this.#policy = options.policy ?? {};
    this.#budget = options.budget;
    this.#sendRetries = options.sendRetries ?? DEFAULTS.sendRetries;
    this.#maxReconnects = options.maxReconnects ?? DEFAULTS.maxReconnects;
    this.#streamTimeoutMs = options.streamTimeoutMs ?? DEFAULTS.streamTimeoutMs;
  }

  /**
   * Discovers the agent at `url`: fetches its card (revalidating a cached one by ETag),
   * validates it, and verifies its signature against `trustedKeys` unless `verify: false`.
   * Throws `CardSignatureInvalid` for unsigned, tampered or untrusted cards and
   * `TransportError` when the agent cannot be reached.
   */
  static async connect(url: string, options: ConnectOptions = {}): Promise<A2aClient> {
    if (!URL.canParse(url)) throw new A2aError("INVALID_REQUEST", `agent URL ${url} is not an absolute URL`);
    checkKeys(options, CONNECT_KEYS, "A2aClient.connect options");
    checkCallerPolicy(options.policy, "A2aClient.connect options.policy");
    for (const name of ["timeoutMs", "streamIdleTimeoutMs", "streamTimeoutMs", "maxJsonDepth", "maxEventBytes", "maxResponseBytes"] as const) {
      const value = options[name];
      if (value !== undefined && !(typeof value === "number" && value > 0)) {
        throw new A2aError("INVALID_REQUEST", `options.${name} must be a number > 0, got ${String(value)}`);
      }
    }
    const http: HttpSettings = {
      fetch: options.fetch ?? ((url, init) => fetch(url, init)),
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
      maxJsonDepth: options.maxJsonDepth ?? DEFAULTS.maxJsonDepth,
      headers: options.headers ?? {},
    };
    const cache = options.cardCache === null ? undefined : (options.cardCache ?? sharedCardCache);
    const fetched = await fetchCard(url, options.dialect ?? "auto", http, cache, options.signal);
    const trust = { trustedKeys: options.trustedKeys ?? {}, jkuAllowList: options.jkuAllowList ?? [], http, signal: options.signal };
    const verified = options.verify === false ? undefined : await verifyCard(fetched, trust);
    const parsed = parseCard(fetched, url);
    const card: AgentCardView = { ...parsed.view, agentId: verified?.agentId, signature: verified?.signature };
    const channel: RpcChannel = {
      dialect: fetched.dialect,
      endpoint: parsed.endpoint,
      http,
      maxEventBytes: options.maxEventBytes ?? DEFAULTS.maxEventBytes,
      streamIdleTimeoutMs: options.streamIdleTimeoutMs ?? DEFAULTS.streamIdleTimeoutMs,
    };
    const transport = fetched.dialect === "a2a" ? new A2aTransport(channel) : new RvAgentTransport(channel);
    return new A2aClient(url, card, transport, options);
  }

  /** The dialect the agent speaks. */
  get dialect(): Dialect {
    return this.#transport.dialect;
  }

  /**
   * Starts a task, or with `request.taskId` answers one waiting for input. Policy and budget
   * are checked first (`PolicyViolation`, `BudgetExceeded`, no request made; a continued
   * task is not charged again). A2A 1.0 peers answer at once with the task (or, for an
   * agent that replies with a bare message, a completed task carrying it as its status
   * message); rvAgent peers answer when it has finished, within `policy.maxDurationMs` or
   * the task is canceled and `PolicyViolation` thrown.
   */
  async sendTask(request: TaskRequest, options: CallOptions = {}): Promise<Task> {
    checkKeys(options, CALL_KEYS, "sendTask options");
    const params = this.#admit(request);
    const maxDurationMs = params.policy.maxDurationMs;
    using deadline = new TaskDeadline(maxDurationMs, maxDurationMs, options.signal);
    const startedAt = Date.now();
    try {
      const task = await this.#sendWithRetries(params, deadline.signal);
      if (maxDurationMs !== undefined) this.#remember(task.id, startedAt, maxDurationMs);
      return task;
    } catch (error) {
      if (deadline.expired) await deadline.fail(this.dialect === "rvagent" ? params.id : undefined, (id) => this.#transport.cancel(id));
      throw error;
    }
  }

  /** The task's current state. */
  async getTask(taskId: string, options: GetTaskOptions = {}): Promise<Task> {
    checkKeys(options, GET_TASK_KEYS, "getTask options");
    return this.#transport.get(taskId, options.signal, options.historyLength);
  }

  /**
   * One page of the peer's tasks, most recently updated first (A2A 1.0 `ListTasks`; an
   * rvAgent peer answers `UNSUPPORTED_OPERATION`). Pass `nextPageToken` back as
   * `pageToken` until it is `""`.
   */
  async listTasks(query: ListTasksQuery = {}, options: CallOptions = {}): Promise<TaskPage> {
    checkKeys(query, QUERY_KEYS, "listTasks query");
    checkKeys(options, CALL_KEYS, "listTasks options");
    return this.#transport.list(query, options.signal);
  }

  /** Asks the peer to cancel the task and returns it as the peer then reports it. */
  async cancelTask(taskId: string, options: CallOptions = {}): Promise<Task> {
    checkKeys(options, CALL_KEYS, "cancelTask options");
    return this.#transport.cancel(taskId, options.signal);
  }

  /**
   * Streams a task's updates until it completes, fails, is canceled or needs input or
   * authorization (the last status then carries the agent's question; answer it with a
   * request naming the `taskId`, which streams the next turn). Given an id, subscribes to
   * that task; given a request, sends it (after the same checks as {@link sendTask}) and
   * streams it. Dropped connections are resumed without losing or
   * repeating updates. Breaking out of the loop, or aborting `signal`, closes the stream
   * but leaves the task running; `policy.maxDurationMs` cancels it.
   */
  async *streamTask(target: string | TaskRequest, options: CallOptions = {}): AsyncGenerator<TaskUpdate> {
    checkKeys(options, CALL_KEYS, "streamTask options");
    const transport = this.#transport;
    if (typeof target === "string") {
      const limit = this.#started.get(target) ?? this.#defaultLimit();
      using deadline = new TaskDeadline(limit?.maxDurationMs, limit && limit.maxDurationMs - (Date.now() - limit.at), options.signal);
      yield* trackTask({
        transport, deadline, signal: options.signal, taskId: target, maxReconnects: this.#maxReconnects, timeoutMs: this.#streamTimeoutMs,
        open: (signal) => subscribeOrFetch(transport, target, undefined, signal),
      });
      return;
    }
    const params = this.#admit(target);
    using deadline = new TaskDeadline(params.policy.maxDurationMs, params.policy.maxDurationMs, options.signal);
    yield* trackTask({
      transport, deadline, signal: options.signal, maxReconnects: this.#maxReconnects, timeoutMs: this.#streamTimeoutMs,
      taskId: this.dialect === "rvagent" ? params.id : target.taskId,
      open: (signal) => transport.sendStreaming(params, signal),
    });
  }

  /** Validates a request, applies policy and budget, and fixes its idempotency key. */
  #admit(request: TaskRequest): SendParams {
    checkKeys(request, REQUEST_KEYS, "the task request");
    if (typeof request.skill !== "string" || request.skill === "") {
      throw new A2aError("INVALID_REQUEST", "request.skill must be a non-empty string");
    }
    if (typeof request.input !== "string" && !Array.isArray(request.input)) {
      throw new A2aError("INVALID_REQUEST", "request.input must be a string or an array of parts");
    }
    if (request.taskId !== undefined && (typeof request.taskId !== "string" || request.taskId === "")) {
      throw new A2aError("INVALID_REQUEST", "request.taskId must be a non-empty string");
    }
    if (request.taskId !== undefined && this.dialect === "rvagent") {
      throw new A2aError("UNSUPPORTED_OPERATION", `rvAgent peers cannot continue a task (${this.url})`);
    }
    checkCallerPolicy(request.policy, "request.policy");
    const policy = mergePolicies(this.#policy, request.policy);
    const costUsd = checkPolicy(request.skill, this.card.skills, policy, this.card.name);
    if (request.taskId === undefined) this.#budget?.charge(costUsd);
    return { request, id: request.id ?? crypto.randomUUID(), policy };
  }

  async #sendWithRetries(params: SendParams, signal: AbortSignal): Promise<Task> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#transport.send(params, signal);
      } catch (error) {
        const retryable = error instanceof TransportError && error.retryable && !signal.aborted;
        if (!retryable || attempt >= this.#sendRetries) throw error;
      }
      await Bun.sleep(200 * 2 ** attempt);
    }
  }

  #remember(taskId: string, at: number, maxDurationMs: number): void {
    this.#started.set(taskId, { at, maxDurationMs });
    const oldest = this.#started.keys().next();
    if (this.#started.size > MAX_TRACKED_DEADLINES && !oldest.done) this.#started.delete(oldest.value);
  }

  #defaultLimit(): { at: number; maxDurationMs: number } | undefined {
    const maxDurationMs = this.#policy.maxDurationMs;
    return maxDurationMs === undefined ? undefined : { at: Date.now(), maxDurationMs };
  }
}
