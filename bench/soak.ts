/**
 * Soak: one process serving mixed async searches, batch searches, adds and
 * saves on one index for a fixed time, printing throughput and RSS per window
 * and the longest event-loop stall. RSS minus the index's own memory must stay
 * flat (adds grow the index itself; everything else must not accumulate), and
 * no stall may exceed 50 ms. The index's own memory is its bytes per vector
 * right after the build (when every buffer is exactly full) times its length:
 * `memoryBytes` counts reserved capacity, which grows in doublings and is not
 * resident until written, so subtracting it would hide growth elsewhere.
 * Each window also shows what the JS thread did across its longest stall (CPU
 * time, waits, preemptions), the longest synchronous part of a library call on
 * the JS thread and the 1-minute load average, to tell stalls the library
 * causes from a starved CPU.
 *
 *   bun bench/soak.ts                 10 minutes, 50k × 128 RabitqPlusIndex
 *   bun bench/soak.ts --minutes 1     a shorter run
 *
 * Ends with one `SOAK {json}` line.
 */
import { join } from "node:path";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { RabitqPlusIndex } from "../src/index.ts";
import { randomVectors } from "../test/support/helpers.ts";

// Bun has Node 23.9's process.threadCpuUsage; the @types/node 20 that the peers pull into bench/ predates it.
declare global {
  namespace NodeJS {
    interface Process {
      threadCpuUsage(previous?: CpuUsage): CpuUsage;
    }
  }
}

const args = process.argv.slice(2);
const minutesAt = args.indexOf("--minutes");
const minutes = minutesAt >= 0 ? Number(args[minutesAt + 1]) : 10;
const windowMs = minutes >= 5 ? 30_000 : 10_000;
const dim = 128;
const n = 50_000;
const inFlight = 8;
const k = 10;

const data = randomVectors(n + 200_000, dim, 7);
const queries = data.subarray(0, 1000 * dim);
using index = await RabitqPlusIndex.buildAsync(data.subarray(0, n * dim), { dim });
const bytesPerVector = index.memoryBytes / index.length;
const dir = mkdtempSync(join(tmpdir(), "ruvector-soak-"));
const savePath = join(dir, "soak.rbpx");

let nextId = n;
let searches = 0;
let batchQueries = 0;
let saves = 0;
let stallWindow = 0;
let stallWorst = 0;
let stallCause = "";
let last = performance.now();
let lastClock = threadClock();
/** Ticks every millisecond; a late tick is a stall, and the JS thread's clock across it tells who caused it: CPU time on the thread (our code, GC), waits (a lock, a page fault, I/O) or preemptions (a starved CPU). */
const ticker = setInterval(() => {
  const now = performance.now();
  const clock = threadClock();
  if (now - last > stallWindow) {
    stallWindow = now - last;
    stallCause = `${(clock.cpuMs - lastClock.cpuMs).toFixed(1)} ms on CPU, ${clock.waits - lastClock.waits} waits, ${clock.preempted - lastClock.preempted} preemptions`;
  }
  last = now;
  lastClock = clock;
}, 1);

/** The JS thread's CPU time (ms) and context switches so far: voluntary ones are waits (a lock, I/O), involuntary ones preemptions. */
function threadClock(): { cpuMs: number; waits: number; preempted: number } {
  const status = readFileSync("/proc/thread-self/status", "utf8");
  const count = (name: string) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, "m"))?.[1] ?? 0);
  const cpu = process.threadCpuUsage();
  return { cpuMs: (cpu.user + cpu.system) / 1000, waits: count("voluntary_ctxt_switches"), preempted: count("nonvoluntary_ctxt_switches") };
}

const noCall = { ms: 0, what: "", cpuMs: 0, waits: 0, preempted: 0 };
let callWindow = noCall;
/** Runs `call`, recording how long it held the JS thread and whether it ran, waited or was preempted meanwhile. */
function timed<T>(what: string, call: () => T): T {
  const at = performance.now();
  const before = threadClock();
  try {
    return call();
  } finally {
    const ms = performance.now() - at;
    if (ms > callWindow.ms) {
      const after = threadClock();
      callWindow = { ms, what, cpuMs: after.cpuMs - before.cpuMs, waits: after.waits - before.waits, preempted: after.preempted - before.preempted };
    }
  }
}

