import { afterAll, describe, expect, test } from "bun:test";
import { A2aClient, A2aServer, GlobalBudget, type Dialect, type FetchLike, type TaskUpdate } from "../../src/a2a/index.ts";
import { A2aError, BudgetExceeded, PolicyViolation, TransportError } from "../../src/a2a/errors.ts";
import { collect, describe as summarize, tamperingFetch, testSkills } from "./fixtures/peers.ts";

const counter = { runs: 0, aborts: 0 };
const server = A2aServer.start({ name: "task-agent", description: "A test agent", skills: testSkills(counter) });
afterAll(() => server.stop());

const connect = (dialect: Dialect, options: Parameters<typeof A2aClient.connect>[1] = {}) =>
  A2aClient.connect(server.url, { trustedKeys: server.trustedKeys, dialect, cardCache: null, ...options });

/** A fetch that loses the response of the first send, as a dropped connection would. */
function losingFirstSend(): FetchLike & { lost: number } {
  const wrapped = async (url: string, init: RequestInit): Promise<Response> => {
    const response = await fetch(url, init);
    const method = typeof init.body === "string" ? (JSON.parse(init.body) as { method?: string }).method : undefined;
    if ((method === "SendMessage" || method === "tasks/send") && wrapped.lost === 0) {
      wrapped.lost++;
      await response.arrayBuffer();
      throw new TypeError("socket hang up");
    }
    return response;
  };
  wrapped.lost = 0;
  return wrapped;
}

