/**
 * Following a task to its end across dropped connections. After a drop the client
 * resubscribes, resuming from the last SSE id when the peer sends ids (ours does, and
 * replays exactly what was missed) or from the last status timestamp (rvAgent). Peers that
 * can only send a fresh snapshot are diffed against what was already delivered: artifacts
 * that changed are re-sent whole (`append: false`), a status that moved is sent once,
 * nothing already delivered is sent again.
 * @module
 */
import { A2aError, TransportError } from "./errors.ts";
import type { TaskDeadline } from "./deadline.ts";
import type { ResumePoint, StreamItem, Transport } from "./transport.ts";
import { endsTurn, type Artifact, type Task, type TaskStatus, type TaskUpdate } from "./types.ts";

/** How to follow one task. */
export interface TrackOptions {
  transport: Transport;
  /** Opens the first connection (a subscription, or a streaming send). */
  open: (signal: AbortSignal) => Promise<AsyncIterable<StreamItem>>;
  /** The task, when already known (a streaming send learns it from the first event). */
  taskId: string | undefined;
  /** Consecutive reconnections without news before giving up. */
  maxReconnects: number;
  /** The longest the whole stream may last, reconnections included (`Infinity`: no limit). */
  timeoutMs: number;
  deadline: TaskDeadline;
  /** The caller's own abort signal (the deadline's signal also follows it). */
  signal: AbortSignal | undefined;
}

/** Yields the task's updates until it reaches a state that ends the stream. */
export async function* trackTask(options: TrackOptions): AsyncGenerator<TaskUpdate> {
  using streamTimeout = new StreamTimeout(options.timeoutMs, options.transport.endpoint);
  yield* follow(options, AbortSignal.any([options.deadline.signal, streamTimeout.signal]), streamTimeout);
}

async function* follow(options: TrackOptions, streamSignal: AbortSignal, streamTimeout: StreamTimeout): AsyncGenerator<TaskUpdate> {
  const { transport, deadline, signal } = options;
  const view = new DeliveredView(options.taskId);
  let connect = options.open;
  for (let quietRetries = 0; ; ) {
    try {
      for await (const item of await connect(streamSignal)) {
        const fresh = view.absorb(item);
        if (fresh.length > 0) quietRetries = 0;
        yield* fresh;
        if (view.done) return;
      }
    } catch (error) {
      if (deadline.expired) await deadline.fail(view.taskId, (taskId) => transport.cancel(taskId));
      if (signal?.aborted) throw signal.reason;
      streamTimeout.throwIfExpired(view.taskId);
      if (!(error instanceof TransportError && error.retryable) || view.taskId === undefined) throw error;
    }
    const taskId = view.taskId;
    if (taskId === undefined) throw new TransportError(transport.endpoint, "the stream ended before naming its task");
    if (++quietRetries > options.maxReconnects) {
      const detail = `stream of task ${taskId} ended ${quietRetries} times without reaching a final state`;
      throw new TransportError(transport.endpoint, detail, { retryable: true });
    }
    await pause(100 * 2 ** (quietRetries - 1), streamSignal).catch(() => undefined);
    streamTimeout.throwIfExpired(taskId);
    view.startResume();
    const resume = view.resumePoint();
    connect = (reconnectSignal) => subscribeOrFetch(transport, taskId, resume, reconnectSignal);
  }
}

/** The overall limit of one stream, which no pacing of bytes by the peer can stretch. */
class StreamTimeout implements Disposable {
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #timeoutMs: number;
  readonly #url: string;

