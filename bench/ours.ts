/** Our index classes as sweepable engines (see sweep.ts): built through the public API, searched with single-query search(). */
import { FlatF32Index, RabitqPlusIndex, type VectorIndex } from "../src/index.ts";
import type { Dataset } from "./data.ts";
import { K, timed, type Built } from "./sweep.ts";

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
