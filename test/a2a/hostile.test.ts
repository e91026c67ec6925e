/**
 * Peer-controlled input of any depth or speed ends in a typed error, within the documented
 * deadline, with no unhandled rejection: deeply nested JSON in a signed card, in a JSON-RPC
 * body, in a streamed event; a stream that drips one byte at a time.
 */
import { describe, expect, test } from "bun:test";
import { A2aClient, signA2aCard, signingKey, publicJwk } from "../../src/a2a/index.ts";
import { A2aError, TransportError } from "../../src/a2a/errors.ts";
import { collect, plainCard, RawPeer, failOnUnhandledRejections, failure } from "./fixtures/peers.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const sse = (body: ReadableStream<Uint8Array> | string) => new Response(body, { headers: { "content-type": "text/event-stream" } });
const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const key = signingKey("EdDSA");
const DEEP = 100_000;

/** A signed card carrying `depth` levels of nesting in a field the signature covers. */
function deepSignedCard(url: string, depth: number): string {
  const card = signA2aCard({ ...plainCard(url), description: "deep", metadata: { deep: 0 } }, [key]);
  return JSON.stringify(card).replace('"deep":0', `"deep":${nested(depth)}`);
}

/** One byte every `everyMs`, forever (until the client goes away). */
function drip(everyMs: number): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setInterval> | undefined;
  return new ReadableStream({
    start(controller) {
      timer = setInterval(() => controller.enqueue(encode(":")), everyMs);
    },
    cancel: () => clearInterval(timer),
  });
}

const behaviours: Record<string, (url: string, id: unknown) => Response> = {
  deepcard: () => Response.json({}),
  deepbody: (_url, id) => new Response(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${nested(DEEP)}}`),
  deepevent: (_url, id) => sse(`data: {"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"artifactUpdate":{"taskId":"t","artifact":{"artifactId":"a","parts":[{"data":${nested(DEEP)}}]}}}}\n\n`),
  shallowevent: (_url, id) => {
    const envelope = (result: unknown) => `data: ${JSON.stringify({ jsonrpc: "2.0", id, result })}\n\n`;
    const artifact = { artifactId: "a", parts: [{ data: JSON.parse(nested(10)) }] };
    return sse(envelope({ artifactUpdate: { taskId: "t", artifact } }) + envelope({ statusUpdate: { taskId: "t", status: { state: "TASK_STATE_COMPLETED" } } }));
  },
  drip: () => sse(drip(20)),
};

const peer: RawPeer = new RawPeer(async (request) => {
  const [, name, rest] = new URL(request.url).pathname.split("/");
  const behaviour = behaviours[name ?? ""];
  if (!behaviour) return new Response("no such agent", { status: 404 });
  const rpc = `${peer.url}${name}/rpc`;
  if (rest === ".well-known") {
    return name === "deepcard" ? new Response(deepSignedCard(rpc, DEEP)) : Response.json(plainCard(rpc));
  }
  const body = (await request.json()) as { id?: unknown };
  return behaviour(rpc, body.id);
});

const agent = (name: string, options: Parameters<typeof A2aClient.connect>[1] = {}) =>
  A2aClient.connect(`${peer.url}${name}/`, { verify: false, cardCache: null, timeoutMs: 2_000, streamIdleTimeoutMs: 2_000, maxReconnects: 0, ...options });

failOnUnhandledRejections(() => peer.stop());

describe("nesting depth", () => {
  test("a signed card nested 100 000 deep ⇒ TransportError naming the limit, verified or not", async () => {
    const trustedKeys = { [key.kid]: publicJwk(key) };
    for (const verify of [true, false]) {
      const error = await failure(A2aClient.connect(`${peer.url}deepcard/`, { trustedKeys, verify, cardCache: null }));
      expect(error).toBeInstanceOf(TransportError);
      expect(error.message).toContain("nests deeper than 64 levels");
    }
  });

  test("a JSON-RPC result nested 100 000 deep ⇒ TransportError", async () => {
    const client = await agent("deepbody");
    const error = await failure(client.getTask("t"));
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toContain("nests deeper than 64 levels");
  });

  test("a streamed artifact nested 100 000 deep ⇒ TransportError, not a stack overflow", async () => {
    const client = await agent("deepevent");
    const error = await failure(collect(client.streamTask("t")));
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toContain("nests deeper than 64 levels");
  });

  test("the limit is configurable: maxJsonDepth 8 refuses what the default accepts", async () => {
    const event = async (client: A2aClient) => (await collect(client.streamTask("t")).catch((e) => e));
    const accepted = await event(await agent("shallowevent"));
    expect(accepted).not.toBeInstanceOf(Error);
    const refused = await event(await agent("shallowevent", { maxJsonDepth: 8 }));
    expect(refused).toBeInstanceOf(TransportError);
    expect(refused.message).toContain("nests deeper than 8 levels");
  });

  test("maxJsonDepth and streamTimeoutMs must be positive numbers", async () => {
    for (const options of [{ maxJsonDepth: 0 }, { streamTimeoutMs: -1 }, { streamTimeoutMs: Number.NaN }]) {
      const error = await failure(agent("drip", options));
      expect(error).toBeInstanceOf(A2aError);
      expect(error.code).toBe("INVALID_REQUEST");
    }
  });
});

describe("slow-drip streams", () => {
  test("a byte every 20 ms keeps the idle timer fed; streamTimeoutMs still ends the stream with a TransportError", async () => {
    const client = await agent("drip", { streamTimeoutMs: 300 });
    const error = await failure(collect(client.streamTask("t")));
    // The overall deadline (not the 2 s idle timeout, which the drip keeps feeding) ended it.
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toContain("longer than streamTimeoutMs=300");
    expect(error.retryable).toBe(true);
  });

  test("the same for a streamed send, before the peer names any task", async () => {
    const client = await agent("drip", { streamTimeoutMs: 300 });
    const error = await failure(collect(client.streamTask({ skill: "echo", input: "x" })));
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toContain("the stream lasted longer than streamTimeoutMs=300");
  });
});
