/** Our index classes as sweepable engines (see sweep.ts): built through the public API, searched with single-query search(). */
import { FlatF32Index, IvfRabitqIndex, RabitqPlusIndex, recommend, type Store, type VectorIndex } from "../src/index.ts";
import type { Dataset } from "./data.ts";
import { K, timed, type Built, type Setting } from "./sweep.ts";

function payload(index: VectorIndex): Built["memory"] {
  return { bytes: index.memoryBytes, how: "memoryBytes" };
}

/** FlatF32Index: exact, one setting. */
export async function flat(ds: Dataset): Promise<Built> {
  const [index, buildS] = await timed(() => FlatF32Index.buildAsync(ds.base.data, { dim: ds.base.dim, metric: ds.metric }));
  return {
    label: "FlatF32Index (exact)",
    buildS,
    memory: payload(index),
    settings: [{ name: "exact", search: (q) => index.search(q, K).map((h) => h.id), batch: (qs, threads) => index.searchBatch(qs, K, { threads }) }],
    close: () => index.close(),
  };
}

/** RabitqPlusIndex: global 1-bit codes + exact rerank, swept over the per-search rerank factor. */
export async function rabitqPlus(ds: Dataset, rerankFactors: readonly number[]): Promise<Built> {
  const [index, buildS] = await timed(() => RabitqPlusIndex.buildAsync(ds.base.data, { dim: ds.base.dim, metric: ds.metric }));
  return {
    label: "RabitqPlusIndex (1-bit + f32 rerank)",
    buildS,
    memory: payload(index),
    settings: rerankFactors.map((rerankFactor) => ({
      name: `rerank ${rerankFactor * K}`,
      search: (q) => index.search(q, K, { rerankFactor }).map((h) => h.id),
      batch: (qs, threads) => index.searchBatch(qs, K, { rerankFactor, threads }),
    })),
    close: () => index.close(),
  };
}

/** One IvfRabitqIndex build of a sweep: fixed code bits and store, swept nprobe × rerank. */
export interface IvfGrid {
  exBits: number;
  store: Store;
  nprobes: readonly number[];
  /** Candidates reranked exactly from the store; [0] for codes only. */
  reranks: readonly number[];
}

function storeText(store: Store): string {
  return store === "none" ? "codes only" : `${store} store`;
}

/** IvfRabitqIndex swept over its per-search nprobe and rerank overrides. */
export async function ivf(ds: Dataset, grid: IvfGrid): Promise<Built> {
  const { exBits, store } = grid;
  const [index, buildS] = await timed(() => IvfRabitqIndex.buildAsync(ds.base.data, { dim: ds.base.dim, metric: ds.metric, exBits, store }));
  const settings: Setting[] = grid.nprobes.flatMap((nprobe) =>
    grid.reranks.map((rerank) => {
      // A per-search rerank must be ≥ 1; codes-only settings leave it out.
      const overrides = rerank > 0 ? { nprobe, rerank } : { nprobe };
      return {
        name: rerank > 0 ? `nprobe ${nprobe}, rerank ${rerank}` : `nprobe ${nprobe}`,
        search: (q: Float32Array) => index.search(q, K, overrides).map((h) => h.id),
        batch: (qs: Float32Array, threads: number) => index.searchBatch(qs, K, { ...overrides, threads }),
      };
    }),
  );
  return { label: `IvfRabitqIndex (B${exBits}, ${storeText(store)}, nlist ${index.nlist})`, buildS, memory: payload(index), settings, close: () => index.close() };
}

/**
 * IvfRabitqIndex as a user gets it without knowing what nprobe is: the build options `recommend()` gives
 * for `recall` (it calibrates nprobe on its own rows at build), searched with the defaults it stored.
 */
export async function ivfRecommended(ds: Dataset, recall: number): Promise<Built> {
  const plan = recommend({ n: ds.base.rows, dim: ds.base.dim, recall });
  if (plan.variant !== "IvfRabitqIndex") throw new Error(`recommend() picked ${plan.variant} for ${ds.base.rows} × ${ds.base.dim}, not IvfRabitqIndex`);
  const [index, buildS] = await timed(() => IvfRabitqIndex.buildAsync(ds.base.data, { dim: ds.base.dim, metric: ds.metric, ...plan.buildOptions }));
  const rerank = index.rerank > 0 ? `, rerank ${index.rerank}` : "";
  return {
    label: `IvfRabitqIndex targetRecall ${recall} (recommend(): B${index.exBits}, ${storeText(index.store)}; calibrated nprobe ${index.nprobe}${rerank})`,
    buildS,
    memory: payload(index),
    settings: [{ name: "as calibrated", search: (q) => index.search(q, K).map((h) => h.id), batch: (qs, threads) => index.searchBatch(qs, K, { threads }) }],
    close: () => index.close(),
  };
}
