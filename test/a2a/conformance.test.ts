/**
 * Our server against the A2A 1.0 specification, on the wire (raw JSON-RPC, every error
 * asserted by its number): ListTasks, the task/context rules of §3.1.1 and §3.4, every
 * handler outcome, historyLength, the errors for undeclared capabilities, A2A-Version,
 * card validation and caching headers.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { A2aServer, type A2aServerOptions, type SkillDefinition } from "../../src/a2a/index.ts";
import { A2aError } from "../../src/a2a/errors.ts";

const skills: Record<string, SkillDefinition> = {
  echo: { description: "Echoes its input", handler: ({ text }) => `echo: ${text}` },
  ask: {
    description: "Asks for a name, then greets it",
    handler: ({ history, text }) => (history.length === 0 ? { state: "input-required", message: "Your name?" } : { state: "completed", message: `Hello, ${text}!` }),
  },
  login: { description: "Needs authorization first", handler: ({ history }) => (history.length === 0 ? { state: "auth-required", message: "Sign in" } : "signed in") },
  refuse: { description: "Rejects every task", handler: () => ({ state: "rejected", message: "not today" }) },
  give_up: { description: "Fails on purpose", handler: () => ({ state: "failed", message: "gave up" }) },
  bogus: { description: "Ends in a state that does not exist", handler: () => ({ state: "sleeping" }) as never },
  hello: { description: "Answers with a bare message", handler: () => ({ reply: "hi there" }) },
  late_reply: {
    description: "Reports progress, then replies",
    handler: ({ emit }) => {
      emit.status("thinking");
      return { reply: "done thinking" };
    },
  },
  slow: {
    description: "Works until canceled",
    async handler({ emit, signal }) {
      emit.status("started");
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    },
  },
  images: { description: "Takes PNG images", inputModes: ["image/png", "text/*"], handler: () => "seen" },
};

const server = A2aServer.start({ name: "conformance", description: "Spec conformance agent", skills, dialects: ["a2a"] });
afterAll(() => server.stop());

const VERSION = { "A2A-Version": "1.0" };
let nextId = 1;

async function post(body: unknown, headers: Record<string, string> = VERSION, url = server.url): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

async function rpc(method: string, params: unknown, headers?: Record<string, string>): Promise<Record<string, any>> {
  return (await post({ jsonrpc: "2.0", id: nextId++, method, params }, headers)).json() as Promise<Record<string, any>>;
}

async function result(method: string, params: unknown, headers?: Record<string, string>): Promise<Record<string, any>> {
  const answer = await rpc(method, params, headers);
  if (answer.error) throw new Error(`${method}: ${JSON.stringify(answer.error)}`);
  return answer.result;
}

/** The `result` of every event of a stream that closes by itself. */
async function streamed(method: string, params: unknown): Promise<any[]> {
  const text = await (await post({ jsonrpc: "2.0", id: nextId++, method, params })).text();
  return text.split("\n").filter((line) => line.startsWith("data: ")).map((line) => JSON.parse(line.slice(6)).result);
}

function message(skill: string, text: string, ids: Record<string, string> = {}): Record<string, unknown> {
  return { role: "ROLE_USER", messageId: crypto.randomUUID(), parts: [{ text }], metadata: { ruvector: { skill } }, ...ids };
}

const send = (skill: string, text: string, ids?: Record<string, string>, configuration?: Record<string, unknown>) =>
  result("SendMessage", { message: message(skill, text, ids), configuration });