for (const dialect of ["a2a", "rvagent"] as const) {
  describe(`our client and our server, ${dialect} dialect`, () => {
    test("sendTask, then getTask reports the finished task with its artifact", async () => {
      const client = await connect(dialect);
      const sent = await client.sendTask({ skill: "echo", input: "hello" });
      expect(sent.id).toBeString();
      await collect(client.streamTask(sent.id));
      const task = await client.getTask(sent.id);
      expect(task.status.state).toBe("completed");
      expect(task.artifacts.at(-1)?.parts).toEqual([{ kind: "text", text: "echo: hello" }]);
      expect(task.history[0]?.parts).toEqual([{ kind: "text", text: "hello" }]);
    });

    test("streamTask(request) yields typed updates in order and ends at the terminal state", async () => {
      const client = await connect(dialect);
      const updates = await collect(client.streamTask({ skill: "chunks", input: "go" }));
      const last = updates.at(-1);
      expect(last?.kind === "status" && last.status.state === "completed" && last.final).toBe(true);
      const pieces = updates.flatMap((u) => (u.kind === "artifact" && u.artifact.name === "stream" ? [u] : []));
      const kinds = new Set(updates.map((u) => u.kind));
      expect(kinds.has("status") && kinds.has("artifact")).toBe(true);
      expect(pieces.at(-1)?.lastChunk).toBe(true);
      expect(summarize(updates).filter((line) => line.startsWith("status:completed"))).toHaveLength(1);
    });

    test("streamTask(id) on a finished task yields its final state once and ends", async () => {
      const client = await connect(dialect);
      const task = await client.sendTask({ skill: "echo", input: "x" });
      await collect(client.streamTask(task.id));
      const again = await collect(client.streamTask(task.id));
      const states = again.map((u) => (u.kind === "task" ? u.task.status.state : u.kind === "status" ? u.status.state : u.kind));
      expect(states.at(-1)).toBe("completed");
    });

    test("cancelTask stops a running task: its handler's signal fires and the stream ends canceled", async () => {
      const client = await connect(dialect);
      const aborts = counter.aborts;
      const seen: TaskUpdate[] = [];
      for await (const update of client.streamTask({ skill: "slow", input: "wait" })) {
        seen.push(update);
        const taskId = update.kind === "status" ? update.taskId : update.kind === "task" ? update.task.id : undefined;
        if (seen.length === 1 && taskId) expect((await client.cancelTask(taskId)).status.state).toBe("canceled");
      }
      const last = seen.at(-1);
      expect(last?.kind === "status" && last.status.state).toBe("canceled");
      expect(counter.aborts - aborts).toBe(1);
    });

    test("a send whose response was lost is retried with the same idempotency key and runs once", async () => {
      const fetch = losingFirstSend();
      const client = await connect(dialect, { fetch, sendRetries: 1 });
      const before = { runs: counter.runs, started: server.stats.tasksStarted };
      const task = await client.sendTask({ skill: "echo", input: "once" });
      await collect(client.streamTask(task.id));
      expect(fetch.lost).toBe(1);
      expect(counter.runs - before.runs).toBe(1);
      expect(server.stats.tasksStarted - before.started).toBe(1);
    });

    test("without sendRetries a lost send is a retryable TransportError, not a silent resend", async () => {
      const client = await connect(dialect, { fetch: losingFirstSend() });
      const before = server.stats.rpcRequests;
      const error = await client.sendTask({ skill: "echo", input: "no retry" }).catch((e) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect(error.retryable).toBe(true);
      expect(server.stats.rpcRequests - before).toBe(1);
    });

    test("an unknown task id ⇒ A2aError TASK_NOT_FOUND, for getTask and streamTask", async () => {
      const client = await connect(dialect);
      const error = await client.getTask("no-such-task").catch((e) => e);
      expect(error).toBeInstanceOf(A2aError);
      expect(error.code).toBe("TASK_NOT_FOUND");
      expect(error.rpcCode).toBe(dialect === "a2a" ? -32001 : -32010);
      const streamed = await collect(client.streamTask("no-such-task")).catch((e) => e);
      expect(streamed.code).toBe("TASK_NOT_FOUND");
    });

    test("a handler that throws fails the task with its message", async () => {
      const client = await connect(dialect);
      const updates = await collect(client.streamTask({ skill: "broken", input: "x" }));
      expect(summarize(updates).at(-1)).toBe("status:failed:model unavailable");
      const final = updates.at(-1);
      if (final?.kind !== "status") throw new Error("the stream must end with a status");
      const task = await client.getTask(final.taskId);
      expect(task.status.message?.parts).toEqual([{ kind: "text", text: "model unavailable" }]);
    });

    test("the server's own policy check maps to PolicyViolation (card cost tampered, verification off)", async () => {
      const cheap = (card: Record<string, any>) => {
        if (dialect === "a2a") card.capabilities.extensions[0].params.skills.slow.usdPerTask = 0;
        else card.metadata.ruvector.skill_costs.slow.usd_per_task = 0;
        return card;
      };
      const client = await connect(dialect, { verify: false, fetch: tamperingFetch(cheap) });
      const request = { skill: "slow", input: "x", policy: { maxCostUsd: 0.1 } };
      const error = await client.sendTask(request).catch((e) => e);
      expect(error).toBeInstanceOf(PolicyViolation);
      expect(error.rpcCode).toBe(dialect === "a2a" ? -32050 : -32002);
      expect(error.message).toContain("over policy.maxCostUsd");
      // rvAgent streams subscribe first and send second: the refused send must still end the stream.
      expect(await collect(client.streamTask(request)).catch((e) => e)).toBeInstanceOf(PolicyViolation);
    });
  });
}

describe("JSON-RPC error codes differ by dialect", () => {
  test("a peer's budget error maps to BudgetExceeded in both dialects", async () => {
    for (const dialect of ["a2a", "rvagent"] as const) {
      await using limited = A2aServer.start({ name: "limited", description: "A test agent", skills: testSkills(), budget: new GlobalBudget({ maxTasksPerMinute: 1 }) });
      const client = await A2aClient.connect(limited.url, { trustedKeys: limited.trustedKeys, dialect });
      await client.sendTask({ skill: "echo", input: "first" });
      const error = await client.sendTask({ skill: "echo", input: "second" }).catch((e) => e);
      expect(error).toBeInstanceOf(BudgetExceeded);
      expect(error.rpcCode).toBe(dialect === "a2a" ? -32051 : -32003);
    }
  });

  test("A2A −32002 is 'task not cancelable', not a policy error", async () => {
    const client = await connect("a2a");
    const task = await client.sendTask({ skill: "echo", input: "x" });
    await collect(client.streamTask(task.id));
    const error = await client.cancelTask(task.id).catch((e) => e);
    expect(error).toBeInstanceOf(A2aError);
    expect(error).not.toBeInstanceOf(PolicyViolation);
    expect(error.code).toBe("TASK_NOT_CANCELABLE");
    expect(error.rpcCode).toBe(-32002);
  });

  test("rvAgent reports a finished task as not canceled, and the client returns it as it is", async () => {
    const client = await connect("rvagent");
    const task = await client.sendTask({ skill: "echo", input: "x" });
    expect((await client.cancelTask(task.id)).status.state).toBe("completed");
  });
});

describe("our server answers malformed requests with JSON-RPC errors", () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(server.url, { method: "POST", body, headers: { "content-type": "application/json", "A2A-Version": "1.0", ...headers } });

  test("unparsable JSON ⇒ −32700; not JSON-RPC ⇒ −32600; unknown method ⇒ −32601", async () => {
    expect(((await (await post("{")).json()) as any).error.code).toBe(-32700);
    expect(((await (await post("[]")).json()) as any).error.code).toBe(-32600);
    expect(((await (await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Nope" }))).json()) as any).error.code).toBe(-32601);
  });

  test("a missing A2A-Version header ⇒ VERSION_NOT_SUPPORTED", async () => {
    const response = await fetch(server.url, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "x" } }) });
    const body = (await response.json()) as any;
    expect(body.error.code).toBe(-32009);
    expect(body.error.data[0].reason).toBe("VERSION_NOT_SUPPORTED");
  });

  test("A2A without a skill, on an agent with several ⇒ −32602 naming the metadata field", async () => {
    const message = { messageId: "m", role: "ROLE_USER", parts: [{ text: "x" }] };
    const body = (await (await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "SendMessage", params: { message } }))).json()) as any;
    expect(body.error.code).toBe(-32602);
    expect(body.error.message).toContain("metadata.ruvector.skill is required");
  });

  test("a dialect the server does not speak ⇒ −32601; an rvAgent stream without id ⇒ −32602", async () => {
    await using rvOnly = A2aServer.start({ name: "rv-only", description: "A test agent", skills: testSkills(), dialects: ["rvagent"] });
    const call = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "x" } });
    const refused = (await (await fetch(rvOnly.url, { method: "POST", body: call, headers: { "A2A-Version": "1.0" } })).json()) as any;
    expect(refused.error.code).toBe(-32601);
    const noId = (await (await fetch(`${rvOnly.url}tasks/resubscribe`)).json()) as any;
    expect(noId.error.code).toBe(-32602);
  });

  test("invalid params ⇒ −32602; an oversized body ⇒ HTTP 413", async () => {
    expect(((await (await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "GetTask", params: {} }))).json()) as any).error.code).toBe(-32602);
    await using small = A2aServer.start({ name: "small", description: "A test agent", skills: testSkills(), maxRequestBytes: 100 });
    const response = await fetch(small.url, { method: "POST", body: "x".repeat(1_000) });
    expect(response.status).toBe(413);
  });
});
