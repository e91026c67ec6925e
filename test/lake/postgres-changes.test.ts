/**
 * PostgresBackend's change log on a real server: rows deleted (and upserted)
 * reach a lake's cache as change sets on the next fresh search, not as a full
 * pull; a replaced collection, or one written before the log existed, pulls in full.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { PostgresBackend, RuLake, type CollectionKey } from "../../src/index.ts";
import { randomVectors, row } from "../support/helpers.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

const DIM = 8;
let server: TestPostgres;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  server = await startPostgres();
}, 120_000);

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  await server.stop();
}, 60_000);

function backend(): PostgresBackend {
  const pg = new PostgresBackend("pg", { url: server.url });
  opened.push(pg);
  return pg;
}

for (const engine of ["plus", "ivf"] as const) {
  test(`${engine}: deleted rows are invisible to the next fresh search; the witness moves; no full pull`, async () => {
    const pg = backend();
    const collection = `docs_${engine}`;
    const key: CollectionKey = ["pg", collection];
    const vectors = randomVectors(1500, DIM, 3);
    const ids = Array.from({ length: 1500 }, (_, i) => 10 * i);
    await pg.putCollection(collection, { ids, vectors });
    using lake = RuLake.builder().engine(engine).build();
    lake.registerBackend(pg);
    expect((await lake.searchOneAsync(key, row(vectors, DIM, 4), 1))[0]!.id).toBe(40);
    const w1 = lake.cacheWitnessOf(key);
    expect(await pg.delete(collection, [40, 50, 999_999])).toBe(2);
    const after = await lake.searchOneAsync(key, row(vectors, DIM, 4), 10);
    expect(after.map((h) => h.id)).not.toContain(40);
    expect(lake.cacheWitnessOf(key)).not.toBe(w1);
    const replacement = randomVectors(1, DIM, 77);
    await pg.upsert(collection, { ids: [60, 123_456], vectors: new Float32Array([...replacement, ...replacement]) });
    const top = (await lake.searchOneAsync(key, replacement, 2)).map((h) => h.id).sort((a, b) => a - b);
    expect(top).toEqual([60, 123_456]);
    let s = lake.cacheStatsByCollection()[`pg/${collection}`]!;
    expect([s.primes, s.rowsPulled, s.changeSets, s.rowsApplied]).toEqual([1, 1500, 2, 4]);

    await pg.putCollection(collection, { ids: [1, 2], vectors: randomVectors(2, DIM, 5) });
    expect(await pg.changesSince(collection, 3n)).toBeUndefined();
    expect((await lake.searchOneAsync(key, row(randomVectors(2, DIM, 5), DIM, 1), 1))[0]!.id).toBe(2);
    s = lake.cacheStatsByCollection()[`pg/${collection}`]!;
    expect([s.primes, s.rowsPulled, s.changeSets]).toEqual([2, 1502, 2]);
  });
}

test("changesSince: what changed since a generation; undefined without a log or beyond it", async () => {
  const pg = backend();
  await pg.putCollection("log", { ids: [1, 2, 3], vectors: randomVectors(3, DIM, 1) });
  await pg.delete("log", [1]);
  await pg.upsert("log", { ids: [2, 9], vectors: randomVectors(2, DIM, 2) });
  const c = (await pg.changesSince("log", 1n))!;
  expect(c.generation).toBe(3n);
  expect(Array.from(c.removed as ArrayLike<number>)).toEqual([1]);
  expect(Array.from(c.upserted as ArrayLike<number>)).toEqual([2, 9]);
  expect(c.vectors).toEqual(randomVectors(2, DIM, 2));
  expect((await pg.changesSince("log", 2n))!.removed).toEqual([]);
  expect(await pg.changesSince("log", 0n)).toBeUndefined();
  expect(await pg.changesSince("log", 4n)).toBeUndefined();
  expect(await pg.changesSince("log", "etag")).toBeUndefined();
  // A collection written before the log existed has no log_from: it cannot tell changes.
  const raw = new SQL(server.url);
  opened.push(raw);
  await raw`update rulake_collections set log_from = null where name = 'log'`;
  expect(await pg.changesSince("log", 3n)).toBeUndefined();
  await expect(pg.changesSince("nope", 1n)).rejects.toThrow("unknown collection");
});

test("a schema from before the change log gains it: earlier generations cannot be told, writes from the upgrade on are", async () => {
  const admin = new SQL(server.url);
  opened.push(admin);
  await admin.unsafe("create database before_log");
  const url = server.url.replace(/\/postgres$/, "/before_log");
  const old = new SQL(url);
  opened.push(old);
  await old.unsafe("create table rulake_collections (name text primary key, dim int not null check (dim between 1 and 8192), generation bigint not null)");
  await old.unsafe("create table rulake_vectors (collection text not null, id bigint not null, vec bytea not null, primary key (collection, id))");
  await old.unsafe("insert into rulake_collections values ('docs', 2, 5)");
  await old.unsafe("insert into rulake_vectors values ('docs', 1, decode('0000803f00000040', 'hex'))");
  const pg = new PostgresBackend("pg", { url });
  opened.push(pg);
  expect(await pg.changesSince("docs", 5n)).toBeUndefined();
  await pg.delete("docs", [1]);
  expect(await pg.changesSince("docs", 4n)).toBeUndefined();
  expect(await pg.changesSince("docs", 5n)).toEqual({ generation: 6n, removed: [1], upserted: expect.anything(), vectors: new Float32Array(0) });
});
