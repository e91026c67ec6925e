/**
 * Filtered search and deletes (issue 12): QPS and recall@10 of `IvfRabitqIndex` and `RabitqPlusIndex`
 * under tag filters passing 50 %, 10 %, 1 % and 0.1 % of GloVe-100 rows, against exact filtered ground
 * truth, next to hnswlib-node's filtered `searchKnn(query, k, filter)` in the same run; then the
 * throughput of deleting 10 % of the rows (`removeBatch` vs hnswlib's `markDelete`) and search after it.
 *
 *   bun bench/filter.ts          quick: 20k rows, 100 queries (about a minute on 2 cores)
 *   bun bench/filter.ts --full   100k rows, 500 queries (bench/results/filter.md)
 * Single-query searches on the JS thread, one thread each. Absolute QPS is context; the ratios are the result.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FlatF32Index, IvfRabitqIndex, RabitqPlusIndex, type SearchFilter, type VectorIndex } from "../src/index.ts";
import { SELECTIVITIES, selectivityTags } from "../test/support/datasets.ts";
import { glove } from "./data.ts";
import { HNSW_M } from "./peers.ts";
import { machineLine, Report } from "./report.ts";
import { K, queryRow, subset, timed } from "./sweep.ts";

const { values: flags } = parseArgs({ options: { full: { type: "boolean" } } });
const plan = flags.full ? { name: "full", n: 100_000, nq: 500, seconds: 1 } : { name: "quick", n: 20_000, nq: 100, seconds: 0.25 };
const HNSW_EF = 128;
const HNSW_EF_CONSTRUCTION = 200;

/** One engine under test: a search of one query with a tag mask (undefined: no filter). */
interface Engine {
  label: string;
  search: (q: Float32Array, mask: bigint | undefined) => number[];
}

const report = new Report();
const ds = subset(await glove(), plan.n, plan.nq);
const { dim } = ds.base;
const tags = selectivityTags(ds.base.rows);
report.say(`# Filtered search and deletes (${plan.name})`);
report.say();
report.say(`${machineLine()}. ${ds.name}, cosine, ${ds.queries.rows} queries, k ${K}; one thread, single-query searches.`);
report.say(`Filters are tag masks (\`{ tagsAll: bit }\`) passing the share of rows shown; recall@10 is against the exact`);
report.say(`neighbours among the rows that pass (FlatF32Index with the same filter). hnswlib-node: HNSW M ${HNSW_M}, efC ${HNSW_EF_CONSTRUCTION}, ef ${HNSW_EF}, filter callback.`);
report.say();

using exact = FlatF32Index.build(ds.base.data, { dim, metric: "cosine", tags });
const [ivfIndex, ivfBuild] = await timed(() => IvfRabitqIndex.build(ds.base.data, { dim, metric: "cosine", targetRecall: 0.95, tags }));
const [plusIndex, plusBuild] = await timed(() => RabitqPlusIndex.build(ds.base.data, { dim, metric: "cosine", tags }));
const [hnsw, hnswBuild] = await timed(buildHnsw);
report.say(`Builds: IvfRabitqIndex ${ivfBuild.toFixed(1)} s, RabitqPlusIndex ${plusBuild.toFixed(1)} s, hnswlib ${hnswBuild.toFixed(1)} s.`);
report.say();

const ours = (label: string, index: VectorIndex): Engine => ({
  label,
  search: (q, mask) => index.search(q, K, mask === undefined ? {} : { filter: { tagsAll: mask } }).map((h) => h.id),
});
const engines = [ours("IvfRabitqIndex targetRecall 0.95", ivfIndex), ours("RabitqPlusIndex (rerankFactor 20)", plusIndex), hnswEngine()];
const masks: Array<bigint | undefined> = [undefined, ...SELECTIVITIES.map((_, bit) => 1n << BigInt(bit))];
const truths = masks.map((mask) => truthOf(mask === undefined ? undefined : { tagsAll: mask }));

