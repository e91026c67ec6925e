/**
 * LocalBackend: collections held in this process's memory. The reference
 * backend for tests, hot shards and data a program computes itself.
 */
import type { BackendAdapter, BundleInfo, ChangeSet, Generation, PulledBatch } from "./backend.ts";
import { checkBackendId, checkIds, checkWrite, collectionScope, fail, type CollectionScope, type VectorWrite } from "./validate.ts";

/** Ids a log keeps at least, whatever the collection's size. */
const MIN_LOGGED_IDS = 1024;

/**
 * One collection: rows stored flat with an id → row map, so upserts, appends
 * and deletes cost O(1) per vector and a pull is two array copies. It logs
 * which ids each write touched, for as long as the log stays smaller than the
 * collection (a change set larger than that would cost more than a pull).
 */
class VectorTable {
  ids: Float64Array;
  vectors: Float32Array;
  size: number;
  generation = 0;
  private readonly rowOf = new Map<number, number>();
  /** Ids touched by each write after generation `logFrom`, oldest first. */
  private log: Array<{ generation: number; ids: number[] }> = [];
  private logged = 0;
  private logFrom = 0;

  constructor(
    readonly dim: number,
    ids: Float64Array,
    vectors: Float32Array,
  ) {
    this.ids = ids;
    this.vectors = vectors;
    this.size = ids.length;
    ids.forEach((id, row) => this.rowOf.set(id, row));
  }

  has(id: number): boolean {
    return this.rowOf.has(id);
  }

  /** Replaces the vector of `id`, or adds it as a new row. */
  set(id: number, vector: Float32Array): void {
    let row = this.rowOf.get(id);
    if (row === undefined) {
      this.reserve(this.size + 1);
      row = this.size++;
      this.ids[row] = id;
      this.rowOf.set(id, row);
    }
    this.vectors.set(vector, row * this.dim);
  }

  /** Removes `id` by moving the last row into its place; false if absent. */
  remove(id: number): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    const last = --this.size;
    if (row !== last) {
      const lastId = this.ids[last]!;
      this.ids[row] = lastId;
      this.vectors.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.rowOf.set(lastId, row);
    }
    this.rowOf.delete(id);
    return true;
  }

  /** Starts a new generation whose write touched `ids`. */
  bump(ids: number[]): number {
    this.generation++;
    this.log.push({ generation: this.generation, ids });
    this.logged += ids.length;
    while (this.logged > Math.max(MIN_LOGGED_IDS, this.size) && this.log.length > 0) {
      const dropped = this.log.shift()!;
      this.logged -= dropped.ids.length;
      this.logFrom = dropped.generation;
    }
    return this.generation;
  }

  /** Forgets the log: nothing before the current generation can be told as changes. */
  resetLog(): void {
    this.log = [];
    this.logged = 0;
    this.logFrom = this.generation;
  }

  /** What changed after generation `since`, or undefined when the log does not reach back that far. */
  changesSince(since: number): ChangeSet | undefined {
    if (!Number.isSafeInteger(since) || since < this.logFrom || since > this.generation) return undefined;
    const touched = new Set<number>();
    for (const entry of this.log) if (entry.generation > since) for (const id of entry.ids) touched.add(id);
    const removed: number[] = [];
    const upserted: number[] = [];
    for (const id of touched) (this.rowOf.has(id) ? upserted : removed).push(id);
    const vectors = new Float32Array(upserted.length * this.dim);
    upserted.forEach((id, i) => vectors.set(this.vectors.subarray(this.rowOf.get(id)! * this.dim, (this.rowOf.get(id)! + 1) * this.dim), i * this.dim));
    return { generation: this.generation, removed, upserted, vectors };
  }

  /** Copies of the live rows, untouched by later writes. */
  snapshot(): { ids: Float64Array; vectors: Float32Array } {
    return { ids: this.ids.slice(0, this.size), vectors: this.vectors.slice(0, this.size * this.dim) };
  }

  /** Grows the arrays geometrically so a run of appends stays linear. */
  private reserve(rows: number): void {
    if (rows <= this.ids.length) return;
    const capacity = Math.max(rows, this.ids.length * 2, 16);
    const ids = new Float64Array(capacity);
    ids.set(this.ids.subarray(0, this.size));
    const vectors = new Float32Array(capacity * this.dim);
    vectors.set(this.vectors.subarray(0, this.size * this.dim));
    this.ids = ids;
    this.vectors = vectors;
  }
}

