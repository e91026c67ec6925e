/**
 * HTTP with deadlines and size caps. Every failure that is not the caller's own abort
 * becomes a `TransportError` naming the URL.
 * @module
 */
import { A2aError, TransportError } from "./errors.ts";

/** The part of `fetch` the client uses; pass any function of this shape to intercept requests. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** How the client talks HTTP. */
export interface HttpSettings {
  fetch: FetchLike;
  /** Deadline for one request, response body included (streams: until the headers). */
  timeoutMs: number;
  /** Largest non-streaming response body accepted. */
  maxResponseBytes: number;
  /** Deepest nesting accepted in any JSON the peer sends (cards, responses, events). */
  maxJsonDepth: number;
  /** Extra headers sent with every request. */
  headers: Readonly<Record<string, string>>;
}

/**
 * Runs `work` under the settings' deadline and the caller's `signal`. The caller's abort
 * rethrows its reason; the deadline and any non-A2A failure become a `TransportError`.
 */
export async function withDeadline<T>(
  url: string,
  settings: HttpSettings,
  signal: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), settings.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
  try {
    return await work(combined);
  } catch (error) {
    throw transportFailure(url, error, signal, deadline.signal.aborted ? settings.timeoutMs : undefined);
  } finally {
    clearTimeout(timer);
  }
}

/** The error to surface for `error`, which happened while talking to `url`. */
export function transportFailure(url: string, error: unknown, signal?: AbortSignal, timedOutAfterMs?: number): unknown {
  if (signal?.aborted) return signal.reason;
  if (timedOutAfterMs !== undefined) {
    return new TransportError(url, `no answer within ${timedOutAfterMs} ms`, { retryable: true, cause: error });
  }
  if (error instanceof A2aError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new TransportError(url, `request failed: ${detail}`, { retryable: true, cause: error });
}

/** `fetch` that rejects HTTP statuses outside `accept` with a `TransportError`. */
export async function fetchChecked(
  url: string,
  init: RequestInit,
  settings: HttpSettings,
  signal: AbortSignal,
  accept: readonly number[] = [200],
): Promise<Response> {
  const response = await settings.fetch(url, { ...init, headers: { ...settings.headers, ...init.headers }, signal });
  if (!accept.includes(response.status)) {
    await response.body?.cancel().catch(() => undefined);
    throw new TransportError(url, `HTTP ${response.status} ${response.statusText}`.trim(), {
      status: response.status,
      retryable: response.status >= 500 || response.status === 429,
    });
  }
  return response;
}

/** The body of a response (or request) as text, refusing bodies over `maxBytes`. */
export async function readBoundedText(message: { readonly body: Response["body"] }, url: string, maxBytes: number): Promise<string> {
  if (!message.body) return "";
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new TransportError(url, `response larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
