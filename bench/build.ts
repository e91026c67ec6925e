/**
 * IvfRabitqIndex build cost per stage (issue 11: ≤ 2 s per 100k vectors on 2 cores): for GloVe-100 100k
 * (cosine; default nlist and nlist 2048, the two-level k-means), Fashion-MNIST 60k × 784 (L2) and a synthetic
 * 100k × 384 set, the CPU and wall seconds of each stage (prepare, rotate, train, assign, encode, calibrate)
 * of a codes-only build and of a `targetRecall 0.95` build, and recall@10 against nprobe.
 * CPU seconds are the process's (both threads): on a shared machine they are the comparable number.
 *
 *   bun bench/build.ts                       this tree's libruvector/target/release/ruvector-ivf-bench
 *   … --before <ruvector-ivf-bench binary>   also an older build's binary, run alternately with this one (ratios)
 *   … --only glove,fashion                   a subset of glove, glove-2048, fashion, synth384
 * Build the binary first: cargo build --release --manifest-path libruvector/Cargo.toml --bin ruvector-ivf-bench
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { machineLine, Report } from "./report.ts";

const ROOT = join(import.meta.dir, "..");
const DATASETS = join(ROOT, "..", "shared", "datasets");
/** Data set → ruvector-ivf-bench `stages` arguments (set, threads, nlist; 0 = default nlist). */
const SETS: Record<string, [string, number, number]> = {
  glove: ["glove", 2, 0],
  "glove-2048": ["glove", 2, 2048],
  fashion: ["fashion", 2, 0],
  synth384: ["synth384", 2, 0],
};

const { values: args } = parseArgs({ options: { before: { type: "string" }, only: { type: "string" } } });
const only = args.only?.split(",") ?? Object.keys(SETS);
for (const name of only) if (!(name in SETS)) throw new RangeError(`--only ${args.only}: "${name}" is not one of ${Object.keys(SETS).join(", ")}`);
const after = join(ROOT, "libruvector", "target", "release", "ruvector-ivf-bench");
const binaries: [string, string][] = args.before ? [["before", args.before], ["after", after]] : [["after", after]];

interface Run {
  /** The stage table rows, as the binary prints them. */
  rows: string[];
  /** "label: nprobe N" → recall@10. */
  recall: Map<string, number>;
}

async function run(exe: string, name: string): Promise<Run> {
  const [set, threads, nlist] = SETS[name]!;
  const proc = Bun.spawn([exe, "stages", set, DATASETS, String(threads), String(nlist)], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${exe} stages ${set} exited with ${code}: ${err.slice(-500)}`);
  const rows = out.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| build"));
  const recall = new Map<string, number>();
  for (const m of err.matchAll(/^(.+): (nprobe \d+) recall@10 ([\d.]+)$/gm)) recall.set(`${m[1]}, ${m[2]}`, Number(m[3]));
  return { rows, recall };
}

const report = new Report();
report.say(`## IvfRabitqIndex build cost per stage — ${machineLine()}`);
report.say("\nCells are CPU / wall seconds (CPU = all the process's threads); 2 rayon threads; `–` = the stage did not run.");
for (const name of only) {
  const runs = new Map<string, Run>();
  for (const [label, exe] of binaries) runs.set(label, await run(exe, name));
  report.say(`\n### ${name}\n`);
  report.say("| binary | build | prepare | rotate | train | assign | encode | calibrate | total |");
  report.say("|---|---|---|---|---|---|---|---|---|");
  for (const [label, r] of runs) for (const row of r.rows) report.say(`| ${label} ${row}`);
  const keys = [...runs.values()].at(-1)!.recall.keys();
  report.say(`\n| recall@10 at | ${[...runs.keys()].join(" | ")} |`);
  report.say(`|---|${[...runs.keys()].map(() => "---:").join("|")}|`);
  for (const key of keys) report.say(`| ${key} | ${[...runs.values()].map((r) => r.recall.get(key)?.toFixed(4) ?? "–").join(" | ")} |`);
}
await Bun.write(join(import.meta.dir, "results", "build.md"), report.text());
