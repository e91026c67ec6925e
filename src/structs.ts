/**
 * The `#[repr(C)]` structs of the C ABI, laid out by C's rules from their
 * field lists (a test compiles their `offsetof`s from the header to check).
 * Every struct starts with `struct_size`, which {@link NativeStruct} sets.
 */
import { ptr, type Pointer } from "bun:ffi";

/** A field's C type: `uint32_t`, `int32_t`, `float`, `uint64_t`, or a pointer. */
export type FieldType = "u32" | "i32" | "f32" | "u64" | "ptr";

/** Offsets, types and total size of one C struct. */
export interface StructLayout<F extends string = string> {
  /** Its name in `ruvector.h`. */
  readonly name: string;
  /** `sizeof` the struct. */
  readonly size: number;
  /** Byte offset and type of each field. */
  readonly fields: Readonly<Record<F, { readonly offset: number; readonly type: FieldType }>>;
}

const WIDTH: Record<FieldType, number> = { u32: 4, i32: 4, f32: 4, u64: 8, ptr: 8 };

function layout<F extends string>(name: string, fields: Fields<F>): StructLayout<F> {
  const out = {} as Record<F, { offset: number; type: FieldType }>;
  let offset = 0;
  let align = 1;
  for (const [field, type] of fields) {
    const w = WIDTH[type];
    offset = Math.ceil(offset / w) * w;
    out[field] = { offset, type };
    offset += w;
    align = Math.max(align, w);
  }
  return { name, size: Math.ceil(offset / align) * align, fields: out };
}

type Fields<F extends string> = ReadonlyArray<readonly [F, FieldType]>;

/** A nested struct's fields, named `prefix.field` as C's `offsetof` designates them. */
function nested<P extends string, F extends string>(prefix: P, fields: Fields<F>): Fields<`${P}.${F}`> {
  return fields.map(([f, t]) => [`${prefix}.${f}` as const, t] as const);
}

const INDEX_PARAMS = [
  ["struct_size", "u32"], ["kind", "u32"], ["dim", "u32"], ["metric", "u32"], ["rerank_factor", "u32"], ["pad_to_word", "u32"], ["seed", "u64"],
  ["nlist", "u32"], ["ex_bits", "u32"], ["store", "u32"], ["nprobe", "u32"], ["rerank", "u32"], ["target_recall", "f32"],
] as const;
const CACHE_COUNTERS = [
  ["hits", "u64"], ["misses", "u64"], ["primes", "u64"], ["invalidations", "u64"], ["shared_hits", "u64"], ["evictions", "u64"],
  ["warm_installs", "u64"], ["total_prime_us", "u64"], ["last_prime_us", "u64"], ["rows_pulled", "u64"], ["change_sets", "u64"], ["rows_applied", "u64"],
] as const;

