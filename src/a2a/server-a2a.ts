/**
 * The server side of A2A 1.0 JSON-RPC: `SendMessage`, `SendStreamingMessage`, `GetTask`,
 * `ListTasks`, `CancelTask`, `SubscribeToTask`, and the spec's errors for the methods of
 * capabilities this agent does not declare. Skills are chosen by
 * `message.metadata.ruvector.skill` (optional when the agent has one skill); a message with
 * a `taskId` resumes that task; an `Idempotency-Key` header makes sends idempotent; stream frames carry
 * sequence ids, and `Last-Event-ID` resumes a subscription exactly.
 * @module
 */
import { A2aError } from "./errors.ts";
import { asObject, isObject, optBoolean, optString, protoJsonNames, type JsonObject } from "./json.ts";
import { policyFromJson } from "./policy.ts";
import { listTasks } from "./server-list.ts";
import { admitTask, historyLengthOf, readParams, rpcFailure, rpcResult, sseFrame, sseResponse, taskIdOf, type RpcCall, type ServerContext } from "./server-http.ts";
import type { LoggedUpdate, Subscription } from "./server-subscription.ts";
import type { TaskRecord } from "./server-tasks.ts";
import { endsTurn, isTerminal, type Message, type TaskUpdate } from "./types.ts";
import { A2A_VERSION, messageFromWire, messageToWire, speaksVersion, RUVECTOR_METADATA_KEY, taskToWire, updateToWire, type TaskView } from "./wire-a2a.ts";

const PUSH_METHODS: ReadonlySet<string> = new Set([
  "CreateTaskPushNotificationConfig",
  "GetTaskPushNotificationConfig",
  "ListTaskPushNotificationConfigs",
  "DeleteTaskPushNotificationConfig",
]);

/** Answers one A2A 1.0 JSON-RPC call. */
export async function handleA2aCall(context: ServerContext, received: RpcCall): Promise<Response> {
  const call = { ...received, params: protoJsonNames(received.params) };
  try {
    requireVersion(call.request);
    switch (call.method) {
      case "SendMessage":
        return rpcResult(call.id, await sendMessage(context, call));
      case "SendStreamingMessage":
        return await streamMessage(context, call);
      case "GetTask":
        return rpcResult(call.id, getTask(context, call.params));
      case "ListTasks":
        return rpcResult(call.id, listTasks(context.registry, call.params));
      case "CancelTask":
        return rpcResult(call.id, taskToWire(context.registry.cancel(taskIdOf(call.params)).snapshot()));
      case "SubscribeToTask":
        return subscribeToTask(context, call);
      case "GetExtendedAgentCard":
        throw new A2aError("UNSUPPORTED_OPERATION", "this agent declares no extended agent card");
      default:
        if (PUSH_METHODS.has(call.method)) throw new A2aError("PUSH_NOTIFICATION_NOT_SUPPORTED", "this agent does not support push notifications");
        throw new A2aError("METHOD_NOT_FOUND", `unknown method ${call.method}`);
    }
  } catch (error) {
    return rpcFailure("a2a", call.id, error);
  }
}

/**
 * Spec §3.6: the requested `A2A-Version` (header, or query parameter) must name this
 * agent's `Major.Minor` (a patch number does not count); an absent one means 0.3, which
 * this agent does not speak.
 */
function requireVersion(request: Request): void {
  const requested = (request.headers.get("A2A-Version") ?? new URL(request.url).searchParams.get("A2A-Version") ?? "").trim();
  if (speaksVersion(requested)) return;
  const shown = requested === "" ? "absent (0.3)" : `'${requested.slice(0, 32)}'`;
  throw new A2aError("VERSION_NOT_SUPPORTED", `A2A-Version ${shown} is not supported; this agent speaks ${A2A_VERSION}`);
}

/** A `SendMessage` request as read. */
interface SendRequest {
  message: Message;
  /** The `Idempotency-Key` header: a second send with it reaches the same task instead of starting one. */
  idempotencyKey: string | undefined;
  taskId: string | undefined;
  contextId: string | undefined;
  skill: string | undefined;
  policy: ReturnType<typeof policyFromJson>;
  view: TaskView;
  returnImmediately: boolean;
}

const MAX_IDEMPOTENCY_KEY = 256;

