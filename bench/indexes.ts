/**
 * Index benchmark: recall@10, QPS, build time and memory per variant on real
 * data sets and upstream's synthetic recipe, beside usearch and hnswlib-node
 * measured in the same run; the FFI tax against a Rust binary doing the same
 * searches; p99 latency; searchBatch scaling; per-call FFI overhead.
 *
 *   bash bench/run                  (installs the peers into bench/node_modules, then runs this)
 *   bun bench/indexes.ts --ffi-only (just the FFI tax, latency and scaling section)
 * Writes bench/results/indexes.md. Absolute times are context; ratios are the result.
 */
import { join } from "node:path";
import { cpus, tmpdir } from "node:os";
import { mkdtempSync, mkdirSync } from "node:fs";
import { FlatF32Index, RabitqAsymIndex, RabitqIndex, RabitqPlusIndex, type VectorIndex, type IndexOptions } from "../src/index.ts";
import { lib } from "../src/ffi.ts";
import { recallAtK } from "../test/support/datasets.ts";
import { fashion, glove, synthetic, type Dataset } from "./data.ts";
import { encodeFvecs } from "../src/formats.ts";
import { hnswlib, usearch } from "./peers.ts";
import { measure, type Built } from "./sweep.ts";

const ROOT = join(import.meta.dir, "..");
const K = 10;
const report: string[] = [];
const say = (s = "") => {
  console.log(s);
  report.push(s);
};

type IndexClass = typeof FlatF32Index | typeof RabitqIndex | typeof RabitqPlusIndex | typeof RabitqAsymIndex;
interface Row {
  variant: string;
  buildS: number;
  memMiB: string;
  recall: number;
  qps: number;
}

function row(data: Float32Array, dim: number, i: number): Float32Array {
  return data.subarray(i * dim, (i + 1) * dim);
}

/** Single-query search() calls from JS, as users make them; returns QPS and ids. */
function runQueries(search: (q: Float32Array) => ArrayLike<number>, ds: Dataset, nq: number): { qps: number; ids: Float64Array } {
  const dim = ds.queries.dim;
  for (let i = 0; i < Math.min(nq, 20); i++) search(row(ds.queries.data, dim, i));
  const ids = new Float64Array(nq * K);
  const t = performance.now();
  for (let i = 0; i < nq; i++) ids.set(search(row(ds.queries.data, dim, i)), i * K);
  return { qps: nq / ((performance.now() - t) / 1000), ids };
}

async function ours(ds: Dataset, label: string, cls: IndexClass, opts: Partial<IndexOptions>, nq: number): Promise<Row> {
  const t = performance.now();
  using index: VectorIndex = await cls.buildAsync(ds.base.data, { dim: ds.base.dim, metric: ds.metric, ...opts });
  const buildS = (performance.now() - t) / 1000;
  const { qps, ids } = runQueries((q) => index.search(q, K).map((h) => h.id), ds, nq);
  return { variant: label, buildS, memMiB: (index.memoryBytes / 2 ** 20).toFixed(1), recall: recallAtK(ids, K, ds.truth, nq), qps };
}

/** A peer HNSW at ef 64 (peers.ts builds it), one row. */
async function peer(built: Built, ds: Dataset, nq: number): Promise<Row> {
  try {
    const { recall, qps } = await measure(built.settings[0]!, ds, nq);
    return { variant: `${built.label}, ef 64`, buildS: built.buildS, memMiB: `${(built.memory.bytes / 2 ** 20).toFixed(1)} (${built.memory.how})`, recall, qps };
  } finally {
    await built.close();
  }
}

function table(ds: Dataset, rows: Row[], flatQps: number): void {
  say(`\n### ${ds.name} — ${ds.base.rows} × ${ds.base.dim}, ${ds.metric}, k = ${K}, single-query search() from Bun, one thread\n`);
  say("| index | build s | memory MiB | recall@10 | QPS | QPS vs flat |");
  say("|---|---:|---:|---:|---:|---:|");
  for (const r of rows) say(`| ${r.variant} | ${r.buildS.toFixed(2)} | ${r.memMiB} | ${r.recall.toFixed(3)} | ${r.qps.toFixed(0)} | ${(r.qps / flatQps).toFixed(2)}× |`);
}

async function dataset(ds: Dataset, nq: number, asym: boolean): Promise<void> {
  const flat = await ours(ds, "FlatF32Index (exact)", FlatF32Index, {}, nq);
  const rows = [
    flat,
    await ours(ds, "RabitqIndex (1-bit, no rerank)", RabitqIndex, {}, nq),
    await ours(ds, "RabitqPlusIndex rerank 20", RabitqPlusIndex, { rerankFactor: 20 }, nq),
    await ours(ds, "RabitqPlusIndex rerank 300", RabitqPlusIndex, { rerankFactor: 300 }, nq),
  ];
  if (asym) {
    rows.push(await ours(ds, "RabitqAsymIndex rerank 1", RabitqAsymIndex, { rerankFactor: 1 }, Math.min(nq, 100)));
    rows.push(await ours(ds, "RabitqAsymIndex rerank 20", RabitqAsymIndex, { rerankFactor: 20 }, Math.min(nq, 100)));
  }
  rows.push(await peer(await usearch(ds, [64]), ds, nq), await peer(await hnswlib(ds, [64]), ds, nq));
  table(ds, rows, flat.qps);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Lines of a child's stdout, one at a time. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let at: number;
    while ((at = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
    }
  }
}

