/** Command definitions, option parsing with typed accessors, and help rendering. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError, type UsageLine } from "./failures.ts";
import { table } from "./output.ts";

/** One command-line option. */
export interface OptionSpec {
  type: "string" | "boolean";
  /** One-letter alias, e.g. `o` for `-o`. */
  short?: string;
  /** Placeholder for the value in help, e.g. `FILE`. */
  value?: string;
  /** One-line description for `--help`. */
  help: string;
}

/** A runnable command: `name` is its words after `ruvector`, e.g. `index build`. */
export interface CommandSpec extends UsageLine {
  /** One line for the command list. */
  summary: string;
  /** Paragraph shown by `--help` under the usage line. */
  description: string;
  /** Names of the required positional arguments, in order. */
  positionals: readonly string[];
  /** Whether any number of further positional arguments may follow the required ones (e.g. the texts of `embed`). */
  rest?: boolean;
  options: Readonly<Record<string, OptionSpec>>;
  run(args: Args): Promise<void>;
}

/** Shared `--json` option. */
export const JSON_OPTION: OptionSpec = { type: "boolean", help: "print the result as one JSON document on stdout" };

const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", help: "show this help" };

/** Option values as node:util's parseArgs returns them (no option here repeats, so no arrays occur). */
type OptionValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

/** Parsed arguments of one command, with accessors that raise usage errors. */
export class Args {
  constructor(
    readonly command: CommandSpec,
    readonly positionals: readonly string[],
    private readonly values: Readonly<OptionValues>,
  ) {}

  /** The i-th required positional argument (presence is checked when parsing). */
  positional(i: number): string {
    return this.positionals[i]!;
  }

  /** The positional arguments after the required ones (see {@link CommandSpec.rest}). */
  rest(): readonly string[] {
    return this.positionals.slice(this.command.positionals.length);
  }

  /** A string option, or undefined when absent. */
  string(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === "string" ? v : undefined;
  }

  /** A string option that must be given. */
  required(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw this.usage(`missing required option ${flagName(name)}`);
    return v;
  }

  /** A boolean flag. */
  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** An integer option in `min..max`, or `fallback` when absent. */
  int<F extends number | undefined>(name: string, range: { min: number; max: number }, fallback: F): number | F {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= range.min && n <= range.max)) {
      throw this.usage(`${flagName(name)} must be an integer in ${range.min}..${range.max}, got '${raw}'`);
    }
    return n;
  }

  /** A number in (0, 1] (a recall), or undefined when absent. */
  fraction(name: string): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const x = /^(0?\.\d+|1(\.0*)?)$/.test(raw) ? Number(raw) : NaN;
    if (!(x > 0 && x <= 1)) throw this.usage(`${flagName(name)} must be a number in (0, 1], got '${raw}'`);
    return x;
  }

  /** An unsigned 64-bit integer option (e.g. a seed), or undefined when absent. */
  uint64(name: string): bigint | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw) || BigInt(raw) >= 2n ** 64n) {
      throw this.usage(`${flagName(name)} must be an integer in 0..2^64-1, got '${raw}'`);
    }
    return BigInt(raw);
  }

  /** One of `choices`, or `fallback` when absent. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!(choices as readonly string[]).includes(raw)) {
      throw this.usage(`${flagName(name)} must be one of ${choices.join(", ")}, got '${raw}'`);
    }
    return raw as T;
  }

  /** A usage error tied to this command. */
  usage(message: string): UsageError {
    return new UsageError(message, this.command);
  }
}

/**
 * Parses `argv` (the words after the command's name) against `command`.
 * Returns undefined when `--help` was asked for, after printing the help.
 */
export function parseCommandArgs(command: CommandSpec, argv: readonly string[]): Args | undefined {
  const options = { ...command.options, help: HELP_OPTION };
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: attachNegativeValues(argv, options), options: toParseArgsOptions(options), strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(describeParseError(err), command);
  }
  if (parsed.values.help === true) {
    process.stdout.write(renderCommandHelp(command));
    return undefined;
  }
  const [missing] = command.positionals.slice(parsed.positionals.length);
  if (missing !== undefined) throw new UsageError(`missing <${missing}>`, command);
  const [extra] = parsed.positionals.slice(command.positionals.length);
  if (extra !== undefined && !command.rest) throw new UsageError(`unexpected argument '${extra}'`, command);
  return new Args(command, parsed.positionals, parsed.values);
}

/**
 * Rewrites `--vector -0.5,1` as `--vector=-0.5,1`: parseArgs refuses values
 * that start with a dash, but no option name starts with a digit or a dot.
 */
function attachNegativeValues(argv: readonly string[], options: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    const name = next !== undefined && /^-[\d.]/.test(next) ? valueOptionName(arg, options) : undefined;
    if (name === undefined) {
      out.push(arg);
    } else {
      out.push(`--${name}=${next}`);
      i++;
    }
  }
  return out;
}

/** The name of the option `arg` spells (`--rerank`, `-k`) when that option takes a value. */
function valueOptionName(arg: string, options: Record<string, OptionSpec>): string | undefined {
  const short = /^-(\w)$/.exec(arg)?.[1];
  const name = arg.startsWith("--") ? arg.slice(2) : Object.keys(options).find((n) => short && options[n]!.short === short);
  return name !== undefined && options[name]?.type === "string" ? name : undefined;
}

function toParseArgsOptions(options: Record<string, OptionSpec>): NonNullable<ParseArgsConfig["options"]> {
  return Object.fromEntries(
    Object.entries(options).map(([name, o]) => [name, o.short ? { type: o.type, short: o.short } : { type: o.type }]),
  );
}

/** node:util's messages are multi-line and Node-flavoured; keep the gist on one line. */
function describeParseError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option '${unknown[1]}'`;
  return message.replace(/\s*\n\s*/g, " ");
}

/** How the option is spelled on the command line: `-k` for one-letter names, `--rerank` otherwise. */
function flagName(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

function optionLabel(name: string, option: OptionSpec): string {
  const long = flagName(name);
  const flags = option.short && option.short !== name ? `-${option.short}, ${long}` : long;
  return option.value ? `${flags} ${option.value}` : flags;
}

/** The `--help` text of one command. */
export function renderCommandHelp(command: CommandSpec): string {
  const options = Object.entries({ ...command.options, help: HELP_OPTION }).map(([name, o]) => [optionLabel(name, o), o.help] as const);
  return `usage: ruvector ${command.name} ${command.usage}\n\n${command.description}\n\noptions:\n${table(options, "  ")}`;
}
