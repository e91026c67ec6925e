/**
 * Open time and first-query time of a saved IvfRabitqIndex, copy load versus
 * `load(path, { mmap: true })`, each in a fresh process (so no allocator or
 * page-table state carries over), alternating, median of the rounds. The file
 * is in the page cache (just written): this measures what a restart on a warm
 * machine costs, not a cold disk read. Writes bench/results/mmap-<n>.md.
 *
 *   bun bench/mmap.ts [n=200000] [dim=128] [rounds=3]
 *   bun bench/mmap.ts --child <file> <copy|mmap|mmap+verify> <dim>   (one measurement; prints JSON)
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { IvfRabitqIndex } from "../src/index.ts";
import { rng } from "../test/support/helpers.ts";

const MODES = ["copy", "mmap", "mmap+verify"] as const;
type Mode = (typeof MODES)[number];
interface Sample {
  openMs: number;
  firstQueryMs: number;
  steadyQueryUs: number;
  rssMiB: number;
  memoryMiB: number;
  mappedMiB: number;
}

/** `n` rows around 100 random centres (σ 0.6), as bench/data.ts's synthetic set. */
function clustered(n: number, dim: number, seed: number): Float32Array {
  const next = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const centres = Float32Array.from({ length: 100 * dim }, () => next() * 4 - 2);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(next() * 100);
    for (let j = 0; j < dim; j++) out[i * dim + j] = centres[c * dim + j]! + 0.6 * gauss();
  }
  return out;
}

function child(file: string, mode: Mode, dim: number): void {
  const queries = clustered(200, dim, 7);
  const t0 = Bun.nanoseconds();
  using index = IvfRabitqIndex.load(file, mode === "copy" ? {} : { mmap: true, verify: mode === "mmap+verify" });
  const t1 = Bun.nanoseconds();
  index.search(queries.subarray(0, dim), 10);
  const t2 = Bun.nanoseconds();
  for (let i = 1; i < 200; i++) index.search(queries.subarray(i * dim, (i + 1) * dim), 10);
  const t3 = Bun.nanoseconds();
  const mib = (b: number) => b / 2 ** 20;
  const sample: Sample = {
    openMs: (t1 - t0) / 1e6,
    firstQueryMs: (t2 - t1) / 1e6,
    steadyQueryUs: (t3 - t2) / 1e3 / 199,
    rssMiB: mib(process.memoryUsage().rss),
    memoryMiB: mib(index.memoryBytes),
    mappedMiB: mib(index.mappedBytes),
  };
  console.log(JSON.stringify(sample));
}

function measure(file: string, mode: Mode, dim: number): Sample {
  const run = Bun.spawnSync(["bun", import.meta.path, "--child", file, mode, String(dim)], { stderr: "inherit" });
  if (run.exitCode !== 0) throw new Error(`child ${mode} failed (${run.exitCode})`);
  return JSON.parse(run.stdout.toString()) as Sample;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function parent(n: number, dim: number, rounds: number): void {
  const dir = mkdtempSync(join(tmpdir(), "ruv-mmap-bench-"));
  try {
    const file = join(dir, "index.ivf");
    const t = Bun.nanoseconds();
    const data = clustered(n, dim, 3);
    using built = IvfRabitqIndex.build(data, { dim, store: "f16", rerank: 40 });
    built.save(file);
    const buildS = (Bun.nanoseconds() - t) / 1e9;
    const size = statSync(file).size / 2 ** 20;
    const samples: Record<Mode, Sample[]> = { copy: [], mmap: [], "mmap+verify": [] };
    for (let r = 0; r < rounds; r++) for (const mode of MODES) samples[mode].push(measure(file, mode, dim));
    const med = (mode: Mode, key: keyof Sample) => median(samples[mode].map((s) => s[key]));
    const lines = [
      `# IvfRabitqIndex open: copy load vs mmap (\`bun bench/mmap.ts ${n} ${dim} ${rounds}\`)`,
      "",
      `${n.toLocaleString("en-US")} × ${dim} clustered rows, nlist ${built.nlist}, exBits ${built.exBits}, f16 store, rerank 40; file ${size.toFixed(1)} MiB (built and saved in ${buildS.toFixed(1)} s).`,
      `Each cell is the median of ${rounds} fresh processes per mode, interleaved; the file is in the page cache. Load average at start: ${loadavg()[0]!.toFixed(1)}.`,
      "",
      "| mode | open (ms) | first query (ms) | steady query (µs) | process RSS after 200 queries (MiB) | memoryBytes (MiB) | mappedBytes (MiB) |",
      "|---|---:|---:|---:|---:|---:|---:|",
      ...MODES.map((m) => `| ${m} | ${med(m, "openMs").toFixed(1)} | ${med(m, "firstQueryMs").toFixed(2)} | ${med(m, "steadyQueryUs").toFixed(0)} | ${med(m, "rssMiB").toFixed(0)} | ${med(m, "memoryMiB").toFixed(1)} | ${med(m, "mappedMiB").toFixed(1)} |`),
      "",
      `Ratios (copy ÷ mmap): open ${(med("copy", "openMs") / med("mmap", "openMs")).toFixed(1)}×, open + first query ${((med("copy", "openMs") + med("copy", "firstQueryMs")) / (med("mmap", "openMs") + med("mmap", "firstQueryMs"))).toFixed(1)}×, steady query ${(med("copy", "steadyQueryUs") / med("mmap", "steadyQueryUs")).toFixed(2)}×; mmap+verify opens ${(med("copy", "openMs") / med("mmap+verify", "openMs")).toFixed(1)}× faster than copy.`,
    ];
    const out = lines.join("\n");
    console.log(out);
    mkdirSync(join(import.meta.dir, "results"), { recursive: true });
    Bun.write(join(import.meta.dir, "results", `mmap-${n}.md`), out + "\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args[0] === "--child") {
  const mode = args[2] as Mode;
  if (!args[1] || !MODES.includes(mode)) throw new Error("usage: bun bench/mmap.ts --child <file> <copy|mmap|mmap+verify> <dim>");
  child(args[1], mode, Number(args[3]));
} else {
  const [n = 200_000, dim = 128, rounds = 3] = args.map(Number);
  parent(n, dim, rounds);
}
