/**
 * A bounded Server-Sent Events reader (WHATWG HTML §9.2 parsing rules). It never holds
 * more than one event (or line) of `maxEventBytes` plus one network chunk, fails when the
 * stream is idle for `idleTimeoutMs`, honours an `AbortSignal`, and releases the
 * connection however iteration ends.
 * @module
 */
import { TransportError } from "./errors.ts";
import { transportFailure } from "./http.ts";

/** One dispatched SSE event. */
export interface SseEvent {
  /** The `event:` field, `"message"` when absent. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The last `id:` seen on the stream so far, if any. */
  id: string | undefined;
}

/** Limits and identity of one stream. */
export interface SseOptions {
  /** For error messages. */
  url: string;
  /** Largest event or line, measured on the decoded text (one unit per ASCII byte). */
  maxEventBytes: number;
  /** Fail when no bytes arrive for this long (keep-alive comments count as bytes). */
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

/** Reads SSE events from `body` until it ends. */
export async function* readSse(body: ReadableStream<Uint8Array>, options: SseOptions): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const lines = new LineSplitter(options);
  const builder = new EventBuilder(options);
  try {
    for (;;) {
      const chunk = await nextChunk(reader, options);
      if (chunk === undefined) return;
      for (const line of lines.push(decoder.decode(chunk, { stream: true }))) {
        const event = builder.feed(line);
        if (event) yield event;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The part of a stream reader this module uses (Bun and Node typings disagree on the rest). */
interface ChunkReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
}

async function nextChunk(
  reader: ChunkReader,
  { url, idleTimeoutMs, signal }: SseOptions,
): Promise<Uint8Array | undefined> {
  signal?.throwIfAborted();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TransportError(url, `event stream idle for more than ${idleTimeoutMs} ms`, { retryable: true })),
      idleTimeoutMs,
    );
    onAbort = () => reject(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const { done, value } = await Promise.race([reader.read(), stop]);
    return done ? undefined : value;
  } catch (error) {
    throw transportFailure(url, error, signal);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

function tooLarge(url: string, limit: number): TransportError {
  return new TransportError(url, `event stream sent an event or line larger than ${limit} bytes`);
}

/** Splits decoded text into lines on CRLF, LF or CR, refusing over-long lines. */
class LineSplitter {
  #pending = "";
  readonly #url: string;
  readonly #limit: number;

  constructor({ url, maxEventBytes }: SseOptions) {
    this.#url = url;
    this.#limit = maxEventBytes;
  }

  push(text: string): string[] {
    // Earlier text holds no line break (but maybe a trailing CR), so scan only the new part.
    const scanFrom = Math.max(0, this.#pending.length - 1);
    this.#pending += text;
    const lines: string[] = [];
    let start = 0;
    for (let i = scanFrom; i < this.#pending.length; i++) {
      const char = this.#pending[i];
      if (char !== "\n" && char !== "\r") continue;
      // A CR that ends the buffer may be the first half of a CRLF split across chunks.
      if (char === "\r" && i === this.#pending.length - 1) break;
      lines.push(this.#pending.slice(start, i));
      if (char === "\r" && this.#pending[i + 1] === "\n") i++;
      start = i + 1;
    }
    this.#pending = this.#pending.slice(start);
    if (this.#pending.length > this.#limit) throw tooLarge(this.#url, this.#limit);
    return lines;
  }
}

/** Accumulates fields until a blank line dispatches the event. */
class EventBuilder {
  #event = "";
  #data: string[] = [];
  #size = 0;
  #lastId: string | undefined;
  readonly #url: string;
  readonly #limit: number;

  constructor({ url, maxEventBytes }: SseOptions) {
    this.#url = url;
    this.#limit = maxEventBytes;
  }

  feed(line: string): SseEvent | undefined {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const raw = colon < 0 ? "" : line.slice(colon + 1);
    const value = raw.startsWith(" ") ? raw.slice(1) : raw;
    if (field === "data") this.#addData(value);
    else if (field === "event") this.#event = value;
    else if (field === "id" && !value.includes("\0")) this.#lastId = value;
    return undefined;
  }

  #addData(value: string): void {
    this.#size += value.length + 1;
    if (this.#size > this.#limit) throw tooLarge(this.#url, this.#limit);
    this.#data.push(value);
  }

  #dispatch(): SseEvent | undefined {
    const event = this.#data.length > 0 ? { event: this.#event || "message", data: this.#data.join("\n"), id: this.#lastId } : undefined;
    this.#event = "";
    this.#data = [];
    this.#size = 0;
    return event;
  }
}
