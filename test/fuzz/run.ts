/**
 * Mutation fuzzing of every loader with a fixed seed. Each mutant ends in one
 * of four outcomes: ok, a typed error (a RuVectorError subclass), a crash (any
 * other exception) or a hang (no outcome within 5 s). A native crash kills the
 * process, which the CI test reports.
 *
 *   bun test/fuzz/run.ts                 CI budget used by test/fuzz/fuzz.test.ts: 5,000 per format (default 2,000)
 *   bun test/fuzz/run.ts --long          50,000 per format (or --mutants N), for local runs
 *   bun test/fuzz/run.ts --seed 7        another seed
 *
 * Prints a table, then one `FUZZ {json}` line; exits 1 when any crash or hang occurred.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RuVectorError } from "../../src/errors.ts";
import { tempDir } from "../support/helpers.ts";
import { Mutator } from "./mutate.ts";
import { targets } from "./targets.ts";

const HANG_MS = 5_000;
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const mutants = option("--mutants", args.includes("--long") ? 50_000 : 2_000);
const seed = option("--seed", 20261201);

interface Tally {
  format: string;
  ok: number;
  typed: number;
  crash: number;
  hang: number;
  examples: string[];
}

const HANG = Symbol("hang");

async function outcome(run: () => unknown): Promise<"ok" | "typed" | "crash" | "hang" | Error> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const deadline = new Promise((resolve) => (timer = setTimeout(() => resolve(HANG), HANG_MS)));
    const result = await Promise.race([Promise.resolve().then(run), deadline]);
    if (result === HANG || performance.now() - started > HANG_MS) return "hang";
    return "ok";
  } catch (error) {
    if (performance.now() - started > HANG_MS) return "hang";
    return error instanceof RuVectorError ? "typed" : (error as Error);
  } finally {
    clearTimeout(timer);
  }
}

const keep = tempDir("ruvector-fuzz-findings-");
const tallies: Tally[] = [];
const started = performance.now();
for (const target of await targets()) {
  const mutator = new Mutator(seed ^ hash(target.name));
  const tally: Tally = { format: target.name, ok: 0, typed: 0, crash: 0, hang: 0, examples: [] };
  const inputs = (function* () {
    yield* target.seeds;
    for (let i = 0; i < mutants; i++) yield mutator.mutant(target.seeds);
  })();
  let n = 0;
  for (const bytes of inputs) {
    const result = await outcome(() => target.run(bytes));
    if (typeof result === "string") tally[result]++;
    else tally.crash++;
    if (result === "hang" || typeof result !== "string") {
      const file = join(keep, `${target.name.replaceAll(/\W+/g, "-")}-${n}.bin`);
      writeFileSync(file, bytes);
      if (tally.examples.length < 5) tally.examples.push(`${result === "hang" ? "hang" : `${result.name}: ${result.message.slice(0, 200)}`} (input ${file})`);
    }
    n++;
  }
  tallies.push(tally);
  console.log(`${target.name.padEnd(34)} ok ${String(tally.ok).padStart(6)}  typed ${String(tally.typed).padStart(6)}  crash ${tally.crash}  hang ${tally.hang}`);
  for (const e of tally.examples) console.log(`  ${e}`);
}
const seconds = (performance.now() - started) / 1000;
console.log(`FUZZ ${JSON.stringify({ seed, mutants, seconds: Math.round(seconds), tallies })}`);
process.exit(tallies.some((t) => t.crash + t.hang > 0) ? 1 : 0);

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
