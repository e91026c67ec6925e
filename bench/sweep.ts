/**
 * The shared machinery of the sweep benchmarks (bench/ivf.ts, bench/scale.ts): an index under
 * test exposes its search settings from cheapest to dearest; each setting is timed with
 * single-query calls on one thread and scored against exact ground truth.
 */
import type { Matrix } from "../src/formats.ts";
import { recallAtK } from "../test/support/datasets.ts";
import { exactTruth, type Dataset } from "./data.ts";
import type { SweepPoint } from "./curve.ts";

export const K = 10;

/** One search configuration of a built index; `search` returns the top-K ids of one query. */
export interface Setting {
  name: string;
  /** Called once before the setting is timed (e.g. hnswlib's setEf), untimed. */
  prepare?: () => void | Promise<void>;
  search: (query: Float32Array) => ArrayLike<number>;
  /** The same configuration as a searchBatch call with `threads` worker threads (our classes only). */
  batch?: (queries: Float32Array, threads: number) => void;
}

/** An async search configuration (LanceDB answers through Promises only). */
export interface AsyncSetting {
  name: string;
  prepare?: () => void | Promise<void>;
  searchAsync: (query: Float32Array) => Promise<ArrayLike<number>>;
}

/** A built index: what it cost and how it can be searched. */
export interface Built {
  /** Engine and fixed build parameters, e.g. "hnswlib-node HNSW (M 16, efC 200)". */
  label: string;
  buildS: number;
  /** Bytes the index holds, and how that number was obtained. */
  memory: { bytes: number; how: string };
  /** From cheapest to dearest: a sweep stops early once recall reaches `SATURATED`. */
  settings: (Setting | AsyncSetting)[];
  /** At most this many of the budget's queries per setting (for engines whose per-query overhead makes a full budget slow). */
  maxQueries?: number;
  close: () => void | Promise<void>;
}

/** A sweep stops once a setting reaches this recall: dearer settings cannot improve the curve's targets. */
export const SATURATED = 0.995;

/** The measured curve of one built index. */
export interface Curve {
  label: string;
  buildS: number;
  memory: { bytes: number; how: string };
  points: SweepPoint[];
  /** Queries each point was measured on. */
  queries: number;
  /** searchBatch QPS with 1 and 2 threads at the cheapest setting reaching `BATCH_RECALL` (or the best one). */
  batch?: BatchScaling;
}

/** searchBatch throughput of one setting with 1 and 2 threads. */
export interface BatchScaling {
  setting: string;
  recall: number;
  qps1: number;
  qps2: number;
}

/** The recall at which searchBatch scaling is measured. */
export const BATCH_RECALL = 0.95;
const MAX_BATCH_QUERIES = 2000;

/** Row `i` of a query matrix as a view. */
export function queryRow(m: Matrix<Float32Array>, i: number): Float32Array {
  return m.data.subarray(i * m.dim, (i + 1) * m.dim);
}

/**
 * How a timed loop is read: wall time, or this process's CPU time (user + system, every thread; a
 * single-query loop runs on one), which a shared machine's load does not inflate by the time spent
 * waiting for a core.
 */
export type Clock = "wall" | "cpu";

/** Starts a stopwatch on `clock`; calling the result gives the seconds since. */
export function stopwatch(clock: Clock = "wall"): () => number {
  if (clock === "cpu") {
    const start = process.cpuUsage();
    return () => {
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1e6;
    };
  }
  const start = performance.now();
  return () => (performance.now() - start) / 1000;
}

/** Times `nq` single-query searches (after up to 20 untimed warm-up queries) and scores them. */
export async function measure(setting: Setting | AsyncSetting, ds: Dataset, nq: number, clock: Clock = "wall"): Promise<SweepPoint> {
  await setting.prepare?.();
  const ids = new Float64Array(nq * K);
  const warm = Math.min(nq, 20);
  let seconds: number;
  if ("searchAsync" in setting) {
    for (let i = 0; i < warm; i++) await setting.searchAsync(queryRow(ds.queries, i));
    const elapsed = stopwatch(clock);
    for (let i = 0; i < nq; i++) ids.set(Array.from(await setting.searchAsync(queryRow(ds.queries, i))).slice(0, K), i * K);
    seconds = elapsed();
  } else {
    for (let i = 0; i < warm; i++) setting.search(queryRow(ds.queries, i));
    const elapsed = stopwatch(clock);
    for (let i = 0; i < nq; i++) ids.set(setting.search(queryRow(ds.queries, i)), i * K);
    seconds = elapsed();
  }
  return { setting: setting.name, recall: recallAtK(ids, K, ds.truth, nq), qps: nq / seconds };
}

