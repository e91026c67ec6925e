/**
 * The server's tasks: running skill handlers turn by turn, recording every update under a
 * sequence number (the SSE id), and feeding subscribers — who may attach before the task
 * exists (rvAgent subscribes first, then sends) or resume after a sequence number.
 * @module
 */
import { A2aError } from "./errors.ts";
import { agentMessage, toParts, type HandlerState, type SkillContext, type SkillHandler, type SkillOutcome, type SkillResult, type TaskEmitter } from "./server-handler.ts";
import { Subscription, type LoggedUpdate } from "./server-subscription.ts";
import { endsTurn, isTerminal, type Artifact, type Message, type Task, type TaskPolicy, type TaskState, type TaskStatus, type TaskUpdate } from "./types.ts";

/** A task as the server keeps it. */
export class TaskRecord {
  readonly task: Task;
  readonly skill: string;
  readonly policy: TaskPolicy;
  readonly handler: SkillHandler;
  /** The message ids that started or resumed this task (idempotency keys). */
  readonly keys: string[] = [];
  readonly log: LoggedUpdate[] = [];
  readonly controller = new AbortController();
  seq = 0;
  /** The bare message the handler answered with instead of a task. */
  reply: Message | undefined;
  /** The task as its current turn began (submitted, or resumed), where a stream of the turn starts. */
  turnStart: LoggedUpdate;
  readonly #decided = Promise.withResolvers<void>();
  #turn = Promise.withResolvers<void>();

  constructor(task: Task, start: TaskStart) {
    this.task = task;
    this.skill = start.skill;
    this.policy = start.policy;
    this.handler = start.handler;
    this.turnStart = { seq: 1, update: { kind: "task", task: structuredClone(task) } };
  }

  /** Settles once the first turn has shown whether it is a task or a bare reply (its first event). */
  get decided(): Promise<void> {
    return this.#decided.promise;
  }

  /** Settles when the current turn ends: a terminal state, or one waiting for input or authorization. */
  get turnEnded(): Promise<void> {
    return this.#turn.promise;
  }

  get state(): TaskState {
    return this.task.status.state;
  }

  /** A deep copy of the task, safe to serialise while the task runs on. */
  snapshot(): Task {
    return structuredClone(this.task);
  }

  markDecided(): void {
    this.#decided.resolve();
  }

  endTurn(): void {
    this.#decided.resolve();
    this.#turn.resolve();
  }

  beginTurn(): void {
    this.#turn = Promise.withResolvers<void>();
  }
}

/** What starts a task. */
export interface TaskStart {
  id: string;
  contextId: string;
  skill: string;
  message: Message;
  policy: TaskPolicy;
  handler: SkillHandler;
  /** A client-chosen key (the A2A message id): a second start with it returns the first task. */
  idempotencyKey?: string;
}

/** Which tasks {@link TaskRegistry.list} returns. */
export interface TaskFilter {
  contextId?: string;
  state?: TaskState;
  /** Only tasks whose status changed at or after this time (ms since the epoch). */
  updatedSinceMs?: number;
}

const MAX_LOGGED_UPDATES = 10_000;
/** A task's history keeps its most recent messages, however many turns it takes. */
const MAX_HISTORY_MESSAGES = 1_000;
const HANDLER_STATES: ReadonlySet<string> = new Set<HandlerState>(["completed", "failed", "rejected", "input-required", "auth-required"]);

/** All tasks of one server, bounded to the most recent `maxTasks`. */
export class TaskRegistry {
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #subscribers = new Map<string, Set<Subscription>>();
  readonly #byKey = new Map<string, TaskRecord>();
  readonly #maxTasks: number;
  /** How many tasks have been started. */
  started = 0;

  constructor(maxTasks: number) {
    this.#maxTasks = maxTasks;
  }

  find(id: string): TaskRecord | undefined {
    return this.#tasks.get(id);
  }

  /** The task started or resumed with this idempotency key, if it is still kept. */
  findByKey(key: string): TaskRecord | undefined {
    return this.#byKey.get(key);
  }

  /** The task, or `TASK_NOT_FOUND`. */
  get(id: string): TaskRecord {
    const record = this.#tasks.get(id);
    if (!record) throw new A2aError("TASK_NOT_FOUND", `task ${id} not found`);
    return record;
  }