  constructor(timeoutMs: number, url: string) {
    this.#timeoutMs = timeoutMs;
    this.#url = url;
    if (Number.isFinite(timeoutMs)) this.#timer = setTimeout(() => this.#controller.abort(), Math.max(0, timeoutMs));
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  throwIfExpired(taskId: string | undefined): void {
    if (!this.#controller.signal.aborted) return;
    const what = taskId === undefined ? "the stream" : `the stream of task ${taskId}`;
    throw new TransportError(this.#url, `${what} lasted longer than streamTimeoutMs=${this.#timeoutMs}; the task was left running`, { retryable: true });
  }

  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
  }
}

/** Subscribes to a task; a peer that refuses because the task is over is asked for the task instead. */
export async function subscribeOrFetch(
  transport: Transport,
  taskId: string,
  resume: ResumePoint | undefined,
  signal: AbortSignal,
): Promise<AsyncIterable<StreamItem>> {
  try {
    return await transport.subscribe(taskId, resume, signal);
  } catch (error) {
    if (!(error instanceof A2aError && error.code === "UNSUPPORTED_OPERATION")) throw error;
    const task = await transport.get(taskId, signal);
    return only({ update: { kind: "task", task }, eventId: undefined });
  }
}

async function* only<T>(item: T): AsyncGenerator<T> {
  yield item;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/** What the consumer has been given so far, to resume from and to deduplicate against. */
class DeliveredView {
  taskId: string | undefined;
  done = false;
  #lastEventId: string | undefined;
  #lastTimestamp: string | undefined;
  #statusKey: string | undefined;
  #resuming = false;
  readonly #artifacts = new Map<string, Artifact>();

  constructor(taskId: string | undefined) {
    this.taskId = taskId;
  }

  /** The next connection replaces a dropped one: a snapshot on it is a diff source, not news. */
  startResume(): void {
    this.#resuming = true;
  }

  resumePoint(): ResumePoint {
    const point: ResumePoint = {};
    if (this.#lastEventId !== undefined) point.lastEventId = this.#lastEventId;
    if (this.#lastTimestamp !== undefined) point.lastTimestamp = this.#lastTimestamp;
    return point;
  }

  /** The updates `item` brings that the consumer has not seen. */
  absorb({ update, eventId }: StreamItem): TaskUpdate[] {
    if (eventId !== undefined) this.#lastEventId = eventId;
    const fresh = this.#fresh(update);
    this.#resuming = false;
    return fresh;
  }

  #fresh(update: TaskUpdate): TaskUpdate[] {
    switch (update.kind) {
      case "task":
        this.taskId ??= update.task.id;
        return this.#resuming ? this.#diff(update.task) : this.#snapshot(update);
      case "status":
        this.taskId ??= update.taskId;
        if (update.final) this.done = true;
        return this.#status(update.status) ? [update] : [];
      case "artifact":
        this.taskId ??= update.taskId;
        return this.#artifact(update.artifact, update.append) ? [update] : [];
      case "message":
        this.done = true;
        return [update];
    }
  }

  #snapshot(update: TaskUpdate & { kind: "task" }): TaskUpdate[] {
    for (const artifact of update.task.artifacts) this.#artifact(artifact, false);
    this.#status(update.task.status);
    return [update];
  }

  #diff(task: Task): TaskUpdate[] {
    const changed: TaskUpdate[] = [];
    for (const artifact of task.artifacts) {
      if (this.#artifact(artifact, false)) changed.push({ kind: "artifact", taskId: task.id, artifact, append: false, lastChunk: false });
    }
    if (this.#status(task.status)) changed.push({ kind: "status", taskId: task.id, status: task.status, final: endsTurn(task.status.state) });
    return changed;
  }

  /** Records a status; false when it is the one already delivered. */
  #status(status: TaskStatus): boolean {
    if (status.timestamp !== undefined) this.#lastTimestamp = status.timestamp;
    if (endsTurn(status.state)) this.done = true;
    const key = JSON.stringify([status.state, status.timestamp, status.message]);
    if (key === this.#statusKey) return false;
    this.#statusKey = key;
    return true;
  }

  /** Records an artifact (chunk); false when it adds nothing to what was delivered. */
  #artifact(artifact: Artifact, append: boolean): boolean {
    const known = this.#artifacts.get(artifact.artifactId);
    const merged = append && known ? { ...known, parts: [...known.parts, ...artifact.parts] } : artifact;
    if (!append && known && Bun.deepEquals(known, merged)) return false;
    this.#artifacts.set(artifact.artifactId, merged);
    return true;
  }
}