/**
 * Collections in memory. Every successful write bumps that collection's
 * generation by 1 (the first write gives 1); a write that fails validation
 * changes nothing. Writes copy the caller's arrays and pulls return copies,
 * so neither side can change the other's data afterwards.
 */
export class LocalBackend implements BackendAdapter {
  /** Unique id of this backend within a lake. */
  readonly id: string;
  private readonly tables = new Map<string, VectorTable>();

  /** A backend with no collections. */
  constructor(id: string) {
    this.id = checkBackendId(id);
  }

  /** Names of the collections, in creation order. */
  listCollections(): string[] {
    return [...this.tables.keys()];
  }

  /** Whether `collection` exists. */
  has(collection: string): boolean {
    return this.tables.has(collection);
  }

  /** How many vectors `collection` holds. */
  size(collection: string): number {
    return this.table(this.scope(collection)).size;
  }

  /**
   * Replaces the whole collection (creating it if missing) with `write`; its
   * dim may differ from the old one. Returns the new generation.
   */
  putCollection(collection: string, write: VectorWrite): number {
    const scope = this.scope(collection);
    const checked = checkWrite(scope, write);
    const table = new VectorTable(checked.dim, checked.ids, checked.vectors);
    table.generation = (this.tables.get(collection)?.generation ?? 0) + 1;
    table.resetLog();
    this.tables.set(collection, table);
    return table.generation;
  }

  /**
   * Inserts the vectors whose ids are new and replaces the vectors of ids the
   * collection already holds; other vectors stay. Creates the collection if
   * missing (its dim from the write). Returns the new generation.
   */
  upsert(collection: string, write: VectorWrite): number {
    const scope = this.scope(collection);
    const existing = this.tables.get(collection);
    const { ids, vectors, dim } = checkWrite(scope, write, existing?.dim);
    const table = existing ?? new VectorTable(dim, new Float64Array(0), new Float32Array(0));
    ids.forEach((id, row) => table.set(id, vectors.subarray(row * dim, (row + 1) * dim)));
    this.tables.set(collection, table);
    return table.bump(Array.from(ids));
  }

  /** Adds one vector under a new id to an existing collection. Returns the new generation. */
  append(collection: string, id: number, vector: ArrayLike<number>): number {
    const scope = this.scope(collection);
    const table = this.table(scope);
    const { vectors } = checkWrite(scope, { ids: [id], vectors: [vector] }, table.dim);
    if (table.has(id)) throw fail(scope, `id ${id} already exists: append adds new ids only, use upsert to replace`);
    table.set(id, vectors);
    return table.bump([id]);
  }

  /**
   * Removes the vectors with these ids; ids the collection lacks are ignored.
   * Returns how many were removed. The generation moves only when one was.
   */
  delete(collection: string, ids: ArrayLike<number> | BigUint64Array): number {
    const scope = this.scope(collection);
    const table = this.table(scope);
    const removed = checkIds(scope, ids, false).filter((id) => table.remove(id));
    if (removed.length > 0) table.bump(Array.from(removed));
    return removed.length;
  }

  /**
   * The deletes and upserts since generation `since` (ids removed, rows
   * inserted or replaced with their current vectors), or undefined when that
   * generation is older than this collection's log (a `putCollection`
   * replaced it, or more ids changed since than the collection holds).
   */
  changesSince(collection: string, since: Generation): ChangeSet | undefined {
    return this.table(this.scope(collection)).changesSince(Number(since));
  }

  /** All vectors of `collection`, as copies. */
  pullVectors(collection: string): PulledBatch {
    const table = this.table(this.scope(collection));
    return { ...table.snapshot(), dim: table.dim, generation: table.generation };
  }

  /** `local://{id}/{collection}`, dim and generation, without copying vectors. */
  currentBundle(collection: string): BundleInfo {
    const table = this.table(this.scope(collection));
    return { dataRef: `local://${this.id}/${collection}`, dim: table.dim, generation: table.generation };
  }

  private scope(collection: string): CollectionScope {
    return collectionScope(this.id, collection);
  }

  private table(scope: CollectionScope): VectorTable {
    const table = this.tables.get(scope.collection);
    if (table === undefined) throw fail(scope, "unknown collection");
    return table;
  }
}