const deadline = performance.now() + minutes * 60_000;
const running = () => performance.now() < deadline;

async function searcher(worker: number): Promise<void> {
  for (let i = worker; running(); i += inFlight) {
    const q = queries.subarray((i % 1000) * dim, (i % 1000 + 1) * dim);
    const hits = await timed("searchAsync", () => index.searchAsync(q, k));
    if (hits.length !== k) throw new Error(`search returned ${hits.length} hits`);
    searches++;
  }
}

async function batcher(): Promise<void> {
  while (running()) {
    const r = await timed("searchBatchAsync", () => index.searchBatchAsync(queries.subarray(0, 100 * dim), k));
    batchQueries += r.count;
  }
}

async function adder(): Promise<void> {
  while (running() && nextId < data.length / dim) {
    const ids = Array.from({ length: 10 }, (_, i) => nextId + i);
    timed("addBatch", () => index.addBatch(data.subarray(nextId * dim, (nextId + 10) * dim), ids));
    nextId += 10;
    await Bun.sleep(20);
  }
}

async function saver(): Promise<void> {
  while (running()) {
    await timed("saveAsync", () => index.saveAsync(savePath));
    saves++;
    await Bun.sleep(2_000);
  }
}

const windows: { s: number; searchesPerS: number; batchQueriesPerS: number; length: number; rssMB: number; indexMB: number; reservedMB: number; overheadMB: number; maxStallMs: number; stallCause: string; maxCallMs: number; maxCall: string; load1: number }[] = [];
const started = performance.now();
let prev = { searches: 0, batchQueries: 0, at: started };
const reporter = setInterval(() => {
  const now = performance.now();
  const dt = (now - prev.at) / 1000;
  const rssMB = process.memoryUsage.rss() / 2 ** 20;
  const indexMB = (index.length * bytesPerVector) / 2 ** 20;
  const w = {
    s: Math.round((now - started) / 1000),
    searchesPerS: Math.round((searches - prev.searches) / dt),
    batchQueriesPerS: Math.round((batchQueries - prev.batchQueries) / dt),
    length: index.length,
    rssMB: Math.round(rssMB),
    indexMB: Math.round(indexMB),
    reservedMB: Math.round(index.memoryBytes / 2 ** 20),
    overheadMB: Math.round(rssMB - indexMB),
    maxStallMs: Math.round(stallWindow * 10) / 10,
    stallCause,
    maxCallMs: Math.round(callWindow.ms * 10) / 10,
    maxCall: `${callWindow.what}: ${callWindow.cpuMs.toFixed(1)} ms on CPU, ${callWindow.waits} waits, ${callWindow.preempted} preemptions`,
    load1: Math.round(loadavg()[0]! * 10) / 10,
  };
  windows.push(w);
  stallWorst = Math.max(stallWorst, stallWindow);
  stallWindow = 0;
  stallCause = "";
  callWindow = noCall;
  prev = { searches, batchQueries, at: now };
  console.log(`${String(w.s).padStart(5)} s  ${String(w.searchesPerS).padStart(6)} search/s  ${String(w.batchQueriesPerS).padStart(6)} batch q/s  n ${w.length}  RSS ${w.rssMB} MB (index ${w.indexMB} MB of ${w.reservedMB} MB reserved, rest ${w.overheadMB} MB)  max stall ${w.maxStallMs} ms (${w.stallCause}), longest call ${w.maxCallMs} ms (${w.maxCall}), load ${w.load1}`);
}, windowMs);

await Promise.all([...Array.from({ length: inFlight }, (_, w) => searcher(w)), batcher(), adder(), saver()]);
clearInterval(ticker);
clearInterval(reporter);
rmSync(dir, { recursive: true, force: true });
const rest = windows.map((w) => w.overheadMB);
const summary = {
  minutes,
  searches,
  batchQueries,
  adds: nextId - n,
  saves,
  maxStallMs: Math.round(Math.max(stallWorst, stallWindow) * 10) / 10,
  restMB: { first: rest[0], last: rest.at(-1), max: Math.max(...rest) },
  windows,
};
console.log(`SOAK ${JSON.stringify(summary)}`);
