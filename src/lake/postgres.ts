/**
 * PostgresBackend: collections in ordinary PostgreSQL tables, through Bun's
 * built-in SQL client. Federating several servers (one backend each) is how a
 * lake outgrows one machine.
 */
import { SQL } from "bun";
import { BackendError } from "../errors.ts";
import { describeValue, optionKeysProblem } from "../options.ts";
import type { BackendAdapter, BundleInfo, ChangeSet, Generation, PulledBatch } from "./backend.ts";
import { checkBackendId, checkDim, checkFinite, checkIds, checkSize, checkWrite, collectionScope, fail, type CheckedWrite, type CollectionScope, type Scope, type VectorWrite } from "./validate.ts";

/** Where a {@link PostgresBackend} connects: a URL (it owns the client), or a client the caller owns. */
export type PostgresConnection = { url: string } | { sql: SQL };

/** The tables, created on first use. */
const SCHEMA = [
  `create table if not exists rulake_collections (
     name text primary key,
     dim int not null check (dim between 1 and 8192),
     generation bigint not null)`,
  // Vectors as bytea of little-endian f32 rather than real[]: 4 bytes a value with no
  // per-element header or text parsing, and the bytes go straight into a Float32Array.
  // No foreign key to the catalog: every write already locks the catalog row, and the
  // key's per-row trigger would cost more than the insert itself.
  `create table if not exists rulake_vectors (
     collection text not null,
     id bigint not null check (id between 0 and 9007199254740991),
     vec bytea not null,
     primary key (collection, id))`,
  // Which ids each generation's write touched, for every write after generation log_from (null: no log,
  // e.g. a collection written before the log existed), so a lake can apply changes
  // instead of pulling everything.
  // Checked first: ALTER TABLE takes an exclusive lock even when the column exists.
  `do $$ begin
     if not exists (select 1 from information_schema.columns
                    where table_schema = current_schema() and table_name = 'rulake_collections' and column_name = 'log_from') then
       alter table rulake_collections add column log_from bigint;
     end if;
   end $$`,
  `create table if not exists rulake_changes (
     collection text not null,
     generation bigint not null,
     id bigint not null,
     primary key (collection, generation, id))`,
];

/** Generations the change log keeps; older ones are pruned (a lake that far behind pulls in full). */
const LOG_GENERATIONS = 256;
/** A write touching more ids than this restarts the log instead of being logged: its changes would cost about a pull. */
const LOG_MAX_IDS_PER_WRITE = 10_000;

/** Advisory lock key that serialises schema creation between clients ("rulake" in ASCII). */
const SCHEMA_LOCK = 0x72756c616b65;

/** Most vector bytes sent in one INSERT, so a statement stays a few MiB whatever the dim. */
const BYTES_PER_INSERT = 4 * 2 ** 20;

/** A collection's catalog row. */
interface CatalogRow {
  dim: number;
  generation: unknown;
}

/**
 * Collections in two tables: `rulake_collections(name, dim, generation)` and
 * `rulake_vectors(collection, id, vec bytea)`. Each write runs in one
 * transaction that also increments the collection's generation, so every
 * write changes the generation and readers see either all of a write or none
 * of it; a pull reads the catalog row and the vectors from one snapshot.
 * Every failure (server down, bad URL, SQL error, malformed rows) is a
 * {@link BackendError} naming the backend and the server (without password).
 */
export class PostgresBackend implements BackendAdapter, AsyncDisposable {
  /** Unique id of this backend within a lake. */
  readonly id: string;
  /** The server as `postgres://user@host:port/database`, without password. */
  readonly server: string;
  private readonly sql: SQL;
  private readonly ownsClient: boolean;
  private schemaReady: Promise<void> | undefined;
  private closed = false;

  /** A backend on the server at `url`, or on a caller's client (which `close` leaves open). */
  constructor(id: string, connection: PostgresConnection) {
    this.id = checkBackendId(id);
    checkConnection(this.id, connection);
    if ("sql" in connection) {
      this.sql = connection.sql;
      this.ownsClient = false;
      this.server = describeClient(connection.sql);
    } else {
      this.server = redactUrl(this.id, connection.url);
      this.sql = new SQL(connection.url, { connectionTimeout: 10, max: 4 });
      this.ownsClient = true;
    }
  }

  /** Names of the collections, sorted. */
  async listCollections(): Promise<string[]> {
    const scope = { backend: this.id, source: this.server };
    const rows = await this.run(scope, (sql) => sql`select name from rulake_collections order by name`);
    return rows.map((row: { name: string }) => row.name);
  }

