import { describe, expect, test } from "bun:test";
import { A2aClient } from "../../src/a2a/index.ts";
import { A2aError, PolicyViolation, TransportError } from "../../src/a2a/errors.ts";
import { collect, deadUrl, plainCard, RawPeer, failOnUnhandledRejections, failure } from "./fixtures/peers.ts";

const MiB = 1024 * 1024;
const sse = (body: ReadableStream<Uint8Array> | string) => new Response(body, { headers: { "content-type": "text/event-stream" } });
const encode = (text: string) => new TextEncoder().encode(text);

/** Bytes the `huge` behaviour managed to hand to the socket before the client gave up. */
let hugeBytesProduced = 0;

/** Each behaviour answers every JSON-RPC call of the agent whose base path is its name. */
const behaviours: Record<string, (request: Request, id: unknown) => Response | Promise<Response>> = {
  garbage: () => sse("this is not\nan event stream\n\n:comment only\n\nevent: nothing\n\n"),
  baddata: () => sse("data: {not json\n\n"),
  huge: () => sse(tenMegabyteEvent()),
  stall: () => sse(new ReadableStream({ start: (controller) => controller.enqueue(encode(": open\n\n")) })),
  slow: () => new Promise<Response>(() => undefined),
  http500: () => new Response("boom", { status: 500, statusText: "Internal Server Error" }),
  badjson: () => new Response("definitely not json", { headers: { "content-type": "application/json" } }),
  wrongid: () => Response.json({ jsonrpc: "2.0", id: "someone-else", result: {} }),
  hugejson: () => new Response(`"${"x".repeat(2 * MiB)}"`, { headers: { "content-type": "application/json" } }),
  errorframe: (_request, id) => sse(`event: error\ndata: ${JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32001, message: "Task not found" } })}\n\n`),
};

