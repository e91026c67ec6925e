/** The command table, dispatch from argv to a command, and the top-level and group help. */
import { version } from "../version.ts";
import { A2A_COMMANDS } from "./a2a-cmd.ts";
import { parseCommandArgs, renderCommandHelp, type CommandSpec } from "./args.ts";
import { BENCH_COMMAND } from "./bench-cmd.ts";
import { EMBED_COMMAND } from "./embed-cmd.ts";
import { ExitCode, reportFailure, UsageError, type UsageLine } from "./failures.ts";
import { INDEX_COMMANDS } from "./index-cmd.ts";
import { LAKE_COMMANDS } from "./lake-cmd.ts";
import { MODELS_COMMANDS } from "./models-cmd.ts";
import { table } from "./output.ts";
import { VERSION_COMMAND } from "./version-cmd.ts";

const COMMANDS: readonly CommandSpec[] = [...INDEX_COMMANDS, BENCH_COMMAND, EMBED_COMMAND, ...MODELS_COMMANDS, ...LAKE_COMMANDS, ...A2A_COMMANDS, VERSION_COMMAND];
const HELP_FLAGS = ["-h", "--help"];

/**
 * Runs the command line `argv` (the words after `ruvector`): prints results
 * on stdout, errors on stderr (as one JSON document when `--json` is given),
 * and returns the exit code.
 */
export async function main(argv: readonly string[]): Promise<ExitCode> {
  try {
    await dispatch(argv);
    return ExitCode.Ok;
  } catch (err) {
    return reportFailure(err, argv.includes("--json") ? "json" : "text");
  }
}

async function dispatch(argv: readonly string[]): Promise<void> {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError("missing command");
  if (HELP_FLAGS.includes(first)) return void process.stdout.write(topHelp());
  if (first === "help") return void process.stdout.write(helpFor(rest));
  const command = findCommand(argv);
  if (command) return runCommand(command, argv.slice(command.name.split(" ").length));
  const group = groupUsage(first);
  if (!group) throw new UsageError(`unknown command '${first}'`);
  const [sub] = rest;
  if (sub !== undefined && HELP_FLAGS.includes(sub)) return void process.stdout.write(groupHelp(group));
  throw new UsageError(sub === undefined ? `missing ${first} command` : `unknown command '${first} ${sub}'`, group);
}

async function runCommand(command: CommandSpec, argv: readonly string[]): Promise<void> {
  const args = parseCommandArgs(command, argv);
  if (!args) return;
  try {
    await command.run(args);
  } catch (err) {
    // Helpers deep in a command raise usage errors without knowing which command they serve.
    if (err instanceof UsageError && !err.command) throw new UsageError(err.message, command);
    throw err;
  }
}

/** The command named by the leading words of `argv`. */
function findCommand(argv: readonly string[]): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name.split(" ").every((word, i) => argv[i] === word));
}

function groupCommands(group: string): CommandSpec[] {
  return COMMANDS.filter((c) => c.name.startsWith(`${group} `));
}

function groupUsage(group: string): UsageLine | undefined {
  const subs = groupCommands(group).map((c) => c.name.slice(group.length + 1));
  return subs.length ? { name: group, usage: `<${subs.join("|")}> [options]` } : undefined;
}

function commandList(commands: readonly CommandSpec[], extra: ReadonlyArray<readonly [string, string]> = []): string {
  return table([...commands.map((c) => [c.name, c.summary] as const), ...extra], "  ");
}

function topHelp(): string {
  return (
    `ruvector ${version}: RaBitQ vector indexes, lakes and A2A agents for Bun\n\n` +
    "usage: ruvector <command> [options]\n\n" +
    `commands:\n${commandList(COMMANDS, [["help <command>", "show a command's options"]])}\n` +
    "Every command takes --help; results print as text, or as JSON with --json.\n" +
    "Exit codes: 0 success, 1 runtime or data error, 2 usage error.\n"
  );
}

function groupHelp(group: UsageLine): string {
  return `usage: ruvector ${group.name} ${group.usage}\n\ncommands:\n${commandList(groupCommands(group.name))}`;
}

/** Help for `ruvector help <words>`. */
function helpFor(words: readonly string[]): string {
  const [first] = words;
  if (first === undefined) return topHelp();
  const command = findCommand(words);
  if (command?.name === words.join(" ")) return renderCommandHelp(command);
  const group = words.length === 1 ? groupUsage(first) : undefined;
  if (group) return groupHelp(group);
  throw new UsageError(`no help for unknown command '${words.join(" ")}'`);
}
