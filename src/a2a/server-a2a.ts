/**
 * The server side of A2A 1.0 JSON-RPC: `SendMessage`, `SendStreamingMessage`, `GetTask`,
 * `CancelTask`, `SubscribeToTask`. Skills are chosen by `message.metadata.ruvector.skill`
 * (optional when the agent has one skill); the message id makes sends idempotent; stream
 * frames carry sequence ids, and `Last-Event-ID` resumes a subscription exactly.
 * @module
 */
import { A2aError } from "../errors.ts";
import { asObject, isObject, optString } from "./json.ts";
import { policyFromJson } from "./policy.ts";
import { admitTask, readParams, rpcFailure, rpcResult, sseFrame, sseResponse, taskIdOf, type RpcCall, type ServerContext } from "./server-http.ts";
import type { LoggedUpdate, Subscription, TaskRecord } from "./server-tasks.ts";
import type { TaskUpdate } from "./types.ts";
import { A2A_VERSION, endsStream, messageFromWire, RUVECTOR_METADATA_KEY, taskToWire, updateToWire } from "./wire-a2a.ts";

/** Answers one A2A 1.0 JSON-RPC call. */
export async function handleA2aCall(context: ServerContext, call: RpcCall): Promise<Response> {
  try {
    requireVersion(call.request);
    switch (call.method) {
      case "SendMessage":
        return rpcResult(call.id, await sendMessage(context, call.params));
      case "SendStreamingMessage":
        return streamNewTask(context, call);
      case "GetTask":
        return rpcResult(call.id, taskToWire(context.registry.get(taskIdOf(call.params)).snapshot()));
      case "CancelTask":
        return rpcResult(call.id, taskToWire(context.registry.cancel(taskIdOf(call.params)).snapshot()));
      case "SubscribeToTask":
        return subscribeToTask(context, call);
      default:
        throw new A2aError("METHOD_NOT_FOUND", `unknown method ${call.method}`);
    }
  } catch (error) {
    return rpcFailure("a2a", call.id, error);
  }
}

function requireVersion(request: Request): void {
  const version = request.headers.get("A2A-Version") ?? "";
  if (version.split(".")[0] !== A2A_VERSION.split(".")[0]) {
    throw new A2aError("VERSION_NOT_SUPPORTED", `A2A-Version '${version}' is not supported; this agent speaks ${A2A_VERSION}`);
  }
}

function startTask(context: ServerContext, params: unknown): TaskRecord {
  const { message, contextId, skill, policy } = readParams(() => {
    const json = asObject(params, "params");
    const wire = asObject(json.message, "params.message");
    const message = messageFromWire(wire, "params.message");
    const extension = isObject(message.metadata?.[RUVECTOR_METADATA_KEY]) ? message.metadata[RUVECTOR_METADATA_KEY] : {};
    return {
      message,
      contextId: optString(wire.contextId, "params.message.contextId"),
      skill: optString(extension.skill, `params.message.metadata.${RUVECTOR_METADATA_KEY}.skill`),
      policy: policyFromJson(extension.policy, `params.message.metadata.${RUVECTOR_METADATA_KEY}.policy`, "camelCase"),
    };
  });
  if (!message.messageId) throw new A2aError("INVALID_PARAMS", "params.message.messageId is required");
  const known = context.registry.findByKey(message.messageId);
  if (known) return known;
  const skillId = skill ?? onlySkill(context);
  const definition = admitTask(context, skillId, policy);
  return context.registry.start({
    id: crypto.randomUUID(),
    contextId: contextId ?? crypto.randomUUID(),
    skill: skillId,
    message,
    policy,
    handler: definition.handler,
    idempotencyKey: message.messageId,
  });
}

function onlySkill(context: ServerContext): string {
  const [only, ...others] = context.skills.keys();
  if (only === undefined || others.length > 0) {
    const skills = [...context.skills.keys()].join(", ");
    throw new A2aError("INVALID_PARAMS", `message.metadata.${RUVECTOR_METADATA_KEY}.skill is required (skills: ${skills})`);
  }
  return only;
}

async function sendMessage(context: ServerContext, params: unknown): Promise<unknown> {
  const record = startTask(context, params);
  const configuration = isObject(params) && isObject(params.configuration) ? params.configuration : {};
  if (configuration.returnImmediately !== true) await record.finished;
  return { task: taskToWire(record.snapshot()) };
}

function streamNewTask(context: ServerContext, call: RpcCall): Response {
  return streamFromSnapshot(context, startTask(context, call.params), call);
}

/**
 * Subscribes to a task. With a `Last-Event-ID` we still hold, the missed updates are
 * replayed, even when the task has ended meanwhile (the spec refuses terminal tasks; a
 * resuming client deserves what it missed). Otherwise the stream opens with a snapshot.
 */
function subscribeToTask(context: ServerContext, call: RpcCall): Response {
  const record = context.registry.get(taskIdOf(call.params));
  const lastEventId = Number(call.request.headers.get("last-event-id") ?? Number.NaN);
  const oldest = record.log[0]?.seq ?? 1;
  if (Number.isSafeInteger(lastEventId) && lastEventId >= oldest - 1 && lastEventId <= record.seq) {
    const subscription = context.registry.subscribe(record.task.id, lastEventId, isLast);
    if (endsStream(record.state) && lastEventId === record.seq) subscription.close();
    return sseResponse(frames(subscription, call, record.task.contextId), () => subscription.close(), call);
  }
  if (endsStream(record.state)) {
    throw new A2aError("UNSUPPORTED_OPERATION", `task ${record.task.id} is ${record.state} and cannot be subscribed to`);
  }
  return streamFromSnapshot(context, record, call);
}

/** A stream that opens with a snapshot of the task and goes on with what follows it. */
function streamFromSnapshot(context: ServerContext, record: TaskRecord, call: RpcCall): Response {
  const snapshot: LoggedUpdate = { seq: record.seq, update: { kind: "task", task: record.snapshot() } };
  const subscription = context.registry.subscribe(record.task.id, record.seq, isLast);
  if (endsStream(record.state)) subscription.close();
  return sseResponse(frames(subscription, call, record.task.contextId, snapshot), () => subscription.close(), call);
}

function isLast(update: TaskUpdate): boolean {
  return update.kind === "status" && endsStream(update.status.state);
}

async function* frames(subscription: Subscription, call: RpcCall, contextId: string | undefined, first?: LoggedUpdate): AsyncGenerator<string> {
  if (first) yield frame(first, call, contextId);
  for await (const entry of subscription) yield frame(entry, call, contextId);
}

function frame(entry: LoggedUpdate, call: RpcCall, contextId: string | undefined): string {
  return sseFrame({ jsonrpc: "2.0", id: call.id, result: updateToWire(entry.update, contextId) }, { id: entry.seq });
}
