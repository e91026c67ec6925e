/**
 * Search filters and tags: checked here, then passed to the native scan as
 * `RuvSearchFilter` structs (the engine skips excluded rows during its scan; no
 * JS runs per candidate).
 */
import { ptr, type Pointer } from "bun:ffi";
import { InvalidArgument } from "../errors.ts";
import { FilterIds } from "../ffi.ts";
import { checkOptionKeys, describeValue } from "../options.ts";
import { AddOptionsStruct, NativeStruct, SearchFilterStruct, SearchOptionsStruct } from "../structs.ts";

/**
 * Ids a filter lists: non-negative integers up to 2^53 − 1. Ids that are not
 * in the index are allowed and simply match nothing.
 */
export type IdList = Uint32Array | BigUint64Array | readonly number[] | ReadonlySet<number>;

/**
 * A filter by id and by tags; every part given must pass.
 *
 * - `allow`: only these ids may be returned; `deny`: these ids may not (give one of the two).
 * - Tags are each vector's 64 label bits (`tags` at build/add; 0 when none were given):
 *   `tagsAny` passes a vector that has at least one of these bits, `tagsAll` one
 *   that has all of them, `tagsNone` one that has none of them.
 *
 * @example { deny: [4, 8] }
 * @example { tagsAny: 0b0110n, tagsNone: 1n << 63n }
 */
export interface FilterSpec {
  allow?: IdList;
  deny?: IdList;
  tagsAny?: bigint;
  tagsAll?: bigint;
  tagsNone?: bigint;
}

/**
 * What a search may return: an id allow-list (shorthand for `{ allow: ids }`)
 * or a {@link FilterSpec}. A filter that excludes everything gives `[]`.
 */
export type SearchFilter = IdList | FilterSpec;

const FILTER_KEYS = ["allow", "deny", "tagsAny", "tagsAll", "tagsNone"];
const MAX_U64 = (1n << 64n) - 1n;

/** `RuvSearchFilter` structs for `filters`, packed back to back, with the id buffers they point at. */
export class NativeFilters {
  /** The struct array: pass as `RuvSearchOptions.filters`. */
  readonly bytes: Uint8Array;
  /** Id buffers the structs point into: keep them alive across the call. */
  readonly #keep: BigUint64Array[] = [];

