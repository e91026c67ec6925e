/**
 * Stress run for one index variant (argv[2]): rounds of concurrent async
 * searches, batch searches, saves and synchronous adds and searches on one
 * index, checking every result. Prints "ok <final length>" when done. Run as a
 * child so a deadlock shows up as a timeout instead of freezing the test runner.
 */
import { join } from "node:path";
import { FlatF32Index, RabitqAsymIndex, RabitqIndex, RabitqPlusIndex, loadIndexAsync, type SearchHit } from "../../src/index.ts";
import { randomVectors, row, tempDir } from "../support/helpers.ts";

const classes = { FlatF32Index, RabitqIndex, RabitqPlusIndex, RabitqAsymIndex };
const variant = process.argv[2] as keyof typeof classes;
const rounds = Number(process.argv[3] ?? 20);
const dim = 24;
const initial = 2000;
const perRound = 8;
const k = 5;
const data = randomVectors(initial + rounds * perRound, dim, 11);
const index = classes[variant].build(data.subarray(0, initial * dim), { dim, rerankFactor: 4 });
const dir = tempDir("ruvector-stress-");
const known = new Set<number>(Array.from({ length: initial }, (_, i) => i));

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** Hits must be unique known ids, best first, and as many as the index could give. */
function checkHits(hits: readonly SearchHit[], atLeast: number, what: string): void {
  if (hits.length < Math.min(k, atLeast)) fail(`${what}: ${hits.length} hits, expected ${Math.min(k, atLeast)}`);
  const ids = new Set(hits.map((h) => h.id));
  if (ids.size !== hits.length) fail(`${what}: duplicate ids ${hits.map((h) => h.id)}`);
  for (const h of hits) if (!known.has(h.id)) fail(`${what}: unknown id ${h.id}`);
  for (let i = 1; i < hits.length; i++) if (hits[i]!.score < hits[i - 1]!.score) fail(`${what}: scores out of order`);
}

let next = initial;
for (let round = 0; round < rounds; round++) {
  const before = index.length;
  // The asymmetric estimator costs O(dim) per candidate: fewer queries keep its run as long as the others'.
  const queries = data.subarray(0, (variant === "RabitqAsymIndex" ? 50 : 300) * dim);
  const work: Promise<void>[] = [];
  for (let b = 0; b < 3; b++) {
    work.push(index.searchBatchAsync(queries, k).then((r) => { for (let q = 0; q < r.count; q++) checkHits(r.hits(q), before, `batch ${round}.${b}`); }));
  }
  for (let s = 0; s < 16; s++) {
    const q = row(data, dim, (round * 16 + s) % before);
    work.push(index.searchAsync(q, k).then((h) => checkHits(h, before, `search ${round}.${s}`)));
  }
  const path = join(dir, `round-${round % 3}.idx`);
  work.push(index.saveAsync(path).then(async () => {
    using saved = await loadIndexAsync(path);
    if (saved.length < before || saved.length > before + perRound) fail(`save ${round}: ${saved.length} vectors, expected ${before}..${before + perRound}`);
  }));
  for (let a = 0; a < perRound; a++, next++) {
    index.add(next, row(data, dim, next));
    known.add(next);
    if (a % 4 === 3) checkHits(index.search(row(data, dim, next), k), next + 1, `sync search ${round}.${a}`);
  }
  await Promise.all(work);
  if (index.length !== next) fail(`round ${round}: length ${index.length}, expected ${next}`);
}
if (variant === "FlatF32Index") {
  for (let i = initial; i < next; i++) if (index.search(row(data, dim, i), 1)[0]!.id !== i) fail(`added vector ${i} is not its own nearest neighbour`);
}
console.log(`ok ${index.length}`);
