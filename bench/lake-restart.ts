/**
 * One warm restart, run by bench/lake.ts in a fresh process: warms a lake from
 * the saved cache in `dir` (no backend), times the first search (query
 * `first`), then that same query in the steady state: the median of 21 runs,
 * each after 20 other queries (so its lists are not hot in the CPU cache). The
 * ratio is then the restart's penalty, not the spread between queries.
 * Prints `{ firstUs, steadyUs, firstCpuUs, steadyCpuUs }`: wall time, and this
 * thread's CPU time, which a loaded machine's preemptions do not inflate.
 *
 *   bun bench/lake-restart.ts <dir> <dim> <first>    (dir holds the saved cache and queries.f32)
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { join } from "node:path";
import { Consistency, RuLake } from "../src/index.ts";

const [dir, dimArg, firstArg] = process.argv.slice(2);
const dim = Number(dimArg);
const first = Number(firstArg);
if (!dir || !(dim > 0) || !Number.isInteger(first) || first < 0) throw new Error("usage: bun bench/lake-restart.ts <dir> <dim> <first>");
const K = 10;
const queries = new Float32Array(await Bun.file(join(dir, "queries.f32")).arrayBuffer());
// This thread's CPU time from CLOCK_THREAD_CPUTIME_ID (process.threadCpuUsage counts whole scheduler ticks:
// a sub-millisecond search often reads 0): time slices lost to other processes do not inflate it.
const libc = dlopen("libc.so.6", { clock_gettime: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
const CLOCK_THREAD_CPUTIME_ID = 3;
const spec = new BigInt64Array(2);
const threadUs = () => {
  libc.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, ptr(spec));
  return Number(spec[0]) * 1e6 + Number(spec[1]) / 1e3;
};
const rows = queries.length / dim;
const query = (i: number) => queries.subarray((i % rows) * dim, ((i % rows) + 1) * dim);
// The clocks' own first runs (an FFI call into a dlopen'd libc, `timed` itself) are not the lake's: make them before the restart.
for (let i = 0; i < 3; i++) timed(first + 1, false);

const TARGET = ["shard0", "docs"] as const;
using lake = RuLake.builder().consistency(Consistency.frozen()).build();
await lake.warmFromDirAsync(TARGET, dir);

/**
 * Wall and thread-CPU microseconds one search of query `i` takes (none when not `search`: the clocks alone).
 * JavaScriptCore generates a function's bytecode on its first call; run here first, that would land inside
 * the first query's clock (≈ 20 µs), so this runs on the clocks alone before the restart.
 */
function timed(i: number, search = true): [number, number] {
  const q = query(i);
  // Reading the thread's CPU time is a system call whose first run after the restart takes 7-18 µs: a read
  // outside the clocks runs it warm, and the wall clock sits inside the CPU clock. Separate statements: a
  // destructuring's first run (iterator builtins) would land inside the clocks too.
  threadUs();
  const c = threadUs();
  const t = Bun.nanoseconds();
  if (search) lake.searchOne(TARGET, q, K);
  const wall = (Bun.nanoseconds() - t) / 1000;
  return [wall, threadUs() - c];
}

const [firstUs, firstCpuUs] = timed(first);
const steady = Array.from({ length: 21 }, (_, r) => {
  for (let i = 1; i <= 20; i++) timed(first + 20 * r + i);
  return timed(first);
});
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
console.log(JSON.stringify({ firstUs, steadyUs: median(steady.map((s) => s[0])), firstCpuUs, steadyCpuUs: median(steady.map((s) => s[1])) }));
