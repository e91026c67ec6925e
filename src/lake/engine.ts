/** The lake's engine choice and IVF options, checked and turned into `RuvLakeConfig` fields. */
import { InvalidArgument } from "../errors.ts";
import { IvfStore, LakeEngineCode } from "../ffi.ts";
import { checkOptionKeys, describeValue, optionKeys } from "../options.ts";
import { ivfBuildOptions } from "../index/recommend.ts";
import type { Store } from "../index/types.ts";

/** Which index the lake caches collections as; see {@link RuLakeBuilder.engine}. */
export type LakeEngine = "auto" | "plus" | "ivf";

/** IvfRabitqIndex build options for the lake's IVF engine (as `IvfRabitqIndex.build` takes them). */
export interface LakeIvfOptions {
  /** Number of lists (default: the power of two nearest 2√n, fewer for rows wider than 256). */
  nlist?: number;
  /** Code bits per component, 1..8 (default 7). */
  exBits?: number;
  /** Vectors kept for an exact rerank (default none, or f16 above targetRecall 0.96). */
  store?: Store;
  /** Lists probed per search (default: what calibration for targetRecall chose). */
  nprobe?: number;
  /** Candidates reranked exactly from the store (default 0, or 40 above targetRecall 0.96). */
  rerank?: number;
}

const ENGINES: Record<LakeEngine, number> = { plus: LakeEngineCode.Plus, ivf: LakeEngineCode.Ivf, auto: LakeEngineCode.Auto };
const STORE_CODE: Record<Store, number> = { none: IvfStore.None, f16: IvfStore.F16, f32: IvfStore.F32 };
const IVF_KEYS = optionKeys<LakeIvfOptions>({ nlist: true, exBits: true, store: true, nprobe: true, rerank: true });

function checkUint(name: string, value: number | undefined, max: number, min = 0): number {
  if (value === undefined) return 0;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new InvalidArgument(`ivfOptions.${name} must be an integer in ${min}..${max}, got ${describeValue(value)}`);
  return value;
}

/** The `RuvLakeConfig` engine fields for a checked choice; bad values are an {@link InvalidArgument} naming them. */
export function engineConfig(engine: LakeEngine, targetRecall: number, ivf: LakeIvfOptions) {
  if (!Object.hasOwn(ENGINES, engine)) throw new InvalidArgument(`engine must be one of ${Object.keys(ENGINES).map((e) => `"${e}"`).join(", ")}, got ${describeValue(engine)}`);
  if (typeof targetRecall !== "number" || !(targetRecall > 0 && targetRecall <= 1)) throw new InvalidArgument(`targetRecall must be a number in (0, 1], got ${describeValue(targetRecall)}`);
  checkOptionKeys(ivf, IVF_KEYS, "ivfOptions");
  if (ivf.store !== undefined && !Object.hasOwn(STORE_CODE, ivf.store)) throw new InvalidArgument(`ivfOptions.store must be "none", "f16" or "f32", got ${describeValue(ivf.store)}`);
  const o = { ...ivfBuildOptions(targetRecall), ...ivf };
  return {
    engine: ENGINES[engine],
    nlist: checkUint("nlist", o.nlist, 2 ** 24),
    ex_bits: checkUint("exBits", o.exBits ?? 7, 8, 1),
    store: STORE_CODE[o.store ?? "none"],
    nprobe: checkUint("nprobe", o.nprobe, 2 ** 24),
    rerank: checkUint("rerank", o.rerank, 2 ** 24),
    target_recall: o.targetRecall,
  };
}
