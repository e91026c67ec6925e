/**
 * Interoperability with the official Python `a2a-sdk` (1.3.0, A2A 1.0; installed by
 * `scripts/setup` into `.tools/py-a2a`), both ways, on loopback: an SDK agent (card signed by
 * the SDK's `create_agent_card_signer`) against our client, and our server against the SDK's
 * signature verifier and client — send, stream, get, list, cancel, subscribe, a multi-turn
 * task and a bare message reply.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { A2aClient, A2aServer, type TaskUpdate, type TrustedKey } from "../../src/a2a/index.ts";
import { collect } from "./fixtures/peers.ts";

const PYTHON = join(import.meta.dir, "../../.tools/py-a2a/bin/python");
const PEER = join(import.meta.dir, "fixtures/py_peer.py");

function requirePython(): void {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run scripts/setup (it installs a2a-sdk into .tools/py-a2a)`);
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the Python peer exited before it was ready: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.slice(0, text.indexOf("\n"));
}

describe("Python a2a-sdk agent, our client", () => {
  let peer: Subprocess<"pipe", "pipe", "inherit">;
  let url = "";
  const trustedKeys: Record<string, TrustedKey> = {};

  beforeAll(async () => {
    requirePython();
    peer = Bun.spawn([PYTHON, PEER, "server"], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    const ready = JSON.parse(await firstLine(peer.stdout)) as { url: string; kid: string; jwk: TrustedKey };
    url = ready.url;
    trustedKeys[ready.kid] = ready.jwk;
  });
  afterAll(async () => {
    peer?.stdin.end();
    await peer?.exited;
  });

  const connect = () => A2aClient.connect(url, { trustedKeys, cardCache: null });

  test("the SDK-signed card verifies against the SDK's key, and fails closed without it", async () => {
    const client = await connect();
    expect(client.card.signature).toEqual({ scheme: "jws", alg: "EdDSA", kid: "py-ed" });
    expect(client.card.skills.map((skill) => skill.id)).toEqual(["echo", "slow", "ask", "hello"]);
    const error = await A2aClient.connect(url, { trustedKeys: {}, cardCache: null }).catch((e) => e);
    expect(error.code).toBe("CARD_SIGNATURE_INVALID");
  });

  test("send, then stream, get (historyLength 0) and list the task", async () => {
    const client = await connect();
    const sent = await client.sendTask({ skill: "echo", input: "echo hi" });
    const updates = await collect(client.streamTask(sent.id));
    expect(finalState(updates)).toBe("completed");
    const task = await client.getTask(sent.id, { historyLength: 0 });
    expect(task.status.state).toBe("completed");
    expect(task.history).toEqual([]);
    expect(task.artifacts[0]?.parts).toEqual([{ kind: "text", text: "chunk 0;" }, { kind: "text", text: "chunk 1;" }, { kind: "text", text: "chunk 2;" }]);
    const page = await client.listTasks({ contextId: task.contextId });
    expect(page.tasks.map((listed) => listed.id)).toEqual([sent.id]);
    expect(page.nextPageToken).toBe("");
  });

  test("a streamed send yields the chunks in order and ends completed", async () => {
    const client = await connect();
    const updates = await collect(client.streamTask({ skill: "echo", input: "echo streamed" }));
    const chunks = updates.flatMap((u) => (u.kind === "artifact" ? u.artifact.parts.map((p) => (p.kind === "text" ? p.text : "")) : []));
    expect(chunks).toEqual(["chunk 0;", "chunk 1;", "chunk 2;"]);
    expect(finalState(updates)).toBe("completed");
  });

  test("cancel a working task: the subscription ends canceled", async () => {
    const client = await connect();
    const sent = await client.sendTask({ skill: "slow", input: "slow" });
    const seen: TaskUpdate[] = [];
    for await (const update of client.streamTask(sent.id)) {
      seen.push(update);
      if (seen.length === 1) expect((await client.cancelTask(sent.id)).status.state).toBe("canceled");
    }
    expect(finalState(seen)).toBe("canceled");
  });

  test("multi-turn: the stream ends at input-required with the question; the answer continues the same task", async () => {
    const client = await connect();
    const asked = await collect(client.streamTask({ skill: "ask", input: "ask" }));
    const question = asked.at(-1);
    if (question?.kind !== "status") throw new Error("the first turn must end with a status");
    expect(question.status.state).toBe("input-required");
    expect(question.status.message?.parts).toEqual([{ kind: "text", text: "What is your name?" }]);
    const answered = await collect(client.streamTask({ skill: "ask", input: "Ada", taskId: question.taskId }));
    const last = answered.at(-1);
    expect(last?.kind === "status" && last.status.state).toBe("completed");
    expect(last?.kind === "status" && last.status.message?.parts).toEqual([{ kind: "text", text: "Hello, Ada!" }]);
    expect(last?.kind === "status" && last.taskId).toBe(question.taskId);
  });

  test("an agent that answers with a bare message: sendTask returns it as the completed status message", async () => {
    const client = await connect();
    const task = await client.sendTask({ skill: "hello", input: "hello" });
    expect(task.status.state).toBe("completed");
    expect(task.status.message?.parts).toEqual([{ kind: "text", text: "hi there" }]);
  });
});

describe("our server, Python a2a-sdk client", () => {
  const server = A2aServer.start({
    name: "ours",
    description: "Skills for the Python SDK client",
    skills: {
      echo: { description: "Echoes its input", handler: ({ text }) => `echo: ${text}` },
      chunks: {
        description: "Streams three chunks",
        async handler({ emit }) {
          emit.status("started");
          for (let i = 0; i < 3; i++) emit.artifact(`chunk ${i};`, { artifactId: "out", append: i > 0, lastChunk: i === 2 });
        },
      },
      slow: {
        description: "Works until canceled",
        async handler({ emit, signal }) {
          emit.status("started");
          await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        },
      },
      ask: {
        description: "Asks for a name, then greets it",
        handler: ({ history, text }) =>
          history.length === 0 ? { state: "input-required", message: "What is your name?" } : { state: "completed", message: `Hello, ${text}!` },
      },
      hello: { description: "Answers with a bare message", handler: () => ({ reply: "hi there" }) },
    },
  });
  const results = new Map<string, Record<string, any>>();
  let dir = "";

  beforeAll(async () => {
    requirePython();
    dir = await mkdtemp(join(tmpdir(), "ruvector-py-interop-"));
    const jwks = join(dir, "jwks.json");
    await writeFile(jwks, JSON.stringify({ keys: Object.entries(server.trustedKeys).map(([kid, key]) => ({ ...key, kid })) }));
    const run = Bun.spawn([PYTHON, PEER, "client", server.url, jwks], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited]);
    if (code !== 0) throw new Error(`the Python client failed (exit ${code}): ${stderr}`);
    for (const line of stdout.trim().split("\n")) {
      const result = JSON.parse(line) as Record<string, unknown>;
      results.set(String(result.check), result);
    }
  });
  afterAll(async () => {
    await server.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("the SDK verifies our signed card", () => {
    expect(results.get("card")).toEqual({ check: "card", verified: true });
  });

  test("blocking send returns the completed task; GetTask honours historyLength 0", () => {
    expect(results.get("send")).toMatchObject({ state: "TASK_STATE_COMPLETED", artifacts: [{ name: "result", parts: [{ text: "echo: hi" }] }] });
    expect(results.get("get")).toEqual({ check: "get", state: "TASK_STATE_COMPLETED", history: 0 });
  });

  test("streaming send: a task first, then updates, closing at completed", () => {
    const stream = results.get("stream");
    expect(stream?.kinds[0]).toBe("task");
    expect(stream?.kinds).toContain("artifactUpdate");
    expect(stream?.last).toMatchObject({ statusUpdate: { status: { state: "TASK_STATE_COMPLETED" } } });
  });

  test("ListTasks filters by context and ends with an empty nextPageToken", () => {
    const send = results.get("send");
    expect(results.get("list")).toEqual({ check: "list", ids: [send?.task_id], next: "", total: 1 });
  });

  test("subscribe, then cancel: the subscription starts with the task and ends canceled", () => {
    expect(results.get("cancel")).toMatchObject({ state: "TASK_STATE_CANCELED", first: "task", last: { statusUpdate: { status: { state: "TASK_STATE_CANCELED" } } } });
  });

  test("multi-turn: blocking send returns at input-required with the question; the answer completes the same task", () => {
    expect(results.get("multi-turn")).toEqual({
      check: "multi-turn",
      asked: "TASK_STATE_INPUT_REQUIRED",
      question: [{ text: "What is your name?" }],
      final: "TASK_STATE_COMPLETED",
      reply: [{ text: "Hello, Ada!" }],
      same_task: true,
      history: 3,
    });
  });

  test("a skill that replies with a bare message answers with a Message", () => {
    expect(results.get("message")?.result).toMatchObject({ message: { role: "ROLE_AGENT", parts: [{ text: "hi there" }] } });
  });
});

function finalState(updates: readonly TaskUpdate[]): string | undefined {
  const last = updates.at(-1);
  return last?.kind === "status" ? last.status.state : last?.kind === "task" ? last.task.status.state : undefined;
}
