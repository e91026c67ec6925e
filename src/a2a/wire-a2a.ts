/**
 * A2A 1.0 JSON (protobuf JSON mapping: `TASK_STATE_*`, `ROLE_*`, one-of parts, stream
 * results keyed by payload name) to and from this library's model. Readers throw a
 * `TypeError` naming the path when the peer sent something else.
 * @module
 */
import { asObject, asString, compact, optArrayOf, optNumber, optObject, optString, type JsonObject } from "./json.ts";
import {
  endsTurn,
  type Artifact,
  type Message,
  type Metadata,
  type Part,
  type Task,
  type TaskPage,
  type TaskState,
  type TaskStatus,
  type TaskUpdate,
} from "./types.ts";

/** A2A 1.0 version string sent in the `A2A-Version` header. */
export const A2A_VERSION = "1.0";

const VERSION_FORMAT = /^(\d+)\.(\d+)(?:\.\d+)?$/;

/**
 * Whether a protocol version names the A2A version this library speaks: the same
 * `Major.Minor`, a patch number (which the spec says never counts) ignored.
 */
export function speaksVersion(version: string): boolean {
  const match = VERSION_FORMAT.exec(version.trim());
  return match !== null && `${Number(match[1])}.${Number(match[2])}` === A2A_VERSION;
}

/** Where our extension fields live inside `message.metadata`. */
export const RUVECTOR_METADATA_KEY = "ruvector";

const STATE_PREFIX = "TASK_STATE_";

/** `TASK_STATE_INPUT_REQUIRED` ⇒ `"input-required"`; unknown words ⇒ `"unknown"`. */
export function stateFromWire(value: unknown): TaskState {
  const word = typeof value === "string" ? value.replace(STATE_PREFIX, "").toLowerCase().replaceAll("_", "-") : "";
  return KNOWN_STATES.has(word) ? (word as TaskState) : "unknown";
}

const KNOWN_STATES: ReadonlySet<string> = new Set([
  "submitted", "working", "input-required", "auth-required", "completed", "canceled", "failed", "rejected",
]);

/** `"input-required"` ⇒ `TASK_STATE_INPUT_REQUIRED`. */
export function stateToWire(state: TaskState): string {
  return STATE_PREFIX + (state === "unknown" ? "UNSPECIFIED" : state.toUpperCase().replaceAll("-", "_"));
}

function metadataOf(json: JsonObject, path: string): Metadata | undefined {
  return optObject(json.metadata, `${path}.metadata`);
}

/** Reads a 1.0 `Part`. */
export function partFromWire(value: unknown, path: string): Part {
  const json = asObject(value, path);
  const mediaType = optString(json.mediaType, `${path}.mediaType`);
  const metadata = metadataOf(json, path);
  if (json.text !== undefined) return compact<Part>({ kind: "text", text: asString(json.text, `${path}.text`), mediaType, metadata });
  if (json.data !== undefined) return compact<Part>({ kind: "data", data: json.data, mediaType, metadata });
  const filename = optString(json.filename, `${path}.filename`);
  if (json.url !== undefined) return compact<Part>({ kind: "file", url: asString(json.url, `${path}.url`), filename, mediaType, metadata });
  if (json.raw !== undefined) return compact<Part>({ kind: "file", bytes: asString(json.raw, `${path}.raw`), filename, mediaType, metadata });
  throw new TypeError(`${path} has none of text, data, url, raw`);
}

/** Writes a 1.0 `Part`. */
export function partToWire(part: Part): JsonObject {
  const common = { mediaType: part.mediaType, metadata: part.metadata };
  if (part.kind === "text") return compact({ text: part.text, ...common });
  if (part.kind === "data") return compact({ data: part.data, ...common });
  const content = part.url !== undefined ? { url: part.url } : { raw: part.bytes ?? "" };
  return compact({ ...content, filename: part.filename, ...common });
}

function partsFromWire(value: unknown, path: string): Part[] {
  return optArrayOf(value, path, partFromWire);
}

/** Reads a 1.0 `Message`. */
export function messageFromWire(value: unknown, path: string): Message {
  const json = asObject(value, path);
  const role = asString(json.role, `${path}.role`).toLowerCase().replace("role_", "");
  if (role !== "user" && role !== "agent") throw new TypeError(`${path}.role must be ROLE_USER or ROLE_AGENT`);
  return compact<Message>({
    role,
    parts: partsFromWire(json.parts, `${path}.parts`),
    messageId: optString(json.messageId, `${path}.messageId`),
    contextId: optString(json.contextId, `${path}.contextId`) || undefined,
    metadata: metadataOf(json, path),
  });
}

/** Writes a 1.0 `Message`; `ids` adds `taskId`/`contextId` where known. */
export function messageToWire(message: Message, ids: { taskId?: string; contextId?: string } = {}): JsonObject {
  return compact({
    messageId: message.messageId ?? crypto.randomUUID(),
    role: message.role === "user" ? "ROLE_USER" : "ROLE_AGENT",
    parts: message.parts.map(partToWire),
    contextId: message.contextId,
    ...ids,
    metadata: message.metadata,
  });
}

/** Reads a 1.0 `Artifact`. */
export function artifactFromWire(value: unknown, path: string): Artifact {
  const json = asObject(value, path);
  return compact<Artifact>({
    artifactId: asString(json.artifactId, `${path}.artifactId`),
    name: optString(json.name, `${path}.name`),
    description: optString(json.description, `${path}.description`),
    parts: partsFromWire(json.parts, `${path}.parts`),
    metadata: metadataOf(json, path),
  });
}

