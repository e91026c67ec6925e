/**
 * The peers a Bun user would otherwise install, built and swept the way their docs intend:
 * hnswlib-node (HNSW and BruteforceSearch), usearch (HNSW) and LanceDB's in-process IVF_RQ.
 * Memory of a peer is the size of its serialized index (its in-RAM payload without allocator
 * overhead, locks or id maps, so the comparison is, if anything, generous to the peer).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Dataset } from "./data.ts";
import { K, timed, type AsyncSetting, type Built, type Setting } from "./sweep.ts";

/** HNSW graph parameters shared by both HNSW peers (perf-anchors.md §3.2). */
export const HNSW_M = 16;
const HNSWLIB_EF_CONSTRUCTION = 200;
const USEARCH_EF_CONSTRUCTION = 128;

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "ruvector-bench-peer-"));
}

/** `f()`, removing the scratch directory `dir` if it throws (a failed build leaves nothing behind). */
async function removingOnFailure<T>(dir: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Bytes of every file under `dir`. */
function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

function rowOf(ds: Dataset, i: number): Float32Array {
  return ds.base.data.subarray(i * ds.base.dim, (i + 1) * ds.base.dim);
}

async function hnswlibModule() {
  return (await import("hnswlib-node")).default;
}

/** hnswlib-node HNSW, built one addPoint at a time (its only insert API: single-threaded), swept over ef. */
export async function hnswlib(ds: Dataset, efs: readonly number[]): Promise<Built> {
  const { HierarchicalNSW } = await hnswlibModule();
  const index = new HierarchicalNSW(ds.metric === "cosine" ? "cosine" : "l2", ds.base.dim);
  const [, buildS] = await timed(() => {
    index.initIndex(ds.base.rows, HNSW_M, HNSWLIB_EF_CONSTRUCTION, 42);
    for (let i = 0; i < ds.base.rows; i++) index.addPoint(Array.from(rowOf(ds, i)), i);
  });
  const dir = scratch();
  index.writeIndexSync(join(dir, "index.bin"));
  const bytes = statSync(join(dir, "index.bin")).size;
  rmSync(dir, { recursive: true });
  const settings: Setting[] = efs.map((ef) => ({
    name: `ef ${ef}`,
    prepare: () => index.setEf(ef),
    search: (q) => index.searchKnn(Array.from(q), K).neighbors,
  }));
  return {
    label: `hnswlib-node HNSW (M ${HNSW_M}, efC ${HNSWLIB_EF_CONSTRUCTION}; 1 build thread)`,
    buildS,
    memory: { bytes, how: "serialized" },
    settings,
    close: () => {},
  };
}

/** hnswlib-node's exact BruteforceSearch (a native flat scan), the anchor for FlatF32Index. */
export async function hnswlibBruteforce(ds: Dataset): Promise<Built> {
  const { BruteforceSearch } = await hnswlibModule();
  const index = new BruteforceSearch(ds.metric === "cosine" ? "cosine" : "l2", ds.base.dim);
  const [, buildS] = await timed(() => {
    index.initIndex(ds.base.rows);
    for (let i = 0; i < ds.base.rows; i++) index.addPoint(Array.from(rowOf(ds, i)), i);
  });
  return {
    label: "hnswlib-node BruteforceSearch (exact)",
    buildS,
    memory: { bytes: ds.base.rows * (ds.base.dim * 4 + 8), how: "vectors + labels" },
    settings: [{ name: "exact", search: (q) => index.searchKnn(Array.from(q), K).neighbors }],
    close: () => {},
  };
}

/**
 * usearch HNSW (f32), built with all cores. Its JS binding fixes the search expansion at
 * construction, so each ef is a fresh Index loaded (copied into memory) from the saved graph.
 */
export async function usearch(ds: Dataset, efs: readonly number[]): Promise<Built> {
  const { Index, MetricKind, ScalarKind } = await import("usearch");
  const config = (ef: number) => ({
    metric: ds.metric === "cosine" ? MetricKind.Cos : MetricKind.L2sq,
    connectivity: HNSW_M,
    dimensions: ds.base.dim,
    expansion_add: USEARCH_EF_CONSTRUCTION,
    expansion_search: ef,
    quantization: ScalarKind.F32,
    multi: false,
  });
  const dir = scratch();
  const path = join(dir, "index.usearch");
  const [, buildS] = await removingOnFailure(dir, () =>
    timed(() => {
      const index = new Index(config(64));
      index.add(BigUint64Array.from({ length: ds.base.rows }, (_, i) => BigInt(i)), ds.base.data, 0);
      index.save(path);
    }),
  );
  let current: InstanceType<typeof Index> | undefined;
  const settings: Setting[] = efs.map((ef) => ({
    name: `ef ${ef}`,
    prepare: () => {
      current = new Index(config(ef));
      current.load(path);
    },
    search: (q) => Array.from(current!.search(q, K, 1).keys, Number),
  }));
  return {
    label: `usearch HNSW (M ${HNSW_M}, efC ${USEARCH_EF_CONSTRUCTION}; 2 build threads)`,
    buildS,
    memory: { bytes: statSync(path).size, how: "serialized" },
    settings,
    close: () => rmSync(dir, { recursive: true }),
  };
}

/** LanceDB answers in milliseconds per query whatever the setting (its async query planner), so fewer queries keep its sweep short. */
const LANCE_QUERIES = 200;

/** Rows of `from` floats copied into rows of `to` ≥ `from` floats, zero-filled. */
function padRows(data: Float32Array, from: number, to: number): Float32Array {
  const rows = data.length / from;
  const out = new Float32Array(rows * to);
  for (let i = 0; i < rows; i++) out.set(data.subarray(i * from, (i + 1) * from), i * to);
  return out;
}

/** LanceDB's index parameters and search grid. */
export interface LanceSweep {
  /** Bits per dimension of the RaBitQ code (IVF_RQ `numBits`). */
  numBits: number;
  nprobes: readonly number[];
  refineFactors: readonly number[];
}

/**
 * LanceDB IVF_RQ (RaBitQ) in-process: a local table in a scratch directory, the index built with
 * the library's defaults (√n partitions), searched through its async query builder (the only API).
 * Memory is the index's own files (the table it refines from is on disk beside it).
 */
export async function lancedb(ds: Dataset, grid: LanceSweep): Promise<Built> {
  process.env.RUST_LOG ??= "error"; // its deprecation warnings print once per query otherwise
  const lance = await import("@lancedb/lancedb");
  // The Arrow instance LanceDB itself loads (CommonJS): schemas from another copy fail its instanceof checks.
  const arrow = createRequire(import.meta.url)("apache-arrow") as typeof import("apache-arrow");
  const { rows } = ds.base;
  // IVF_RQ needs dim % 8 == 0; zero padding changes neither L2 nor cosine distances.
  const dim = Math.ceil(ds.base.dim / 8) * 8;
  const pad = (v: Float32Array) => (dim === ds.base.dim ? v : padRows(v, ds.base.dim, dim));
  const listType = new arrow.FixedSizeList(dim, new arrow.Field("item", new arrow.Float32(), true));
  const values = arrow.makeData({ type: new arrow.Float32(), data: pad(ds.base.data), length: rows * dim });
  const table = new arrow.Table({
    id: arrow.makeVector(Int32Array.from({ length: rows }, (_, i) => i)),
    vector: arrow.makeVector(arrow.makeData({ type: listType, length: rows, nullCount: 0, child: values })),
  });
  const dir = scratch();
  const db = await lance.connect(dir);
  const distanceType = ds.metric === "cosine" ? "cosine" : "l2";
  const [tbl, buildS] = await removingOnFailure(dir, () =>
    timed(async () => {
      const t = await db.createTable("bench", table);
      await t.createIndex("vector", { config: lance.Index.ivfRq({ numBits: grid.numBits, distanceType }) });
      return t;
    }),
  );
  const indexBytes = treeBytes(join(dir, "bench.lance", "_indices"));
  const settings: AsyncSetting[] = [];
  for (const nprobes of grid.nprobes) {
    for (const refine of grid.refineFactors) {
      settings.push({
        name: `nprobes ${nprobes}, refine ×${refine}`,
        searchAsync: async (q) => {
          const hits = await tbl.vectorSearch(pad(q)).distanceType(distanceType).nprobes(nprobes).refineFactor(refine).limit(K).select(["id", "_distance"]).toArray();
          return hits.map((h: { id: number }) => h.id);
        },
      });
    }
  }
  return {
    label: `LanceDB IVF_RQ (${grid.numBits}-bit, default partitions${dim === ds.base.dim ? "" : `, zero-padded to ${dim} dims`})`,
    buildS,
    memory: { bytes: indexBytes, how: "index files" },
    settings,
    maxQueries: LANCE_QUERIES,
    close: () => {
      tbl.close();
      db.close();
      rmSync(dir, { recursive: true });
    },
  };
}
