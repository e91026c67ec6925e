import { join } from "node:path";
import { dlopen, FFIType, ptr } from "bun:ffi";
const libc = dlopen("libc.so.6", { clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
const ts = new BigInt64Array(2);
const tsp = ptr(ts);
const cpuNs = () => { libc.symbols.clock_gettime(3, tsp); return Number(ts[0]) * 1e9 + Number(ts[1]); };
cpuNs();
import { Consistency, RuLake } from "../src/index.ts";
const [dir, dimArg, firstArg, mode] = process.argv.slice(2);
const dim = Number(dimArg); const first = Number(firstArg);
const K = 10;
const queries = new Float32Array(await Bun.file(join(dir!, "queries.f32")).arrayBuffer());
import { LocalBackend, IvfRabitqIndex } from "../src/index.ts";
if (mode === "jsfirst") {
  const other = RuLake.builder().consistency(Consistency.frozen()).engine(dir!.endsWith("ivf") ? "ivf" : "plus").build();
  const b = new LocalBackend("x"); const n = 20000; const v = new Float32Array(n * 128); for (let i = 0; i < v.length; i++) v[i] = Math.sin(i * 0.37) + (i % 7) * 0.1;
  b.putCollection("d", { ids: Array.from({ length: n }, (_, i) => i), vectors: v }); other.registerBackend(b);
  for (let i = 0; i < 30; i++) other.searchOne(["x", "d"], v.subarray(i * 128, i * 128 + 128), 10);
  other.close();
}
using lake = RuLake.builder().consistency(Consistency.frozen()).build();
await lake.warmFromDirAsync(["shard0", "docs"], dir!);
const rows = queries.length / dim;
const query = (i: number) => queries.subarray((i % rows) * dim, ((i % rows) + 1) * dim);
let lastCpu = 0;
function timed(i: number, k = K): number { const c = cpuNs(); const t = Bun.nanoseconds(); lake.searchOne(["shard0", "docs"], query(i), k); const w = (Bun.nanoseconds() - t) / 1000; lastCpu = (cpuNs() - c) / 1000; return w; }
const pre: number[] = [];
if (mode === "other") pre.push(timed(first + 100));
if (mode === "other3") { pre.push(timed(first + 100)); pre.push(timed(first + 101)); pre.push(timed(first + 102)); }
if (mode?.startsWith("touch")) { const n = Number(mode.slice(5)); const b = new Float32Array(await Bun.file(join(dir!, "base.f32")).arrayBuffer()); const rowsB = b.length / dim; for (let i = 0; i < n; i++) { const r = Math.floor((i + 0.5) * rowsB / n); lake.searchOne(["shard0","docs"], b.subarray(r*dim, r*dim+dim), 10); } }
if (mode === "k1") pre.push(timed(first + 100, 1));
if (mode === "batch") { const t = Bun.nanoseconds(); lake.searchBatch(["shard0","docs"], queries.subarray(0, dim*4), K); pre.push((Bun.nanoseconds()-t)/1000); }
const f0 = process.resourceUsage().minorPageFault; const firstUs = timed(first); const firstCpu = lastCpu; const firstFaults = process.resourceUsage().minorPageFault - f0; const f1 = process.resourceUsage().minorPageFault; timed(first+1); const secondFaults = process.resourceUsage().minorPageFault - f1; const f2 = process.resourceUsage().minorPageFault; timed(first); const againFaults = process.resourceUsage().minorPageFault - f2;
const second = timed(first + 1);
const sc: number[] = []; const steady = Array.from({ length: 21 }, (_, r) => { for (let i = 1; i <= 20; i++) timed(first + 20 * r + i); const w = timed(first); sc.push(lastCpu); return w; }).sort((a, b) => a - b); sc.sort((a,b)=>a-b);
console.log(mode, JSON.stringify({ pre: pre.map(Math.round), firstUs: Math.round(firstUs), second: Math.round(second), steadyUs: Math.round(steady[10]!), firstCpu: Math.round(firstCpu), firstFaults, secondFaults, againFaults, steadyCpu: Math.round(sc[10]!) }));
