/**
 * Interoperability with the official `@a2a-js/sdk` (1.3.0, A2A 1.0): a real SDK server
 * (DefaultRequestHandler + its Express adapters, card signed by the SDK's own
 * `generateAgentCardSignature`) against our client, and our server against the SDK's
 * verifier and client.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server as HttpServer } from "node:http";
import express from "express";
import * as jose from "jose";
import { generateAgentCardSignature, GetTaskRequest, ListTasksRequest, ListTasksResponse, Message, SendMessageRequest, Task, TaskArtifactUpdateEvent, TaskStatusUpdateEvent, verifyAgentCardSignature } from "@a2a-js/sdk";
import type { AgentCard } from "@a2a-js/sdk";
import { ClientFactory } from "@a2a-js/sdk/client";
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor, type ExecutionEventBus } from "@a2a-js/sdk/server";
import { agentCardHandler, jsonRpcHandler, UserBuilder } from "@a2a-js/sdk/server/express";
import { A2aClient, A2aServer, SKILL_COST_EXTENSION, type TaskUpdate, type TrustedKey } from "../../src/a2a/index.ts";
import { CardSignatureInvalid, PolicyViolation } from "../../src/a2a/errors.ts";
import { collect, droppingFetch, tamperingFetch } from "./fixtures/peers.ts";

/** An SDK agent: text "slow" waits for cancellation, anything else streams three artifact chunks. */
class SdkExecutor implements AgentExecutor {
  readonly #cancels = new Map<string, () => void>();

  async execute(context: Parameters<AgentExecutor["execute"]>[0], bus: ExecutionEventBus): Promise<void> {
    const ids = { taskId: context.taskId, contextId: context.contextId };
    const text = context.userMessage.parts[0]?.content?.$case === "text" ? context.userMessage.parts[0].content.value : "";
    bus.publish(AgentEvent.task(Task.fromJSON({ id: ids.taskId, contextId: ids.contextId, status: status("SUBMITTED"), history: [Message.toJSON(context.userMessage)] })));
    bus.publish(AgentEvent.statusUpdate(TaskStatusUpdateEvent.fromJSON({ ...ids, status: status("WORKING") })));
    if (text === "slow") {
      await new Promise<void>((resolve) => this.#cancels.set(ids.taskId, resolve));
      return;
    }
    for (let i = 0; i < 3; i++) {
      const artifact = { artifactId: "out", name: "out", parts: [{ text: `chunk ${i};` }] };
      bus.publish(AgentEvent.artifactUpdate(TaskArtifactUpdateEvent.fromJSON({ ...ids, artifact, append: i > 0, lastChunk: i === 2 })));
      await Bun.sleep(5);
    }
    bus.publish(AgentEvent.statusUpdate(TaskStatusUpdateEvent.fromJSON({ ...ids, status: status("COMPLETED") })));
    bus.finished();
  }

  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    bus.publish(AgentEvent.statusUpdate(TaskStatusUpdateEvent.fromJSON({ taskId, status: status("CANCELED") })));
    bus.finished();
    this.#cancels.get(taskId)?.();
  }
}

function status(state: string): Record<string, string> {
  return { state: `TASK_STATE_${state}`, timestamp: new Date().toISOString() };
}

let http: HttpServer;
let sdkUrl = "";
const trusted: Record<string, TrustedKey> = {};

