/**
 * Lake benchmark on upstream's synthetic recipe (100k × 128): the
 * intermediary tax of the lake over the bare index, federated search over
 * 1/2/4 shards, prime time, warm-restart first query vs steady state, and 100
 * concurrent searchOneAsync vs sequential sync. Ratios measured side by side.
 *
 *   bun bench/lake.ts     (writes bench/results/lake.md)
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Consistency, LocalBackend, RabitqPlusIndex, RuLake, type Consistency as ConsistencyMode } from "../src/index.ts";
import { synthetic } from "./data.ts";

const K = 10;
const report: string[] = [];
const say = (s = "") => {
  console.log(s);
  report.push(s);
};

const ds = synthetic(100_000, 128, 200);
const { dim } = ds.base;
const ids = Array.from({ length: ds.base.rows }, (_, i) => i);
const query = (i: number) => ds.queries.data.subarray((i % ds.queries.rows) * dim, ((i % ds.queries.rows) + 1) * dim);

function perQueryUs(f: (i: number) => unknown, n = 2000): number {
  for (let i = 0; i < 50; i++) f(i);
  const t = Bun.nanoseconds();
  for (let i = 0; i < n; i++) f(i);
  return (Bun.nanoseconds() - t) / n / 1000;
}

function lakeOver(shards: number, consistency: ConsistencyMode = Consistency.fresh()): RuLake {
  const lake = RuLake.builder().consistency(consistency).build();
  const per = ds.base.rows / shards;
  for (let s = 0; s < shards; s++) {
    const backend = new LocalBackend(`shard${s}`);
    backend.putCollection("docs", { ids: ids.slice(s * per, (s + 1) * per), vectors: ds.base.data.subarray(s * per * dim, (s + 1) * per * dim) });
    lake.registerBackend(backend);
  }
  return lake;
}

say(`## Lake benchmark — ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model} × ${cpus().length}, Bun ${Bun.version}, ${ds.name}, k = ${K}\n`);
say("| measure | value |");
say("|---|---:|");

{
  using bare = RabitqPlusIndex.build(ds.base.data, { dim, rerankFactor: 20, seed: 42 });
  using fresh = lakeOver(1);
  using eventual = lakeOver(1, Consistency.eventual({ ttlMs: 60_000 }));
  const t = performance.now();
  fresh.searchOne(["shard0", "docs"], query(0), K);
  say(`| prime 100k × 128 (pull + parallel RaBitQ build) | ${(performance.now() - t).toFixed(0)} ms |`);
  eventual.searchOne(["shard0", "docs"], query(0), K);
  // Interleaved rounds: machine noise hits the three alike; the best round of each counts.
  let [b, f, e] = [Infinity, Infinity, Infinity];
  for (let round = 0; round < 5; round++) {
    b = Math.min(b, perQueryUs((i) => bare.search(query(i), K), 400));
    f = Math.min(f, perQueryUs((i) => fresh.searchOne(["shard0", "docs"], query(i), K), 400));
    e = Math.min(e, perQueryUs((i) => eventual.searchOne(["shard0", "docs"], query(i), K), 400));
  }
  say(`| bare RabitqPlusIndex.search | ${b.toFixed(1)} µs/query |`);
  say(`| lake.searchOne, fresh (checks the backend every search) | ${f.toFixed(1)} µs/query (**${(f / b).toFixed(3)}×** bare) |`);
  say(`| lake.searchOne, eventual (ttl 60 s) | ${e.toFixed(1)} µs/query (**${(e / b).toFixed(3)}×** bare) |`);

  const seq = performance.now();
  for (let i = 0; i < 100; i++) fresh.searchOne(["shard0", "docs"], query(i), K);
  const seqMs = performance.now() - seq;
  const conc = performance.now();
  await Promise.all(Array.from({ length: 100 }, (_, i) => fresh.searchOneAsync(["shard0", "docs"], query(i), K)));
  const concMs = performance.now() - conc;
  say(`| 100 searches: sequential sync / concurrent searchOneAsync | ${seqMs.toFixed(1)} / ${concMs.toFixed(1)} ms (**${(seqMs / concMs).toFixed(2)}×** faster concurrent) |`);

  const dir = mkdtempSync(join(tmpdir(), "ruvector-lake-bench-"));
  await fresh.saveCacheToDirAsync(["shard0", "docs"], dir);
  // A real restart: each run is a fresh process that warms from the saved cache.
  await Bun.write(join(dir, "queries.f32"), ds.queries.data);
  const restarts = Array.from({ length: 5 }, () => {
    const run = Bun.spawnSync([process.execPath, join(import.meta.dir, "lake-restart.ts"), dir, String(dim)], { stderr: "inherit" });
    if (run.exitCode !== 0) throw new Error(`lake-restart.ts failed (${run.exitCode})`);
    return JSON.parse(run.stdout.toString()) as { firstUs: number; steadyUs: number };
  }).sort((a, b) => a.firstUs / a.steadyUs - b.firstUs / b.steadyUs);
  const { firstUs, steadyUs: steady } = restarts[2]!;
  say(`| warm restart in a fresh process: first query / steady state (median of 5) | ${firstUs.toFixed(1)} / ${steady.toFixed(1)} µs (**${(firstUs / steady).toFixed(2)}×**) |`);
}

for (const shards of [1, 2, 4]) {
  using lake = lakeOver(shards);
  const targets = Array.from({ length: shards }, (_, s) => [`shard${s}`, "docs"] as const);
  lake.searchFederated(targets, query(0), K);
  const us = perQueryUs((i) => lake.searchFederated(targets, query(i), K), 500);
  say(`| federated search over ${shards} shard${shards > 1 ? "s" : ""} (100k total) | ${us.toFixed(1)} µs/query, ${(1e6 / us).toFixed(0)} QPS |`);
}

mkdirSync(join(import.meta.dir, "results"), { recursive: true });
await Bun.write(join(import.meta.dir, "results", "lake.md"), report.join("\n") + "\n");