/** Writes a 1.0 `Artifact`. */
export function artifactToWire(artifact: Artifact): JsonObject {
  return compact({ ...artifact, parts: artifact.parts.map(partToWire) });
}

/** Reads a 1.0 `TaskStatus`. */
export function statusFromWire(value: unknown, path: string): TaskStatus {
  const json = asObject(value, path);
  return compact<TaskStatus>({
    state: stateFromWire(json.state),
    timestamp: optString(json.timestamp, `${path}.timestamp`),
    message: json.message === undefined ? undefined : messageFromWire(json.message, `${path}.message`),
  });
}

/** Writes a 1.0 `TaskStatus`. */
export function statusToWire(status: TaskStatus): JsonObject {
  return compact({
    state: stateToWire(status.state),
    timestamp: status.timestamp,
    message: status.message && messageToWire(status.message),
  });
}

/** Reads a 1.0 `Task`. */
export function taskFromWire(value: unknown, path: string): Task {
  const json = asObject(value, path);
  return compact<Task>({
    id: asString(json.id, `${path}.id`),
    contextId: optString(json.contextId, `${path}.contextId`),
    status: statusFromWire(json.status, `${path}.status`),
    artifacts: optArrayOf(json.artifacts, `${path}.artifacts`, artifactFromWire),
    history: optArrayOf(json.history, `${path}.history`, messageFromWire),
    metadata: metadataOf(json, path),
  });
}

/** How much of a task to write: `historyLength` most recent messages (0: none), artifacts or not. */
export interface TaskView {
  historyLength?: number;
  includeArtifacts?: boolean;
}

/** Writes a 1.0 `Task`; empty lists are omitted, as protobuf JSON omits them. */
export function taskToWire(task: Task, view: TaskView = {}): JsonObject {
  const ids = compact({ taskId: task.id, contextId: task.contextId });
  const { historyLength, includeArtifacts = true } = view;
  const history = historyLength === undefined ? task.history : historyLength === 0 ? [] : task.history.slice(-historyLength);
  return compact({
    id: task.id,
    contextId: task.contextId,
    status: statusToWire(task.status),
    artifacts: includeArtifacts ? nonEmpty(task.artifacts.map(artifactToWire)) : undefined,
    history: nonEmpty(history.map((message) => messageToWire(message, ids))),
    metadata: task.metadata,
  });
}

function nonEmpty<T>(items: T[]): T[] | undefined {
  return items.length > 0 ? items : undefined;
}

/** Reads a `ListTasks` result. */
export function taskPageFromWire(value: unknown, path: string): TaskPage {
  const json = asObject(value, path);
  return {
    tasks: optArrayOf(json.tasks, `${path}.tasks`, taskFromWire),
    nextPageToken: optString(json.nextPageToken, `${path}.nextPageToken`) ?? "",
    pageSize: optNumber(json.pageSize, `${path}.pageSize`) ?? 0,
    totalSize: optNumber(json.totalSize, `${path}.totalSize`) ?? 0,
  };
}

/** Reads a `SendMessage` result (`{task}` or `{message}`). */
export function sendResultFromWire(value: unknown, path: string): Task | Message {
  const json = asObject(value, path);
  if (json.task !== undefined) return taskFromWire(json.task, `${path}.task`);
  if (json.message !== undefined) return messageFromWire(json.message, `${path}.message`);
  throw new TypeError(`${path} has neither task nor message`);
}

/** Reads one streaming result; accepts both spellings of the update payloads. */
export function updateFromWire(value: unknown, path: string): TaskUpdate {
  const json = asObject(value, path);
  if (json.task !== undefined) return { kind: "task", task: taskFromWire(json.task, `${path}.task`) };
  if (json.message !== undefined) return { kind: "message", message: messageFromWire(json.message, `${path}.message`) };
  const status = json.statusUpdate ?? json.taskStatusUpdate;
  if (status !== undefined) return statusUpdateFromWire(asObject(status, `${path}.statusUpdate`), `${path}.statusUpdate`);
  const artifact = json.artifactUpdate ?? json.taskArtifactUpdate;
  if (artifact !== undefined) return artifactUpdateFromWire(asObject(artifact, `${path}.artifactUpdate`), `${path}.artifactUpdate`);
  throw new TypeError(`${path} is none of task, message, statusUpdate, artifactUpdate`);
}

function statusUpdateFromWire(json: JsonObject, path: string): TaskUpdate {
  const status = statusFromWire(json.status, `${path}.status`);
  return { kind: "status", taskId: asString(json.taskId, `${path}.taskId`), status, final: endsTurn(status.state) };
}

function artifactUpdateFromWire(json: JsonObject, path: string): TaskUpdate {
  return {
    kind: "artifact",
    taskId: asString(json.taskId, `${path}.taskId`),
    artifact: artifactFromWire(json.artifact, `${path}.artifact`),
    append: json.append === true,
    lastChunk: json.lastChunk === true,
  };
}

/** Writes one streaming result. */
export function updateToWire(update: TaskUpdate, contextId: string | undefined, view?: TaskView): JsonObject {
  switch (update.kind) {
    case "task":
      return { task: taskToWire(update.task, view) };
    case "message":
      return { message: messageToWire(update.message) };
    case "status":
      return { statusUpdate: compact({ taskId: update.taskId, contextId, status: statusToWire(update.status) }) };
    case "artifact":
      return {
        artifactUpdate: compact({
          taskId: update.taskId,
          contextId,
          artifact: artifactToWire(update.artifact),
          append: update.append || undefined,
          lastChunk: update.lastChunk || undefined,
        }),
      };
  }
}
