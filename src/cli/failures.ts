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

/**
 * Prints `err` to stderr as `ruvector: <message>` (plus a usage hint for
 * usage errors) and returns the exit code. Unexpected errors keep their stack,
 * since they are bugs worth reporting.
 */
export function reportFailure(err: unknown): ExitCode {
  if (!isExpected(err)) {
    process.stderr.write(`ruvector: unexpected error\n${err instanceof Error ? err.stack : String(err)}\n`);
    return ExitCode.Failure;
  }
  process.stderr.write(`ruvector: ${oneLine(err.message)}\n`);
  if (!(err instanceof UsageError)) return ExitCode.Failure;
  const name = err.command ? `ruvector ${err.command.name}` : "ruvector";
  const usage = err.command ? `${name} ${err.command.usage}` : `${name} <command> [options]`;
  process.stderr.write(`usage: ${usage}\nRun '${name} --help' for details.\n`);
  return ExitCode.Usage;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, " ").trim();
}
