/**
 * The rvAgent dialect: JSON-RPC `tasks/send|get|cancel` POSTed to the base URL, and SSE by
 * GET — `/tasks/sendSubscribe?id=` (subscribe first, then send: the GET does not start the
 * task) and `/tasks/resubscribe?id=` (replay, then live). Upstream never closes a stream;
 * `final: true` marks its end.
 * @module
 */
import { A2aError, TransportError } from "./errors.ts";
import { resolveAgentUrl } from "./card.ts";
import { isObject, parseJson } from "./json.ts";
import { errorFromRpc } from "./rpc-errors.ts";
import { callRpc, decodePeerData, openSse } from "./rpc.ts";
import type { SseEvent } from "./sse.ts";
import { ChannelTransport, userMessage, type ResumePoint, type SendParams, type StreamItem, type Transport } from "./transport.ts";
import type { Task, TaskPage } from "./types.ts";
import { taskFromWire, taskSpecToWire, updateFromWire } from "./wire-rvagent.ts";

/** Talks rvAgent to the base URL `channel.endpoint`. */
export class RvAgentTransport extends ChannelTransport implements Transport {
  readonly dialect = "rvagent";
  /** Upstream's `tasks/send` answers when the task has finished. */
  async send(params: SendParams, signal?: AbortSignal): Promise<Task> {
    const result = await callRpc(this.channel, "tasks/send", taskSpec(params), signal);
    return decodePeerData(this.endpoint, () => taskFromWire(result, "result"));
  }

  async get(taskId: string, signal?: AbortSignal): Promise<Task> {
    const result = await callRpc(this.channel, "tasks/get", { id: taskId }, signal);
    return decodePeerData(this.endpoint, () => taskFromWire(result, "result"));
  }

  list(): Promise<TaskPage> {
    return Promise.reject(new A2aError("UNSUPPORTED_OPERATION", `rvAgent peers cannot list tasks (${this.endpoint})`));
  }

  /** `tasks/cancel` answers `{id, canceled}`; the task itself is read back. */
  async cancel(taskId: string, signal?: AbortSignal): Promise<Task> {
    await callRpc(this.channel, "tasks/cancel", { id: taskId }, signal);
    return this.get(taskId, signal);
  }

  async subscribe(taskId: string, resume: ResumePoint | undefined, signal?: AbortSignal): Promise<AsyncIterable<StreamItem>> {
    const query = new URLSearchParams({ id: taskId });
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (resume?.lastEventId !== undefined) headers["last-event-id"] = resume.lastEventId;
    else if (resume?.lastTimestamp !== undefined) query.set("last_event_id", resume.lastTimestamp);
    return this.#items(await this.#open(`tasks/resubscribe?${query}`, headers, signal));
  }

  /**
   * Subscribes, then sends. The send runs on while the stream is read; if it fails, the
   * stream fails with its error (upstream would otherwise leave the stream open forever).
   */
  async sendStreaming(params: SendParams, signal?: AbortSignal): Promise<AsyncIterable<StreamItem>> {
    const query = new URLSearchParams({ id: params.id });
    const subscription = new AbortController();
    const streamSignal = signal ? AbortSignal.any([signal, subscription.signal]) : subscription.signal;
    const frames = await this.#open(`tasks/sendSubscribe?${query}`, { accept: "text/event-stream" }, streamSignal);
    // The send is not tied to the subscription: closing the stream must not cancel the task.
    const sent = this.send(params, signal);
    const failure = sent.then(() => new Promise<never>(() => undefined));
    failure.catch(() => undefined);
    return this.#items(raceFailure(frames, failure, () => subscription.abort()));
  }

  #open(path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<AsyncGenerator<SseEvent>> {
    const url = resolveAgentUrl(this.endpoint, path);
    return openSse(this.channel, url, { headers }, signal, (text) => {
      const json = parseJson(text, "response", this.channel.http.maxJsonDepth);
      if (isObject(json) && isObject(json.error)) throw errorFromRpc("rvagent", json.error, url);
    });
  }

  async *#items(frames: AsyncIterable<SseEvent>): AsyncGenerator<StreamItem> {
    for await (const frame of frames) {
      if (frame.event === "warning") {
        throw new TransportError(this.endpoint, `peer dropped events from the stream: ${frame.data}`, { retryable: true });
      }
      const update = decodePeerData(this.endpoint, () => updateFromWire(frame.event, parseJson(frame.data, "event data", this.channel.http.maxJsonDepth), "event"));
      if (update) yield { update, eventId: frame.id };
    }
  }
}

function taskSpec({ request, id, policy }: SendParams): ReturnType<typeof taskSpecToWire> {
  return taskSpecToWire(request, id, userMessage(request, id), policy);
}

/**
 * `frames`, failing with `failure`'s rejection as soon as it rejects. `close` aborts the
 * underlying stream: a generator still waiting for its next frame only returns once that
 * wait ends.
 */
async function* raceFailure<T>(frames: AsyncGenerator<T>, failure: Promise<never>, close: () => void): AsyncGenerator<T> {
  try {
    for (;;) {
      const next = await Promise.race([frames.next(), failure]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    close();
    await frames.return(undefined).catch(() => undefined);
  }
}
