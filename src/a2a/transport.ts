/**
 * What the client needs from a dialect. `transport-a2a.ts` and `transport-rvagent.ts`
 * implement it over the shared JSON-RPC layer.
 * @module
 */
import type { RpcChannel } from "./rpc.ts";
import type { Dialect, ListTasksQuery, Message, Task, TaskPage, TaskPolicy, TaskRequest, TaskUpdate } from "./types.ts";

/** One stream event and the SSE id it came with (our server sends ids; others may not). */
export interface StreamItem {
  update: TaskUpdate;
  eventId: string | undefined;
}

/** Where a resumed stream should pick up. */
export interface ResumePoint {
  /** The last SSE `id:` received, sent as `Last-Event-ID`. */
  lastEventId?: string;
  /** The timestamp of the last status received (rvAgent replays statuses after it). */
  lastTimestamp?: string;
}

/** A send: the request, its idempotency key, and the effective policy to forward. */
export interface SendParams {
  request: TaskRequest;
  /** The A2A message id, or the rvAgent task id. */
  id: string;
  policy: TaskPolicy;
}

/** The operations of one dialect. Streams open before they return, and throw typed errors. */
export interface Transport {
  readonly dialect: Dialect;
  /** Where requests go, for error messages. */
  readonly endpoint: string;
  send(params: SendParams, signal?: AbortSignal): Promise<Task>;
  get(taskId: string, signal?: AbortSignal, historyLength?: number): Promise<Task>;
  /** A2A 1.0 only; rvAgent peers cannot list. */
  list(query: ListTasksQuery, signal?: AbortSignal): Promise<TaskPage>;
  cancel(taskId: string, signal?: AbortSignal): Promise<Task>;
  /** Streams an existing task; A2A peers refuse a terminal task with `UNSUPPORTED_OPERATION`. */
  subscribe(taskId: string, resume: ResumePoint | undefined, signal?: AbortSignal): Promise<AsyncIterable<StreamItem>>;
  /** Sends and streams the new task. */
  sendStreaming(params: SendParams, signal?: AbortSignal): Promise<AsyncIterable<StreamItem>>;
}

/** What both dialects' transports share: the RPC channel they talk over. */
export abstract class ChannelTransport {
  protected readonly channel: RpcChannel;

  constructor(channel: RpcChannel) {
    this.channel = channel;
  }

  /** Where requests go, for error messages. */
  get endpoint(): string {
    return this.channel.endpoint;
  }
}

/** The user message of a request. */
export function userMessage(request: TaskRequest, messageId: string): Message {
  const parts = typeof request.input === "string" ? [{ kind: "text" as const, text: request.input }] : request.input;
  return { role: "user", parts, messageId };
}
