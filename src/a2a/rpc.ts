/**
 * JSON-RPC 2.0 over HTTP for both dialects: plain calls, and streams whose events carry
 * JSON-RPC envelopes (A2A 1.0) or bare payloads (rvAgent).
 * @module
 */
import { TransportError } from "./errors.ts";
import { fetchChecked, readBoundedText, withDeadline, type HttpSettings } from "./http.ts";
import { asObject, parseJson } from "./json.ts";
import { errorFromRpc } from "./rpc-errors.ts";
import { readSse, type SseEvent } from "./sse.ts";
import type { Dialect } from "./types.ts";
import { A2A_VERSION } from "./wire-a2a.ts";

/** Everything needed to talk to one peer. */
export interface RpcChannel {
  dialect: Dialect;
  /** Where JSON-RPC requests are POSTed. */
  endpoint: string;
  http: HttpSettings;
  /** Largest SSE event accepted. */
  maxEventBytes: number;
  /** Longest silence tolerated on a stream. */
  streamIdleTimeoutMs: number;
}

/** Runs `read` on peer data from `url`, turning a `TypeError` (malformed data) into a `TransportError`. */
export function decodePeerData<T>(url: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TypeError) throw new TransportError(url, `malformed response: ${error.message}`, { cause: error });
    throw error;
  }
}

function headersFor(channel: RpcChannel, accept: string): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json", accept };
  if (channel.dialect === "a2a") headers["A2A-Version"] = A2A_VERSION;
  return headers;
}

function requestBody(id: string, method: string, params: unknown): string {
  return JSON.stringify({ jsonrpc: "2.0", id, method, params });
}

/** The `result` of a JSON-RPC response envelope, or the typed error it carries. */
export function resultOf(channel: RpcChannel, envelope: unknown, id: string): unknown {
  const url = channel.endpoint;
  const json = decodePeerData(url, () => asObject(envelope, "JSON-RPC response"));
  if (json.error !== undefined) throw errorFromRpc(channel.dialect, decodePeerData(url, () => asObject(json.error, "error")), url);
  if (json.jsonrpc !== "2.0" || json.id !== id || !("result" in json)) {
    throw new TransportError(url, "malformed response: not a JSON-RPC 2.0 result for this request");
  }
  return json.result;
}

/** Calls `method` and returns its result. */
export function callRpc(
  channel: RpcChannel,
  method: string,
  params: unknown,
  signal?: AbortSignal,
  extraHeaders: Record<string, string> = {},
): Promise<unknown> {
  const url = channel.endpoint;
  const id = crypto.randomUUID();
  return withDeadline(url, channel.http, signal, async (deadline) => {
    const headers = { ...headersFor(channel, "application/json"), ...extraHeaders };
    const init = { method: "POST", headers, body: requestBody(id, method, params) };
    const response = await fetchChecked(url, init, channel.http, deadline);
    const text = await readBoundedText(response, url, channel.http.maxResponseBytes);
    return resultOf(channel, decodePeerData(url, () => parseJson(text, "JSON-RPC response", channel.http.maxJsonDepth)), id);
  });
}

/**
 * POSTs a streaming JSON-RPC call and returns its SSE frames once the peer has answered
 * with an event stream. A peer may refuse the call with a plain JSON-RPC error instead;
 * that error is thrown.
 */
export async function streamRpc(
  channel: RpcChannel,
  method: string,
  params: unknown,
  extraHeaders: Record<string, string>,
  signal?: AbortSignal,
): Promise<{ frames: AsyncGenerator<SseEvent>; requestId: string }> {
  const requestId = crypto.randomUUID();
  const headers = { ...headersFor(channel, "text/event-stream"), ...extraHeaders };
  const init = { method: "POST", headers, body: requestBody(requestId, method, params) };
  const onJson = (text: string) => resultOf(channel, parseJson(text, "JSON-RPC response", channel.http.maxJsonDepth), requestId);
  const frames = await openSse(channel, channel.endpoint, init, signal, onJson);
  return { frames, requestId };
}

/**
 * Opens `url` as an event stream and returns its events once the headers are in. When the
 * peer answers with JSON instead, `onJson` reads it (and is expected to throw the error it
 * carries).
 */
export async function openSse(
  channel: RpcChannel,
  url: string,
  init: RequestInit,
  signal: AbortSignal | undefined,
  onJson: (text: string) => unknown,
): Promise<AsyncGenerator<SseEvent>> {
  const { response, text } = await withDeadline(url, channel.http, signal, async (deadline) => {
    const response = await fetchChecked(url, init, channel.http, deadline);
    const isStream = (response.headers.get("content-type") ?? "").startsWith("text/event-stream");
    return { response, text: isStream ? undefined : await readBoundedText(response, url, channel.http.maxResponseBytes) };
  });
  if (text !== undefined) {
    decodePeerData(url, () => onJson(text));
    throw new TransportError(url, `expected an event stream, got ${response.headers.get("content-type") ?? "no content type"}`);
  }
  if (!response.body) throw new TransportError(url, "event stream without a body");
  return readSse(response.body, { url, maxEventBytes: channel.maxEventBytes, idleTimeoutMs: channel.streamIdleTimeoutMs, signal });
}
