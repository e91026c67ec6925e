/**
 * What a skill handler of an {@link A2aServer} is given and may answer: a result, a bare
 * message, or any state the spec lets an agent set (asking for input or authorization,
 * rejecting, failing). A task waiting for input is resumed by calling the handler again
 * with the next message of the same task.
 * @module
 */
import type { Message, Part, TaskPolicy } from "./types.ts";

/** What a skill handler may report while it runs. */
export interface TaskEmitter {
  /** A `working` status, optionally with a progress message. */
  status(text?: string): void;
  /** An artifact, or with `append` another chunk of one (same `artifactId`). */
  artifact(content: string | Part[], options?: { artifactId?: string; name?: string; append?: boolean; lastChunk?: boolean }): void;
}

/** What a skill handler is given, once per turn (the first message, then each message that resumes the task). */
export interface SkillContext {
  taskId: string;
  contextId: string;
  skill: string;
  /** This turn's user message. */
  message: Message;
  /** The text parts of the message, joined with newlines. */
  text: string;
  /** The task's earlier messages, oldest first: user turns and the agent's questions. Empty on the first turn. */
  history: readonly Message[];
  /** The policy the client forwarded (already checked against the skill's cost). */
  policy: TaskPolicy;
  /** Aborts when the task is canceled or the server stops. */
  signal: AbortSignal;
  emit: TaskEmitter;
}

/** The states a handler may end its turn in. `input-required` and `auth-required` wait for the next message. */
export type HandlerState = "completed" | "failed" | "rejected" | "input-required" | "auth-required";

/**
 * How a handler ends its turn other than by returning a result:
 * `{ reply }` answers with a bare message and keeps no task (when the handler has emitted
 * nothing before; otherwise the task completes with it as its status message);
 * `{ state, message }` moves the task to `state`, with `message` (a question, a reason) as
 * its status message.
 */
export type SkillOutcome = { reply: string | Part[] } | { state: HandlerState; message?: string | Part[] };

/** What a handler returns: text or parts become the artifact `"result"` of a completed task; nothing completes it bare. */
export type SkillResult = string | Part[] | void | SkillOutcome;

/**
 * Runs one turn of a task. A throw fails the task with the error's message. Until the
 * handler emits something or returns, a send waits for it (its answer may still be a bare
 * message): a long-running handler should report `emit.status()` first.
 */
export type SkillHandler = (context: SkillContext) => Promise<SkillResult> | SkillResult;

/** `content` as parts. */
export function toParts(content: string | Part[]): Part[] {
  return typeof content === "string" ? [{ kind: "text", text: content }] : content;
}

/** An agent message with `content`. */
export function agentMessage(content: string | Part[]): Message {
  return { role: "agent", parts: toParts(content), messageId: crypto.randomUUID() };
}