function tenMegabyteEvent(): ReadableStream<Uint8Array> {
  const chunk = encode("x".repeat(64 * 1024));
  hugeBytesProduced = 0;
  return new ReadableStream({
    start: (controller) => controller.enqueue(encode("data: ")),
    pull(controller) {
      if (hugeBytesProduced >= 10 * MiB) return controller.close();
      hugeBytesProduced += chunk.byteLength;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
}

const peer: RawPeer = new RawPeer(async (request) => {
  const [, name, rest] = new URL(request.url).pathname.split("/");
  const behaviour = behaviours[name ?? ""];
  if (!behaviour) return new Response("no such agent", { status: 404 });
  if (rest === ".well-known") return Response.json(plainCard(`${peer.url}${name}/rpc`));
  const body = (await request.json()) as { id?: unknown };
  return behaviour(request, body.id);
});

const agent = (name: string, options: Parameters<typeof A2aClient.connect>[1] = {}) =>
  A2aClient.connect(`${peer.url}${name}/`, { verify: false, timeoutMs: 2_000, streamIdleTimeoutMs: 2_000, maxReconnects: 1, ...options });

failOnUnhandledRejections(() => peer.stop());

describe("malformed event streams", () => {
  test("garbage lines (no events) ⇒ TransportError, also after resubscribing by id", async () => {
    const client = await agent("garbage");
    const error = await failure(collect(client.streamTask({ skill: "echo", input: "x" })));
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toContain("ended before naming its task");
    const byId = await failure(collect(client.streamTask("task-1")));
    expect(byId).toBeInstanceOf(TransportError);
    expect(byId.message).toContain("without reaching a final state");
    expect(byId.url).toBe(`${peer.url}garbage/rpc`);
  });

  test("unparsable event data ⇒ TransportError (not retried)", async () => {
    const client = await agent("baddata");
    const before = peer.requests;
    const error = await failure(collect(client.streamTask("task-1")));
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toContain("malformed response");
    expect(error.retryable).toBe(false);
    expect(peer.requests - before).toBe(1);
  });

  test("a 10 MB event ⇒ TransportError at the 1 MiB cap, without reading the rest", async () => {
    const client = await agent("huge");
    const error = await failure(collect(client.streamTask({ skill: "echo", input: "x" })));
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toContain(`larger than ${MiB} bytes`);
    expect(hugeBytesProduced).toBeLessThan(10 * MiB);
  });

  test("the event cap is configurable", async () => {
    const client = await agent("huge", { maxEventBytes: 64 * 1024 });
    const error = await failure(collect(client.streamTask({ skill: "echo", input: "x" })));
    expect(error.message).toContain("larger than 65536 bytes");
  });

  test("a stream that stalls ⇒ retryable TransportError after the idle timeout", async () => {
    const client = await agent("stall", { streamIdleTimeoutMs: 100 });
    const error = await failure(collect(client.streamTask({ skill: "echo", input: "x" })));
    expect(error).toBeInstanceOf(TransportError);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("idle for more than 100 ms");
  });

  test("aborting a stalled stream rethrows the caller's reason", async () => {
    const client = await agent("stall");
    const controller = new AbortController();
    const pending = failure(collect(client.streamTask({ skill: "echo", input: "x" }, { signal: controller.signal })));
    await Bun.sleep(20);
    controller.abort(new Error("user gave up"));
    expect((await pending).message).toBe("user gave up");
  });

  test("maxDurationMs on a stream that never names its task ⇒ PolicyViolation (nothing to cancel)", async () => {
    const client = await agent("stall");
    const error = await failure(collect(client.streamTask({ skill: "echo", input: "x", policy: { maxDurationMs: 100 } })));
    expect(error).toBeInstanceOf(PolicyViolation);
    expect(error.message).toContain("abandoned before the peer named it");
  });

  test("rvAgent `event: warning` (events lost upstream) ⇒ resubscribe; endless warnings ⇒ TransportError", async () => {
    let streams = 0;
    const lagging: RawPeer = new RawPeer((request): Response => {
      const { pathname } = new URL(request.url);
      if (pathname === "/.well-known/agent.json") return Response.json({ ...plainCard(lagging.url), url: lagging.url, metadata: {} });
      if (pathname === "/tasks/resubscribe") {
        streams++;
        return sse('event: warning\ndata: {"lagged":3}\n\n');
      }
      return new Response("not found", { status: 404 });
    });
    const client = await A2aClient.connect(lagging.url, { verify: false, maxReconnects: 2 });
    const error = await failure(collect(client.streamTask("t")));
    await lagging.stop();
    expect(client.dialect).toBe("rvagent");
    expect(error).toBeInstanceOf(TransportError);
    expect(streams).toBe(3);
  });

  test("an `event: error` frame carries a typed JSON-RPC error", async () => {
    const client = await agent("errorframe");
    const error = await failure(collect(client.streamTask("task-1")));
    expect(error).toBeInstanceOf(A2aError);
    expect(error.code).toBe("TASK_NOT_FOUND");
  });
});

describe("peers that are down, slow or broken ⇒ TransportError naming the URL", () => {
  test("not a URL ⇒ A2aError INVALID_REQUEST before any request", async () => {
    const error = await failure(A2aClient.connect("peer.example.com", { verify: false }));
    expect(error).toBeInstanceOf(A2aError);
    expect(error.code).toBe("INVALID_REQUEST");
  });

  test("nothing listening (discovery)", async () => {
    const url = await deadUrl();
    const error = await failure(A2aClient.connect(url, { verify: false }));
    expect(error).toBeInstanceOf(TransportError);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(`${url}.well-known/agent-card.json`);
  });

  test("an agent that went down after discovery", async () => {
    const doomed: RawPeer = new RawPeer((): Response => Response.json(plainCard(`${doomed.url}rpc`)));
    const client = await A2aClient.connect(doomed.url, { verify: false });
    await doomed.stop();
    const error = await failure(client.getTask("t"));
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toContain(`${doomed.url}rpc`);
  });

  test("a peer that never answers ⇒ timeout", async () => {
    const client = await agent("slow", { timeoutMs: 100 });
    const error = await failure(client.sendTask({ skill: "echo", input: "x" }));
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toContain("no answer within 100 ms");
    expect(error.message).toContain(`${peer.url}slow/rpc`);
  });

  test("HTTP 500 ⇒ TransportError with the status", async () => {
    const client = await agent("http500");
    const error = await failure(client.getTask("t"));
    expect(error).toBeInstanceOf(TransportError);
    expect(error.status).toBe(500);
    expect(error.message).toContain("HTTP 500 Internal Server Error");
    expect(error.message).toContain(`${peer.url}http500/rpc`);
  });

  test("HTTP 500 on the card", async () => {
    const broken = new RawPeer(() => new Response("down", { status: 503 }));
    const error = await failure(A2aClient.connect(broken.url, { verify: false }));
    await broken.stop();
    expect(error).toBeInstanceOf(TransportError);
    expect(error.status).toBe(503);
  });

  test("a body that is not JSON, a mismatched JSON-RPC id, an oversized response", async () => {
    for (const [name, reason] of [["badjson", "not valid JSON"], ["wrongid", "not a JSON-RPC 2.0 result"], ["hugejson", "larger than"]] as const) {
      const client = await agent(name, { maxResponseBytes: MiB });
      const error = await failure(client.getTask("t"));
      expect(error).toBeInstanceOf(TransportError);
      expect(error.message).toContain(reason);
      expect(error.url).toBe(`${peer.url}${name}/rpc`);
    }
  });
});
