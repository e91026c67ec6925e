/**
 * rvAgent JSON (upstream ruvector `rvagent-a2a`, a pre-0.2 A2A draft: parts tagged by
 * `type`, kebab-case states, artifacts indexed, snake_case `TaskSpec.policy`/`context`)
 * to and from this library's model.
 * @module
 */
import { asArray, asObject, asString, compact, optArrayOf, optNumber, optObject, optString, type JsonObject } from "./json.ts";
import { policyFromJson, policyToJson } from "./policy.ts";
import type { Artifact, Message, Part, Task, TaskPolicy, TaskRequest, TaskStatus, TaskUpdate } from "./types.ts";
import { stateFromWire } from "./wire-a2a.ts";

/** The root agent id upstream's CLI uses when a task has no parent agent. */
const ROOT_AGENT = "0".repeat(64);

/** Reads an rvAgent `Part`. */
export function partFromWire(value: unknown, path: string): Part {
  const json = asObject(value, path);
  const metadata = optObject(json.metadata, `${path}.metadata`);
  const type = asString(json.type, `${path}.type`);
  if (type === "text") return compact<Part>({ kind: "text", text: asString(json.text, `${path}.text`), metadata });
  if (type === "data") return compact<Part>({ kind: "data", data: json.data, metadata });
  if (type === "file") {
    const file = asObject(json.file, `${path}.file`);
    return compact<Part>({
      kind: "file",
      url: optString(file.uri, `${path}.file.uri`),
      bytes: optString(file.bytes, `${path}.file.bytes`),
      filename: optString(file.name, `${path}.file.name`),
      mediaType: optString(file.mimeType, `${path}.file.mimeType`),
      metadata,
    });
  }
  throw new TypeError(`${path}.type ${type} is none of text, data, file`);
}

/** Writes an rvAgent `Part`. */
export function partToWire(part: Part): JsonObject {
  if (part.kind === "text") return compact({ type: "text", text: part.text, metadata: part.metadata });
  if (part.kind === "data") return compact({ type: "data", data: part.data, metadata: part.metadata });
  const file = compact({ name: part.filename, mimeType: part.mediaType, bytes: part.bytes, uri: part.url });
  return compact({ type: "file", file, metadata: part.metadata });
}

function partsFromWire(value: unknown, path: string): Part[] {
  return asArray(value, path).map((part, i) => partFromWire(part, `${path}[${i}]`));
}

/** Reads an rvAgent `Message`. */
export function messageFromWire(value: unknown, path: string): Message {
  const json = asObject(value, path);
  const role = asString(json.role, `${path}.role`);
  if (role !== "user" && role !== "agent") throw new TypeError(`${path}.role must be user or agent`);
  return compact<Message>({ role, parts: partsFromWire(json.parts, `${path}.parts`), metadata: optObject(json.metadata, `${path}.metadata`) });
}

/** Writes an rvAgent `Message`. */
export function messageToWire(message: Message): JsonObject {
  return { role: message.role, parts: message.parts.map(partToWire), metadata: message.metadata ?? null };
}

/** Reads an rvAgent `Artifact`; its index becomes its id. */
export function artifactFromWire(value: unknown, path: string): { artifact: Artifact; append: boolean; lastChunk: boolean } {
  const json = asObject(value, path);
  const artifact = compact<Artifact>({
    artifactId: String(optNumber(json.index, `${path}.index`) ?? 0),
    name: optString(json.name, `${path}.name`),
    description: optString(json.description, `${path}.description`),
    parts: partsFromWire(json.parts, `${path}.parts`),
    metadata: optObject(json.metadata, `${path}.metadata`),
  });
  return { artifact, append: json.append === true, lastChunk: json.lastChunk === true };
}

/** Writes an rvAgent `Artifact` at position `index` of its task. */
export function artifactToWire(artifact: Artifact, index: number, chunk = { append: false, lastChunk: false }): JsonObject {
  return {
    ...compact({ name: artifact.name, description: artifact.description }),
    parts: artifact.parts.map(partToWire),
    index,
    append: chunk.append,
    lastChunk: chunk.lastChunk,
    metadata: artifact.metadata ?? null,
  };
}

