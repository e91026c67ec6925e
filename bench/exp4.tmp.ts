import { join } from "node:path";
import { dlopen, FFIType, ptr } from "bun:ffi";
import { IvfRabitqIndex, RabitqPlusIndex } from "../src/index.ts";
const libc = dlopen("libc.so.6", { clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
const ts = new BigInt64Array(2); const tsp = ptr(ts);
const cpuNs = () => { libc.symbols.clock_gettime(3, tsp); return Number(ts[0]) * 1e9 + Number(ts[1]); };
cpuNs();
const [dir, firstArg, mode] = process.argv.slice(2);
const dim = 128, first = Number(firstArg);
const queries = new Float32Array(await Bun.file(join(dir!, "queries.f32")).arrayBuffer());
const rows = queries.length / dim;
const query = (i: number) => queries.subarray((i % rows) * dim, ((i % rows) + 1) * dim);
import { RuLake, Consistency } from "../src/index.ts";
const lake = RuLake.builder().consistency(Consistency.frozen()).build();
await lake.warmFromDirAsync(["shard0", "docs"], dir!);
const index = { search: (q: Float32Array, k: number) => lake.searchOne(["shard0", "docs"], q, k) };
const out: string[] = [];
for (let i = 0; i < 400; i++) { const f = process.resourceUsage().minorPageFault; const c = cpuNs(); index.search(query(first + i), 10); const us = (cpuNs() - c) / 1000; const df = process.resourceUsage().minorPageFault - f; if (i < 12 || i % 50 === 0) out.push(`${i}:${Math.round(us)}/${df}`); }
console.log(mode, out.join(" "));
