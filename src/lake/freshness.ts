/**
 * The freshness protocol between a backend and the native cache, run on the JS
 * side: ask the backend for its collection's current state (cheap), compare it
 * with the cache (`ruv_lake_check`), and only on a miss bring the cache up to
 * date: with the backend's changes since the cached generation when it can
 * tell them (`changesSince`, applied to the cached index), else by pulling the
 * vectors, checking them against what was announced and priming. Backend answers may be sync or
 * async; they are awaited within a timeout and their failures become
 * {@link BackendError} naming the backend and collection.
 */
import { ptr, type Pointer } from "bun:ffi";
import { BackendError } from "../errors.ts";
import { check, CheckResult, GenerationKind, LakeCheckFlag, lib, utf8 } from "../ffi.ts";
import { copyInSlices } from "../index/prepare.ts";
import { runJob } from "../runtime.ts";
import { ChangeSetStruct, Collection, NativeStruct } from "../structs.ts";
import type { BackendAdapter, BundleInfo, ChangeSet, MaybePromise, PulledBatch } from "./backend.ts";
import { checkFinite, checkIds, collectionScope, fail, type CollectionScope } from "./validate.ts";

/** A collection's state as a `RuvCollection`, with the strings it points to (kept alive with it). */
export interface CollectionState {
  readonly bytes: Uint8Array;
  readonly strings: readonly Uint8Array[];
}

export function collectionState(scope: CollectionScope, info: BundleInfo): CollectionState {
  if (typeof info !== "object" || info === null) throw fail(scope, "currentBundle returned no bundle info");
  const { dataRef, dim, generation } = info;
  if (typeof dataRef !== "string" || dataRef.length === 0) throw fail(scope, `bundle dataRef must be a non-empty string, got ${JSON.stringify(dataRef)}`);
  if (!Number.isInteger(dim) || dim < 1 || dim > 8192) throw fail(scope, `bundle dim must be an integer in 1..8192, got ${dim}`);
  const ref = utf8(dataRef);
  const c = new NativeStruct(Collection, { dim }).setBytes("data_ref", "data_ref_len", ref);
  if (typeof generation === "string") {
    const g = utf8(generation);
    c.set("generation_kind", GenerationKind.String).setBytes("generation_str", "generation_str_len", g);
    return { bytes: c.bytes, strings: [ref, g] };
  }
  const num = typeof generation === "bigint" ? generation : Number.isSafeInteger(generation) ? BigInt(generation) : -1n;
  if (num < 0n || num >= 2n ** 64n) throw fail(scope, `generation must be an integer in 0..2^64-1 or a string, got ${String(generation)}`);
  c.set("generation_kind", GenerationKind.Number).set("generation_num", num);
  return { bytes: c.bytes, strings: [ref] };
}

/** A backend's answer: awaited within the timeout; errors become BackendError. */
export async function ask<T>(scope: CollectionScope, what: string, call: () => MaybePromise<T>, timeoutMs: number): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(fail(scope, `${what} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(call), timeout]);
  } catch (e) {
    throw e instanceof BackendError ? e : fail(scope, `${what} failed: ${(e as Error)?.message ?? e}`, e);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The pulled batch with its vectors copied in, so the backend may reuse, change
 * or transfer its buffer while the prime job runs off the JS thread; the copy is
 * what gets checked and primed. A buffer transferred during the copy is a
 * BackendError naming the backend and collection.
 */
async function ownPulled(scope: CollectionScope, batch: PulledBatch): Promise<PulledBatch> {
  if (typeof batch !== "object" || batch === null || !(batch.vectors instanceof Float32Array)) return batch;
  try {
    return { ids: batch.ids, dim: batch.dim, generation: batch.generation, vectors: await copyInSlices(batch.vectors, "pulled vectors") };
  } catch (e) {
    throw fail(scope, `pullVectors result unusable: ${(e as Error).message}`, e);
  }
}

/** A backend's answer on the sync path; a Promise means the caller needs the async API. */
function askSync<T>(scope: CollectionScope, what: string, call: () => MaybePromise<T>): T {
  let value: MaybePromise<T>;
  try {
    value = call();
  } catch (e) {
    throw e instanceof BackendError ? e : fail(scope, `${what} failed: ${(e as Error)?.message ?? e}`, e);
  }
  if (value instanceof Promise) {
    value.catch(() => undefined);
    throw fail(scope, `${what} answered asynchronously; use the lake's async methods (e.g. searchOneAsync) with this backend`);
  }
  return value;
}

