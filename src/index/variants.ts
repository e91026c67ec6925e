/** The four upstream-compatible index variants, and loading a file of any variant. */
import type { Pointer } from "bun:ffi";
import { check, lastError, lib, outPointer, statusError, utf8 } from "../ffi.ts";
import { IndexInfo, NativeStruct } from "../structs.ts";
import { runJob } from "../runtime.ts";
import { checkPath, Kind, loadOptionsStruct } from "./prepare.ts";
import type { LoadOptions } from "./types.ts";
import { IvfRabitqIndex } from "./ivf.ts";
import { NativeIndex, takeIndex, VectorIndex, type ClassicOptions } from "./vector-index.ts";

/** Exact brute-force index: the ground-truth baseline. Keeps every vector. */
export class FlatF32Index extends VectorIndex {
  declare readonly "~options": ClassicOptions;
  static override readonly kind = Kind.Flat;
}

/** 1-bit RaBitQ codes only (symmetric estimator, no rerank): smallest memory, lowest recall. */
export class RabitqIndex extends VectorIndex {
  declare readonly "~options": ClassicOptions;
  static override readonly kind = Kind.Rabitq;
}

/** RaBitQ codes plus originals, exact rerank of k × rerankFactor candidates. The recommended default. */
export class RabitqPlusIndex extends VectorIndex {
  declare readonly "~options": ClassicOptions;
  static override readonly kind = Kind.Plus;
  static override readonly defaultRerank = 20;
}

/** Asymmetric RaBitQ estimator (f32 query vs 1-bit codes); rerankFactor > 1 keeps originals for exact rerank. */
export class RabitqAsymIndex extends VectorIndex {
  declare readonly "~options": ClassicOptions;
  static override readonly kind = Kind.Asym;
}

/** Wraps a loaded handle in the class of its variant; frees it when that cannot be read. */
function wrapLoaded(handle: Pointer): VectorIndex {
  const sym = lib();
  const info = new NativeStruct(IndexInfo);
  const status = sym.ruv_index_info(handle, info.bytes);
  if (status !== 0) {
    const err = statusError(status, lastError());
    sym.ruv_index_free(handle);
    throw err;
  }
  const cls = [FlatF32Index, RabitqIndex, RabitqPlusIndex, RabitqAsymIndex, IvfRabitqIndex][info.u32("params.kind")]!;
  return new cls(new NativeIndex(handle));
}

/** Loads an index file of any variant; `{ mmap: true }` maps an IvfRabitqIndex file in place (see {@link LoadOptions}). */
export function loadIndex(path: string, options: LoadOptions = {}): VectorIndex {
  const bytes = utf8(checkPath(path));
  const opts = loadOptionsStruct(Kind.Any, options);
  const cell = new BigUint64Array(1);
  check(lib().ruv_index_load_with(bytes, bytes.length, opts, cell));
  return wrapLoaded(outPointer(cell));
}

/** `loadIndex` off the JS thread. */
export async function loadIndexAsync(path: string, options: LoadOptions = {}): Promise<VectorIndex> {
  const bytes = utf8(checkPath(path));
  const opts = loadOptionsStruct(Kind.Any, options);
  const sym = lib();
  return wrapLoaded(await runJob((job) => sym.ruv_index_load_with_async(bytes, bytes.length, opts, job), takeIndex));
}