  /** The tasks matching `filter` (bare replies excluded), most recently updated first, ties by id. */
  list(filter: TaskFilter): TaskRecord[] {
    const matches = [...this.#tasks.values()].filter((record) =>
      record.reply === undefined &&
      (filter.contextId === undefined || record.task.contextId === filter.contextId) &&
      (filter.state === undefined || record.state === filter.state) &&
      (filter.updatedSinceMs === undefined || updatedAt(record) >= filter.updatedSinceMs));
    return matches.sort((a, b) => updatedAt(b) - updatedAt(a) || (a.task.id < b.task.id ? -1 : 1));
  }

  /** Creates the task and starts its handler, unless its id or idempotency key is already known. */
  start(start: TaskStart): TaskRecord {
    const known = this.#tasks.get(start.id) ?? (start.idempotencyKey === undefined ? undefined : this.#byKey.get(start.idempotencyKey));
    if (known) return known;
    const status: TaskStatus = { state: "submitted", timestamp: now() };
    const task: Task = { id: start.id, contextId: start.contextId, status, artifacts: [], history: [start.message] };
    const record = new TaskRecord(task, start);
    this.#tasks.set(start.id, record);
    this.#remember(record, start.idempotencyKey);
    this.started++;
    this.#evict();
    this.#record(record, { kind: "status", taskId: start.id, status: task.status, final: false });
    void this.#run(record, start.message, []);
    return record;
  }

  /**
   * Resumes a task waiting for input or authorization with the user's next message, which
   * runs the handler again. `UNSUPPORTED_OPERATION` when the task has ended or is still
   * working on its last message.
   */
  resume(record: TaskRecord, message: Message, idempotencyKey?: string): TaskRecord {
    const id = record.task.id;
    if (isTerminal(record.state)) throw new A2aError("UNSUPPORTED_OPERATION", `task ${id} is ${record.state} and takes no more messages`);
    if (!endsTurn(record.state)) throw new A2aError("UNSUPPORTED_OPERATION", `task ${id} is ${record.state}; send its next message once it asks for input`);
    const history = [...record.task.history];
    if (record.task.status.message) history.push(record.task.status.message);
    record.task.history = [...history, message].slice(-MAX_HISTORY_MESSAGES);
    this.#remember(record, idempotencyKey);
    record.beginTurn();
    this.#setStatus(record, "working");
    record.turnStart = { seq: record.seq, update: { kind: "task", task: record.snapshot() } };
    void this.#run(record, message, history);
    return record;
  }

  /** Aborts every running handler (the server is stopping); their tasks stay as they are. */
  abortAll(): void {
    for (const record of this.#tasks.values()) record.controller.abort(new A2aError("CANCELED", "the server stopped"));
  }

  /** Cancels a task that has not ended; `TASK_NOT_CANCELABLE` when it has. */
  cancel(id: string): TaskRecord {
    const record = this.get(id);
    if (isTerminal(record.state)) throw new A2aError("TASK_NOT_CANCELABLE", `task ${id} is already ${record.state}`);
    this.#setStatus(record, "canceled");
    record.controller.abort(new A2aError("CANCELED", `task ${id} was canceled`));
    return record;
  }

  /**
   * Attaches a subscriber to task `id` (which need not exist yet), first replaying what was
   * recorded after `afterSeq`.
   */
  subscribe(id: string, afterSeq: number, isLast: (update: TaskUpdate) => boolean): Subscription {
    const subscribers = this.#subscribers.get(id) ?? new Set<Subscription>();
    const subscription = new Subscription(isLast, () => {
      subscribers.delete(subscription);
      if (subscribers.size === 0 && this.#subscribers.get(id) === subscribers) this.#subscribers.delete(id);
    });
    for (const entry of this.#tasks.get(id)?.log ?? []) if (entry.seq > afterSeq) subscription.push(entry);
    subscribers.add(subscription);
    this.#subscribers.set(id, subscribers);
    return subscription;
  }

  async #run(record: TaskRecord, message: Message, history: Message[]): Promise<void> {
    // Let the request that started the task answer (with the task as submitted) first.
    await Promise.resolve();
    try {
      const result = await record.handler(this.#context(record, message, history));
      if (!isTerminal(record.state)) this.#endTurn(record, result);
    } catch (error) {
      if (isTerminal(record.state)) return;
      this.#markWorking(record);
      this.#setStatus(record, "failed", error instanceof Error ? error.message : String(error));
    }
  }

  #endTurn(record: TaskRecord, result: SkillResult): void {
    const outcome = asOutcome(result);
    if (outcome && "reply" in outcome) {
      this.#reply(record, agentMessage(outcome.reply));
      return;
    }
    if (outcome && !HANDLER_STATES.has(outcome.state)) throw new TypeError(`the handler ended its turn in the unknown state ${String(outcome.state)}`);
    this.#markWorking(record);
    if (outcome) {
      this.#setStatus(record, outcome.state, outcome.message);
      return;
    }
    if (result !== undefined) {
      const artifact = { artifactId: `result-${record.task.artifacts.length}`, name: "result", parts: toParts(result as string) };
      this.#artifact(record, artifact, false, true);
    }
    this.#setStatus(record, "completed");
  }

  /** A bare reply: the answer itself when nothing was shown of the task yet, else its final status message. */
  #reply(record: TaskRecord, message: Message): void {
    const undecided = record.state === "submitted" && record.task.history.length === 1;
    if (undecided) {
      record.reply = message;
      this.#record(record, { kind: "message", message });
    } else {
      this.#markWorking(record);
    }
    this.#setStatus(record, "completed", message.parts);
  }

  /** The first sign of work on a new task: it is a task (not a bare reply) and is now working. */
  #markWorking(record: TaskRecord): void {
    if (record.state === "submitted") this.#setStatus(record, "working");
    record.markDecided();
  }