/** Checks a pulled batch against what the backend announced; returns its ids as u64. */
function checkPulled(scope: CollectionScope, batch: PulledBatch, info: BundleInfo): BigUint64Array {
  if (typeof batch !== "object" || batch === null || !(batch.vectors instanceof Float32Array)) {
    throw fail(scope, "pullVectors must return { ids, vectors: Float32Array, dim, generation }");
  }
  if (batch.dim !== info.dim) throw fail(scope, `pulled vectors have dim ${batch.dim}, but the backend announced ${info.dim}`);
  const ids = checkIds(scope, batch.ids);
  if (batch.vectors.length !== ids.length * batch.dim) {
    throw fail(scope, `pulled ${ids.length} ids but ${batch.vectors.length} values (expected ${ids.length * batch.dim} for dim ${batch.dim})`);
  }
  checkFinite(scope, batch.vectors, batch.dim, ids);
  return BigUint64Array.from(ids, BigInt);
}

/** A change set checked against the announced dim, with its ids as u64. */
interface CheckedChanges {
  to: CollectionState;
  removed: BigUint64Array;
  upserted: BigUint64Array;
  vectors: Float32Array;
}

function checkChanges(scope: CollectionScope, changes: ChangeSet, info: BundleInfo): CheckedChanges {
  if (typeof changes !== "object" || changes === null || !(changes.vectors instanceof Float32Array)) {
    throw fail(scope, "changesSince must return undefined or { generation, removed, upserted, vectors: Float32Array }");
  }
  const removed = checkIds(scope, changes.removed);
  const upserted = checkIds(scope, changes.upserted);
  if (changes.vectors.length !== upserted.length * info.dim) {
    throw fail(scope, `changesSince gave ${upserted.length} upserted ids but ${changes.vectors.length} values (expected ${upserted.length * info.dim} for dim ${info.dim})`);
  }
  checkFinite(scope, changes.vectors, info.dim, upserted);
  const to = collectionState(scope, { ...info, generation: changes.generation });
  return { to, removed: BigUint64Array.from(removed, BigInt), upserted: BigUint64Array.from(upserted, BigInt), vectors: changes.vectors };
}

/** What the protocol needs from its lake. */
export interface FreshnessHost {
  /** The live native lake handle. */
  handle(): Pointer;
  /** The adapter to refresh a collection from; throws when none can serve it. */
  source(scope: CollectionScope): BackendAdapter;
  /** How long one backend call may take. */
  readonly timeoutMs: number;
}

/** Keeps a lake's cached collections as fresh as its consistency mode asks. */
export class FreshnessProtocol {
  readonly #host: FreshnessHost;
  readonly #inflight = new Map<number, Promise<void>>();
  /**
   * The backend state each key was last brought to, so a later miss can ask
   * for the changes since. Only a hint: the native side applies changes only
   * when its cache holds exactly this state, and says so.
   */
  readonly #known = new Map<number, BundleInfo>();

  constructor(host: FreshnessHost) {
    this.#host = host;
  }

