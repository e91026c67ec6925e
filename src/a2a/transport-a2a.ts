/**
 * The A2A 1.0 JSON-RPC binding: `SendMessage`, `SendStreamingMessage`, `GetTask`,
 * `ListTasks`, `CancelTask`, `SubscribeToTask`, with the `A2A-Version: 1.0` header. Sends
 * carry their idempotency key as `Idempotency-Key`, so a retry reaches the same task.
 * @module
 */
import { compact, parseJson, type JsonObject } from "./json.ts";
import { policyToJson } from "./policy.ts";
import { callRpc, decodePeerData, resultOf, streamRpc } from "./rpc.ts";
import type { SseEvent } from "./sse.ts";
import { ChannelTransport, userMessage, type ResumePoint, type SendParams, type StreamItem, type Transport } from "./transport.ts";
import type { ListTasksQuery, Task, TaskPage } from "./types.ts";
import { messageToWire, RUVECTOR_METADATA_KEY, sendResultFromWire, stateToWire, taskFromWire, taskPageFromWire, updateFromWire } from "./wire-a2a.ts";

/** Talks A2A 1.0 to `channel.endpoint`. */
export class A2aTransport extends ChannelTransport implements Transport {
  readonly dialect = "a2a";
  async send(params: SendParams, signal?: AbortSignal): Promise<Task> {
    const body = { ...sendRequest(params), configuration: { returnImmediately: true } };
    const result = await callRpc(this.channel, "SendMessage", body, signal, idempotency(params));
    const reply = this.#decode(() => sendResultFromWire(result, "result"));
    // An agent may answer with a bare message: the exchange is then over.
    if ("status" in reply) return reply;
    const contextId = reply.contextId ?? params.request.contextId;
    return compact<Task>({ id: params.id, contextId, status: { state: "completed", message: reply }, artifacts: [], history: [] });
  }

  async get(taskId: string, signal?: AbortSignal, historyLength?: number): Promise<Task> {
    const result = await callRpc(this.channel, "GetTask", compact({ id: taskId, historyLength }), signal);
    return this.#decode(() => taskFromWire(result, "result"));
  }

  async list(query: ListTasksQuery, signal?: AbortSignal): Promise<TaskPage> {
    const result = await callRpc(this.channel, "ListTasks", listRequest(query), signal);
    return this.#decode(() => taskPageFromWire(result, "result"));
  }

  async cancel(taskId: string, signal?: AbortSignal): Promise<Task> {
    const result = await callRpc(this.channel, "CancelTask", { id: taskId }, signal);
    return this.#decode(() => taskFromWire(result, "result"));
  }

  async subscribe(taskId: string, resume: ResumePoint | undefined, signal?: AbortSignal): Promise<AsyncIterable<StreamItem>> {
    const headers: Record<string, string> = resume?.lastEventId === undefined ? {} : { "last-event-id": resume.lastEventId };
    const opened = await streamRpc(this.channel, "SubscribeToTask", { id: taskId }, headers, signal);
    return this.#items(opened.frames, opened.requestId);
  }

  async sendStreaming(params: SendParams, signal?: AbortSignal): Promise<AsyncIterable<StreamItem>> {
    const opened = await streamRpc(this.channel, "SendStreamingMessage", sendRequest(params), idempotency(params), signal);
    return this.#items(opened.frames, opened.requestId);
  }

  async *#items(frames: AsyncGenerator<SseEvent>, requestId: string): AsyncGenerator<StreamItem> {
    for await (const frame of frames) {
      const envelope = this.#decode(() => parseJson(frame.data, "event data", this.channel.http.maxJsonDepth));
      // Error frames (`event: error`) carry an envelope whose error resultOf throws.
      const result = resultOf(this.channel, envelope, requestId);
      yield { update: this.#decode(() => updateFromWire(result, "result")), eventId: frame.id };
    }
  }

  #decode<T>(read: () => T): T {
    return decodePeerData(this.channel.endpoint, read);
  }
}

function sendRequest({ request, id, policy }: SendParams): JsonObject {
  const extension = compact({ skill: request.skill, policy: Object.keys(policy).length > 0 ? policyToJson(policy, "camelCase") : undefined });
  const message = { ...userMessage(request, id), metadata: { ...request.metadata, [RUVECTOR_METADATA_KEY]: extension } };
  return { message: messageToWire(message, compact({ taskId: request.taskId, contextId: request.contextId })) };
}

function idempotency(params: SendParams): Record<string, string> {
  return { "idempotency-key": params.id };
}

function listRequest(query: ListTasksQuery): JsonObject {
  return compact({
    contextId: query.contextId,
    status: query.state === undefined ? undefined : stateToWire(query.state),
    pageSize: query.pageSize,
    pageToken: query.pageToken,
    historyLength: query.historyLength,
    includeArtifacts: query.includeArtifacts,
    statusTimestampAfter: query.statusTimestampAfter?.toISOString(),
  });
}
