/** Index variants by their CLI names, the build options shared by `index build` and `bench`, and index summaries. */
import { FlatF32Index, IvfRabitqIndex, RabitqAsymIndex, RabitqIndex, RabitqPlusIndex, type BuildOptions, type IvfBuildOptions, type Metric, type Store, type VectorIndex } from "../index/index.ts";
import type { Args, OptionSpec } from "./args.ts";
import type { VectorFile } from "./input.ts";
import { formatBytes } from "../units.ts";
import { withProgress } from "./progress.ts";

const VARIANTS = { plus: RabitqPlusIndex, ivf: IvfRabitqIndex, flat: FlatF32Index, rabitq: RabitqIndex, asym: RabitqAsymIndex } as const;
/** A variant's CLI name. */
export type Variant = keyof typeof VARIANTS;
const VARIANT_NAMES = Object.keys(VARIANTS) as Variant[];
const METRICS: readonly Metric[] = ["l2", "cosine"];
const STORES: readonly Store[] = ["none", "f16", "f32"];
/** Options only the ivf variant takes. */
const IVF_ONLY = ["nlist", "ex-bits", "store", "nprobe", "target-recall"];

/** Options that choose what to build. */
export const BUILD_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  variant: {
    type: "string",
    value: "NAME",
    help: "plus (default; 1-bit codes + exact rerank, upstream-compatible files), ivf (sub-linear IVF lists: large sets), flat (exact), rabitq (codes only), asym",
  },
  metric: { type: "string", value: "NAME", help: "l2 (default; squared L2 scores) or cosine (1 − cos scores)" },
  rerank: { type: "string", value: "N", help: "plus/asym: rerank k × N candidates exactly, 1..1024 (default 20 for plus); ivf: rerank N candidates from the store" },
  seed: { type: "string", value: "N", help: "seed of the random rotation (default 42)" },
  "no-pad": { type: "boolean", help: "do not zero-pad quantized variants to a multiple of 64 dimensions" },
  "target-recall": { type: "string", value: "R", help: "ivf: calibrate nprobe at build so held-out rows reach recall@10 R, e.g. 0.95" },
  nlist: { type: "string", value: "N", help: "ivf: number of lists (default: the power of two nearest 2√n, fewer for rows wider than 256)" },
  nprobe: { type: "string", value: "N", help: "ivf: lists probed per search (default nlist/8, or what --target-recall chose)" },
  "ex-bits": { type: "string", value: "N", help: "ivf: code bits per component, 1..8 (default 7)" },
  store: { type: "string", value: "KIND", help: "ivf: keep vectors for an exact rerank: none (default), f16 or f32" },
};

/** What {@link BUILD_OPTIONS} chose, before the data (and so its dim and ids) is known. */
export interface BuildPlan {
  variant: Variant;
  options: Omit<BuildOptions, "dim" | "ids"> | Omit<IvfBuildOptions, "dim" | "ids">;
}

/** Reads {@link BUILD_OPTIONS} from `args`; call before reading data so usage errors come first. */
export function buildPlan(args: Args): BuildPlan {
  const variant = args.choice("variant", VARIANT_NAMES, "plus");
  const common = { metric: args.choice("metric", METRICS, "l2"), seed: args.uint64("seed") };
  if (variant === "ivf") {
    if (args.flag("no-pad")) throw args.usage("--no-pad does not apply to --variant ivf (its rotation always pads)");
    const options = {
      ...common,
      targetRecall: args.fraction("target-recall"),
      nlist: args.int("nlist", { min: 1, max: 1 << 24 }, undefined),
      nprobe: args.int("nprobe", { min: 1, max: 1 << 24 }, undefined),
      exBits: args.int("ex-bits", { min: 1, max: 8 }, undefined),
      store: args.choice("store", STORES, "none"),
      rerank: args.int("rerank", { min: 1, max: 1 << 20 }, undefined),
    };
    if (options.rerank !== undefined && options.store === "none") throw args.usage("--rerank with --variant ivf needs --store f16 or --store f32 to rerank from");
    return { variant, options };
  }
  const stray = IVF_ONLY.find((name) => args.string(name) !== undefined);
  if (stray) throw args.usage(`--${stray} applies to --variant ivf only, not ${variant}`);
  return { variant, options: { ...common, rerankFactor: args.int("rerank", { min: 1, max: 1024 }, undefined), padToWord: !args.flag("no-pad") } };
}

/** Builds the planned index over `vectors` (with `tags`, one per vector) off the JS thread; returns it with the build time. */
export async function buildIndex(plan: BuildPlan, vectors: VectorFile, tags?: BigUint64Array): Promise<{ index: VectorIndex; buildMs: number }> {
  const options = { ...plan.options, dim: vectors.dim, ids: vectors.ids, ...(tags && { tags }) };
  const cls = VARIANTS[plan.variant] as typeof RabitqPlusIndex;
  const started = performance.now();
  const index: VectorIndex = await withProgress(`building ${plan.variant} index over ${vectors.rows} vectors`, (progress) =>
    cls.buildAsync(vectors.data, { ...(options as BuildOptions), onProgress: (done, total) => progress.update(done, total) }),
  );
  return { index, buildMs: performance.now() - started };
}

/** An index's parameters and size, as `index info` reports them. */
export interface IndexSummary {
  variant: Variant;
  class: string;
  n: number;
  dim: number;
  metric: Metric;
  /** 64-bit: `--json` prints it as an exact JSON integer (see {@link printJson}). */
  seed: bigint;
  rerankFactor: number;
  memoryBytes: number;
  /** The ivf variant's lists, probes, bits, store, rerank and calibration. */
  ivf?: { nlist: number; nprobe: number; exBits: number; store: Store; rerank: number; calibratedRecall?: number };
}

/** Describes `index`. */
export function summarize(index: VectorIndex): IndexSummary {
  const variant = VARIANT_NAMES.find((name) => index instanceof VARIANTS[name])!;
  return {
    variant,
    class: VARIANTS[variant].name,
    n: index.length,
    dim: index.dim,
    metric: index.metric,
    seed: index.seed,
    rerankFactor: index.rerankFactor,
    memoryBytes: index.memoryBytes,
    ...(index instanceof IvfRabitqIndex ? { ivf: ivfSummary(index) } : {}),
  };
}

function ivfSummary(index: IvfRabitqIndex): NonNullable<IndexSummary["ivf"]> {
  const { nlist, nprobe, exBits, store, rerank, calibration } = index;
  return { nlist, nprobe, exBits, store, rerank, ...(calibration ? { calibratedRecall: calibration.measuredRecall } : {}) };
}

/** A summary as `label  value` lines for people. */
export function summaryFields(s: IndexSummary): Array<readonly [string, string | number]> {
  return [
    ["variant", `${s.variant} (${s.class})`],
    ["vectors", s.n],
    ["dim", s.dim],
    ["metric", s.metric],
    ["seed", String(s.seed)],
    ...(s.ivf ? ivfFields(s.ivf) : [["rerank", s.rerankFactor] as const]),
    ["memory", formatBytes(s.memoryBytes)],
  ];
}

function ivfFields(ivf: NonNullable<IndexSummary["ivf"]>): Array<readonly [string, string | number]> {
  const calibrated = ivf.calibratedRecall === undefined ? "not calibrated" : `recall@10 ${ivf.calibratedRecall.toFixed(3)} measured at build`;
  return [["lists", `${ivf.nlist} (probing ${ivf.nprobe}; ${calibrated})`], ["code bits", ivf.exBits], ["store", ivf.store === "none" ? "none (codes only)" : `${ivf.store}, rerank ${ivf.rerank}`]];
}
