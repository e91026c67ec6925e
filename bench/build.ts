/**
 * IvfRabitqIndex build cost per stage (issue 11: ≤ 2 s per 100k vectors on 2 cores): for GloVe-100 100k
 * (cosine; default nlist and nlist 2048, the two-level k-means), Fashion-MNIST 60k × 784 (L2) and a synthetic
 * 100k × 384 set, the CPU and wall seconds of each stage (prepare, rotate, train, assign, encode, calibrate)
 * of a codes-only build and of a `targetRecall 0.95` build, and recall@10 against nprobe.
 * CPU seconds are the process's (both threads): on a shared machine they are the comparable number.
 *
 *   bun bench/build.ts                       this tree's libruvector/target/release/ruvector-ivf-bench
 *   … --before <ruvector-ivf-bench binary>   also an older build's binary, run alternately with this one (ratios)
 *   … --only glove,fashion                   a subset of glove, glove-2048, fashion, synth384 (default all; none = "")
 *   … --api glove,fashion,wink               also time IvfRabitqIndex.build end to end from Bun on these sets (wink:
 *                                            the 341k-word vocabulary of examples/word-vectors.ts, scripts/wink-glove)
 *                                            (with --only "" alone, into bench/results/build-api.md)
 *   … --before-lib <libruvector.so>          … and with an older library too (RUVECTOR_LIB), alternately
 * Build the binary first: cargo build --release --manifest-path libruvector/Cargo.toml --bin ruvector-ivf-bench
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { IvfRabitqIndex } from "../src/index.ts";
import { fashion, glove, winkGlove } from "./data.ts";
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

const { values: args } = parseArgs({
  options: { before: { type: "string" }, "before-lib": { type: "string" }, only: { type: "string" }, api: { type: "string" }, "api-child": { type: "string" } },
});
/** The 341k-word GloVe vocabulary of examples/word-vectors.ts (default nlist 2048: the k-means tree), 10 queries held out. */
async function wink() {
  const path = Bun.spawnSync(["bash", join(ROOT, "scripts", "wink-glove")]).stdout.toString().trim();
  return winkGlove(path, 10);
}
/** End-to-end builds from Bun: data set → loader; build configurations by name. */
const API_SETS = { glove, fashion, wink } as const;
const API_CONFIGS = { "codes only": {}, "targetRecall 0.95": { targetRecall: 0.95 } } as const;

if (args["api-child"] !== undefined) {
  // One child process per library (RUVECTOR_LIB picks it): prints {config: [cpuS, wallS]} for one data set.
  const ds = await API_SETS[args["api-child"] as keyof typeof API_SETS]();
  const out: Record<string, [number, number]> = {};
  for (const [config, options] of Object.entries(API_CONFIGS)) {
    const [cpu0, wall0] = [process.cpuUsage(), performance.now()];
    using index = IvfRabitqIndex.build(ds.base.data, { dim: ds.base.dim, metric: ds.metric, ...options });
    const cpu = process.cpuUsage(cpu0);
    out[config] = [(cpu.user + cpu.system) / 1e6, (performance.now() - wall0) / 1e3];
    void index;
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

const only = args.only === undefined ? Object.keys(SETS) : args.only.split(",").filter((n) => n !== "");
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
/** Runs the end-to-end child for `set` on the library at `lib` (undefined = this tree's). */
async function apiRun(set: string, lib: string | undefined): Promise<Record<string, [number, number]>> {
  const env = { ...process.env, ...(lib ? { RUVECTOR_LIB: lib } : {}) };
  const proc = Bun.spawn([process.execPath, import.meta.path, "--api-child", set], { env, stdout: "pipe", stderr: "inherit" });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) throw new Error(`end-to-end build of ${set} exited with ${code}`);
  return JSON.parse(out) as Record<string, [number, number]>;
}

const apiSets = args.api?.split(",") ?? [];
for (const name of apiSets) if (!(name in API_SETS)) throw new RangeError(`--api ${args.api}: "${name}" is not one of ${Object.keys(API_SETS).join(", ")}`);
if (apiSets.length > 0) {
  const libs: [string, string | undefined][] = args["before-lib"] ? [["before", args["before-lib"]], ["after", undefined]] : [["after", undefined]];
  report.say("\n### End to end from Bun: `IvfRabitqIndex.build` (default nlist, 2 threads), CPU / wall seconds\n");
  report.say(`| data set | build | ${libs.map((l) => l[0]).join(" | ")} |${libs.length > 1 ? " CPU after / before |" : ""}`);
  report.say(`|---|---|${libs.map(() => "---:").join("|")}|${libs.length > 1 ? "---:|" : ""}`);
  for (const set of apiSets) {
    const runs: Record<string, [number, number]>[] = [];
    for (const [, lib] of libs) runs.push(await apiRun(set, lib));
    for (const config of Object.keys(API_CONFIGS)) {
      const cells = runs.map((r) => `${r[config]![0].toFixed(2)} / ${r[config]![1].toFixed(2)}`);
      const ratio = runs.length > 1 ? ` ${(runs[1]![config]![0] / runs[0]![config]![0]).toFixed(2)}× |` : "";
      report.say(`| ${set} | ${config} | ${cells.join(" | ")} |${ratio}`);
    }
  }
}
// An end-to-end-only run (--only "") keeps its own file, so it does not replace the stage tables.
await Bun.write(join(import.meta.dir, "results", only.length === 0 ? "build-api.md" : "build.md"), report.text());