/** Reads an rvAgent `TaskStatus`. */
export function statusFromWire(value: unknown, path: string): TaskStatus {
  const json = asObject(value, path);
  return compact<TaskStatus>({
    state: stateFromWire(asString(json.state, `${path}.state`)),
    timestamp: optString(json.timestamp, `${path}.timestamp`),
    message: json.message === undefined || json.message === null ? undefined : messageFromWire(json.message, `${path}.message`),
  });
}

/** Writes an rvAgent `TaskStatus`. */
export function statusToWire(status: TaskStatus): JsonObject {
  return compact({
    state: status.state,
    timestamp: status.timestamp ?? new Date().toISOString(),
    message: status.message && messageToWire(status.message),
  });
}

/** Reads an rvAgent `Task`. */
export function taskFromWire(value: unknown, path: string): Task {
  const json = asObject(value, path);
  return compact<Task>({
    id: asString(json.id, `${path}.id`),
    contextId: optString(json.sessionId, `${path}.sessionId`),
    status: statusFromWire(json.status, `${path}.status`),
    artifacts: optArrayOf(json.artifacts, `${path}.artifacts`, (a, p) => artifactFromWire(a, p).artifact),
    history: optArrayOf(json.history, `${path}.history`, messageFromWire),
    metadata: optObject(json.metadata, `${path}.metadata`),
  });
}

/** Writes an rvAgent `Task`. */
export function taskToWire(task: Task): JsonObject {
  return {
    id: task.id,
    ...compact({ sessionId: task.contextId }),
    status: statusToWire(task.status),
    history: task.history.map(messageToWire),
    artifacts: task.artifacts.map((artifact, i) => artifactToWire(artifact, i)),
    metadata: task.metadata ?? null,
  };
}

/** Reads an SSE frame (`event: status|artifact`). */
export function updateFromWire(event: string, value: unknown, path: string): TaskUpdate | undefined {
  const json = asObject(value, path);
  if (event === "status") {
    const status = statusFromWire(json.status, `${path}.status`);
    return { kind: "status", taskId: asString(json.id, `${path}.id`), status, final: json.final === true };
  }
  if (event === "artifact") {
    return { kind: "artifact", taskId: asString(json.id, `${path}.id`), ...artifactFromWire(json.artifact, `${path}.artifact`) };
  }
  return undefined;
}

/** Writes an SSE frame's event name and data; `index` positions an artifact in its task. */
export function updateToWire(update: TaskUpdate & { kind: "status" | "artifact" }, index: number): { event: string; data: JsonObject } {
  if (update.kind === "status") {
    return { event: "status", data: { id: update.taskId, status: statusToWire(update.status), final: update.final, metadata: null } };
  }
  const chunk = { append: update.append, lastChunk: update.lastChunk };
  return { event: "artifact", data: { id: update.taskId, artifact: artifactToWire(update.artifact, index, chunk), metadata: null } };
}

/** Builds the `TaskSpec` that `tasks/send` takes as its whole `params`. */
export function taskSpecToWire(request: TaskRequest, id: string, message: Message, policy: TaskPolicy): JsonObject {
  return {
    id,
    skill: request.skill,
    message: messageToWire(message),
    policy: Object.keys(policy).length > 0 ? policyToJson(policy, "snake_case") : null,
    context: {
      trace_id: crypto.randomUUID().replaceAll("-", ""),
      parent_task_id: null,
      depth: 0,
      root_agent_id: ROOT_AGENT,
      current_agent: ROOT_AGENT,
      visited_agents: [],
    },
    metadata: request.metadata ?? null,
  };
}

/** The parts of a `TaskSpec` a server acts on. */
export interface TaskSpec {
  id: string;
  skill: string;
  message: Message;
  policy: TaskPolicy;
}

/** Reads a `TaskSpec`. */
export function taskSpecFromWire(value: unknown, path: string): TaskSpec {
  const json = asObject(value, path);
  return {
    id: asString(json.id, `${path}.id`),
    skill: asString(json.skill, `${path}.skill`),
    message: messageFromWire(json.message, `${path}.message`),
    policy: policyFromJson(json.policy, `${path}.policy`, "snake_case"),
  };
}