  /** Whether `key` must be checked with its backend; a skip counts as a cache hit unless `flags` has `LakeCheckFlag.Uncounted`. */
  #needsCheck(key: number, flags: number): boolean {
    const out = new Int32Array(1);
    check(lib().ruv_lake_needs_check_with(this.#host.handle(), key, flags, out), "lake");
    return out[0] === 1;
  }

  /** Records that the cache holds `info` for `key` (e.g. after a warm start), so its next miss can ask for changes. */
  remember(key: number, info: BundleInfo): void {
    this.#known.set(key, info);
  }

  /** Compares with the cache; a hit or shared state is remembered as this key's. */
  #isMiss(key: number, info: BundleInfo, state: CollectionState): boolean {
    const out = new Uint32Array(1);
    check(lib().ruv_lake_check(this.#host.handle(), key, state.bytes, out), "lake");
    if (out[0] === CheckResult.Miss) return true;
    this.#known.set(key, info);
    return false;
  }

  /** The state to ask changes since, when the backend can answer that. */
  #since(key: number, adapter: BackendAdapter): BundleInfo | undefined {
    return typeof adapter.changesSince === "function" ? this.#known.get(key) : undefined;
  }

  /** Applies checked changes to the cached index; false when the cache cannot take them (then pull). */
  #apply(key: number, scope: CollectionScope, since: BundleInfo, info: BundleInfo, changes: ChangeSet | undefined): boolean {
    if (changes === undefined) return false;
    const c = checkChanges(scope, changes, info);
    const from = collectionState(scope, since);
    const out = new Int32Array(1);
    const set = new NativeStruct(ChangeSetStruct)
      .setArray("removed", "removed_len", c.removed)
      .setArray("upserted", "upserted_len", c.upserted)
      .setArray("vectors", "vectors_len", c.vectors);
    check(lib().ruv_lake_apply_changes(this.#host.handle(), key, from.bytes, c.to.bytes, set.bytes, out), "lake");
    if (out[0] !== 1) return false;
    this.#known.set(key, { ...info, generation: changes.generation });
    return true;
  }

  /**
   * Makes `key` searchable on the calling thread; needs a synchronous backend. A warm-up (`flags` Uncounted) runs
   * the same code but neither counts a hit nor asks the backend.
   */
  ensureSync(key: number, backend: string, collection: string, flags = 0): void {
    if (!this.#needsCheck(key, flags) || flags & LakeCheckFlag.Uncounted) return;
    const scope = collectionScope(backend, collection);
    const adapter = this.#host.source(scope);
    const info = askSync(scope, "currentBundle", () => adapter.currentBundle(collection));
    const state = collectionState(scope, info);
    if (!this.#isMiss(key, info, state)) return;
    const since = this.#since(key, adapter);
    if (since && this.#apply(key, scope, since, info, askSync(scope, "changesSince", () => adapter.changesSince!(collection, since.generation)))) return;
    const batch = askSync(scope, "pullVectors", () => adapter.pullVectors(collection));
    const ids = checkPulled(scope, batch, info);
    check(lib().ruv_lake_prime(this.#host.handle(), key, state.bytes, batch.vectors, batch.vectors.length, ids, ids.length), "lake");
    this.#known.set(key, info);
  }

  /** Makes `key` searchable with any backend; concurrent calls for one stale collection share one check and pull. */
  async ensure(key: number, backend: string, collection: string): Promise<void> {
    if (!this.#needsCheck(key, 0)) return;
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.refresh(key, collectionScope(backend, collection)).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    await pending;
  }

  /** Asks the backend for the collection's state and, when the cache is stale, pulls and primes off the JS thread. */
  async refresh(key: number, scope: CollectionScope): Promise<void> {
    const adapter = this.#host.source(scope);
    const timeout = this.#host.timeoutMs;
    const info = await ask(scope, "currentBundle", () => adapter.currentBundle(scope.collection), timeout);
    const state = collectionState(scope, info);
    if (!this.#isMiss(key, info, state)) return;
    const since = this.#since(key, adapter);
    if (since && this.#apply(key, scope, since, info, await ask(scope, "changesSince", () => adapter.changesSince!(scope.collection, since.generation), timeout))) return;
    const batch = await ownPulled(scope, await ask(scope, "pullVectors", () => adapter.pullVectors(scope.collection), timeout));
    const ids = checkPulled(scope, batch, info);
    const sym = lib();
    const handle = this.#host.handle();
    const vectors = batch.vectors;
    void vectors.buffer; // materialise the backing stores so their addresses cannot move
    void ids.buffer;
    await runJob(
      (job) => sym.ruv_lake_prime_async(handle, key, state.bytes, vectors.length ? ptr(vectors) : null, vectors.length, ids.length ? ptr(ids) : null, ids.length, job),
      () => undefined,
      [vectors, ids],
      "lake",
    );
    this.#known.set(key, info);
  }
}
