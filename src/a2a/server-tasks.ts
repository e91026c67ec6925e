/**
 * The server's tasks: running skill handlers, recording every update under a sequence
 * number (the SSE id), and feeding subscribers — who may attach before the task exists
 * (rvAgent subscribes first, then sends) or resume after a sequence number.
 * @module
 */
import { A2aError } from "../errors.ts";
import {
  isTerminal,
  type Artifact,
  type Message,
  type Part,
  type Task,
  type TaskPolicy,
  type TaskState,
  type TaskStatus,
  type TaskUpdate,
} from "./types.ts";

/** What a skill handler may report while it runs. */
export interface TaskEmitter {
  /** A `working` status, optionally with a progress message. */
  status(text?: string): void;
  /** An artifact, or with `append` another chunk of one (same `artifactId`). */
  artifact(content: string | Part[], options?: { artifactId?: string; name?: string; append?: boolean; lastChunk?: boolean }): void;
}

/** What a skill handler is given. */
export interface SkillContext {
  taskId: string;
  contextId: string;
  skill: string;
  /** The user's message. */
  message: Message;
  /** The text parts of the message, joined with newlines. */
  text: string;
  /** The policy the client forwarded (already checked against the skill's cost). */
  policy: TaskPolicy;
  /** Aborts when the task is canceled. */
  signal: AbortSignal;
  emit: TaskEmitter;
}

/** Runs one task of a skill. A returned value becomes the artifact `"result"`; a throw fails the task. */
export type SkillHandler = (context: SkillContext) => Promise<string | Part[] | void> | string | Part[] | void;

/** One recorded update and its sequence number. */
export interface LoggedUpdate {
  seq: number;
  update: TaskUpdate;
}

/** A task as the server keeps it. */
export class TaskRecord {
  readonly task: Task;
  readonly skill: string;
  readonly idempotencyKey: string | undefined;
  readonly log: LoggedUpdate[] = [];
  readonly controller = new AbortController();
  seq = 0;
  readonly #finished = Promise.withResolvers<void>();

  constructor(task: Task, skill: string, idempotencyKey: string | undefined) {
    this.task = task;
    this.skill = skill;
    this.idempotencyKey = idempotencyKey;
  }

  /** Settles when the task reaches a terminal state. */
  get finished(): Promise<void> {
    return this.#finished.promise;
  }

  get state(): TaskState {
    return this.task.status.state;
  }

  /** A deep copy of the task, safe to serialise while the task runs on. */
  snapshot(): Task {
    return structuredClone(this.task);
  }