async function ffiAndLatency(ds: Dataset): Promise<void> {
  const dim = ds.base.dim;
  const nq = ds.queries.rows;
  using index = RabitqPlusIndex.build(ds.base.data, { dim, rerankFactor: 20 });
  const dir = mkdtempSync(join(tmpdir(), "ruvector-bench-"));
  await Bun.write(join(dir, "base.fvecs"), encodeFvecs(ds.base));
  await Bun.write(join(dir, "queries.fvecs"), encodeFvecs(ds.queries));
  const exe = join(ROOT, "libruvector", "target", "release", "ruvector-bench");
  const rust = Bun.spawn([exe, join(dir, "base.fvecs"), join(dir, "queries.fvecs"), "2", "20", "0", String(K)], { stdin: "pipe", stdout: "pipe" });
  const out = lines(rust.stdout);
  if ((await out.next()).value !== "ready") throw new Error("ruvector-bench did not start");
  // Rounds alternate between the Rust binary and Bun so drifting machine load hits both alike.
  const rounds = 9;
  let [rustNs, bunNs, rustSum, bunSum] = [Infinity, Infinity, 0, 0];
  for (let r = 0; r < rounds; r++) {
    rust.stdin.write("go\n");
    rust.stdin.flush();
    const line = JSON.parse((await out.next()).value as string) as { ns_per_query: number; checksum: number };
    rustNs = Math.min(rustNs, line.ns_per_query);
    rustSum = line.checksum;
    let sum = 0;
    const t = Bun.nanoseconds();
    for (let i = 0; i < nq; i++) for (const h of index.search(row(ds.queries.data, dim, i), K)) sum += h.id;
    bunNs = Math.min(bunNs, (Bun.nanoseconds() - t) / nq);
    bunSum = sum;
  }
  rust.stdin.end();
  await rust.exited;
  say(`\n### FFI tax and latency — RabitqPlusIndex, ${ds.name}, rerank 20, k = ${K}\n`);
  say("| measure | value |");
  say("|---|---:|");
  say(`| Rust binary, same index code and data (best of ${rounds} interleaved rounds) | ${(rustNs / 1000).toFixed(1)} µs/query |`);
  say(`| Bun search() through bun:ffi (best of ${rounds} interleaved rounds) | ${(bunNs / 1000).toFixed(1)} µs/query |`);
  say(`| **FFI tax (Bun / Rust)** | **${(bunNs / rustNs).toFixed(3)}×** (identical results: ${bunSum === rustSum}) |`);

  const samples: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = Bun.nanoseconds();
    index.search(row(ds.queries.data, dim, i % nq), K);
    samples.push((Bun.nanoseconds() - t) / 1e6);
  }
  samples.sort((a, b) => a - b);
  say(`| single-query latency p50 / p99 (2,000 queries) | ${percentile(samples, 0.5).toFixed(2)} / ${percentile(samples, 0.99).toFixed(2)} ms |`);

  const many = new Float32Array(2000 * dim);
  for (let i = 0; i < 2000; i++) many.set(row(ds.queries.data, dim, i % nq), i * dim);
  const qps = (threads: number) => {
    const t = performance.now();
    index.searchBatch(many, K, { threads });
    return 2000 / ((performance.now() - t) / 1000);
  };
  qps(0);
  const one = Math.max(qps(1), qps(1));
  const all = Math.max(qps(0), qps(0));
  say(`| searchBatch 2,000 queries: 1 thread / all ${cpus().length} cores | ${one.toFixed(0)} / ${all.toFixed(0)} QPS (**${(all / one).toFixed(2)}×**) |`);

  const abi = new Uint32Array(1);
  const sym = lib().ruv_abi_version;
  const noop = (_: Uint32Array) => 0;
  const per = (f: (a: Uint32Array) => number) => {
    const t = Bun.nanoseconds();
    for (let i = 0; i < 2_000_000; i++) f(abi);
    return (Bun.nanoseconds() - t) / 2_000_000;
  };
  per(sym);
  per(noop);
  say(`| trivial FFI call (ruv_abi_version) vs a JS function call | ${per(sym).toFixed(1)} ns vs ${per(noop).toFixed(1)} ns |`);
}

say(`## Index benchmark — ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}`);
const synth = synthetic();
await ffiAndLatency(synth);
if (process.argv[2] !== "--ffi-only") {
  await dataset(synth, 200, true);
  await dataset(await glove(), 1000, true);
  await dataset(await fashion(), 300, false);
}
mkdirSync(join(import.meta.dir, "results"), { recursive: true });
await Bun.write(join(import.meta.dir, "results", "indexes.md"), report.join("\n") + "\n");
