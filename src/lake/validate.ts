/**
 * Checks shared by the lake's backends: collection names, ids, dimensions and
 * vector values, of a write before anything changes and of a pull before the
 * lake primes from it. Every failure is a {@link BackendError} naming the
 * backend, the collection and, where there is one, the source (file, server).
 */
import { BackendError } from "../errors.ts";
import { optionKeys, optionKeysProblem } from "../options.ts";

/** Most dimensions per vector a collection may have (upstream's limit). */
export const MAX_DIM = 8192;
/** Most vectors a collection may hold (upstream's limit). */
export const MAX_COUNT = 100_000_000;
/** Most vector bytes (count × dim × 4) a collection may hold (upstream's 16 GiB limit). */
export const MAX_VECTOR_BYTES = 16 * 2 ** 30;

/** What a check is about; named in its errors. */
export interface Scope {
  /** Id of the backend. */
  readonly backend: string;
  /** The collection, when the call is about one. */
  readonly collection?: string;
  /** Where the data lives (a file, a server URL without password), when that helps. */
  readonly source?: string;
}

/** The scope of a call on one collection. */
export type CollectionScope = Scope & { readonly collection: string };

/** Vectors to write to a collection. */
export interface VectorWrite {
  /** Ids, one per vector: integers in 0..2^53−1, unique within the write. */
  ids: ArrayLike<number> | BigUint64Array;
  /** Row-major `ids.length × dim` values, or one array per vector. */
  vectors: Float32Array | readonly ArrayLike<number>[];
  /** Dimensions per vector; needed only when neither the vectors nor the collection tell. */
  dim?: number;
}

const WRITE_KEYS = optionKeys<VectorWrite>({ ids: true, vectors: true, dim: true });

/** A write that passed every check: ids and a private copy of the vectors. */
export interface CheckedWrite {
  /** Ids, one per vector. */
  ids: Float64Array;
  /** Row-major `ids.length × dim` values, copied from the caller's. */
  vectors: Float32Array;
  /** Dimensions per vector. */
  dim: number;
}

/** A {@link BackendError} for `scope`; the source, if any, follows the detail. */
export function fail(scope: Scope, detail: string, cause?: unknown): BackendError {
  const text = scope.source === undefined ? detail : `${detail} (${scope.source})`;
  return new BackendError(scope.backend, text, cause === undefined ? { collection: scope.collection } : { collection: scope.collection, cause });
}

/** Throws unless a backend id is a non-empty string; returns it. */
export function checkBackendId(id: string): string {
  if (typeof id !== "string" || id.length === 0) throw fail({ backend: String(id) }, "backend id must be a non-empty string");
  return id;
}

/** The scope of a call on `collection`, after checking the name: a non-empty string without control characters. */
export function collectionScope(backend: string, collection: string, source?: string): CollectionScope {
  const scope = { backend, collection, source };
  if (typeof collection !== "string" || collection.length === 0) throw fail(scope, "collection name must be a non-empty string");
  if (/[\u0000-\u001f\u007f]/.test(collection)) throw fail(scope, "collection name must not contain control characters");
  return scope;
}

/** Throws unless `dim` is an integer in 1..{@link MAX_DIM}. */
export function checkDim(scope: Scope, dim: number): number {
  if (!Number.isInteger(dim) || dim < 1 || dim > MAX_DIM) throw fail(scope, `dim must be an integer in 1..${MAX_DIM}, got ${dim}`);
  return dim;
}

/** Throws unless `count` vectors of `dim` stay within {@link MAX_COUNT} and {@link MAX_VECTOR_BYTES}. */
export function checkSize(scope: Scope, count: number, dim: number): void {
  if (count > MAX_COUNT) throw fail(scope, `${count} vectors exceed the limit of ${MAX_COUNT}`);
  if (count * dim * 4 > MAX_VECTOR_BYTES) throw fail(scope, `${count} × ${dim} vectors exceed the limit of ${MAX_VECTOR_BYTES} bytes`);
}

/**
 * The ids as a Float64Array, after checking each is an integer in 0..2^53−1
 * and, when `unique`, that none repeats.
 */
