/**
 * What both dialect handlers of the server share: their context, JSON-RPC responses, SSE
 * responses, and admission of a new task (policy and budget).
 * @module
 */
import type { Server } from "bun";
import { A2aError } from "./errors.ts";
import { asObject, asString, optInteger, type JsonObject } from "./json.ts";
import { checkPolicy, validatePolicy, type GlobalBudget } from "./policy.ts";
import { errorToRpc } from "./rpc-errors.ts";
import type { SkillHandler } from "./server-handler.ts";
import type { TaskRegistry } from "./server-tasks.ts";
import type { Dialect, SkillCost, SkillInfo, TaskPolicy } from "./types.ts";

/** A skill an {@link A2aServer} offers. */
export interface SkillDefinition {
  /** Default: the skill id. */
  name?: string;
  /** What the skill does; must not be empty. */
  description: string;
  /** Keywords; default: the skill id. */
  tags?: string[];
  examples?: string[];
  /** Media types the skill accepts in message parts; a part of another type is refused. Default: the server's `defaultInputModes`. */
  inputModes?: string[];
  /** Media types the skill answers with. Default: the server's `defaultOutputModes`. */
  outputModes?: string[];
  /** Declared in the card, and enforced against the policy clients forward. */
  cost?: SkillCost;
  handler: SkillHandler;
}

/** State the request handlers share. */
export interface ServerContext {
  registry: TaskRegistry;
  skills: ReadonlyMap<string, SkillDefinition>;
  skillInfos: readonly SkillInfo[];
  agentName: string;
  budget: GlobalBudget | undefined;
  /** Media types a skill without its own `inputModes` accepts. */
  defaultInputModes: readonly string[];
}

/** One JSON-RPC request as received. */
export interface RpcCall {
  id: string | number | null;
  method: string;
  params: unknown;
  request: Request;
  server: Server<undefined>;
}

const KEEP_ALIVE_MS = 15_000;
const utf8 = new TextEncoder();

/** A JSON response. */
function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** A JSON-RPC result envelope. */
export function rpcResult(id: RpcCall["id"], result: unknown): Response {
  return jsonResponse({ jsonrpc: "2.0", id, result });
}

/** A JSON-RPC error envelope (HTTP 200 unless `status` says otherwise, as both dialects do). */
export function rpcFailure(dialect: Dialect, id: RpcCall["id"], error: unknown, status = 200): Response {
  return jsonResponse({ jsonrpc: "2.0", id, error: errorToRpc(dialect, error) }, status);
}

/** One SSE frame. */
export function sseFrame(data: unknown, options: { event?: string; id?: number } = {}): string {
  const event = options.event === undefined ? "" : `event: ${options.event}\n`;
  const id = options.id === undefined ? "" : `id: ${options.id}\n`;
  return `${id}${event}data: ${JSON.stringify(data)}\n\n`;
}

/**
 * Streams `frames` as `text/event-stream` with keep-alive comments. `close` runs when the
 * client goes away, to release the subscription feeding `frames` even while it waits.
 */
export function sseResponse(frames: AsyncIterable<string>, close: () => void, call: Pick<RpcCall, "request" | "server">): Response {
  call.server.timeout(call.request, 0);
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // Bun sends the headers with the first chunk; rvAgent clients wait for them before sending.
      controller.enqueue(utf8.encode(": open\n\n"));
      keepAlive = setInterval(() => controller.enqueue(utf8.encode(": keep-alive\n\n")), KEEP_ALIVE_MS);
      void pump(frames, controller).finally(() => clearInterval(keepAlive));
    },
    cancel() {
      clearInterval(keepAlive);
      close();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
}

async function pump(frames: AsyncIterable<string>, controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
  try {
    for await (const frame of frames) controller.enqueue(utf8.encode(frame));
    controller.close();
  } catch (error) {
    // A no-op when the client already went away (enqueue then throws on the closed stream).
    controller.error(error);
  }
}

/** Reads request params; malformed ones are the client's error (`INVALID_PARAMS`). */
export function readParams<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TypeError) throw new A2aError("INVALID_PARAMS", error.message);
    throw error;
  }
}

/** `historyLength` of a request: absent, or an integer ≥ 0. */
export function historyLengthOf(json: JsonObject, path: string): number | undefined {
  const value = optInteger(json.historyLength, path);
  if (value !== undefined && value < 0) throw new TypeError(`${path} must be >= 0, got ${value}`);
  return value;
}

/** The `id` member of a request's params. */
export function taskIdOf(params: unknown): string {
  return readParams(() => asString(asObject(params, "params").id, "params.id"));
}

/**
 * Checks a new task against the skill list, the forwarded policy and the server's budget;
 * returns the skill's definition.
 */
export function admitTask(context: ServerContext, skill: string, policy: TaskPolicy): SkillDefinition {
  try {
    validatePolicy(policy);
  } catch (error) {
    throw new A2aError("INVALID_PARAMS", error instanceof Error ? error.message : String(error));
  }
  const costUsd = checkPolicy(skill, context.skillInfos, policy, context.agentName);
  context.budget?.charge(costUsd);
  const definition = context.skills.get(skill);
  if (!definition) throw new A2aError("UNKNOWN_SKILL", `no skill ${skill}`);
  return definition;
}
