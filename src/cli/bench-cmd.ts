/** `ruvector bench`: recall@k and throughput of one variant against exact ground truth. */
import type { Matrix } from "../formats.ts";
import { IvfRabitqIndex, type BatchResult, type VectorIndex } from "../index/index.ts";
import { JSON_OPTION, type CommandSpec } from "./args.ts";
import { InputError } from "./failures.ts";
import { K_OPTION, MAX_K } from "./index-cmd.ts";
import { firstRows, readTruth, readVectors, rowsOf, VECTOR_EXTENSIONS } from "./input.ts";
import { formatMs, printFields, printJson, table } from "./output.ts";
import { withProgress } from "./progress.ts";
import { BUILD_OPTIONS, buildIndex, buildPlan, summarize, summaryFields } from "./variants.ts";

/** Mean fraction of each query's true k nearest ids found among its k hits. */
function recallAtK(result: BatchResult, truth: Matrix<Int32Array>, k: number): number {
  let found = 0;
  for (let q = 0; q < result.count; q++) {
    const want = new Set(truth.data.subarray(q * truth.dim, q * truth.dim + k));
    for (const id of result.ids.subarray(q * result.k, (q + 1) * result.k)) if (want.has(id)) found++;
  }
  return found / (result.count * k);
}

function checkInputs(base: Matrix<Float32Array>, queries: Matrix<Float32Array>, truth: Matrix<Int32Array>, k: number): void {
  if (queries.dim !== base.dim) throw new InputError(`queries have ${queries.dim} dimensions, the base vectors ${base.dim}`);
  if (truth.rows < queries.rows) throw new InputError(`ground truth has ${truth.rows} rows for ${queries.rows} queries`);
  if (truth.dim < k) throw new InputError(`ground truth lists ${truth.dim} neighbours per query, fewer than k = ${k}`);
}

/** Queries per second of one `search()` call after another on this thread. */
async function singleThreadQps(index: VectorIndex, queries: Matrix<Float32Array>, k: number): Promise<number> {
  const rows = rowsOf(queries);
  return withProgress(
    "searching one at a time",
    (progress) => {
      const started = performance.now();
      rows.forEach((query, i) => {
        index.search(query, k);
        progress.update(i + 1);
      });
      return (1000 * rows.length) / (performance.now() - started);
    },
    rows.length,
  );
}

/** Queries per second of one batch on all cores, with its results. */
async function batchQps(index: VectorIndex, queries: Matrix<Float32Array>, k: number): Promise<{ qps: number; result: BatchResult }> {
  const started = performance.now();
  // The async form runs the same batch engine off the JS thread, so the progress line stays live.
  const result = await withProgress("searching as one batch", () => index.searchBatchAsync(queries.data, k, { threads: 0 }));
  return { qps: (1000 * queries.rows) / (performance.now() - started), result };
}

/** One point of an ivf `--sweep`: lists probed, candidates reranked (0 without a store), recall and single-thread QPS. */
interface SweepPoint {
  nprobe: number;
  rerank: number;
  recall: number;
  qps: number;
}

/** The sweep's settings: nprobe = 1, 2, 4, … nlist, each with rerank k, 4k and 16k when the index has a store. */
function sweepSettings(index: IvfRabitqIndex, k: number): Array<{ nprobe: number; rerank: number }> {
  const probes: number[] = [];
  for (let p = 1; p < index.nlist; p *= 2) probes.push(p);
  probes.push(index.nlist);
  const reranks = index.store === "none" ? [0] : [k, 4 * k, 16 * k];
  return probes.flatMap((nprobe) => reranks.map((rerank) => ({ nprobe, rerank })));
}

/** Recall and single-thread QPS at each sweep setting (one batch on the calling thread each). */
async function sweep(index: IvfRabitqIndex, queries: Matrix<Float32Array>, truth: Matrix<Int32Array>, k: number): Promise<SweepPoint[]> {
  const settings = sweepSettings(index, k);
  return withProgress(
    index.store === "none" ? "sweeping nprobe" : "sweeping nprobe and rerank",
    (progress) =>
      settings.map(({ nprobe, rerank }, i) => {
        const started = performance.now();
        const result = index.searchBatch(queries.data, k, rerank > 0 ? { nprobe, rerank, threads: 1 } : { nprobe, threads: 1 });
        const qps = (1000 * queries.rows) / (performance.now() - started);
        progress.update(i + 1);
        return { nprobe, rerank, recall: recallAtK(result, truth, k), qps };
      }),
    settings.length,
  );
}

/** The `bench` command. */
export const BENCH_COMMAND: CommandSpec = {
  name: "bench",
  usage: "<base> --queries <file> --truth <file.ivecs> [options]",
  summary: "measure recall@k and QPS against exact ground truth",
  description:
    `Builds an index over <base> (${VECTOR_EXTENSIONS.join(", ")}), searches the queries one\n` +
    "at a time (single-thread QPS) and as one batch on all cores (batch QPS), and scores\n" +
    "recall@k against the exact neighbour ids in the ground truth (.ivecs, a row per query).",
  positionals: ["base"],
  options: {
    queries: { type: "string", value: "FILE", help: "query vectors (required)" },
    truth: { type: "string", value: "FILE", help: "exact nearest-neighbour ids per query, .ivecs (required)" },
    ...BUILD_OPTIONS,
    k: K_OPTION,
    limit: { type: "string", value: "N", help: "use only the first N queries" },
    sweep: { type: "boolean", help: "ivf: also measure recall and 1-thread QPS at nprobe = 1, 2, 4, … nlist (with a store: each at rerank k, 4k, 16k)" },
    json: JSON_OPTION,
  },
  async run(args) {
    const queriesPath = args.required("queries");
    const truthPath = args.required("truth");
    const plan = buildPlan(args);
    if (args.flag("sweep") && plan.variant !== "ivf") throw args.usage(`--sweep applies to --variant ivf only, not ${plan.variant}`);
    const k = args.int("k", { min: 1, max: MAX_K }, 10);
    const limit = args.int("limit", { min: 1, max: Number.MAX_SAFE_INTEGER }, undefined);
    const base = await readVectors(args.positional(0));
    const queries = firstRows(await readVectors(queriesPath), limit);
    const truth = await readTruth(truthPath);
    checkInputs(base, queries, truth, k);
    const { index, buildMs } = await buildIndex(plan, base);
    try {
      const qpsSingle = await singleThreadQps(index, queries, k);
      const batch = await batchQps(index, queries, k);
      const recall = recallAtK(batch.result, truth, k);
      const cores = navigator.hardwareConcurrency;
      const summary = summarize(index);
      const points = args.flag("sweep") && index instanceof IvfRabitqIndex ? await sweep(index, queries, truth, k) : undefined;
      if (args.flag("json")) {
        printJson({ ...summary, k, queries: queries.rows, recall, qpsSingle, qpsBatch: batch.qps, cores, buildMs, ...(points ? { sweep: points } : {}) });
        return;
      }
      printFields([
        ...summaryFields(summary),
        ["queries", queries.rows],
        [`recall@${k}`, recall.toFixed(4)],
        ["QPS 1 thread", Math.round(qpsSingle)],
        [`QPS batch (${cores} cores)`, Math.round(batch.qps)],
        ["build", formatMs(buildMs)],
      ]);
      if (points) {
        const header = ["nprobe", "rerank", `recall@${k}`, "QPS 1 thread"];
        process.stdout.write("\n" + table([header, ...points.map((p) => [String(p.nprobe), String(p.rerank), p.recall.toFixed(4), String(Math.round(p.qps))])]));
      }
    } finally {
      index.close();
    }
  },
};
