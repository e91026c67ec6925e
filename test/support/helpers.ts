/** Shared test utilities: seeded data, child processes and the `ruvector` CLI. */
import { expect } from "bun:test";
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";

export const ROOT = join(import.meta.dir, "..", "..");
/** The `ruvector` CLI's entry point (package.json's bin). */
export const CLI = join(ROOT, "src", "cli.ts");

/** Deterministic PRNG (mulberry32) in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n × dim vectors in [-1, 1), deterministic for a seed. */
export function randomVectors(n: number, dim: number, seed = 1): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = next() * 2 - 1;
  return out;
}

/** Row `i` of a flat n × dim array, as a view. */
export function row(data: Float32Array, dim: number, i: number): Float32Array {
  return data.subarray(i * dim, (i + 1) * dim);
}

/** A fresh temporary directory. */
export function tempDir(prefix = "ruvector-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Runs `start()` (its synchronous part included) while a 1 ms timer keeps firing, and reports the
 * longest gap between timer ticks from just before the call until its promise settles.
 */
export async function eventLoopGaps<T>(start: () => Promise<T>): Promise<{ result: T; worstGapMs: number; ticks: number }> {
  let last = performance.now();
  let worstGapMs = 0;
  let ticks = 0;
  const tick = () => {
    const now = performance.now();
    worstGapMs = Math.max(worstGapMs, now - last);
    last = now;
  };
  const timer = setInterval(() => {
    tick();
    ticks++;
  }, 1);
  try {
    const result = await start();
    tick();
    return { result, worstGapMs, ticks };
  } finally {
    clearInterval(timer);
  }
}

/** Runs a TypeScript snippet in a fresh Bun process from the repo root. */
export async function runBun(code: string, env: Record<string, string> = {}): Promise<ProcessResult> {
  const dir = tempDir("ruvector-child-");
  const file = join(dir, "child.ts");
  await Bun.write(file, code.replaceAll("@ruvector/bun", join(ROOT, "src", "index.ts")));
  return finished(Bun.spawn([process.execPath, file], { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" }));
}

/** How a child process ended: its exit code and all it wrote. */
export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Waits for `proc` to exit, reading its piped stdout and stderr to the end. */
async function finished(proc: { stdout: ReadableStream<Uint8Array>; stderr: ReadableStream<Uint8Array>; exited: Promise<number> }): Promise<ProcessResult> {
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Options of {@link ruvector}. */
export interface CliOptions {
  /** Working directory; default the repo root. */
  cwd?: string;
  /** What the CLI reads on stdin; default nothing (stdin is /dev/null). */
  stdin?: string | Uint8Array;
  /** Variables to add to this process's environment. */
  env?: Record<string, string>;
}

/** Runs `bun src/cli.ts ...args` (asynchronously, so servers in the test process keep serving) with stdout and stderr piped. */
export function ruvector(args: readonly string[], options: CliOptions = {}): Promise<ProcessResult> {
  const stdin = typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : (options.stdin ?? "ignore");
  const env = { ...process.env, ...options.env };
  return finished(Bun.spawn([process.execPath, CLI, ...args], { cwd: options.cwd ?? ROOT, env, stdin, stdout: "pipe", stderr: "pipe" }));
}

/** Runs the CLI with --json expecting success and a quiet stderr (no progress in pipes); returns the parsed stdout. */
export async function ruvectorJson(args: readonly string[], options: CliOptions = {}): Promise<any> {
  const run = await ruvector([...args, "--json"], options);
  expect(run).toMatchObject({ code: 0, stderr: "" });
  return JSON.parse(run.stdout);
}

/**
 * Expects a runtime failure: exit 1 and one `ruvector: …` line on stderr (no
 * stack) matching `message`; stdout must be empty or match `stdout`.
 */
export function expectOneLineError(run: ProcessResult, message: string | RegExp, stdout: string | RegExp = ""): void {
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/^ruvector: [^\n]+\n$/);
  expect(run.stderr).toMatch(message);
  if (typeof stdout === "string") expect(run.stdout).toBe(stdout);
  else expect(run.stdout).toMatch(stdout);
}

/** Expects a usage error: exit 2, nothing on stdout, the message, then `usage` and the --help hint on stderr. */
export function expectUsageError(run: ProcessResult, message: string, usage: string): void {
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: "" });
  const [error, usageLine, hint] = run.stderr.split("\n");
  expect(error).toStartWith("ruvector: ");
  expect(error).toContain(message);
  expect(usageLine).toStartWith(`usage: ${usage}`);
  expect(hint).toMatch(/^Run 'ruvector.* --help' for details\.$/);
}

/**
 * Expects `ruvector <name> --help` to succeed and list `options` (and -h);
 * `help <name>` and `<name> -h` must print the same. Returns the --help run.
 */
export async function expectCommandHelp(name: string, options: readonly string[]): Promise<ProcessResult> {
  const words = name.split(" ");
  const run = await ruvector([...words, "--help"]);
  expect(run).toMatchObject({ code: 0, stderr: "" });
  expect(run.stdout).toStartWith(`usage: ruvector ${name} `);
  for (const option of [...options, "-h, --help"]) expect(run.stdout).toContain(option);
  expect(await ruvector(["help", ...words])).toEqual(run);
  expect(await ruvector([...words, "-h"])).toEqual(run);
  return run;
}

/** What `promise` (or `f()`) rejects or throws with, or undefined when it succeeds. */
export async function caught(promise: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    return error;
  }
  return undefined;
}
