/**
 * `ListTasks` (spec §3.1.4): filters by context, state and status time; most recently
 * updated first; cursor pages whose token names the last task of the page, so tasks that
 * change between pages are neither skipped nor repeated because of their position.
 * @module
 */
import { fromBase64Url, toBase64Url } from "./bytes.ts";
import { asObject, optBoolean, optInteger, optString, type JsonObject } from "./json.ts";
import { historyLengthOf, readParams } from "./server-http.ts";
import { updatedAt, type TaskFilter, type TaskRecord, type TaskRegistry } from "./server-tasks.ts";
import { stateFromWire, taskToWire, type TaskView } from "./wire-a2a.ts";

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 100;

/** Where a page starts: after the task with this status time and id. */
interface Cursor {
  updatedAt: number;
  id: string;
}

interface ListRequest {
  filter: TaskFilter;
  pageSize: number;
  after: Cursor | undefined;
  view: TaskView;
}

/** Answers `ListTasks`. */
export function listTasks(registry: TaskRegistry, params: unknown): JsonObject {
  const request = readListRequest(params ?? {});
  const matches = registry.list(request.filter);
  const start = request.after === undefined ? 0 : matches.findIndex((record) => isAfter(record, request.after as Cursor));
  const from = start < 0 ? matches.length : start;
  const page = matches.slice(from, from + request.pageSize);
  const last = page.at(-1);
  const more = last !== undefined && from + page.length < matches.length;
  return {
    tasks: page.map((record) => taskToWire(record.snapshot(), request.view)),
    nextPageToken: more ? encodeCursor({ updatedAt: updatedAt(last), id: last.task.id }) : "",
    pageSize: request.pageSize,
    totalSize: matches.length,
  };
}

function readListRequest(params: unknown): ListRequest {
  return readParams(() => {
    const json = asObject(params, "params");
    const pageSize = optInteger(json.pageSize, "params.pageSize") ?? DEFAULT_PAGE_SIZE;
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) throw new TypeError(`params.pageSize must be 1..${MAX_PAGE_SIZE}, got ${pageSize}`);
    const token = optString(json.pageToken, "params.pageToken") ?? "";
    return {
      filter: readFilter(json),
      pageSize,
      after: token === "" ? undefined : decodeCursor(token),
      view: {
        historyLength: historyLengthOf(json, "params.historyLength"),
        includeArtifacts: optBoolean(json.includeArtifacts, "params.includeArtifacts") ?? false,
      },
    };
  });
}

function readFilter(json: JsonObject): TaskFilter {
  const filter: TaskFilter = {};
  const contextId = optString(json.contextId, "params.contextId");
  if (contextId) filter.contextId = contextId;
  const status = optString(json.status, "params.status");
  if (status && status !== "TASK_STATE_UNSPECIFIED") {
    const state = stateFromWire(status);
    if (state === "unknown") throw new TypeError(`params.status ${status} is not a task state`);
    filter.state = state;
  }
  const after = optString(json.statusTimestampAfter, "params.statusTimestampAfter");
  if (after) {
    const ms = Date.parse(after);
    if (Number.isNaN(ms)) throw new TypeError(`params.statusTimestampAfter ${after} is not an ISO 8601 time`);
    filter.updatedSinceMs = ms;
  }
  return filter;
}

/** Whether `record` sorts after the cursor (newest first, ties by id). */
function isAfter(record: TaskRecord, cursor: Cursor): boolean {
  const time = updatedAt(record);
  return time < cursor.updatedAt || (time === cursor.updatedAt && record.task.id > cursor.id);
}

function encodeCursor(cursor: Cursor): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify([cursor.updatedAt, cursor.id])));
}

function decodeCursor(token: string): Cursor {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(fromBase64Url(token, "params.pageToken")));
  } catch {
    throw new TypeError("params.pageToken is not a token this agent issued");
  }
  if (!Array.isArray(json) || typeof json[0] !== "number" || typeof json[1] !== "string") {
    throw new TypeError("params.pageToken is not a token this agent issued");
  }
  return { updatedAt: json[0], id: json[1] };
}
