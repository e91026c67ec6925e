/**
 * Sweep benchmark (issue 11): for GloVe-100 (cosine), Fashion-MNIST (L2) and the synthetic
 * clustered set, every index's search parameter is swept and QPS is reported at recall@10
 * 0.90 / 0.95 / 0.99 (interpolated on the measured curve, never extrapolated), with build time,
 * memory and ratios against hnswlib-node measured in the same run; plus exact flat against
 * hnswlib's BruteforceSearch and searchBatch scaling over 1 and 2 threads.
 *
 *   bun bench/ivf.ts          quick: data-set prefixes, 100 queries, coarse sweeps (2–5 min on 2 cores)
 *   bun bench/ivf.ts --full   whole data sets, 200–1000 queries, fine sweeps (bench/results/ivf.md)
 *   … --only glove,fashion    a subset of the data sets (glove, fashion, synthetic; results in ivf[-quick]-<names>.md)
 *   … --rounds N              sweep rounds, best QPS kept (default 1 quick, 2 full)
 *   … --cpu                   QPS from the process's CPU time instead of wall time (for a shared, loaded machine)
 *   … --lean                  only our IvfRabitqIndex and FlatF32Index against hnswlib-node (HNSW and BruteforceSearch): the ratios
 *                             of issue 11's targets in a fraction of the time
 * Results go to bench/results/ivf[-quick][-lean][-cpu][-<names>].md and .json.
 * Peers come from bench/node_modules (`bash bench/run` installs them). Absolute QPS is context; the ratios are the result.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fashion, glove, synthetic, type Dataset } from "./data.ts";
import { hnswlib, hnswlibBruteforce, lancedb, usearch, type LanceSweep } from "./peers.ts";
import { flat, ivf, ivfRecommended, rabitqPlus, type IvfGrid } from "./ours.ts";
import { curveList, loadAverage, machineLine, qpsTable, ratioTable, Report, targetLines } from "./report.ts";
import { subset, sweepAll, type Budget, type Built, type Curve } from "./sweep.ts";

/** One mode's data-set sizes and sweep grids. */
interface Plan {
  name: string;
  /** Base rows and queries per data set; `Infinity` = all rows. */
  sizes: Record<"glove" | "fashion" | "synthetic", { n: number; nq: number }>;
  batchSeconds: number;
  /** Rounds of the sweep (see sweepAll). */
  rounds: number;
  efs: number[];
  rerankFactors: number[];
  lance: LanceSweep[];
  ivf: IvfGrid[];
}

const QUICK: Plan = {
  name: "quick",
  sizes: { glove: { n: 20_000, nq: 100 }, fashion: { n: 10_000, nq: 100 }, synthetic: { n: 20_000, nq: 100 } },
  batchSeconds: 0.2,
  rounds: 1,
  efs: [10, 24, 64, 160, 400],
  rerankFactors: [2, 10, 50, 200],
  lance: [1, 4].map((numBits) => ({ numBits, nprobes: [2, 8], refineFactors: [1, 10, 50] })),
  ivf: [
    { exBits: 7, store: "none", nprobes: [2, 8, 24, 64, 160], reranks: [0] },
    { exBits: 6, store: "none", nprobes: [2, 8, 24, 64, 160], reranks: [0] },
    { exBits: 5, store: "none", nprobes: [2, 8, 24, 64, 160], reranks: [0] },
    { exBits: 4, store: "f16", nprobes: [2, 8, 24, 64, 160], reranks: [40] },
  ],
};

const FULL: Plan = {
  name: "full",
  sizes: { glove: { n: Infinity, nq: 1000 }, fashion: { n: Infinity, nq: 500 }, synthetic: { n: 100_000, nq: 200 } },
  batchSeconds: 1,
  rounds: 2,
  efs: [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768],
  rerankFactors: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1024],
  lance: [1, 4].map((numBits) => ({ numBits, nprobes: [2, 8, 32], refineFactors: [1, 10, 50] })),
  ivf: [
    { exBits: 7, store: "none", nprobes: [2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512], reranks: [0] },
    { exBits: 6, store: "none", nprobes: [8, 16, 32, 48, 64, 96, 128, 160, 192, 256, 384], reranks: [0] },
    { exBits: 5, store: "none", nprobes: [8, 16, 32, 48, 64, 96, 128, 160, 192, 256, 384], reranks: [0] },
    { exBits: 4, store: "f16", nprobes: [2, 4, 8, 16, 32, 48, 64, 96, 128, 192, 256, 384], reranks: [20, 40] },
  ],
};

const NAMES = ["glove", "fashion", "synthetic"] as const;
const { values: args } = parseArgs({ options: { full: { type: "boolean" }, only: { type: "string" }, rounds: { type: "string" }, lean: { type: "boolean" }, cpu: { type: "boolean" } } });
const only = args.only?.split(",") ?? [...NAMES];
for (const name of only) if (!(NAMES as readonly string[]).includes(name)) throw new RangeError(`--only ${args.only}: "${name}" is not one of ${NAMES.join(", ")}`);
const plan = args.full ? FULL : QUICK;
const rounds = args.rounds === undefined ? plan.rounds : Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 9) throw new RangeError(`--rounds ${args.rounds}: need an integer in 1..9`);
const report = new Report();
const log = (line: string) => console.error(line);

