/**
 * A unit of work on a lake: writes to backends and primes, queued and applied
 * together when the session ends (`await using`, or `commit()`), so readers
 * see one refresh per collection instead of one per write.
 */
import { BackendError, InvalidArgument } from "../errors.ts";
import type { BackendAdapter, MaybePromise } from "./backend.ts";
import type { CollectionKey } from "./lake.ts";
import type { VectorWrite } from "./validate.ts";

/** A backend that accepts writes (LocalBackend and PostgresBackend do). */
export interface WritableBackend extends BackendAdapter {
  upsert(collection: string, write: VectorWrite): MaybePromise<unknown>;
  delete(collection: string, ids: ArrayLike<number>): MaybePromise<unknown>;
}

/** What a session needs from its lake. */
export interface SessionHost {
  backend(id: string): BackendAdapter | undefined;
  prime(key: CollectionKey): Promise<void>;
}

type Op = { kind: "upsert"; write: VectorWrite } | { kind: "delete"; ids: ArrayLike<number> };

function writable(b: BackendAdapter | undefined, id: string): WritableBackend {
  const w = b as WritableBackend | undefined;
  if (!w) throw new BackendError(id, "backend is not registered");
  if (typeof w.upsert !== "function" || typeof w.delete !== "function") throw new BackendError(id, "backend does not accept writes (no upsert/delete)");
  return w;
}

/** Queued writes and primes; see {@link RuLake.session}. */
export class LakeSession implements AsyncDisposable {
  readonly #host: SessionHost;
  readonly #ops = new Map<string, { key: CollectionKey; ops: Op[] }>();
  #done = false;

  /** Use {@link RuLake.session}. */
  constructor(host: SessionHost) {
    this.#host = host;
  }

  #queue(key: CollectionKey, op?: Op): void {
    if (this.#done) throw new InvalidArgument("this session has already been committed or discarded");
    writable(this.#host.backend(key[0]), key[0]);
    const name = `${key[0]}\u0000${key[1]}`;
    const entry = this.#ops.get(name) ?? { key, ops: [] };
    if (op) entry.ops.push(op);
    this.#ops.set(name, entry);
  }

  /** Queues an upsert (insert new ids, replace existing ones) into a collection. */
  upsert(key: CollectionKey, write: VectorWrite): this {
    this.#queue(key, { kind: "upsert", write });
    return this;
  }

  /** Queues the removal of ids from a collection. */
  delete(key: CollectionKey, ids: ArrayLike<number>): this {
    this.#queue(key, { kind: "delete", ids });
    return this;
  }

  /** Queues a prime: the collection is refreshed into the cache at commit. */
  prime(key: CollectionKey): this {
    this.#queue(key);
    return this;
  }

  /** Applies the queued writes in order, then primes every touched collection once. */
  async commitAsync(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    for (const { key, ops } of this.#ops.values()) {
      const backend = writable(this.#host.backend(key[0]), key[0]);
      for (const op of ops) await (op.kind === "upsert" ? backend.upsert(key[1], op.write) : backend.delete(key[1], op.ids));
    }
    await Promise.all([...this.#ops.values()].map(({ key }) => this.#host.prime(key)));
  }

  /** Drops everything queued. */
  discard(): void {
    this.#done = true;
    this.#ops.clear();
  }

  /** Commits unless discarded: `await using session = lake.session()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.commitAsync();
  }
}