report.say(`| index | filter passes | QPS | recall@10 | QPS vs hnswlib |`);
report.say(`|---|---:|---:|---:|---:|`);
const results = engines.map((e) => masks.map((mask, i) => measure(e, mask, truths[i]!)));
const hnswResults = results[results.length - 1]!;
engines.forEach((e, j) => {
  masks.forEach((mask, i) => {
    const r = results[j]![i]!;
    const share = mask === undefined ? "all (unfiltered)" : `${(SELECTIVITIES[i - 1]! * 100).toString()} %`;
    const ratio = j === engines.length - 1 ? "1.00×" : `${(r.qps / hnswResults[i]!.qps).toFixed(2)}×`;
    report.say(`| ${e.label} | ${share} | ${Math.round(r.qps).toLocaleString("en-US")} | ${r.recall.toFixed(3)} | ${ratio} |`);
  });
});
report.say();

// Deletes: 10 % of the rows, every tenth id, then unfiltered search over the survivors.
const removed = Array.from({ length: Math.floor(ds.base.rows / 10) }, (_, i) => i * 10);
exact.removeBatch(removed);
const survivorTruth = truthOf(undefined);
report.say(`Deleting ${removed.length.toLocaleString("en-US")} rows (10 %), then searching the survivors:`);
report.say();
report.say(`| index | deletes / s | QPS after | recall@10 after |`);
report.say(`|---|---:|---:|---:|`);
const deleters: Array<[Engine, () => void]> = [
  [engines[0]!, () => ivfIndex.removeBatch(removed)],
  [engines[1]!, () => plusIndex.removeBatch(removed)],
  [engines[2]!, () => removed.forEach((id) => hnsw.markDelete(id))],
];
for (const [engine, remove] of deleters) {
  const [, seconds] = await timed(remove);
  const after = measure(engine, undefined, survivorTruth);
  report.say(`| ${engine.label} | ${Math.round(removed.length / seconds).toLocaleString("en-US")} | ${Math.round(after.qps).toLocaleString("en-US")} | ${after.recall.toFixed(3)} |`);
}
ivfIndex.close();
plusIndex.close();

const dir = join(import.meta.dir, "results");
mkdirSync(dir, { recursive: true });
const out = join(dir, flags.full ? "filter.md" : "filter-quick.md");
await Bun.write(out, report.text());
console.log(`wrote ${out}`);

/** Exact top-k ids of every query among the rows `filter` passes. */
function truthOf(filter: SearchFilter | undefined): Set<number>[] {
  const r = exact.searchBatch(ds.queries.data, K, filter === undefined ? {} : { filter });
  return Array.from({ length: ds.queries.rows }, (_, q) => new Set(r.hits(q).map((h) => h.id)));
}

/** QPS (queries repeated for at least `plan.seconds`) and recall@10 of `engine` under `mask`. */
function measure(engine: Engine, mask: bigint | undefined, truth: Set<number>[]): { qps: number; recall: number } {
  let [hit, total] = [0, 0];
  for (let q = 0; q < ds.queries.rows; q++) {
    const got = engine.search(queryRow(ds.queries, q), mask);
    hit += got.filter((id) => truth[q]!.has(id)).length;
    total += truth[q]!.size;
  }
  let done = 0;
  const started = performance.now();
  while (performance.now() - started < plan.seconds * 1000) {
    for (let q = 0; q < ds.queries.rows; q++) engine.search(queryRow(ds.queries, q), mask);
    done += ds.queries.rows;
  }
  return { qps: done / ((performance.now() - started) / 1000), recall: total === 0 ? 1 : hit / total };
}

async function buildHnsw() {
  const { HierarchicalNSW } = (await import("hnswlib-node")).default;
  const index = new HierarchicalNSW("cosine", dim);
  index.initIndex(ds.base.rows, HNSW_M, HNSW_EF_CONSTRUCTION, 42, true);
  for (let i = 0; i < ds.base.rows; i++) index.addPoint(Array.from(queryRow(ds.base, i)), i);
  index.setEf(HNSW_EF);
  return index;
}

/** hnswlib's search; its filter is a JS callback per candidate label. */
function hnswEngine(): Engine {
  return {
    label: `hnswlib-node HNSW (ef ${HNSW_EF})`,
    search: (q, mask) => {
      const filter = mask === undefined ? undefined : (label: number) => (tags[label]! & mask) === mask;
      return hnsw.searchKnn(Array.from(q), K, filter).neighbors;
    },
  };
}
