import { afterAll, describe, expect, test } from "bun:test";
import { A2aClient, A2aServer, type Artifact, type Dialect, type FetchLike, type TaskUpdate } from "../../src/a2a/index.ts";
import { TransportError } from "../../src/a2a/errors.ts";
import { collect, describe as summarize, droppingFetch, testSkills } from "./fixtures/peers.ts";

const server = A2aServer.start({ name: "resume-agent", description: "A test agent", skills: testSkills() });
afterAll(() => server.stop());

const connect = (dialect: Dialect, fetch?: FetchLike, maxReconnects?: number) =>
  A2aClient.connect(server.url, { trustedKeys: server.trustedKeys, dialect, cardCache: null, fetch, maxReconnects });

/** What a consumer ends up with: each artifact's content with `append` applied, and the statuses seen. */
function outcome(updates: readonly TaskUpdate[]): { artifacts: Record<string, string>; states: string[] } {
  const artifacts: Record<string, string> = {};
  const states: string[] = [];
  const apply = (artifact: Artifact, append: boolean) => {
    const text = artifact.parts.map((part) => (part.kind === "text" ? part.text : "")).join("");
    artifacts[artifact.artifactId] = (append ? artifacts[artifact.artifactId] ?? "" : "") + text;
  };
  for (const update of updates) {
    if (update.kind === "task") for (const artifact of update.task.artifacts) apply(artifact, false);
    if (update.kind === "artifact") apply(update.artifact, update.append);
    if (update.kind === "status") states.push(update.status.state);
  }
  return { artifacts, states };
}

for (const dialect of ["a2a", "rvagent"] as const) {
  describe(`a dropped stream is resumed without loss or duplicates (${dialect})`, () => {
    for (const mode of ["reset", "end"] as const) {
      test(`connection ${mode === "reset" ? "reset" : "closed early"} mid-stream`, async () => {
        const reference = summarize(await collect((await connect(dialect)).streamTask({ skill: "chunks", input: "go" })));
        const fetch = droppingFetch(3, mode);
        const resumed = summarize(await collect((await connect(dialect, fetch)).streamTask({ skill: "chunks", input: "go" })));
        expect(fetch.dropped).toBe(1);
        expect(resumed).toEqual(reference);
      });
    }

    test("a subscription by id survives two drops", async () => {
      const client = await connect(dialect);
      const reference = summarize(await collect(client.streamTask({ skill: "chunks", input: "go" })));
      const dropping = await connect(dialect, droppingFetch(2, "reset", 2));
      const updates = await collect(dropping.streamTask({ skill: "chunks", input: "go" }));
      expect(summarize(updates)).toEqual(reference);
    });

    test("a stream that keeps ending without news fails after maxReconnects with a TransportError", async () => {
      const client = await connect(dialect, dropsAfterOpening(), 2);
      const id = crypto.randomUUID();
      // An A2A peer names the task in the stream, so that stream must first carry it.
      const taskId = dialect === "a2a" ? (await client.sendTask({ skill: "slow", input: "x" })).id : id;
      const stream = dialect === "a2a" ? client.streamTask(taskId) : client.streamTask({ skill: "slow", input: "x", id });
      const error = await collect(stream).catch((e) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect(error.message).toContain("without reaching a final state");
      expect(error.message).toContain(server.url);
      expect((await (await connect(dialect)).cancelTask(taskId)).status.state).toBe("canceled");
    });
  });
}

describe("resuming from a peer that sends no event ids (snapshot diffing, as with @a2a-js/sdk)", () => {
  test("artifacts missed while disconnected arrive whole; no status is repeated", async () => {
    const reference = outcome(await collect((await connect("a2a")).streamTask({ skill: "chunks", input: "go" })));
    const fetch = withoutEventIds(droppingFetch(3, "reset"));
    const updates = await collect((await connect("a2a", fetch)).streamTask({ skill: "chunks", input: "go" }));
    const resumed = outcome(updates);
    expect(resumed.artifacts).toEqual(reference.artifacts);
    expect(resumed.states.at(-1)).toBe("completed");
    const keys = updates.flatMap((u) => (u.kind === "status" ? [JSON.stringify(u.status)] : []));
    expect(new Set(keys).size).toBe(keys.length);
  });
});

/** Every event stream ends as soon as it opens. */
function dropsAfterOpening(): FetchLike {
  return droppingFetch(0, "end", Number.POSITIVE_INFINITY);
}

/** Strips `id:` lines from event streams, as a peer without event ids would send them. */
function withoutEventIds(inner: FetchLike): FetchLike {
  return async (url, init) => {
    const response = await inner(url, init);
    if (!response.headers.get("content-type")?.startsWith("text/event-stream") || !response.body) return response;
    const strip = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(new TextEncoder().encode(new TextDecoder().decode(chunk).replace(/^id: .*\n/gm, "")));
      },
    });
    return new Response(response.body.pipeThrough(strip), { status: response.status, headers: response.headers });
  };
}