/** The selected data sets, loaded one at a time (so only one is in memory). */
async function* dataSets(): AsyncGenerator<Dataset> {
  const { glove: g, fashion: f, synthetic: s } = plan.sizes;
  if (only.includes("glove")) yield subset(await glove(), g.n, g.nq);
  if (only.includes("fashion")) yield subset(await fashion(), f.n, f.nq);
  if (only.includes("synthetic")) yield synthetic(s.n, 128, s.nq);
}

/** Builds every index one after another (so builds do not compete), then sweeps them all in interleaved rounds. */
async function curves(ds: Dataset, budget: Budget): Promise<{ all: Curve[]; brute: Curve }> {
  const others: (() => Promise<Built>)[] = [
    () => rabitqPlus(ds, plan.rerankFactors),
    () => usearch(ds, plan.efs),
    ...plan.lance.map((grid) => () => lancedb(ds, grid)),
  ];
  const builders: (() => Promise<Built>)[] = [
    ...plan.ivf.map((grid) => () => ivf(ds, grid)),
    () => ivfRecommended(ds, 0.95),
    () => ivfRecommended(ds, 0.99),
    () => flat(ds),
    () => hnswlib(ds, plan.efs),
    ...(args.lean ? [] : others),
  ];
  const builts: Built[] = [];
  for (const build of [...builders, () => hnswlibBruteforce(ds)]) {
    const built = await build();
    log(`${ds.name}: built ${built.label} in ${built.buildS.toFixed(2)} s`);
    builts.push(built);
  }
  const all = await sweepAll(builts, ds, budget, log);
  return { all: all.slice(0, -1), brute: all[all.length - 1]! };
}

function dataSetSection(ds: Dataset, all: Curve[], brute: Curve): void {
  const anchor = all.find((c) => c.label.startsWith("hnswlib-node HNSW"))!;
  const exact = all.find((c) => c.label.startsWith("FlatF32Index"))!;
  report.say(`\n### ${ds.name} — ${ds.base.rows.toLocaleString("en-US")} × ${ds.base.dim}, ${ds.metric}, ${ds.queries.rows} queries, k = 10\n`);
  qpsTable(report, all, ds.queries.rows);
  report.say();
  ratioTable(report, all, anchor);
  const flatQps = exact.points[0]!.qps;
  const bruteQps = brute.points[0]!.qps;
  const ivfCurves = all.filter((c) => c.label.startsWith("IvfRabitqIndex"));
  targetLines(report, ivfCurves, anchor, ds.base.rows, ds.metric === "cosine" ? { 0.95: 2, 0.99: 1.5 } : { 0.95: 2, 0.99: 2 });
  report.say(`- exact flat: FlatF32Index ${(exact.points[0]!.qps / brute.points[0]!.qps).toFixed(2)}× hnswlib-node BruteforceSearch — target ≥ 0.9×`);
  report.say(`\nExact flat: FlatF32Index ${flatQps.toFixed(0)} QPS vs hnswlib-node BruteforceSearch ${bruteQps.toFixed(0)} QPS = **${(flatQps / bruteQps).toFixed(2)}×** (recall ${exact.points[0]!.recall.toFixed(3)} / ${brute.points[0]!.recall.toFixed(3)})`);
  const scaling = all.filter((c) => c.batch);
  if (scaling.length > 0) {
    report.say("\n| searchBatch | setting (recall) | 1 thread QPS | 2 threads QPS | scaling |");
    report.say("|---|---|---:|---:|---:|");
    for (const c of scaling) {
      const b = c.batch!;
      report.say(`| ${c.label} | ${b.setting} (${b.recall.toFixed(3)}) | ${b.qps1.toFixed(0)} | ${b.qps2.toFixed(0)} | ${(b.qps2 / b.qps1).toFixed(2)}× |`);
    }
  }
  report.say("\nMeasured points (setting: recall@10 / QPS; Pareto front in bold):\n");
  curveList(report, [...all, brute]);
}

report.say(`## Sweep benchmark (${plan.name}) — ${machineLine()}`);
report.say(
  "\nSingle-query `search()` calls from Bun on one thread; recall@10 against exact ground truth. " +
    (args.cpu ? "QPS = queries / CPU seconds (user + system) of the process over the timed loop, not wall time. " : "") +
    "QPS at a target recall is interpolated (log-linear) between the two Pareto-front points that bracket it; " +
    "`≥` = the cheapest setting measured already exceeds the target; `–` = no setting reached it (best recall shown).",
);
const results: Record<string, Curve[]> = {};
for await (const ds of dataSets()) {
  const { all, brute } = await curves(ds, { nq: ds.queries.rows, rounds, batchSeconds: plan.batchSeconds, clock: args.cpu ? "cpu" : "wall" });
  dataSetSection(ds, all, brute);
  results[ds.name] = [...all, brute];
}
report.say(`\nLoad average at the end: ${loadAverage()} (1 / 5 / 15 min).`);
const dir = join(import.meta.dir, "results");
mkdirSync(dir, { recursive: true });
const stem = [plan === FULL ? "ivf" : "ivf-quick", ...(args.lean ? ["lean"] : []), ...(args.cpu ? ["cpu"] : []), ...(args.only ? only : [])].join("-");
await Bun.write(join(dir, `${stem}.md`), report.text());
await Bun.write(join(dir, `${stem}.json`), JSON.stringify(results, null, 1) + "\n");