  #context(record: TaskRecord, message: Message, history: Message[]): SkillContext {
    const text = message.parts.flatMap((part) => (part.kind === "text" ? [part.text] : [])).join("\n");
    const emit: TaskEmitter = {
      status: (progress) => {
        if (isTerminal(record.state)) return;
        if (record.state === "submitted") record.markDecided();
        this.#setStatus(record, "working", progress);
      },
      artifact: (content, options = {}) => {
        if (isTerminal(record.state)) return;
        this.#markWorking(record);
        const artifactId = options.artifactId ?? `artifact-${record.task.artifacts.length}`;
        const artifact: Artifact = { artifactId, parts: toParts(content), ...(options.name === undefined ? {} : { name: options.name }) };
        this.#artifact(record, artifact, options.append ?? false, options.lastChunk ?? false);
      },
    };
    const { id: taskId, contextId = "" } = record.task;
    const { skill, policy } = record;
    return { taskId, contextId, skill, message, text, history, policy, signal: record.controller.signal, emit };
  }

  #setStatus(record: TaskRecord, state: TaskState, content?: string | Message["parts"]): void {
    const status: TaskStatus = { state, timestamp: now() };
    if (content !== undefined) status.message = agentMessage(content);
    record.task.status = status;
    this.#record(record, { kind: "status", taskId: record.task.id, status, final: isTerminal(state) });
    if (endsTurn(state)) record.endTurn();
  }

  #artifact(record: TaskRecord, artifact: Artifact, append: boolean, lastChunk: boolean): void {
    const artifacts = record.task.artifacts;
    const index = artifacts.findIndex((known) => known.artifactId === artifact.artifactId);
    const existing = artifacts[index];
    if (index < 0) artifacts.push(structuredClone(artifact));
    else if (append && existing) existing.parts.push(...structuredClone(artifact.parts));
    else artifacts[index] = structuredClone(artifact);
    this.#record(record, { kind: "artifact", taskId: record.task.id, artifact, append, lastChunk });
  }

  #record(record: TaskRecord, update: TaskUpdate): void {
    const entry = { seq: ++record.seq, update: structuredClone(update) };
    record.log.push(entry);
    if (record.log.length > MAX_LOGGED_UPDATES) record.log.shift();
    for (const subscription of this.#subscribers.get(record.task.id) ?? []) subscription.push(entry);
  }

  #remember(record: TaskRecord, key: string | undefined): void {
    if (key === undefined) return;
    record.keys.push(key);
    this.#byKey.set(key, record);
  }

  /** Drops the oldest tasks that no handler is working on (ended, or waiting for input) beyond `maxTasks`. */
  #evict(): void {
    for (const [id, record] of this.#tasks) {
      if (this.#tasks.size <= this.#maxTasks) return;
      if (!endsTurn(record.state)) continue;
      this.#tasks.delete(id);
      for (const key of record.keys) this.#byKey.delete(key);
    }
  }
}

function asOutcome(result: SkillResult): SkillOutcome | undefined {
  return typeof result === "object" && result !== null && !Array.isArray(result) ? result : undefined;
}

/** When the task's status last changed, in ms since the epoch. */
export function updatedAt(record: TaskRecord): number {
  return Date.parse(record.task.status.timestamp ?? "") || 0;
}

function now(): string {
  return new Date().toISOString();
}