describe("SendMessage and the task/context rules (§3.1.1, §3.4)", () => {
  test("a new task gets a server-made taskId and contextId; a client contextId is kept", async () => {
    const first = (await send("echo", "a")).task;
    const second = (await send("echo", "b")).task;
    expect(first.id).not.toBe(second.id);
    expect(first.contextId).toBeString();
    const kept = (await send("echo", "c", { contextId: "conversation-1" })).task;
    expect(kept.contextId).toBe("conversation-1");
  });

  test("a taskId the agent does not know ⇒ -32001 TaskNotFoundError", async () => {
    const answer = await rpc("SendMessage", { message: message("echo", "x", { taskId: "no-such-task" }) });
    expect(answer.error.code).toBe(-32001);
  });

  test("a message to a terminal task ⇒ -32004 UnsupportedOperationError", async () => {
    const done = (await send("echo", "x")).task;
    expect(done.status.state).toBe("TASK_STATE_COMPLETED");
    const answer = await rpc("SendMessage", { message: message("echo", "again", { taskId: done.id }) });
    expect(answer.error.code).toBe(-32004);
  });

  test("a message to a task still working ⇒ -32004", async () => {
    const working = (await send("slow", "x", {}, { returnImmediately: true })).task;
    const answer = await rpc("SendMessage", { message: message("slow", "more", { taskId: working.id }) });
    expect(answer.error.code).toBe(-32004);
    await result("CancelTask", { id: working.id });
  });

  test("multi-turn: blocking send returns at input-required; the answer, naming only the taskId, resumes it in its context", async () => {
    const asked = (await send("ask", "hi")).task;
    expect(asked.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    expect(asked.status.message.parts).toEqual([{ text: "Your name?" }]);
    const done = (await send("ask", "Ada", { taskId: asked.id })).task;
    expect(done.id).toBe(asked.id);
    expect(done.contextId).toBe(asked.contextId);
    expect(done.status.state).toBe("TASK_STATE_COMPLETED");
    expect(done.status.message.parts).toEqual([{ text: "Hello, Ada!" }]);
    expect(done.history.map((m: any) => [m.role, m.parts[0].text])).toEqual([["ROLE_USER", "hi"], ["ROLE_AGENT", "Your name?"], ["ROLE_USER", "Ada"]]);
  });

  test("a contextId that is not the task's ⇒ -32602, and the task is unchanged", async () => {
    const asked = (await send("ask", "hi")).task;
    const answer = await rpc("SendMessage", { message: message("ask", "Ada", { taskId: asked.id, contextId: "another" }) });
    expect(answer.error.code).toBe(-32602);
    expect((await result("GetTask", { id: asked.id })).status.state).toBe("TASK_STATE_INPUT_REQUIRED");
  });

  test("auth-required also interrupts a blocking send and takes the next message", async () => {
    const waiting = (await send("login", "x")).task;
    expect(waiting.status.state).toBe("TASK_STATE_AUTH_REQUIRED");
    const done = (await send("login", "token", { taskId: waiting.id })).task;
    expect(done.status.state).toBe("TASK_STATE_COMPLETED");
    expect(done.artifacts[0].parts).toEqual([{ text: "signed in" }]);
  });

  test("a handler may reject or fail a task, with a reason", async () => {
    const rejected = (await send("refuse", "x")).task;
    expect(rejected.status).toMatchObject({ state: "TASK_STATE_REJECTED", message: { parts: [{ text: "not today" }] } });
    const failed = (await send("give_up", "x")).task;
    expect(failed.status).toMatchObject({ state: "TASK_STATE_FAILED", message: { parts: [{ text: "gave up" }] } });
    const bogus = (await send("bogus", "x")).task;
    expect(bogus.status.state).toBe("TASK_STATE_FAILED");
    expect(bogus.status.message.parts[0].text).toContain("unknown state sleeping");
  });

  test("a bare reply answers with a Message and keeps no task (GetTask ⇒ not in ListTasks)", async () => {
    const answer = await send("hello", "x", { contextId: "reply-context" });
    expect(answer.task).toBeUndefined();
    expect(answer.message).toMatchObject({ role: "ROLE_AGENT", parts: [{ text: "hi there" }], contextId: "reply-context" });
    const listed = await result("ListTasks", { contextId: "reply-context" });
    expect(listed.tasks).toEqual([]);
  });

  test("a reply after progress was shown completes the task with the reply as its status message", async () => {
    const task = (await send("late_reply", "x")).task;
    expect(task.status).toMatchObject({ state: "TASK_STATE_COMPLETED", message: { parts: [{ text: "done thinking" }] } });
  });

  test("non-blocking send returns at once, in a non-terminal state", async () => {
    const task = (await send("slow", "x", {}, { returnImmediately: true })).task;
    expect(task.status.state).toBe("TASK_STATE_WORKING");
    expect((await result("CancelTask", { id: task.id })).status.state).toBe("TASK_STATE_CANCELED");
  });

  test("a part of a media type the skill does not accept ⇒ -32005; accepted types and wildcards pass", async () => {
    const png = { raw: "iVBORw0KGgo=", mediaType: "image/png" };
    const refused = await rpc("SendMessage", { message: { ...message("echo", "x"), parts: [png] } });
    expect(refused.error.code).toBe(-32005);
    const jpeg = await rpc("SendMessage", { message: { ...message("images", "x"), parts: [{ raw: "AA==", mediaType: "image/jpeg" }] } });
    expect(jpeg.error.code).toBe(-32005);
    const accepted = await result("SendMessage", { message: { ...message("images", "x"), parts: [png, { text: "md", mediaType: "text/markdown" }] } });
    expect(accepted.task.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("a request body that is not application/json ⇒ -32005", async () => {
    const response = await post({ jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "x" } }, { ...VERSION, "content-type": "text/plain" });
    expect(((await response.json()) as any).error.code).toBe(-32005);
  });

  test("Idempotency-Key: a retried send reaches the same task; without it a repeated messageId starts a new one", async () => {
    const params = { message: message("echo", "once") };
    const first = (await result("SendMessage", params, { ...VERSION, "Idempotency-Key": "key-1" })).task;
    const retry = (await result("SendMessage", params, { ...VERSION, "Idempotency-Key": "key-1" })).task;
    expect(retry.id).toBe(first.id);
    const again = (await result("SendMessage", params)).task;
    expect(again.id).not.toBe(first.id);
    const tooLong = await rpc("SendMessage", params, { ...VERSION, "Idempotency-Key": "k".repeat(257) });
    expect(tooLong.error.code).toBe(-32602);
  });

  test("proto field names (history_length, return_immediately) are read like their JSON names", async () => {
    const { messageId, ...rest } = message("echo", "x");
    const params = { message: { ...rest, message_id: messageId }, configuration: { history_length: 0, return_immediately: false } };
    const task = (await result("SendMessage", params)).task;
    expect(task.status.state).toBe("TASK_STATE_COMPLETED");
    expect(task.history).toBeUndefined();
  });

  test("JSON nested deeper than 64 levels ⇒ -32600; invalid JSON ⇒ -32700", async () => {
    const deep = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", ...VERSION }, body: `{"jsonrpc":"2.0","id":1,"method":"GetTask","params":${"[".repeat(10_000)}${"]".repeat(10_000)}}` });
    expect(((await deep.json()) as any).error.code).toBe(-32600);
    const invalid = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", ...VERSION }, body: "{nope" });
    expect(((await invalid.json()) as any).error.code).toBe(-32700);
  });
});

describe("streams (§3.1.2, §3.1.6)", () => {
  test("a task stream begins with the Task as submitted and closes at the terminal state", async () => {
    const events = await streamed("SendStreamingMessage", { message: message("echo", "x") });
    expect(events[0].task.status.state).toBe("TASK_STATE_SUBMITTED");
    expect(events.at(-1).statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("historyLength applies to the Task a stream opens with", async () => {
    const events = await streamed("SendStreamingMessage", { message: message("echo", "x"), configuration: { historyLength: 0 } });
    expect(events[0].task.id).toBeString();
    expect(events[0].task.history).toBeUndefined();
    const full = await streamed("SendStreamingMessage", { message: message("echo", "x") });
    expect(full[0].task.history).toHaveLength(1);
  });

  test("a message-only stream holds exactly one Message and closes", async () => {
    const events = await streamed("SendStreamingMessage", { message: message("hello", "x") });
    expect(events).toHaveLength(1);
    expect(events[0].message.parts).toEqual([{ text: "hi there" }]);
  });

  test("a streamed turn ends at input-required; the streamed answer continues the task to completion", async () => {
    const first = await streamed("SendStreamingMessage", { message: message("ask", "hi") });
    expect(first.at(-1).statusUpdate.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const taskId = first[0].task.id;
    const second = await streamed("SendStreamingMessage", { message: message("ask", "Ada", { taskId }) });
    expect(second[0].task.id).toBe(taskId);
    expect(second.at(-1).statusUpdate.status).toMatchObject({ state: "TASK_STATE_COMPLETED", message: { parts: [{ text: "Hello, Ada!" }] } });
  });

  test("SubscribeToTask on a task waiting for input stays open through the next turn to the terminal state", async () => {
    const asked = (await send("ask", "hi")).task;
    const subscription = streamed("SubscribeToTask", { id: asked.id });
    await Bun.sleep(50);
    await send("ask", "Ada", { taskId: asked.id });
    const events = await subscription;
    expect(events[0].task.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    expect(events.at(-1).statusUpdate.status.state).toBe("TASK_STATE_COMPLETED");
  });

  test("SubscribeToTask on a terminal task ⇒ -32004", async () => {
    const done = (await send("echo", "x")).task;
    const text = await (await post({ jsonrpc: "2.0", id: 1, method: "SubscribeToTask", params: { id: done.id } })).json();
    expect((text as any).error.code).toBe(-32004);
  });
});

describe("GetTask, CancelTask and historyLength (§3.2.4)", () => {
  test("historyLength: absent ⇒ all, 0 ⇒ none, n ⇒ the n most recent; negative ⇒ -32602", async () => {
    const asked = (await send("ask", "hi")).task;
    await send("ask", "Ada", { taskId: asked.id });
    expect((await result("GetTask", { id: asked.id })).history).toHaveLength(3);
    expect((await result("GetTask", { id: asked.id, historyLength: 0 })).history).toBeUndefined();
    const last = (await result("GetTask", { id: asked.id, historyLength: 1 })).history;
    expect(last.map((m: any) => m.parts[0].text)).toEqual(["Ada"]);
    expect((await rpc("GetTask", { id: asked.id, historyLength: -1 })).error.code).toBe(-32602);
    const sent = await send("echo", "x", {}, { historyLength: 0 });
    expect(sent.task.history).toBeUndefined();
  });

  test("GetTask and CancelTask of an unknown task ⇒ -32001; cancelling a finished one ⇒ -32002", async () => {
    expect((await rpc("GetTask", { id: "nope" })).error.code).toBe(-32001);
    expect((await rpc("CancelTask", { id: "nope" })).error.code).toBe(-32001);
    const done = (await send("echo", "x")).task;
    expect((await rpc("CancelTask", { id: done.id })).error.code).toBe(-32002);
  });

  test("a task waiting for input can be canceled", async () => {
    const asked = (await send("ask", "hi")).task;
    expect((await result("CancelTask", { id: asked.id })).status.state).toBe("TASK_STATE_CANCELED");
  });
});

describe("ListTasks (§3.1.4)", () => {
  const contextId = `list-${crypto.randomUUID()}`;
  const ids: string[] = [];

  test("filters by context, newest first, cursor pages without repeats, empty token on the last page", async () => {
    for (let i = 0; i < 5; i++) {
      ids.push((await send("echo", `t${i}`, { contextId })).task.id);
      await Bun.sleep(2);
    }
    const seen: string[] = [];
    let pageToken = "";
    for (let page = 0; page < 5; page++) {
      const answer = await result("ListTasks", { contextId, pageSize: 2, pageToken });
      expect(answer.totalSize).toBe(5);
      expect(answer.pageSize).toBe(2);
      seen.push(...answer.tasks.map((task: any) => task.id));
      pageToken = answer.nextPageToken;
      if (pageToken === "") break;
    }
    expect(pageToken).toBe("");
    expect(seen).toEqual([...ids].reverse());
  });

  test("artifacts are omitted unless includeArtifacts; historyLength applies to each task", async () => {
    const plain = await result("ListTasks", { contextId });
    expect(plain.tasks.every((task: any) => task.artifacts === undefined)).toBe(true);
    const full = await result("ListTasks", { contextId, includeArtifacts: true, historyLength: 0 });
    expect(full.tasks[0].artifacts[0].parts[0].text).toBe("echo: t4");
    expect(full.tasks.every((task: any) => task.history === undefined)).toBe(true);
  });

  test("status and statusTimestampAfter filter; bad arguments ⇒ -32602", async () => {
    const asked = (await send("ask", "hi", { contextId })).task;
    const waiting = await result("ListTasks", { contextId, status: "TASK_STATE_INPUT_REQUIRED" });
    expect(waiting.tasks.map((task: any) => task.id)).toEqual([asked.id]);
    const recent = await result("ListTasks", { contextId, statusTimestampAfter: asked.status.timestamp });
    expect(recent.tasks.map((task: any) => task.id)).toEqual([asked.id]);
    for (const params of [{ pageSize: 0 }, { pageSize: 101 }, { pageToken: "not-a-token" }, { status: "TASK_STATE_NAPPING" }, { statusTimestampAfter: "yesterday" }]) {
      expect((await rpc("ListTasks", params)).error.code).toBe(-32602);
    }
  });
});

describe("capabilities, versions and the card", () => {
  test("push notification config methods ⇒ -32003; GetExtendedAgentCard ⇒ -32004; unknown ⇒ -32601", async () => {
    for (const method of ["CreateTaskPushNotificationConfig", "GetTaskPushNotificationConfig", "ListTaskPushNotificationConfigs", "DeleteTaskPushNotificationConfig"]) {
      expect((await rpc(method, { taskId: "x" })).error.code).toBe(-32003);
    }
    expect((await rpc("GetExtendedAgentCard", {})).error.code).toBe(-32004);
    expect((await rpc("FlyToTheMoon", {})).error.code).toBe(-32601);
    // Callers cannot grow the stats table with made-up method names.
    expect(server.stats.methods.FlyToTheMoon).toBeUndefined();
    expect(server.stats.methods["(unknown)"]).toBeGreaterThanOrEqual(1);
  });

  test("A2A-Version must be Major.Minor 1.0 (a patch number does not count), by header or query parameter; anything else ⇒ -32009", async () => {
    for (const version of ["1.7", "1.banana", "1", "1.0.x", "2.0", "0.3", "1.0.1.1"]) {
      expect((await rpc("GetTask", { id: "x" }, { "A2A-Version": version })).error.code).toBe(-32009);
    }
    expect((await rpc("GetTask", { id: "x" }, { "A2A-Version": "1.0.1" })).error.code).toBe(-32001);
    expect((await rpc("GetTask", { id: "x" }, {})).error.code).toBe(-32009);
    const byQuery = await fetch(`${server.url}?A2A-Version=1.0`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "x" } }) });
    expect(((await byQuery.json()) as any).error.code).toBe(-32001);
  });

  test("the card carries ETag and Last-Modified; If-None-Match and If-Modified-Since revalidate with 304", async () => {
    const cardUrl = `${server.url}.well-known/agent-card.json`;
    const first = await fetch(cardUrl);
    const etag = first.headers.get("etag") ?? "";
    const lastModified = first.headers.get("last-modified") ?? "";
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(Number.isNaN(Date.parse(lastModified))).toBe(false);
    expect((await fetch(cardUrl, { headers: { "if-none-match": etag } })).status).toBe(304);
    expect((await fetch(cardUrl, { headers: { "if-modified-since": lastModified } })).status).toBe(304);
    expect((await fetch(cardUrl, { headers: { "if-modified-since": "Thu, 01 Jan 1970 00:00:00 GMT" } })).status).toBe(200);
    expect((await fetch(cardUrl, { headers: { "if-none-match": '"other"', "if-modified-since": lastModified } })).status).toBe(200);
  });

  test("the card declares the skills' media types", () => {
    const card = server.cards.a2a as any;
    expect(card.defaultInputModes).toEqual(["text/plain"]);
    expect(card.skills.find((skill: any) => skill.id === "images").inputModes).toEqual(["image/png", "text/*"]);
    expect(card.skills.find((skill: any) => skill.id === "echo").tags).toEqual(["echo"]);
  });

  test("a card missing required fields is refused at construction, naming every problem", () => {
    const base: A2aServerOptions = { name: "x", description: "y", skills: { a: { description: "z", handler: () => "" } } };
    const cases: Array<[Partial<A2aServerOptions>, string]> = [
      [{ name: "" }, "name must be a non-empty string"],
      [{ description: " " }, "description must be a non-empty string"],
      [{ version: "" }, "version must be a non-empty string"],
      [{ skills: {} }, "skills must name at least one skill"],
      [{ skills: { a: { description: "", handler: () => "" } } }, "skills.a.description must be a non-empty string"],
      [{ skills: { a: { description: "z", inputModes: ["png"], handler: () => "" } } }, "skills.a: png is not a media type"],
      [{ defaultOutputModes: ["text plain"] }, "text plain is not a media type"],
      [{ skills: { a: { description: "z" } as SkillDefinition } }, "skills.a.handler must be a function"],
    ];
    for (const [change, problem] of cases) {
      let error: unknown;
      try {
        A2aServer.start({ ...base, ...change }).stop();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(A2aError);
      expect((error as A2aError).code).toBe("CARD_INVALID");
      expect((error as A2aError).message).toContain(problem);
    }
  });
});