/** How long to run each index's settings. */
export interface Budget {
  /** Queries per setting. */
  nq: number;
  /** Rounds over every index's settings; QPS is the best round's (load on a shared machine only slows a round down). */
  rounds: number;
  /** About how long one searchBatch run may take. */
  batchSeconds: number;
  /** How single-query loops are timed (searchBatch scaling is always wall time). */
  clock?: Clock;
}

interface Swept {
  built: Built;
  queries: number;
  points: SweepPoint[];
}

/**
 * Sweeps built indexes' settings, then closes them. The first round measures each index's settings in
 * order until recall saturates; later rounds repeat the same settings with the indexes in alternating
 * order, so every index is measured early and late in the run, and keep each setting's best QPS.
 */
export async function sweepAll(builts: readonly Built[], ds: Dataset, budget: Budget, log: (line: string) => void): Promise<Curve[]> {
  const swept: Swept[] = builts.map((built) => ({ built, queries: Math.min(budget.nq, built.maxQueries ?? Infinity), points: [] }));
  const note = (s: Swept, p: SweepPoint, round: number) => log(`  [${round}] ${s.built.label} · ${p.setting}: recall ${p.recall.toFixed(3)}, ${p.qps.toFixed(0)} QPS`);
  try {
    for (const s of swept) {
      for (const setting of s.built.settings) {
        const p = await measure(setting, ds, s.queries, budget.clock);
        note(s, p, 1);
        s.points.push(p);
        if (p.recall >= SATURATED) break;
      }
    }
    for (let round = 2; round <= budget.rounds; round++) {
      for (const s of round % 2 === 0 ? [...swept].reverse() : swept) {
        for (let i = 0; i < s.points.length; i++) {
          const p = await measure(s.built.settings[i]!, ds, s.queries, budget.clock);
          note(s, p, round);
          if (p.qps > s.points[i]!.qps) s.points[i] = { ...s.points[i]!, qps: p.qps };
        }
      }
    }
    return swept.map(({ built, queries, points }) => ({
      label: built.label,
      buildS: built.buildS,
      memory: built.memory,
      points,
      queries,
      batch: batchScaling(built, points, ds, budget.batchSeconds),
    }));
  } finally {
    for (const { built } of swept) await built.close();
  }
}

/**
 * searchBatch with 1 and 2 threads, best of 2 interleaved runs, on as many queries (the query set
 * repeated) as one thread answers in about `seconds` at the single-query rate.
 */
function batchScaling(built: Built, points: readonly SweepPoint[], ds: Dataset, seconds: number): BatchScaling | undefined {
  const point = points.find((p) => p.recall >= BATCH_RECALL) ?? [...points].sort((a, b) => b.recall - a.recall)[0];
  const setting = built.settings.find((s) => s.name === point?.setting);
  if (!point || !setting || !("batch" in setting) || !setting.batch) return undefined;
  const batch = setting.batch;
  const { dim, rows } = ds.queries;
  const count = Math.max(20, Math.min(MAX_BATCH_QUERIES, Math.round(point.qps * seconds)));
  const queries = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) queries.set(queryRow(ds.queries, i % rows), i * dim);
  const qps = (threads: number) => {
    const t = performance.now();
    batch(queries, threads);
    return count / ((performance.now() - t) / 1000);
  };
  qps(2);
  let [qps1, qps2] = [0, 0];
  for (let r = 0; r < 2; r++) {
    qps1 = Math.max(qps1, qps(1));
    qps2 = Math.max(qps2, qps(2));
  }
  return { setting: point.setting, recall: point.recall, qps1, qps2 };
}

/** Seconds taken by `f`. */
export async function timed<T>(f: () => T | Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await f();
  return [out, (performance.now() - t) / 1000];
}

/**
 * The first `n` base rows and `nq` queries of a data set. The stored ground truth is kept when the
 * base is whole; for a prefix it is recomputed exactly with FlatF32Index.
 */
export function subset(ds: Dataset, n: number, nq: number): Dataset {
  const rows = Math.min(n, ds.base.rows);
  const qrows = Math.min(nq, ds.queries.rows);
  const base = { data: ds.base.data.subarray(0, rows * ds.base.dim), rows, dim: ds.base.dim };
  const queries = { data: ds.queries.data.slice(0, qrows * ds.queries.dim), rows: qrows, dim: ds.queries.dim };
  if (rows === ds.base.rows) return { ...ds, base, queries, truth: { ...ds.truth, data: ds.truth.data.subarray(0, qrows * ds.truth.dim), rows: qrows } };
  return { ...ds, name: `${ds.name}, first ${rows.toLocaleString("en-US")}`, base, queries, truth: exactTruth(base, queries, ds.metric, K) };
}

/** "12.3 MiB". */
export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
