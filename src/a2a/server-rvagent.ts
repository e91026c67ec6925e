/**
 * The server side of the rvAgent dialect: `tasks/send` (answers when the task has
 * finished; the client-chosen task id makes it idempotent), `tasks/get`, `tasks/cancel`,
 * and the SSE GETs `/tasks/sendSubscribe?id=` (may precede the send) and
 * `/tasks/resubscribe?id=`. Frames carry sequence ids; `Last-Event-ID` (or a numeric
 * `last_event_id`) resumes after one.
 * @module
 */
import { A2aError } from "./errors.ts";
import { admitTask, readParams, rpcFailure, rpcResult, sseFrame, sseResponse, taskIdOf, type RpcCall, type ServerContext } from "./server-http.ts";
import type { LoggedUpdate, Subscription } from "./server-subscription.ts";
import { isTerminal, type Task } from "./types.ts";
import { taskSpecFromWire, taskToWire, updateToWire } from "./wire-rvagent.ts";

/** Answers one rvAgent JSON-RPC call. */
export async function handleRvAgentCall(context: ServerContext, call: RpcCall): Promise<Response> {
  try {
    switch (call.method) {
      case "tasks/send":
      case "tasks/sendSubscribe":
        // Upstream answers when the task has finished: Bun's idle timeout must not cut the wait.
        call.server.timeout(call.request, 0);
        return rpcResult(call.id, taskToWire(await runTask(context, call.params)));
      case "tasks/get":
        return rpcResult(call.id, taskToWire(context.registry.get(taskIdOf(call.params)).snapshot()));
      case "tasks/cancel":
        return rpcResult(call.id, cancel(context, taskIdOf(call.params)));
      default:
        throw new A2aError("METHOD_NOT_FOUND", `unknown method ${call.method}`);
    }
  } catch (error) {
    return rpcFailure("rvagent", call.id, error);
  }
}

async function runTask(context: ServerContext, params: unknown): Promise<Task> {
  const spec = readParams(() => taskSpecFromWire(params, "params"));
  const known = context.registry.find(spec.id);
  const record = known ?? context.registry.start({
    id: spec.id,
    contextId: crypto.randomUUID(),
    skill: spec.skill,
    message: spec.message,
    policy: spec.policy,
    handler: admitTask(context, spec.skill, spec.policy).handler,
  });
  await record.turnEnded;
  return record.snapshot();
}

/** Upstream answers `{id, canceled}`; a finished task is reported as not canceled. */
function cancel(context: ServerContext, id: string): { id: string; canceled: boolean } {
  const canceled = !isTerminal(context.registry.get(id).state);
  if (canceled) context.registry.cancel(id);
  return { id, canceled };
}

/** Answers `GET /tasks/sendSubscribe` and `GET /tasks/resubscribe`. */
export function handleRvAgentStream(context: ServerContext, call: Pick<RpcCall, "request" | "server">, resubscribe: boolean): Response {
  const url = new URL(call.request.url);
  const id = url.searchParams.get("id");
  if (!id) return rpcFailure("rvagent", null, new A2aError("INVALID_PARAMS", "query parameter id is required"));
  const record = context.registry.find(id);
  if (resubscribe && !record) return rpcFailure("rvagent", null, new A2aError("TASK_NOT_FOUND", `task ${id} not found`));
  const after = resumeAfter(call.request, url);
  const subscription = context.registry.subscribe(id, after, (update) => update.kind === "status" && update.final);
  if (record && isTerminal(record.state) && record.seq <= after) subscription.close();
  return sseResponse(frames(context, id, subscription), () => subscription.close(), call);
}

function resumeAfter(request: Request, url: URL): number {
  const value = Number(request.headers.get("last-event-id") ?? url.searchParams.get("last_event_id") ?? 0);
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

async function* frames(context: ServerContext, taskId: string, subscription: Subscription): AsyncGenerator<string> {
  for await (const entry of subscription) {
    const wire = toWire(context, taskId, entry);
    if (wire) yield sseFrame(wire.data, { event: wire.event, id: entry.seq });
  }
}

function toWire(context: ServerContext, taskId: string, { update }: LoggedUpdate): ReturnType<typeof updateToWire> | undefined {
  if (update.kind !== "status" && update.kind !== "artifact") return undefined;
  const artifacts = context.registry.find(taskId)?.task.artifacts ?? [];
  const index = update.kind === "artifact" ? artifacts.findIndex((known) => known.artifactId === update.artifact.artifactId) : 0;
  return updateToWire(update, Math.max(0, index));
}