beforeAll(async () => {
  const app = express();
  http = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => http.once("listening", resolve));
  const address = http.address();
  sdkUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
  const card = AgentCardFromJson({
    name: "sdk-agent",
    description: "An @a2a-js/sdk agent",
    version: "1.0.0",
    supportedInterfaces: [{ url: sdkUrl, protocolBinding: "JSONRPC", protocolVersion: "1.0" }],
    capabilities: { streaming: true, pushNotifications: false, extensions: [{ uri: SKILL_COST_EXTENSION, params: { skills: { echo: { usdPerTask: 0.05 } } } }] },
    defaultInputModes: ["text/plain"],
    defaultOutputModes: ["text/plain"],
    skills: [{ id: "echo", name: "Echo", description: "Streams chunks", tags: ["test"] }],
  });
  const ed = await jose.generateKeyPair("EdDSA", { crv: "Ed25519" });
  const ec = await jose.generateKeyPair("ES256");
  trusted["sdk-ed"] = (await jose.exportJWK(ed.publicKey)) as TrustedKey;
  trusted["sdk-ec"] = (await jose.exportJWK(ec.publicKey)) as TrustedKey;
  const signEd = generateAgentCardSignature(ed.privateKey, { alg: "EdDSA", kid: "sdk-ed", typ: "JOSE" });
  const signEc = generateAgentCardSignature(ec.privateKey, { alg: "ES256", kid: "sdk-ec", typ: "JOSE" });
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), new SdkExecutor(), undefined, undefined, undefined, undefined, async (c) => signEc(await signEd(c)));
  app.use("/.well-known/agent-card.json", agentCardHandler({ agentCardProvider: handler }));
  app.use("/", jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
});

afterAll(() => {
  http.closeAllConnections();
  http.close();
});

/** The SDK's handler takes its own card type; our JSON is the wire form of it. */
function AgentCardFromJson(json: Record<string, unknown>): AgentCard {
  return json as unknown as AgentCard;
}

const only = (kid: string) => ({ [kid]: trusted[kid]! });
const connect = (options: Parameters<typeof A2aClient.connect>[1] = {}) => A2aClient.connect(sdkUrl, { trustedKeys: trusted, cardCache: null, ...options });

describe("our client against an @a2a-js/sdk server", () => {
  test("discovers and verifies the SDK-signed card (EdDSA and ES256 signatures)", async () => {
    const byEd = await connect({ trustedKeys: only("sdk-ed") });
    expect(byEd.dialect).toBe("a2a");
    expect(byEd.card.signature).toEqual({ scheme: "jws", alg: "EdDSA", kid: "sdk-ed" });
    expect(byEd.card.skills.map((skill) => [skill.id, skill.cost])).toEqual([["echo", { usdPerTask: 0.05 }]]);
    const byEc = await connect({ trustedKeys: only("sdk-ec") });
    expect(byEc.card.signature?.alg).toBe("ES256");
  });

  test("a tampered SDK card is rejected", async () => {
    const error = await connect({ fetch: tamperingFetch((card) => ({ ...card, description: "tampered" })) }).catch((e) => e);
    expect(error).toBeInstanceOf(CardSignatureInvalid);
  });

  test("the cost declared in the SDK-signed card drives maxCostUsd", async () => {
    const client = await connect();
    await expect(client.sendTask({ skill: "echo", input: "x", policy: { maxCostUsd: 0.01 } })).rejects.toBeInstanceOf(PolicyViolation);
  });

  test("sendTask (SendMessage), then streamTask (SubscribeToTask) and getTask (GetTask)", async () => {
    const client = await connect();
    const sent = await client.sendTask({ skill: "echo", input: "hello" });
    expect(["submitted", "working", "completed"]).toContain(sent.status.state);
    const updates = await collect(client.streamTask(sent.id));
    expect(finalState(updates)).toBe("completed");
    const task = await client.getTask(sent.id);
    expect(task.status.state).toBe("completed");
    expect(task.artifacts[0]?.parts.map((part) => (part.kind === "text" ? part.text : ""))).toEqual(["chunk 0;", "chunk 1;", "chunk 2;"]);
  });

  test("streamTask(request) (SendStreamingMessage) yields the task, statuses and artifact chunks", async () => {
    const client = await connect();
    const updates = await collect(client.streamTask({ skill: "echo", input: "stream" }));
    expect(updates[0]?.kind).toBe("task");
    const chunks = updates.flatMap((u) => (u.kind === "artifact" ? [[u.append, u.artifact.parts[0]]] : []));
    expect(chunks).toEqual([[false, { kind: "text", text: "chunk 0;" }], [true, { kind: "text", text: "chunk 1;" }], [true, { kind: "text", text: "chunk 2;" }]]);
    expect(finalState(updates)).toBe("completed");
  });

  test("cancelTask (CancelTask) ends a running SDK task", async () => {
    const client = await connect();
    const updates: TaskUpdate[] = [];
    for await (const update of client.streamTask({ skill: "echo", input: "slow" })) {
      updates.push(update);
      if (update.kind === "status" && update.status.state === "working") {
        expect((await client.cancelTask(update.taskId)).status.state).toBe("canceled");
      }
    }
    expect(finalState(updates)).toBe("canceled");
  });

  test("a dropped SDK stream (no event ids) is resumed from a snapshot without losing artifacts", async () => {
    const fetch = droppingFetch(2, "reset");
    const client = await connect({ fetch });
    const updates = await collect(client.streamTask({ skill: "echo", input: "drop" }));
    expect(fetch.dropped).toBe(1);
    expect(finalState(updates)).toBe("completed");
    const text = updates.reduce((acc, u) => (u.kind === "artifact" ? (u.append ? acc : "") + u.artifact.parts.map((p) => (p.kind === "text" ? p.text : "")).join("") : acc), "");
    expect(text).toBe("chunk 0;chunk 1;chunk 2;");
  });
});

