/** Index variants by their CLI names, the build options shared by `index build` and `bench`, and index summaries. */
import { FlatF32Index, RabitqAsymIndex, RabitqIndex, RabitqPlusIndex, type BuildOptions, type Metric, type VectorIndex } from "../index/index.ts";
import type { Args, OptionSpec } from "./args.ts";
import type { VectorFile } from "./input.ts";
import { formatBytes } from "../units.ts";
import { withProgress } from "./progress.ts";

const VARIANTS = { plus: RabitqPlusIndex, flat: FlatF32Index, rabitq: RabitqIndex, asym: RabitqAsymIndex } as const;
/** A variant's CLI name. */
export type Variant = keyof typeof VARIANTS;
const VARIANT_NAMES = Object.keys(VARIANTS) as Variant[];
const METRICS: readonly Metric[] = ["l2", "cosine"];

/** Options that choose what to build. */
export const BUILD_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  variant: { type: "string", value: "NAME", help: "plus (default; 1-bit codes + exact rerank), flat (exact), rabitq (codes only), asym" },
  metric: { type: "string", value: "NAME", help: "l2 (default; squared L2 scores) or cosine (1 − cos scores)" },
  rerank: { type: "string", value: "N", help: "rerank k × N candidates exactly, 1..1024 (default 20 for plus, 1 otherwise)" },
  seed: { type: "string", value: "N", help: "seed of the random rotation (default 42)" },
  "no-pad": { type: "boolean", help: "do not zero-pad quantized variants to a multiple of 64 dimensions" },
};

/** What {@link BUILD_OPTIONS} chose, before the data (and so its dim and ids) is known. */
export interface BuildPlan {
  variant: Variant;
  options: Omit<BuildOptions, "dim" | "ids">;
}

/** Reads {@link BUILD_OPTIONS} from `args`; call before reading data so usage errors come first. */
export function buildPlan(args: Args): BuildPlan {
  return {
    variant: args.choice("variant", VARIANT_NAMES, "plus"),
    options: {
      metric: args.choice("metric", METRICS, "l2"),
      rerankFactor: args.int("rerank", { min: 1, max: 1024 }, undefined),
      seed: args.uint64("seed"),
      padToWord: !args.flag("no-pad"),
    },
  };
}

/** Builds the planned index over `vectors` off the JS thread; returns it with the build time. */
export async function buildIndex(plan: BuildPlan, vectors: VectorFile): Promise<{ index: VectorIndex; buildMs: number }> {
  const options: BuildOptions = { ...plan.options, dim: vectors.dim, ids: vectors.ids };
  const started = performance.now();
  const index = await withProgress(`building ${plan.variant} index over ${vectors.rows} vectors`, () =>
    VARIANTS[plan.variant].buildAsync(vectors.data, options),
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
  };
}

/** A summary as `label  value` lines for people. */
export function summaryFields(s: IndexSummary): Array<readonly [string, string | number]> {
  return [
    ["variant", `${s.variant} (${s.class})`],
    ["vectors", s.n],
    ["dim", s.dim],
    ["metric", s.metric],
    ["seed", String(s.seed)],
    ["rerank", s.rerankFactor],
    ["memory", formatBytes(s.memoryBytes)],
  ];
}