export function checkIds(scope: Scope, ids: ArrayLike<number> | BigUint64Array, unique = true): Float64Array {
  if (ids == null || typeof ids !== "object" || !Number.isSafeInteger(ids.length)) throw fail(scope, "ids must be an array of integers");
  const out = new Float64Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const raw = ids[i];
    const id = typeof raw === "bigint" && raw <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(raw) : raw;
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
      throw fail(scope, `id at index ${i} is ${String(raw)}: ids must be integers in 0..2^53−1`);
    }
    out[i] = id;
  }
  if (unique) checkUnique(scope, out);
  return out;
}

function checkUnique(scope: Scope, ids: Float64Array): void {
  const seen = new Set<number>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (seen.has(id)) throw fail(scope, `duplicate id ${id} at indexes ${ids.indexOf(id)} and ${i}`);
    seen.add(id);
  }
}

/** Throws at the first NaN or ±Infinity, naming its vector (and id) and component. */
export function checkFinite(scope: Scope, vectors: Float32Array, dim: number, ids?: ArrayLike<number>): void {
  for (let i = 0; i < vectors.length; i++) {
    const value = vectors[i]!;
    if (Number.isFinite(value)) continue;
    const row = Math.floor(i / dim);
    const id = ids === undefined ? "" : ` (id ${ids[row]})`;
    throw fail(scope, `vector ${row}${id} component ${i % dim} is ${value}: values must be finite`);
  }
}

/**
 * Checks a write and returns its ids with a private copy of its vectors. The
 * dimension comes from `write.dim`, the rows, or `vectors.length / ids.length`;
 * when the collection already has one (`collectionDim`) they must agree.
 */
export function checkWrite(scope: Scope, write: VectorWrite, collectionDim?: number): CheckedWrite {
  if (write == null || typeof write !== "object") throw fail(scope, "a write must be an object { ids, vectors, dim? }");
  const unknown = optionKeysProblem(write, WRITE_KEYS, "the write");
  if (unknown !== undefined) throw fail(scope, unknown);
  const ids = checkIds(scope, write.ids);
  const dim = checkDim(scope, resolveDim(scope, write, ids.length, collectionDim));
  checkSize(scope, ids.length, dim);
  const vectors = copyVectors(scope, write.vectors, ids.length, dim);
  checkFinite(scope, vectors, dim, ids);
  return { ids, vectors, dim };
}

function resolveDim(scope: Scope, write: VectorWrite, count: number, collectionDim: number | undefined): number {
  const own = writeDim(scope, write, count);
  if (own !== undefined && collectionDim !== undefined && own !== collectionDim) {
    throw fail(scope, `dim mismatch: the collection has dim ${collectionDim}, the write has dim ${own}`);
  }
  const dim = own ?? collectionDim;
  if (dim === undefined) throw fail(scope, "dim is required to create a collection from an empty write");
  return dim;
}

/** The dimension the write itself declares or implies, if any. */
function writeDim(scope: Scope, write: VectorWrite, count: number): number | undefined {
  const { vectors } = write;
  if (write.dim !== undefined) return checkDim(scope, write.dim);
  if (vectors instanceof Float32Array) {
    if (count === 0) return undefined;
    if (vectors.length % count !== 0) throw lengthMismatch(scope, vectors.length, count);
    return vectors.length / count;
  }
  if (!Array.isArray(vectors)) throw fail(scope, "vectors must be a Float32Array or an array of vectors");
  if (vectors.length === 0) return undefined;
  const first = vectors[0] as ArrayLike<number> | undefined;
  if (first == null || !Number.isInteger(first.length)) throw fail(scope, "vector 0 is not an array of numbers");
  return first.length;
}

function lengthMismatch(scope: Scope, values: number, count: number): BackendError {
  return fail(scope, `length mismatch: ${count} ids but ${values} vector values, not a whole number of vectors per id`);
}

function copyVectors(scope: Scope, vectors: VectorWrite["vectors"], count: number, dim: number): Float32Array {
  if (vectors instanceof Float32Array) {
    if (vectors.length !== count * dim) throw fail(scope, `length mismatch: ${count} ids × dim ${dim} needs ${count * dim} values, got ${vectors.length}`);
    return vectors.slice();
  }
  if (vectors.length !== count) throw fail(scope, `length mismatch: ${count} ids but ${vectors.length} vectors`);
  const out = new Float32Array(count * dim);
  vectors.forEach((vector, i) => {
    if (vector == null || vector.length !== dim) throw fail(scope, `vector ${i} has ${vector?.length} values, expected dim ${dim}`);
    out.set(vector, i * dim);
  });
  return out;
}