  markFinished(): void {
    this.#finished.resolve();
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

/**
 * Delivers updates in order to one subscriber, ending after the update `isLast` accepts or
 * at `close()` — which also ends a pending `next()` at once, so a dropped client releases
 * its subscription even when the task is silent.
 */
export class Subscription implements AsyncIterableIterator<LoggedUpdate> {
  readonly #queue: LoggedUpdate[] = [];
  readonly #isLast: (update: TaskUpdate) => boolean;
  readonly #onClose: () => void;
  #wake: (() => void) | undefined;
  #ending = false;
  #closed = false;

  constructor(isLast: (update: TaskUpdate) => boolean, onClose: () => void) {
    this.#isLast = isLast;
    this.#onClose = onClose;
  }

  push(entry: LoggedUpdate): void {
    if (this.#ending || this.#closed) return;
    this.#queue.push(entry);
    if (this.#isLast(entry.update)) this.#ending = true;
    this.#wake?.();
  }

  async next(): Promise<IteratorResult<LoggedUpdate>> {
    while (this.#queue.length === 0 && !this.#ending && !this.#closed) {
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    const entry = this.#closed ? undefined : this.#queue.shift();
    if (entry) return { done: false, value: entry };
    this.close();
    return { done: true, value: undefined };
  }

  async return(): Promise<IteratorResult<LoggedUpdate>> {
    this.close();
    return { done: true, value: undefined };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.#onClose();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

const MAX_LOGGED_UPDATES = 10_000;

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

  /** The task started with this idempotency key, if it is still kept. */
  findByKey(key: string): TaskRecord | undefined {
    return this.#byKey.get(key);
  }

  /** The task, or `TASK_NOT_FOUND`. */
  get(id: string): TaskRecord {
    const record = this.#tasks.get(id);
    if (!record) throw new A2aError("TASK_NOT_FOUND", `task ${id} not found`);
    return record;
  }

  /** Creates the task and starts its handler, unless its id or idempotency key is already known. */
  start(start: TaskStart): TaskRecord {
    const known = this.#tasks.get(start.id) ?? (start.idempotencyKey === undefined ? undefined : this.#byKey.get(start.idempotencyKey));
    if (known) return known;
    const status: TaskStatus = { state: "submitted", timestamp: now() };
    const task: Task = { id: start.id, contextId: start.contextId, status, artifacts: [], history: [start.message] };
    const record = new TaskRecord(task, start.skill, start.idempotencyKey);
    this.#tasks.set(start.id, record);
    if (start.idempotencyKey !== undefined) this.#byKey.set(start.idempotencyKey, record);
    this.started++;
    this.#evictFinished();
    this.#record(record, { kind: "status", taskId: start.id, status: task.status, final: false });
    void this.#run(record, start);
    return record;
  }

  /** Aborts every running handler (the server is stopping); their tasks stay as they are. */
  abortAll(): void {
    for (const record of this.#tasks.values()) record.controller.abort(new A2aError("CANCELED", "the server stopped"));
  }

  /** Cancels a running task; `TASK_NOT_CANCELABLE` when it has already ended. */
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

  async #run(record: TaskRecord, start: TaskStart): Promise<void> {
    // Let the request that started the task answer (with the task as submitted) first.
    await Promise.resolve();
    this.#setStatus(record, "working");
    try {
      const result = await start.handler(this.#context(record, start));
      if (isTerminal(record.state)) return;
      if (result !== undefined) {
        const artifact = { artifactId: `result-${record.task.artifacts.length}`, name: "result", parts: toParts(result) };
        this.#artifact(record, artifact, false, true);
      }
      this.#setStatus(record, "completed");
    } catch (error) {
      if (isTerminal(record.state)) return;
      this.#setStatus(record, "failed", error instanceof Error ? error.message : String(error));
    }
  }

  #context(record: TaskRecord, start: TaskStart): SkillContext {
    const text = start.message.parts.flatMap((part) => (part.kind === "text" ? [part.text] : [])).join("\n");
    const emit: TaskEmitter = {
      status: (message) => {
        if (!isTerminal(record.state)) this.#setStatus(record, "working", message);
      },
      artifact: (content, options = {}) => {
        if (isTerminal(record.state)) return;
        const artifactId = options.artifactId ?? `artifact-${record.task.artifacts.length}`;
        const artifact: Artifact = { artifactId, parts: toParts(content), ...(options.name === undefined ? {} : { name: options.name }) };
        this.#artifact(record, artifact, options.append ?? false, options.lastChunk ?? false);
      },
    };
    const { id: taskId, contextId, skill, message, policy } = start;
    return { taskId, contextId, skill, message, text, policy, signal: record.controller.signal, emit };
  }

  #setStatus(record: TaskRecord, state: TaskState, text?: string): void {
    const status: TaskStatus = { state, timestamp: now() };
    if (text !== undefined) status.message = { role: "agent", parts: [{ kind: "text", text }], messageId: crypto.randomUUID() };
    record.task.status = status;
    this.#record(record, { kind: "status", taskId: record.task.id, status, final: isTerminal(state) });
    if (isTerminal(state)) record.markFinished();
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

  #evictFinished(): void {
    for (const [id, record] of this.#tasks) {
      if (this.#tasks.size <= this.#maxTasks) return;
      if (!isTerminal(record.state)) continue;
      this.#tasks.delete(id);
      if (record.idempotencyKey !== undefined) this.#byKey.delete(record.idempotencyKey);
    }
  }
}

function toParts(content: string | Part[]): Part[] {
  return typeof content === "string" ? [{ kind: "text", text: content }] : content;
}

function now(): string {
  return new Date().toISOString();
}