  /** Replaces the whole collection (creating it if missing); its dim may change. Returns the new generation. */
  async putCollection(collection: string, write: VectorWrite): Promise<bigint> {
    const scope = this.scope(collection);
    const checked = checkWrite(scope, write);
    return this.transaction(scope, async (tx) => {
      const generation = await bumpGeneration(tx, scope, checked.dim, { replaceDim: true });
      await tx`delete from rulake_vectors where collection = ${collection}`;
      await insertVectors(tx, collection, checked);
      await restartLog(tx, collection, generation);
      return generation;
    });
  }

  /**
   * Inserts the vectors whose ids are new and replaces the vectors of ids the
   * collection already holds; other vectors stay. Creates the collection if
   * missing. Returns the new generation.
   */
  async upsert(collection: string, write: VectorWrite): Promise<bigint> {
    const scope = this.scope(collection);
    return this.transaction(scope, async (tx) => {
      const existing = await lockCatalogRow(tx, collection);
      const checked = checkWrite(scope, write, existing?.dim);
      const generation = await bumpGeneration(tx, scope, checked.dim, { replaceDim: false });
      await insertVectors(tx, collection, checked);
      await logChanges(tx, collection, generation, Array.from(checked.ids));
      return generation;
    });
  }

  /**
   * Removes the vectors with these ids; ids the collection lacks are ignored.
   * Returns how many were removed. The generation moves only when one was.
   */
  async delete(collection: string, ids: ArrayLike<number> | BigUint64Array): Promise<number> {
    const scope = this.scope(collection);
    const checkedIds = Array.from(checkIds(scope, ids, false));
    return this.transaction(scope, async (tx) => {
      if ((await lockCatalogRow(tx, collection)) === undefined) throw fail(scope, "unknown collection");
      const deleted = await tx`delete from rulake_vectors where collection = ${collection} and id = any(${checkedIds}::bigint[]) returning id`.values();
      if (deleted.length === 0) return 0;
      const [row] = await tx`update rulake_collections set generation = generation + 1 where name = ${collection} returning generation`;
      await logChanges(tx, collection, toGeneration(scope, row.generation), deleted.map(([id]: [unknown]) => Number(id)));
      return deleted.length;
    });
  }

  /**
   * The deletes and upserts since generation `since`, read from the change log
   * in one snapshot with the current generation, or undefined when the log
   * does not reach back that far (the collection was replaced, written before
   * the log existed, or more than 256 generations or one very large write ago).
   */
  async changesSince(collection: string, since: Generation): Promise<ChangeSet | undefined> {
    const scope = this.scope(collection);
    const from = typeof since === "bigint" || Number.isSafeInteger(since) ? BigInt(since) : undefined;
    if (from === undefined) return undefined;
    return this.run(scope, (sql) =>
      sql.begin("isolation level repeatable read read only", async (tx) => {
        const [row] = await tx`select dim, generation, log_from from rulake_collections where name = ${collection}`;
        if (row === undefined) throw fail(scope, "unknown collection");
        const generation = toGeneration(scope, row.generation);
        if (row.log_from === null || from < toGeneration(scope, row.log_from) || from > generation) return undefined;
        const rows = await tx`select c.id, v.vec from (select distinct id from rulake_changes where collection = ${collection} and generation > ${from.toString()}::bigint) c
                              left join rulake_vectors v on v.collection = ${collection} and v.id = c.id order by c.id`.values();
        return decodeChanges(scope, checkDim(scope, row.dim), generation, rows as [unknown, unknown][]);
      }),
    );
  }

  /** All vectors of `collection` (ordered by id), read from one snapshot with its generation. */
  async pullVectors(collection: string): Promise<PulledBatch> {
    const scope = this.scope(collection);
    return this.run(scope, (sql) =>
      sql.begin("isolation level repeatable read read only", async (tx) => {
        const catalog = await this.catalogRow(tx, scope);
        const rows = await tx`select id, vec from rulake_vectors where collection = ${collection} order by id`.values();
        return decodeRows(scope, catalog, rows as [unknown, unknown][]);
      }),
    );
  }

  /** `postgres://{id}/{collection}`, dim and generation, from one catalog lookup. */
  async currentBundle(collection: string): Promise<BundleInfo> {
    const scope = this.scope(collection);
    const catalog = await this.run(scope, (sql) => this.catalogRow(sql, scope));
    return { dataRef: `postgres://${this.id}/${collection}`, dim: checkDim(scope, catalog.dim), generation: toGeneration(scope, catalog.generation) };
  }