describe("our server against the @a2a-js/sdk", () => {
  const ours = A2aServer.start({ name: "ours", description: "A test agent", skills: { echo: { description: "Echoes its input", handler: ({ text }) => `echo: ${text}` } }, signing: { jws: ["EdDSA", "ES256"] } });
  afterAll(() => ours.stop());

  test("the SDK's verifyAgentCardSignature accepts each of our JWS signatures (EdDSA and ES256)", async () => {
    const card = (await (await fetch(`${ours.url}.well-known/agent-card.json`)).json()) as AgentCard;
    expect(card.signatures).toHaveLength(2);
    for (const signature of card.signatures) {
      const verify = verifyAgentCardSignature(async (kid) => ours.trustedKeys[kid] as jose.JWK);
      await verify({ ...card, signatures: [signature] });
    }
  });

  test("the SDK's client sends and streams tasks to our server", async () => {
    const client = await new ClientFactory().createFromUrl(ours.url);
    const request = SendMessageRequest.fromJSON({ message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text: "from the sdk" }] } });
    const result = await client.sendMessage(request);
    expect(Task.toJSON(result as Task)).toMatchObject({ status: { state: "TASK_STATE_COMPLETED" }, artifacts: [{ parts: [{ text: "echo: from the sdk" }] }] });
    const events = [];
    for await (const event of client.sendMessageStream({ ...request, message: { ...request.message!, messageId: crypto.randomUUID() } })) events.push(event.payload?.$case);
    expect(events[0]).toBe("task");
    expect(events.at(-1)).toBe("statusUpdate");
  });

  test("the SDK's client lists tasks by context and gets one with historyLength 0", async () => {
    const client = await new ClientFactory().createFromUrl(ours.url);
    const contextId = `sdk-${crypto.randomUUID()}`;
    const message = { messageId: crypto.randomUUID(), role: "ROLE_USER", contextId, parts: [{ text: "listed" }] };
    const sent = Task.toJSON((await client.sendMessage(SendMessageRequest.fromJSON({ message }))) as Task) as { id: string };
    const page = ListTasksResponse.toJSON(await client.listTasks(ListTasksRequest.fromJSON({ contextId, includeArtifacts: true }))) as Record<string, any>;
    expect(page.tasks.map((task: { id: string }) => task.id)).toEqual([sent.id]);
    expect(page.tasks[0].artifacts[0].parts).toEqual([{ text: "echo: listed" }]);
    const task = Task.toJSON(await client.getTask(GetTaskRequest.fromJSON({ id: sent.id, historyLength: 0 }))) as Record<string, unknown>;
    expect(task.history ?? []).toEqual([]);
  });
});

function finalState(updates: readonly TaskUpdate[]): string | undefined {
  const last = updates.at(-1);
  return last?.kind === "status" ? last.status.state : last?.kind === "task" ? last.task.status.state : undefined;
}
