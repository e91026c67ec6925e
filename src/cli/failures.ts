/** Exit codes and the errors the CLI reports without a stack trace. */
import { RuVectorError } from "../errors.ts";

/** Process exit codes: success, a runtime or data failure, a usage mistake. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad command line: unknown command or option, missing or malformed argument. */
export class UsageError extends Error {
  /** The command whose usage to show: its words after `ruvector` and its arguments. */
  readonly command: UsageLine | undefined;
  constructor(message: string, command?: UsageLine) {
    super(message);
    this.command = command;
  }
}

/** A command's name and argument synopsis, e.g. `index search` and `<index> [options]`. */
export interface UsageLine {
  name: string;
  usage: string;
}

/** A file the command needs is missing, unreadable or inconsistent with the others. */
export class InputError extends Error {}

/** Whether `err` is an anticipated failure whose message alone explains it. */
function isExpected(err: unknown): err is Error {
  return err instanceof RuVectorError || err instanceof InputError || err instanceof UsageError;
}

/** How a failure is printed: lines for people, or one JSON document for `--json` callers. */
export type FailureFormat = "text" | "json";

/**
 * Prints `err` to stderr and returns the exit code. As text: `ruvector:
 * <message>` (plus a usage hint for usage errors); unexpected errors keep their
 * stack, since they are bugs worth reporting. As JSON: `{"error": {code,
 * message, ...}}` on one line, with the library's stable error code.
 */
export function reportFailure(err: unknown, format: FailureFormat = "text"): ExitCode {
  const exit = err instanceof UsageError ? ExitCode.Usage : ExitCode.Failure;
  if (format === "json") {
    process.stderr.write(JSON.stringify({ error: describeFailure(err) }) + "\n");
    return exit;
  }
  if (!isExpected(err)) {
    process.stderr.write(`ruvector: unexpected error\n${err instanceof Error ? err.stack : String(err)}\n`);
    return exit;
  }
  process.stderr.write(`ruvector: ${oneLine(err.message)}\n`);
  if (err instanceof UsageError) process.stderr.write(`usage: ${usageOf(err)}\nRun '${commandOf(err)} --help' for details.\n`);
  return exit;
}

/** A failure as data: `code` is the library's stable code, `USAGE`, `INPUT` or `INTERNAL`. */
export interface FailureReport {
  code: string;
  message: string;
  /** Usage errors: the synopsis of the command. */
  usage?: string;
  /** Unexpected errors: the stack, for a bug report. */
  stack?: string;
}

function describeFailure(err: unknown): FailureReport {
  if (err instanceof RuVectorError) return { code: err.code, message: oneLine(err.message) };
  if (err instanceof UsageError) return { code: "USAGE", message: oneLine(err.message), usage: usageOf(err) };
  if (err instanceof InputError) return { code: "INPUT", message: oneLine(err.message) };
  const stack = err instanceof Error ? err.stack : undefined;
  return { code: "INTERNAL", message: err instanceof Error ? oneLine(err.message) : String(err), ...(stack ? { stack } : {}) };
}

function commandOf(err: UsageError): string {
  return err.command ? `ruvector ${err.command.name}` : "ruvector";
}

function usageOf(err: UsageError): string {
  return `${commandOf(err)} ${err.command ? err.command.usage : "<command> [options]"}`;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, " ").trim();
}