  /** Closes the client if this backend opened it; later calls fail. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await this.sql.close();
  }

  /** Same as {@link close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private scope(collection: string): CollectionScope {
    return collectionScope(this.id, collection, this.server);
  }

  private async catalogRow(sql: SQL, scope: CollectionScope): Promise<CatalogRow> {
    const [row] = await sql`select dim, generation from rulake_collections where name = ${scope.collection}`;
    if (row === undefined) throw fail(scope, "unknown collection");
    return row;
  }

  /** Runs `work` in one transaction, after the schema exists. */
  private transaction<T>(scope: Scope, work: (tx: SQL) => Promise<T>): Promise<T> {
    return this.run(scope, (sql) => sql.begin(work) as Promise<T>);
  }

  /** Runs `work` once the schema exists; any failure becomes a BackendError of `scope`. */
  private async run<T>(scope: Scope, work: (sql: SQL) => Promise<T>): Promise<T> {
    if (this.closed) throw fail(scope, "the backend is closed");
    try {
      this.schemaReady ??= this.createSchema();
      await this.schemaReady;
      return await work(this.sql);
    } catch (error) {
      if (error instanceof BackendError) throw error;
      throw fail(scope, `PostgreSQL: ${describeSqlError(error)}`, error);
    }
  }

  /** Creates the tables once, under an advisory lock so clients starting together do not race. */
  private async createSchema(): Promise<void> {
    try {
      await this.sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(${SCHEMA_LOCK})`;
        for (const statement of SCHEMA) await tx.unsafe(statement);
      });
    } catch (error) {
      this.schemaReady = undefined; // let the next call retry, e.g. once the server is up
      throw error;
    }
  }
}

/** The catalog row of `collection`, locked until the transaction ends, or undefined. */
async function lockCatalogRow(tx: SQL, collection: string): Promise<CatalogRow | undefined> {
  const [row] = await tx`select dim, generation from rulake_collections where name = ${collection} for update`;
  return row;
}

/**
 * Creates the catalog row (generation 1) or increments its generation, and
 * returns the new generation. A replace sets the dim; an upsert must match it
 * (checked again here because another writer may have created the row since).
 */
async function bumpGeneration(tx: SQL, scope: CollectionScope, dim: number, { replaceDim }: { replaceDim: boolean }): Promise<bigint> {
  const [row] = replaceDim
    ? await tx`insert into rulake_collections (name, dim, generation) values (${scope.collection}, ${dim}, 1)
               on conflict (name) do update set dim = excluded.dim, generation = rulake_collections.generation + 1
               returning dim, generation`
    : await tx`insert into rulake_collections (name, dim, generation) values (${scope.collection}, ${dim}, 1)
               on conflict (name) do update set generation = rulake_collections.generation + 1
               returning dim, generation`;
  if (row.dim !== dim) throw fail(scope, `dim mismatch: the collection has dim ${row.dim}, the write has dim ${dim}`);
  return toGeneration(scope, row.generation);
}

/**
 * Inserts (or replaces) vectors in statements of a few MiB each: the ids as a
 * bigint[] and the vectors as one bytea that the server slices per row.
 */
async function insertVectors(tx: SQL, collection: string, { ids, vectors, dim }: CheckedWrite): Promise<void> {
  const rowBytes = 4 * dim;
  const rowsPerInsert = Math.max(1, Math.floor(BYTES_PER_INSERT / rowBytes));
  for (let start = 0; start < ids.length; start += rowsPerInsert) {
    const end = Math.min(ids.length, start + rowsPerInsert);
    const chunkIds = Array.from(ids.subarray(start, end));
    const chunkBytes = new Uint8Array(vectors.buffer, vectors.byteOffset + start * rowBytes, (end - start) * rowBytes);
    await tx`insert into rulake_vectors (collection, id, vec)
             select ${collection}, r.id, substring(${chunkBytes}::bytea from ((r.ord - 1) * ${rowBytes} + 1)::int for ${rowBytes})
             from unnest(${chunkIds}::bigint[]) with ordinality as r(id, ord)
             on conflict (collection, id) do update set vec = excluded.vec`;
  }
}

/** Records the ids a write touched under its generation, pruning generations beyond the log's reach. */
async function logChanges(tx: SQL, collection: string, generation: bigint, ids: number[]): Promise<void> {
  if (ids.length > LOG_MAX_IDS_PER_WRITE) return restartLog(tx, collection, generation);
  // No log yet (a new collection, or one from before the log): it starts with this write.
  await tx`update rulake_collections set log_from = coalesce(log_from, ${(generation - 1n).toString()}::bigint) where name = ${collection}`;
  await tx`insert into rulake_changes (collection, generation, id)
           select ${collection}, ${generation.toString()}::bigint, unnest(${ids}::bigint[]) on conflict do nothing`;
  const horizon = generation - BigInt(LOG_GENERATIONS);
  if (horizon <= 0n) return;
  await tx`delete from rulake_changes where collection = ${collection} and generation <= ${horizon.toString()}::bigint`;
  await tx`update rulake_collections set log_from = greatest(log_from, ${horizon.toString()}::bigint) where name = ${collection}`;
}

/** Forgets the log: changes can be told from `generation` on only. */
async function restartLog(tx: SQL, collection: string, generation: bigint): Promise<void> {
  await tx`delete from rulake_changes where collection = ${collection}`;
  await tx`update rulake_collections set log_from = ${generation.toString()}::bigint where name = ${collection}`;
}

/** A change set from `[id, vec | null]` rows: a null vector is a removed id. */
function decodeChanges(scope: Scope, dim: number, generation: bigint, rows: [unknown, unknown][]): ChangeSet {
  const removed: number[] = [];
  const present: [unknown, unknown][] = [];
  for (const row of rows) {
    if (row[1] === null) removed.push(Number(row[0]));
    else present.push(row);
  }
  const { ids: upserted, vectors } = decodeRows(scope, { dim, generation }, present);
  return { generation, removed, upserted, vectors };
}

/** A pulled batch from the catalog row and `[id, vec]` rows, checking every value. */
function decodeRows(scope: Scope, catalog: CatalogRow, rows: [unknown, unknown][]): PulledBatch {
  const dim = checkDim(scope, catalog.dim);
  const generation = toGeneration(scope, catalog.generation);
  checkSize(scope, rows.length, dim);
  const rowBytes = 4 * dim;
  const vectors = new Float32Array(rows.length * dim);
  const bytes = new Uint8Array(vectors.buffer);
  rows.forEach(([id, vec], row) => {
    if (!(vec instanceof Uint8Array) || vec.length !== rowBytes) {
      throw fail(scope, `malformed row: id ${String(id)} has a ${vec instanceof Uint8Array ? vec.length : typeof vec}-byte vector, dim ${dim} needs ${rowBytes}`);
    }
    bytes.set(vec, row * rowBytes);
  });
  const ids = checkIds(scope, rows.map(([id]) => Number(id)));
  checkFinite(scope, vectors, dim, ids);
  return { ids, vectors, dim, generation };
}

/** A catalog generation (int8: a string, or a bigint with `bigint: true`) as a bigint. */
function toGeneration(scope: Scope, value: unknown): bigint {
  if ((typeof value === "string" && /^\d+$/.test(value)) || typeof value === "bigint" || Number.isSafeInteger(value)) {
    return BigInt(value as string | bigint | number);
  }
  throw fail(scope, `malformed catalog row: generation ${String(value)}`);
}

/** `url` without its password, after checking it is a PostgreSQL URL. Never echoes an unparseable URL: it may hold a password. */
function redactUrl(backend: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw fail({ backend }, "invalid PostgreSQL URL (not shown: it may contain a password)", error);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw fail({ backend }, `not a PostgreSQL URL: protocol ${parsed.protocol} (expected postgres: or postgresql:)`);
  }
  parsed.password = "";
  parsed.search = ""; // query parameters may carry a password too
  return parsed.toString();
}

/** A connection names exactly one of `url` (a string) and `sql` (a client); anything else is refused, a misspelt key by name. */
function checkConnection(backend: string, connection: PostgresConnection): void {
  const keys = typeof connection === "object" && connection !== null && "sql" in connection ? ["sql"] : ["url"];
  const problem = optionKeysProblem(connection, keys, "the PostgresBackend connection");
  if (problem !== undefined) throw fail({ backend }, `${problem}; pass { url } or { sql }`);
  const given = connection as { url?: unknown; sql?: unknown };
  if (keys[0] === "url" && typeof given.url !== "string") throw fail({ backend }, `the PostgresBackend connection needs { url: "postgres://…" } or { sql }, got url ${describeValue(given.url)}`);
  if (keys[0] === "sql" && !(given.sql instanceof SQL)) throw fail({ backend }, `the PostgresBackend connection's sql must be a Bun SQL client, got ${describeValue(given.sql)}`);
}

/** A caller's client as `postgres://user@host:port/database`. */
function describeClient(sql: SQL): string {
  const options = sql.options as { username?: string; hostname?: string; port?: number; database?: string };
  return `postgres://${options.username ?? ""}@${options.hostname ?? ""}:${options.port ?? ""}/${options.database ?? ""}`;
}

/** A driver or server error's message with its codes. */
function describeSqlError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, errno } = error as { code?: string; errno?: string };
  const codes = [code, errno === undefined ? undefined : `SQLSTATE ${errno}`].filter(Boolean).join(", ");
  return codes === "" ? error.message : `${error.message} [${codes}]`;
}