/** `RuvIndexParams`: what an index is built with. */
export const IndexParams = layout("RuvIndexParams", INDEX_PARAMS);
/** `RuvIndexInfo`: parameters, size and memory of an index. */
export const IndexInfo = layout("RuvIndexInfo", [
  ["struct_size", "u32"], ["reserved", "u32"], ...nested("params", INDEX_PARAMS), ["len", "u64"], ["memory_bytes", "u64"],
  ["calibration_queries", "u32"], ["measured_recall", "f32"], ["mapped_bytes", "u64"],
]);
/** `RuvLoadOptions`: the expected variant and `RUV_LOAD_*` flags of a load. */
export const LoadOptionsStruct = layout("RuvLoadOptions", [["struct_size", "u32"], ["expected_kind", "u32"], ["flags", "u32"], ["reserved", "u32"]]);
/** `RuvSearchOptions`: k, rerank and nprobe overrides and threads of one search call. */
export const SearchOptionsStruct = layout("RuvSearchOptions", [
  ["struct_size", "u32"], ["k", "u32"], ["rerank_factor", "u32"], ["threads", "u32"], ["nprobe", "u32"], ["rerank", "u32"],
  ["filters", "ptr"], ["filters_len", "u64"],
]);
/** `RuvSearchFilter`: the id rule and tag masks of one query's filter. */
export const SearchFilterStruct = layout("RuvSearchFilter", [
  ["struct_size", "u32"], ["ids_mode", "u32"], ["ids", "ptr"], ["ids_len", "u64"], ["tags_any", "u64"], ["tags_all", "u64"], ["tags_none", "u64"],
]);
/** `RuvAddOptions`: the tags of a build, add or upsert. */
export const AddOptionsStruct = layout("RuvAddOptions", [["struct_size", "u32"], ["reserved", "u32"], ["tags", "ptr"], ["tags_len", "u64"]]);
/** `RuvLakeConfig`: settings of a new lake. */
export const LakeConfig = layout("RuvLakeConfig", [
  ["struct_size", "u32"], ["rerank_factor", "u32"], ["consistency", "u32"], ["reserved", "u32"],
  ["rotation_seed", "u64"], ["ttl_ms", "u64"], ["max_entries", "u64"], ["max_bytes", "u64"],
  ["engine", "u32"], ["nlist", "u32"], ["ex_bits", "u32"], ["store", "u32"], ["nprobe", "u32"], ["rerank", "u32"], ["target_recall", "f32"], ["reserved2", "u32"],
  ["ivf_from_rows", "u64"],
]);
/** `RuvCollection`: a collection's state as its backend reports it. */
export const Collection = layout("RuvCollection", [
  ["struct_size", "u32"], ["dim", "u32"], ["data_ref", "ptr"], ["data_ref_len", "u64"], ["generation_kind", "u32"], ["reserved", "u32"],
  ["generation_num", "u64"], ["generation_str", "ptr"], ["generation_str_len", "u64"],
]);
/** `RuvChangeSet`: a backend's removed and upserted rows since a generation. */
export const ChangeSetStruct = layout("RuvChangeSet", [
  ["struct_size", "u32"], ["reserved", "u32"], ["removed", "ptr"], ["removed_len", "u64"], ["upserted", "ptr"], ["upserted_len", "u64"],
  ["vectors", "ptr"], ["vectors_len", "u64"],
]);
/** `RuvCacheCounters`: the counters of one cache scope. */
export const CacheCounters = layout("RuvCacheCounters", CACHE_COUNTERS);
/** `RuvCacheStats`: a scope's counters and the lake's cached entries and bytes. */
export const CacheStatsStruct = layout("RuvCacheStats", [
  ["struct_size", "u32"], ["reserved", "u32"], ...nested("counters", CACHE_COUNTERS), ["entries", "u64"], ["bytes", "u64"],
]);
/** `RuvErrorInfo`: status, message length and dimensions of the last error. */
export const ErrorInfo = layout("RuvErrorInfo", [["struct_size", "u32"], ["status", "i32"], ["message_len", "u64"], ["expected_dim", "u64"], ["actual_dim", "u64"]]);

/** Every struct of the ABI, for the test that checks them against the header. */
export const STRUCT_LAYOUTS: readonly StructLayout[] = [IndexParams, IndexInfo, SearchOptionsStruct, SearchFilterStruct, AddOptionsStruct, LoadOptionsStruct, LakeConfig, Collection, ChangeSetStruct, CacheCounters, CacheStatsStruct, ErrorInfo];

/** One instance of a struct in memory the native side reads or fills, with its `struct_size` set. */
export class NativeStruct<F extends string> {
  /** The struct's bytes: pass this to the native call. */
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  readonly #layout: StructLayout<F>;

  constructor(layout: StructLayout<F>, values: Partial<Record<F, number | bigint>> = {}) {
    this.#layout = layout;
    this.bytes = new Uint8Array(layout.size);
    this.#view = new DataView(this.bytes.buffer);
    this.#view.setUint32(0, layout.size, true);
    for (const [field, value] of Object.entries(values) as Array<[F, number | bigint]>) this.set(field, value);
  }

  /** Sets a field; pointers are addresses as numbers. */
  set(field: F, value: number | bigint): this {
    const { offset, type } = this.#layout.fields[field];
    if (type === "u32") this.#view.setUint32(offset, Number(value), true);
    else if (type === "i32") this.#view.setInt32(offset, Number(value), true);
    else if (type === "f32") this.#view.setFloat32(offset, Number(value), true);
    else this.#view.setBigUint64(offset, BigInt(value), true);
    return this;
  }

  /** Points a `ptr` field (and its `_len` field) at `bytes`, which the caller keeps alive across the call. */
  setBytes(field: F, lengthField: F, bytes: Uint8Array): this {
    return this.set(field, bytes.length === 0 ? 0 : (ptr(bytes) as Pointer as number)).set(lengthField, bytes.length);
  }

  /** Points `field` at a typed array and sets `lengthField` to its element count; the caller keeps the array alive. */
  setArray(field: F, lengthField: F, array: BigUint64Array | Float32Array): this {
    return this.set(field, array.length === 0 ? 0 : (ptr(array) as Pointer as number)).set(lengthField, array.length);
  }

  /** A 32-bit field. */
  u32(field: F): number {
    const { offset, type } = this.#layout.fields[field];
    return type === "i32" ? this.#view.getInt32(offset, true) : this.#view.getUint32(offset, true);
  }

  /** A `float` field. */
  f32(field: F): number {
    return this.#view.getFloat32(this.#layout.fields[field].offset, true);
  }

  /** A 64-bit field. */
  u64(field: F): bigint {
    return this.#view.getBigUint64(this.#layout.fields[field].offset, true);
  }
}