function readSendRequest(call: RpcCall): SendRequest {
  const key = call.request.headers.get("idempotency-key") ?? undefined;
  if (key !== undefined && (key === "" || key.length > MAX_IDEMPOTENCY_KEY)) {
    throw new A2aError("INVALID_PARAMS", `Idempotency-Key must be 1..${MAX_IDEMPOTENCY_KEY} characters`);
  }
  const params = call.params;
  return readParams(() => {
    const json = asObject(params, "params");
    const wire = asObject(json.message, "params.message");
    const message = messageFromWire(wire, "params.message");
    const extension = isObject(message.metadata?.[RUVECTOR_METADATA_KEY]) ? message.metadata[RUVECTOR_METADATA_KEY] : {};
    const configuration = isObject(json.configuration) ? json.configuration : {};
    return {
      message,
      idempotencyKey: key,
      taskId: optString(wire.taskId, "params.message.taskId") || undefined,
      contextId: optString(wire.contextId, "params.message.contextId") || undefined,
      skill: optString(extension.skill, `params.message.metadata.${RUVECTOR_METADATA_KEY}.skill`),
      policy: policyFromJson(extension.policy, `params.message.metadata.${RUVECTOR_METADATA_KEY}.policy`, "camelCase"),
      view: { historyLength: historyLengthOf(configuration, "params.configuration.historyLength") },
      returnImmediately: optBoolean(configuration.returnImmediately, "params.configuration.returnImmediately") ?? false,
    };
  });
}

/** Starts a task, resumes the task the message names, or finds the one this message id already reached. */
function acceptMessage(context: ServerContext, request: SendRequest): TaskRecord {
  const { message, taskId, contextId, skill, policy, idempotencyKey } = request;
  if (!message.messageId) throw new A2aError("INVALID_PARAMS", "params.message.messageId is required");
  const known = idempotencyKey === undefined ? undefined : context.registry.findByKey(idempotencyKey);
  if (known) return known;
  if (taskId !== undefined) {
    const record = context.registry.get(taskId);
    if (contextId !== undefined && contextId !== record.task.contextId) {
      throw new A2aError("INVALID_PARAMS", `message.contextId ${contextId} is not the contextId ${record.task.contextId} of task ${taskId}`);
    }
    if (skill !== undefined && skill !== record.skill) {
      throw new A2aError("INVALID_PARAMS", `task ${taskId} runs skill ${record.skill}, not ${skill}`);
    }
    requireContentTypes(context, record.skill, message);
    return context.registry.resume(record, message, idempotencyKey);
  }
  const skillId = skill ?? onlySkill(context);
  const definition = admitTask(context, skillId, policy);
  requireContentTypes(context, skillId, message);
  return context.registry.start({
    id: crypto.randomUUID(),
    contextId: contextId ?? crypto.randomUUID(),
    skill: skillId,
    message,
    policy,
    handler: definition.handler,
    idempotencyKey,
  });
}

/** `CONTENT_TYPE_NOT_SUPPORTED` for a part whose media type the skill does not accept. */
function requireContentTypes(context: ServerContext, skill: string, message: Message): void {
  const accepted = context.skills.get(skill)?.inputModes ?? context.defaultInputModes;
  for (const part of message.parts) {
    if (part.mediaType === undefined || accepted.some((mode) => mediaTypeMatches(mode, part.mediaType ?? ""))) continue;
    throw new A2aError("CONTENT_TYPE_NOT_SUPPORTED", `skill ${skill} does not accept ${part.mediaType} (accepted: ${accepted.join(", ")})`);
  }
}

function mediaTypeMatches(mode: string, mediaType: string): boolean {
  const [type = "", subtype = ""] = mediaType.split(";")[0]?.trim().toLowerCase().split("/") ?? [];
  const [modeType, modeSubtype] = mode.toLowerCase().split("/");
  return (modeType === "*" || modeType === type) && (modeSubtype === "*" || modeSubtype === subtype);
}

function onlySkill(context: ServerContext): string {
  const [only, ...others] = context.skills.keys();
  if (only === undefined || others.length > 0) {
    const skills = [...context.skills.keys()].join(", ");
    throw new A2aError("INVALID_PARAMS", `message.metadata.${RUVECTOR_METADATA_KEY}.skill is required (skills: ${skills})`);
  }
  return only;
}

/**
 * Blocking (the default) answers when the turn ends: a terminal state, or one waiting for
 * input or authorization. Non-blocking answers once the handler has shown its first event,
 * since until then its answer may still be a bare message.
 */
