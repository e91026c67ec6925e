/**
 * One warm restart, run by bench/lake.ts in a fresh process: warms a lake from
 * the saved cache in `dir` (no backend), times the first search, then the
 * steady state over the same queries. Prints `{ firstUs, steadyUs }`.
 *
 *   bun bench/lake-restart.ts <dir> <dim>    (dir holds the saved cache and queries.f32)
 */
import { join } from "node:path";
import { Consistency, RuLake } from "../src/index.ts";

const [dir, dimArg] = process.argv.slice(2);
const dim = Number(dimArg);
if (!dir || !(dim > 0)) throw new Error("usage: bun bench/lake-restart.ts <dir> <dim>");
const K = 10;
const queries = new Float32Array(await Bun.file(join(dir, "queries.f32")).arrayBuffer());
using lake = RuLake.builder().consistency(Consistency.frozen()).build();
await lake.warmFromDirAsync(["shard0", "docs"], dir);
const rows = queries.length / dim;
const query = (i: number) => queries.subarray((i % rows) * dim, ((i % rows) + 1) * dim);

let t = Bun.nanoseconds();
lake.searchOne(["shard0", "docs"], query(0), K);
const firstUs = (Bun.nanoseconds() - t) / 1000;
for (let i = 1; i < 50; i++) lake.searchOne(["shard0", "docs"], query(i), K);
t = Bun.nanoseconds();
for (let i = 0; i < 1000; i++) lake.searchOne(["shard0", "docs"], query(i), K);
console.log(JSON.stringify({ firstUs, steadyUs: (Bun.nanoseconds() - t) / 1000 / 1000 }));
