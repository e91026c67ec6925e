/**
 * The client side of multi-turn tasks, listing and bare replies, against our server:
 * `streamTask` ends at `input-required` with the question, `sendTask`/`streamTask` with the
 * `taskId` answer it, `listTasks` pages, and rvAgent peers refuse what their dialect lacks.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { A2aClient, A2aServer, GlobalBudget, type TaskUpdate } from "../../src/a2a/index.ts";
import { A2aError } from "../../src/a2a/errors.ts";
import { TaskRegistry } from "../../src/a2a/server-tasks.ts";
import type { Message } from "../../src/a2a/types.ts";
import { collect } from "./fixtures/peers.ts";

const server = A2aServer.start({
  name: "multi-turn",
  description: "An agent that asks a follow-up question",
  skills: {
    weather: {
      description: "The weather in a city it asks for",
      cost: { usdPerTask: 0.01 },
      handler: ({ history, text }) => {
        if (history.length === 0) return { state: "input-required", message: "Which city?" };
        return `Sunny in ${text}`;
      },
    },
    hello: { description: "Answers with a bare message", handler: () => ({ reply: "hi there" }) },
  },
});
afterAll(() => server.stop());

const connect = (options: Parameters<typeof A2aClient.connect>[1] = {}) =>
  A2aClient.connect(server.url, { trustedKeys: server.trustedKeys, cardCache: null, ...options });

function lastStatus(updates: readonly TaskUpdate[]): Extract<TaskUpdate, { kind: "status" }> {
  const last = updates.at(-1);
  if (last?.kind !== "status") throw new Error(`the stream must end with a status, not ${last?.kind}`);
  return last;
}

describe("multi-turn tasks", () => {
  test("streamTask ends at input-required with the question; sendTask with the taskId answers it", async () => {
    const client = await connect();
    const question = lastStatus(await collect(client.streamTask({ skill: "weather", input: "weather please" })));
    expect(question.status.state).toBe("input-required");
    expect(question.final).toBe(true);
    expect(question.status.message?.parts).toEqual([{ kind: "text", text: "Which city?" }]);
    const resumed = await client.sendTask({ skill: "weather", input: "Lisbon", taskId: question.taskId });
    expect(resumed.id).toBe(question.taskId);
    // The answer may be in before the subscription: a finished task streams as its final snapshot.
    const answer = (await collect(client.streamTask(resumed.id))).at(-1);
    expect(answer?.kind === "status" ? answer.status.state : answer?.kind === "task" && answer.task.status.state).toBe("completed");
    const task = await client.getTask(resumed.id);
    expect(task.artifacts.at(-1)?.parts).toEqual([{ kind: "text", text: "Sunny in Lisbon" }]);
    expect(task.history.map((m) => m.role)).toEqual(["user", "agent", "user"]);
    expect((await client.getTask(resumed.id, { historyLength: 1 })).history.map((m) => m.parts)).toEqual([[{ kind: "text", text: "Lisbon" }]]);
  });

  test("streamTask with the taskId streams the answering turn to the end", async () => {
    const client = await connect();
    const question = lastStatus(await collect(client.streamTask({ skill: "weather", input: "go" })));
    const updates = await collect(client.streamTask({ skill: "weather", input: "Oslo", taskId: question.taskId }));
    expect(updates[0]?.kind === "task" && updates[0].task.id).toBe(question.taskId);
    expect(lastStatus(updates).status.state).toBe("completed");
  });

  test("answering a task is not charged to the budget again", async () => {
    const budget = new GlobalBudget({ maxTasksPerMinute: 1 });
    const client = await connect({ budget });
    const task = await client.sendTask({ skill: "weather", input: "go" });
    await collect(client.streamTask(task.id));
    await client.sendTask({ skill: "weather", input: "Rome", taskId: task.id });
    const refused = await client.sendTask({ skill: "weather", input: "another" }).catch((e) => e);
    expect(refused.code).toBe("BUDGET_EXCEEDED");
  });

  test("answering a finished task ⇒ A2aError UNSUPPORTED_OPERATION (-32004); an unknown one ⇒ TASK_NOT_FOUND (-32001)", async () => {
    const client = await connect();
    const task = await client.sendTask({ skill: "weather", input: "go" });
    await collect(client.streamTask(task.id));
    await client.sendTask({ skill: "weather", input: "Rome", taskId: task.id });
    await collect(client.streamTask(task.id));
    const finished = await client.sendTask({ skill: "weather", input: "again", taskId: task.id }).catch((e) => e);
    expect(finished).toBeInstanceOf(A2aError);
    expect([finished.code, finished.rpcCode]).toEqual(["UNSUPPORTED_OPERATION", -32004]);
    const unknown = await client.sendTask({ skill: "weather", input: "x", taskId: "no-such-task" }).catch((e) => e);
    expect([unknown.code, unknown.rpcCode]).toEqual(["TASK_NOT_FOUND", -32001]);
    const empty = await client.sendTask({ skill: "weather", input: "x", taskId: "" }).catch((e) => e);
    expect(empty.code).toBe("INVALID_REQUEST");
  });

  test("a bare reply: sendTask returns it as the completed status message; streamTask yields one message", async () => {
    const client = await connect();
    const task = await client.sendTask({ skill: "hello", input: "x", contextId: "c-1" });
    expect(task.status).toMatchObject({ state: "completed", message: { role: "agent", parts: [{ kind: "text", text: "hi there" }] } });
    expect(task.contextId).toBe("c-1");
    const updates = await collect(client.streamTask({ skill: "hello", input: "x" }));
    expect(updates.map((u) => u.kind)).toEqual(["message"]);
  });
});

describe("bounded memory", () => {
  test("a task answered turn after turn keeps only its 1 000 most recent messages", async () => {
    const registry = new TaskRegistry(10);
    const message = (text: string): Message => ({ role: "user", parts: [{ kind: "text", text }] });
    const record = registry.start({
      id: "endless", contextId: "c", skill: "ask", policy: {}, message: message("0"),
      handler: () => ({ state: "input-required", message: "and then?" }),
    });
    await record.turnEnded;
    for (let turn = 1; turn <= 600; turn++) {
      registry.resume(record, message(String(turn)));
      await record.turnEnded;
    }
    expect(record.task.history).toHaveLength(1_000);
    expect(record.task.history.at(-1)?.parts).toEqual([{ kind: "text", text: "600" }]);
  });
});

describe("listTasks", () => {
  test("pages through a context, newest first, until nextPageToken is empty", async () => {
    const client = await connect();
    const contextId = `ctx-${crypto.randomUUID()}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await client.sendTask({ skill: "weather", input: "go", contextId })).id);
      await Bun.sleep(2);
    }
    const first = await client.listTasks({ contextId, pageSize: 2 });
    expect(first.totalSize).toBe(3);
    const second = await client.listTasks({ contextId, pageSize: 2, pageToken: first.nextPageToken });
    expect(second.nextPageToken).toBe("");
    expect([...first.tasks, ...second.tasks].map((task) => task.id)).toEqual([...ids].reverse());
    const waiting = await client.listTasks({ contextId, state: "input-required", historyLength: 0 });
    expect(waiting.tasks.every((task) => task.history.length === 0)).toBe(true);
  });
});

describe("rvAgent peers", () => {
  test("cannot list or continue tasks: UNSUPPORTED_OPERATION before any request", async () => {
    const client = await connect({ dialect: "rvagent" });
    const before = server.stats.rpcRequests;
    const list = await client.listTasks().catch((e) => e);
    expect(list.code).toBe("UNSUPPORTED_OPERATION");
    const resume = await client.sendTask({ skill: "weather", input: "x", taskId: "t" }).catch((e) => e);
    expect(resume.code).toBe("UNSUPPORTED_OPERATION");
    expect(server.stats.rpcRequests).toBe(before);
  });

  test("a task that asks for input ends the rvAgent send at input-required", async () => {
    const client = await connect({ dialect: "rvagent" });
    const task = await client.sendTask({ skill: "weather", input: "go" });
    expect(task.status.state).toBe("input-required");
  });
});