  constructor(readonly filters: readonly SearchFilter[]) {
    const size = SearchFilterStruct.size;
    this.bytes = new Uint8Array(size * filters.length);
    filters.forEach((f, i) => {
      const one = filterStruct(f, i, filters.length > 1, this.#keep);
      this.bytes.set(one.bytes, i * size);
    });
  }

  /** The array's address, or 0 when there are no filters. */
  get address(): number {
    return this.filters.length === 0 ? 0 : (ptr(this.bytes) as Pointer as number);
  }
}

/** `search` with `filters` set on it (kept alive by the caller across the native call). */
export function withFilters(search: NativeStruct<keyof typeof SearchOptionsStruct.fields>, filters: NativeFilters): NativeStruct<keyof typeof SearchOptionsStruct.fields> {
  return search.set("filters", filters.address).set("filters_len", filters.filters.length);
}

/**
 * A filter by id only: an allow-list (shorthand for `{ allow: ids }`),
 * `{ allow }` or `{ deny }` — what a lake search takes, since lake rows carry
 * no tags.
 */
export type IdFilter = IdList | Pick<FilterSpec, "allow" | "deny">;

/**
 * The filters of a search over rows that carry no tags (`what` names them): as
 * {@link singleFilter}, or {@link batchFilters} for `queries` queries, with tag masks refused.
 */
export function idFilters(filter: unknown, what: string, queries?: number): NativeFilters {
  const filters = queries === undefined ? singleFilter(filter) : batchFilters(filter, queries);
  for (const f of filters.filters) {
    const tag = isIdList(f) ? undefined : ["tagsAny", "tagsAll", "tagsNone"].find((key) => key in f);
    if (tag !== undefined) throw new InvalidArgument(`filter.${tag}: ${what} carry no tags; filter them by id ({ allow } or { deny })`);
  }
  return filters;
}

/** The filters of a single search (`filter` absent: none). */
export function singleFilter(filter: unknown): NativeFilters {
  return new NativeFilters(filter === undefined ? [] : [checkFilter(filter, "filter")]);
}

/** The filters of a batch search: absent, one for every query, or an array of one per query. */
export function batchFilters(filter: unknown, queries: number): NativeFilters {
  if (filter === undefined) return new NativeFilters([]);
  if (Array.isArray(filter) && filter.length > 0 && filter.every((f) => typeof f === "object" && f !== null)) {
    if (filter.length !== queries) throw new InvalidArgument(`got ${filter.length} filters for ${queries} queries (give one filter, or an array of one per query)`);
    return new NativeFilters(filter.map((f, i) => checkFilter(f, `filter[${i}]`)));
  }
  return new NativeFilters([checkFilter(filter, "filter")]);
}

function checkFilter(filter: unknown, what: string): SearchFilter {
  if (isIdList(filter)) return filter;
  if (typeof filter !== "object" || filter === null) {
    throw new InvalidArgument(`${what} must be an id list (Uint32Array, BigUint64Array, number[] or Set<number>) or { allow | deny, tagsAny, tagsAll, tagsNone }, got ${describeValue(filter)}`);
  }
  checkOptionKeys(filter, FILTER_KEYS, what);
  return filter as FilterSpec;
}

function isIdList(v: unknown): v is IdList {
  return v instanceof Uint32Array || v instanceof BigUint64Array || Array.isArray(v) || v instanceof Set;
}

function filterStruct(filter: SearchFilter, i: number, many: boolean, keep: BigUint64Array[]): NativeStruct<keyof typeof SearchFilterStruct.fields> {
  const what = many ? `filter[${i}]` : "filter";
  const spec: FilterSpec = isIdList(filter) ? { allow: filter } : filter;
  if (spec.allow !== undefined && spec.deny !== undefined) throw new InvalidArgument(`${what} gives both allow and deny: give one id list`);
  const out = new NativeStruct(SearchFilterStruct);
  const list = spec.allow ?? spec.deny;
  if (list !== undefined) {
    const ids = filterIds(list, `${what}.${spec.allow !== undefined ? "allow" : "deny"}`);
    keep.push(ids);
    out.set("ids_mode", spec.allow !== undefined ? FilterIds.Allow : FilterIds.Deny);
    out.set("ids", ids.length === 0 ? 0 : (ptr(ids) as Pointer as number)).set("ids_len", ids.length);
  }
  const any = tagMask(spec.tagsAny, `${what}.tagsAny`);
  if (any === 0n) throw new InvalidArgument(`${what}.tagsAny is 0n, which no vector can match: omit tagsAny to not filter by it`);
  return out.set("tags_any", any ?? 0n).set("tags_all", tagMask(spec.tagsAll, `${what}.tagsAll`) ?? 0n).set("tags_none", tagMask(spec.tagsNone, `${what}.tagsNone`) ?? 0n);
}

function filterIds(list: unknown, what: string): BigUint64Array {
  if (list instanceof BigUint64Array) return list;
  if (list instanceof Uint32Array) return BigUint64Array.from(list, BigInt);
  if (!Array.isArray(list) && !(list instanceof Set)) {
    throw new InvalidArgument(`${what} must be a Uint32Array, BigUint64Array, number[] or Set<number>, got ${describeValue(list)}`);
  }
  const values = [...(list as Iterable<unknown>)];
  const out = new BigUint64Array(values.length);
  values.forEach((id, j) => {
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
      throw new InvalidArgument(`${what}[${j}] = ${describeValue(id)} is not an id (an integer in 0..2^53-1)`);
    }
    out[j] = BigInt(id);
  });
  return out;
}

function tagMask(v: unknown, what: string): bigint | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "bigint" || v < 0n || v > MAX_U64) throw new InvalidArgument(`${what} must be a bigint in 0n..2n**64n-1n (64 tag bits), got ${describeValue(v)}`);
  return v;
}

/** Checks the `tags` of a write of n vectors: a BigUint64Array of n, or absent. */
export function checkTags(tags: unknown, n: number): BigUint64Array | undefined {
  if (tags === undefined) return undefined;
  if (!(tags instanceof BigUint64Array)) throw new InvalidArgument(`tags must be a BigUint64Array (64 tag bits per vector), got ${describeValue(tags)}`);
  if (tags.length !== n) throw new InvalidArgument(`got ${tags.length} tags for ${n} vectors (one u64 per vector)`);
  return tags;
}

/** A `RuvAddOptions` pointing at `tags` (the caller keeps them alive across the call). */
export function addOptions(tags: BigUint64Array | undefined): Uint8Array {
  const out = new NativeStruct(AddOptionsStruct);
  if (tags !== undefined) out.set("tags", tags.length === 0 ? 0 : (ptr(tags) as Pointer as number)).set("tags_len", tags.length);
  return out.bytes;
}
