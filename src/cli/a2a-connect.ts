/** What every `ruvector a2a` command shares: trust options, discovery, task policies, Ctrl-C and printing tasks. */
import { A2aClient, A2aError, type Part, type Task, type TaskPolicy, type TaskRequest, type TaskState, type TaskUpdate, type TrustedKeys } from "../a2a/index.ts";
import { isObject } from "../a2a/json.ts";
import type { Args, OptionSpec } from "./args.ts";
import { InputError } from "./failures.ts";
import { withProgress } from "./progress.ts";

/** `--trusted-keys`, `--no-verify` and `--dialect`: how to discover and verify an agent. */
export const CONNECT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  "trusted-keys": {
    type: "string",
    value: "FILE",
    help: 'JSON object of public JWKs trusted to sign cards, by kid: {"<kid>": {"kty": "OKP", …}}',
  },
  "no-verify": { type: "boolean", help: "accept the card without verifying its signature (unsigned or untrusted)" },
  dialect: { type: "string", value: "NAME", help: "a2a, rvagent or auto (default auto: A2A 1.0, then rvAgent)" },
};

/** `--skill`, `--input` and the policy limits of one task. */
export const TASK_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  skill: { type: "string", value: "ID", help: "the skill to run, as the card lists it (required)" },
  input: { type: "string", value: "TEXT", help: "the task's input text (required)" },
  "max-cost-usd": { type: "string", value: "N", help: "refuse the skill when its declared cost exceeds N dollars (or is undeclared)" },
  "max-duration-ms": { type: "string", value: "N", help: "cancel the task and fail when it runs longer than N ms" },
  "task-id": { type: "string", value: "ID", help: "answer this task, which waits for input (A2A 1.0), instead of starting one" },
  "context-id": { type: "string", value: "ID", help: "start the task in this conversation (A2A 1.0)" },
};

/** A state that leaves the command's exit code at 0: done, or waiting on the caller. */
const SUCCESS_STATES: ReadonlySet<TaskState> = new Set(["completed", "input-required", "auth-required"]);

/** Fetches, validates and (unless `--no-verify`) verifies the card at the `<url>` argument. */
export async function connect(args: Args, signal?: AbortSignal): Promise<A2aClient> {
  const url = args.positional(0);
  const keysFile = args.string("trusted-keys");
  const verify = !args.flag("no-verify");
  if (!verify && keysFile !== undefined) throw args.usage("give either --trusted-keys or --no-verify, not both");
  const dialect = args.choice("dialect", ["auto", "a2a", "rvagent"], "auto");
  const trustedKeys = keysFile === undefined ? {} : await readTrustedKeys(keysFile);
  return withProgress(`connecting to ${url}`, () => A2aClient.connect(url, { trustedKeys, verify, dialect, signal }));
}

/** Reads a trusted-keys file: a JSON object mapping each kid to a public JWK. */
async function readTrustedKeys(path: string): Promise<TrustedKeys> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Bun.file(path).text());
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read trusted keys ${path}: ${code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
  const shape = 'expected a JSON object of public JWKs by kid, e.g. {"<kid>": {"kty": "OKP", "crv": "Ed25519", "x": "…"}}';
  if (!isObject(parsed)) throw new InputError(`trusted keys ${path}: ${shape}`);
  const bad = Object.entries(parsed).find(([, jwk]) => !isObject(jwk) || typeof jwk.kty !== "string");
  if (bad) throw new InputError(`trusted keys ${path}: key '${bad[0]}' is not a JWK; ${shape}`);
  return parsed as TrustedKeys;
}

/** The `--skill`/`--input` request with the policy of `--max-cost-usd`/`--max-duration-ms`, continuing `--task-id`. */
export function taskRequest(args: Args): TaskRequest {
  const skill = args.required("skill");
  const input = args.required("input");
  const ids = { ...optionalId(args, "task-id", "taskId"), ...optionalId(args, "context-id", "contextId") };
  const maxCostUsd = nonNegative(args, "max-cost-usd");
  const maxDurationMs = args.int("max-duration-ms", { min: 1, max: 2 ** 31 - 1 }, undefined);
  const policy: TaskPolicy = { ...(maxCostUsd !== undefined && { maxCostUsd }), ...(maxDurationMs !== undefined && { maxDurationMs }) };
  return { skill, input, policy, ...ids };
}

function optionalId<K extends string>(args: Args, name: string, key: K): Partial<Record<K, string>> {
  const value = args.string(name);
  if (value === undefined) return {};
  if (value === "") throw args.usage(`--${name} must not be empty`);
  return { [key]: value } as Partial<Record<K, string>>;
}

function nonNegative(args: Args, name: string): number | undefined {
  const raw = args.string(name);
  if (raw === undefined) return undefined;
  const n = /^\d+(\.\d*)?(e[+-]?\d+)?$|^\.\d+$/i.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n)) throw args.usage(`--${name} must be a non-negative number, got '${raw}'`);
  return n;
}

/**
 * Runs `work` with a signal that Ctrl-C aborts. After an interrupt, `onInterrupt` may clean up
 * (e.g. cancel the task on the peer) and its message is reported as the failure.
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>, onInterrupt: () => Promise<string>): Promise<T> {
  const controller = new AbortController();
  const interrupt = () => controller.abort(new A2aError("INTERRUPTED", "interrupted"));
  process.once("SIGINT", interrupt);
  try {
    return await work(controller.signal);
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    throw new A2aError("INTERRUPTED", await onInterrupt());
  } finally {
    process.off("SIGINT", interrupt);
  }
}

/** Asks the peer to cancel `taskId` (within 5 s) and says how that went, for an interrupt's message. */
export async function cancelAfterInterrupt(client: A2aClient, taskId: string | undefined): Promise<string> {
  if (taskId === undefined) return "interrupted before the task started";
  try {
    const task = await client.cancelTask(taskId, { signal: AbortSignal.timeout(5000) });
    return `interrupted; task ${taskId} is ${task.status.state}`;
  } catch (err) {
    return `interrupted; task ${taskId} may still run (cancel failed: ${(err as Error).message})`;
  }
}

/** Throws (exit 1) when a task ended failed, rejected or canceled. */
export function checkOutcome(taskId: string | undefined, state: TaskState | undefined, reason?: string): void {
  if (state !== undefined && SUCCESS_STATES.has(state)) return;
  const why = reason ? `: ${reason}` : "";
  throw new A2aError("TASK_FAILED", `task ${taskId ?? "(unnamed)"} ended ${state ?? "without a final state"}${why}`);
}

/** The text of parts; non-text parts as a short placeholder. */
export function partsText(parts: readonly Part[]): string {
  return parts.map((p) => (p.kind === "text" ? p.text : p.kind === "data" ? JSON.stringify(p.data) : `[file ${p.filename ?? p.url ?? ""}]`)).join("");
}

/** The status message's text, if any. */
export function statusText(task: Task): string | undefined {
  const message = task.status.message;
  return message ? partsText(message.parts) : undefined;
}

/** One stream update as one line for people. */
export function describeUpdate(update: TaskUpdate): string {
  switch (update.kind) {
    case "task":
      return `task ${update.task.id}: ${update.task.status.state}`;
    case "status": {
      const text = update.status.message ? `: ${partsText(update.status.message.parts)}` : "";
      return `status ${update.status.state}${update.final ? " (final)" : ""}${text}`;
    }
    case "artifact":
      return `artifact ${update.artifact.name ?? update.artifact.artifactId}${update.append ? " +" : ""}: ${partsText(update.artifact.parts)}`;
    case "message":
      return `message ${update.message.role}: ${partsText(update.message.parts)}`;
  }
}