async function sendMessage(context: ServerContext, call: RpcCall): Promise<unknown> {
  const request = readSendRequest(call);
  const record = acceptMessage(context, request);
  // The answer waits on the handler, however long it takes: Bun's idle timeout must not cut it.
  call.server.timeout(call.request, 0);
  await record.decided;
  if (record.reply) return { message: replyToWire(record.reply, record) };
  if (!request.returnImmediately) await record.turnEnded;
  return { task: taskToWire(record.snapshot(), request.view) };
}

function replyToWire(reply: Message, record: TaskRecord): JsonObject {
  return messageToWire(reply, { contextId: record.task.contextId });
}

async function streamMessage(context: ServerContext, call: RpcCall): Promise<Response> {
  const request = readSendRequest(call);
  const record = acceptMessage(context, request);
  await record.decided;
  if (record.reply) {
    const frame = sseFrame({ jsonrpc: "2.0", id: call.id, result: { message: replyToWire(record.reply, record) } });
    return sseResponse(single(frame), () => undefined, call);
  }
  // The stream of the turn this message began starts where the turn did, so that no update
  // made before the handler's first event is folded into the opening snapshot.
  const began = record.task.history.at(-1)?.messageId === request.message.messageId;
  const logged = record.turnStart.seq >= (record.log[0]?.seq ?? 1);
  return streamFromSnapshot(context, record, call, { view: request.view, from: began && logged ? record.turnStart : undefined });
}

async function* single(frame: string): AsyncGenerator<string> {
  yield frame;
}

function getTask(context: ServerContext, params: unknown): JsonObject {
  const id = taskIdOf(params);
  const historyLength = readParams(() => historyLengthOf(asObject(params, "params"), "params.historyLength"));
  return taskToWire(context.registry.get(id).snapshot(), { historyLength });
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
    const subscription = context.registry.subscribe(record.task.id, lastEventId, isTerminalUpdate);
    if (isTerminal(record.state) && lastEventId === record.seq) subscription.close();
    return sseResponse(frames(subscription, call, record.task.contextId), () => subscription.close(), call);
  }
  if (isTerminal(record.state)) {
    throw new A2aError("UNSUPPORTED_OPERATION", `task ${record.task.id} is ${record.state} and cannot be subscribed to`);
  }
  return streamFromSnapshot(context, record, call, { until: isTerminalUpdate });
}

/** How a stream opened by {@link streamFromSnapshot} goes. */
interface StreamPlan {
  view?: TaskView;
  /** Where it starts (default: a snapshot of the task now). */
  from?: LoggedUpdate;
  /** The update it ends after (default: the end of the turn). */
  until?: (update: TaskUpdate) => boolean;
}

/**
 * A stream that opens with a snapshot of the task and goes on with what follows it. A
 * send's stream ends with the turn (spec §3.1.2 for terminal states; an interrupted one
 * hands the turn back to the client); a subscription lasts to a terminal state (§3.1.6).
 */
function streamFromSnapshot(context: ServerContext, record: TaskRecord, call: RpcCall, plan: StreamPlan = {}): Response {
  const { view, until = isEndOfTurn } = plan;
  const snapshot: LoggedUpdate = plan.from ?? { seq: record.seq, update: { kind: "task", task: record.snapshot() } };
  const subscription = context.registry.subscribe(record.task.id, snapshot.seq, until);
  const state = snapshot.update.kind === "task" ? snapshot.update.task.status.state : record.state;
  if (snapshot.seq === record.seq && until({ kind: "status", taskId: record.task.id, status: { state }, final: isTerminal(state) })) subscription.close();
  return sseResponse(frames(subscription, call, record.task.contextId, snapshot, view), () => subscription.close(), call);
}

function isEndOfTurn(update: TaskUpdate): boolean {
  return update.kind === "status" && endsTurn(update.status.state);
}

function isTerminalUpdate(update: TaskUpdate): boolean {
  return update.kind === "status" && isTerminal(update.status.state);
}

async function* frames(subscription: Subscription, call: RpcCall, contextId: string | undefined, first?: LoggedUpdate, view?: TaskView): AsyncGenerator<string> {
  if (first) yield frame(first, call, contextId, view);
  for await (const entry of subscription) {
    if (entry.update.kind !== "message") yield frame(entry, call, contextId);
  }
}

function frame(entry: LoggedUpdate, call: RpcCall, contextId: string | undefined, view?: TaskView): string {
  return sseFrame({ jsonrpc: "2.0", id: call.id, result: updateToWire(entry.update, contextId, view) }, { id: entry.seq });
}
