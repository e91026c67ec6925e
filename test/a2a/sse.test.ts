import { describe, expect, test } from "bun:test";
import { TransportError } from "../../src/a2a/errors.ts";
import { readSse, type SseEvent } from "../../src/a2a/sse.ts";
import { collect } from "./fixtures/peers.ts";

const URL = "http://127.0.0.1:1/stream";

/** A stream that delivers `chunks` one by one, then ends (or stays open when `stall`). */
function streamOf(chunks: string[], stall = false): ReadableStream<Uint8Array> {
  const queue = chunks.map((chunk) => new TextEncoder().encode(chunk));
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift();
      if (next) controller.enqueue(next);
      else if (!stall) controller.close();
      else return new Promise<void>(() => undefined);
    },
  });
}

function read(chunks: string[], options: { maxEventBytes?: number; idleTimeoutMs?: number; stall?: boolean; signal?: AbortSignal } = {}): Promise<SseEvent[]> {
  return collect(readSse(streamOf(chunks, options.stall), {
    url: URL,
    maxEventBytes: options.maxEventBytes ?? 1024,
    idleTimeoutMs: options.idleTimeoutMs ?? 5_000,
    signal: options.signal,
  }));
}

describe("SSE reader", () => {
  test("parses fields, multi-line data, comments, ids and all three line endings, across chunk splits", async () => {
    const events = await read([": hello\r", "\nid: 7\nevent: status\ndata: a\r", "\ndata: b\r\rdata:c\n", "\n"]);
    expect(events).toEqual([
      { event: "status", data: "a\nb", id: "7" },
      { event: "message", data: "c", id: "7" },
    ]);
  });

  test("ignores garbage lines and never dispatches an event without data", async () => {
    const events = await read(["garbage\nnot a field: x\n\nevent: lonely\n\n", "retry: 10\ndata: ok\n\n"]);
    expect(events).toEqual([{ event: "message", data: "ok", id: undefined }]);
  });

  test("an incomplete last event is discarded", async () => {
    expect(await read(["data: whole\n\ndata: half"])).toEqual([{ event: "message", data: "whole", id: undefined }]);
  });

  test("an over-long line fails fast, before it is complete", async () => {
    const error = await read(["data: " + "x".repeat(2_000)], { maxEventBytes: 1_000, stall: true }).catch((e) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toContain("larger than 1000 bytes");
    expect(error.message).toContain(URL);
  });

  test("an event made of many short data lines is capped too", async () => {
    const error = await read([("data: " + "y".repeat(50) + "\n").repeat(40)], { maxEventBytes: 1_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(TransportError);
  });

  test("a stalled stream fails with a retryable TransportError", async () => {
    const error = await read(["data: first\n\n"], { idleTimeoutMs: 50, stall: true }).catch((e) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("idle");
  });

  test("aborting rethrows the caller's reason", async () => {
    const controller = new AbortController();
    const pending = read([], { stall: true, signal: controller.signal }).catch((e) => e);
    controller.abort(new Error("stop"));
    expect((await pending).message).toBe("stop");
  });
});
