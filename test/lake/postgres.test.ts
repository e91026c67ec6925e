import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { BackendError } from "../../src/errors.ts";
import { PostgresBackend } from "../../src/lake/postgres.ts";
import { randomVectors } from "../support/helpers.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

let servers: TestPostgres[] = [];
let first: TestPostgres;
let second: TestPostgres;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  servers = await Promise.all([startPostgres(), startPostgres()]);
  [first, second] = servers as [TestPostgres, TestPostgres];
}, 120_000);

afterAll(async () => {
  await Promise.all(opened.map((backend) => backend.close()));
  await Promise.all(servers.map((server) => server.stop()));
}, 60_000);

/** A backend closed after all tests. */
function backend(id: string, server = first): PostgresBackend {
  const pg = new PostgresBackend(id, { url: server.url });
  opened.push(pg);
  return pg;
}

/** A raw client closed after all tests, to look at or tamper with the tables directly. */
function rawClient(server = first): SQL {
  const sql = new SQL(server.url);
  opened.push(sql);
  return sql;
}

/** The BackendError `promise` rejects with, after checking it names `backendId`. */
async function backendError(promise: Promise<unknown>, backendId: string): Promise<BackendError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(BackendError);
  const error = caught as BackendError;
  expect(error.backend).toBe(backendId);
  expect(error.message).toContain(`backend "${backendId}"`);
  return error;
}

async function contents(pg: PostgresBackend, collection: string): Promise<{ ids: number[]; vectors: number[]; generation: unknown }> {
  const batch = await pg.pullVectors(collection);
  return { ids: Array.from(batch.ids as ArrayLike<number>), vectors: Array.from(batch.vectors), generation: batch.generation };
}

describe("PostgresBackend", () => {
  test("putCollection → pullVectors (ordered by id) and currentBundle; generation starts at 1", async () => {
    const pg = backend("pg1");
    expect(await pg.putCollection("basic", { ids: [9, 2 ** 53 - 1, 3], vectors: [[1, 2], [3, 4], [5, 6]] })).toBe(1n);
    const batch = await pg.pullVectors("basic");
    expect(Array.from(batch.ids as ArrayLike<number>)).toEqual([3, 9, 2 ** 53 - 1]);
    expect(batch.vectors).toEqual(new Float32Array([5, 6, 1, 2, 3, 4]));
    expect(batch.dim).toBe(2);
    expect(batch.generation).toBe(1n);
    expect(await pg.currentBundle("basic")).toEqual({ dataRef: "postgres://pg1/basic", dim: 2, generation: 1n });
    expect(await pg.listCollections()).toContain("basic");
    expect(pg.server).toBe(first.url);
  });

  test("upsert inserts new ids, replaces existing ones, keeps the rest, creates a missing collection", async () => {
    const pg = backend("pg1");
    expect(await pg.upsert("ups", { ids: [1, 2], vectors: [[1, 1], [2, 2]] })).toBe(1n);
    expect(await pg.upsert("ups", { ids: [2, 3], vectors: new Float32Array([20, 20, 30, 30]) })).toBe(2n);
    expect(await contents(pg, "ups")).toEqual({ ids: [1, 2, 3], vectors: [1, 1, 20, 20, 30, 30], generation: 2n });
    // An empty flat upsert takes the collection's dim.
    expect(await pg.upsert("ups", { ids: [], vectors: new Float32Array(0) })).toBe(3n);
  });

  test("putCollection replaces everything, dim included", async () => {
    const pg = backend("pg1");
    await pg.putCollection("replace", { ids: [1, 2], vectors: [[1, 1], [2, 2]] });
    expect(await pg.putCollection("replace", { ids: [7], vectors: [[7, 7, 7]] })).toBe(2n);
    expect(await contents(pg, "replace")).toEqual({ ids: [7], vectors: [7, 7, 7], generation: 2n });
    await pg.putCollection("replace", { ids: [], vectors: new Float32Array(0), dim: 5 });
    expect(await pg.currentBundle("replace")).toEqual({ dataRef: "postgres://pg1/replace", dim: 5, generation: 3n });
  });

  test("delete removes present ids, ignores missing ones, returns the count; the generation moves only when one was removed", async () => {
    const pg = backend("pg1");
    await pg.putCollection("del", { ids: [1, 2, 3, 4], vectors: [[1], [2], [3], [4]] });
    expect(await pg.delete("del", [2, 99, 1])).toBe(2);
    expect(await contents(pg, "del")).toEqual({ ids: [3, 4], vectors: [3, 4], generation: 2n });
    expect(await pg.delete("del", new BigUint64Array([99n]))).toBe(0);
    expect((await pg.currentBundle("del")).generation).toBe(2n);
  });

  test("the generation changes on every write and only then", async () => {
    const pg = backend("pg1");
    const generations = [
      await pg.putCollection("gen", { ids: [1], vectors: [[1, 1]] }),
      await pg.upsert("gen", { ids: [2], vectors: [[2, 2]] }),
      await pg.upsert("gen", { ids: [2], vectors: [[3, 3]] }),
      (await pg.delete("gen", [1]), (await pg.currentBundle("gen")).generation),
      await pg.putCollection("gen", { ids: [1], vectors: [[1, 1]] }),
    ];
    expect(generations).toEqual([1n, 2n, 3n, 4n, 5n]);
    await pg.pullVectors("gen");
    await pg.listCollections();
    expect((await pg.currentBundle("gen")).generation).toBe(5n);
  });

  test("invalid writes and unknown collections are BackendErrors naming backend, collection and server; nothing changes", async () => {
    const pg = backend("pg1");
    await pg.putCollection("strict", { ids: [1, 2], vectors: [[1, 1], [2, 2]] });
    const before = await contents(pg, "strict");
    for (const [write, detail] of [
      [() => pg.upsert("strict", { ids: [3], vectors: [[1, 2, 3]] }), /collection has dim 2, the write has dim 3/],
      [() => pg.upsert("strict", { ids: [3, 4], vectors: [[1, 2], [NaN, 0]] }), /vector 1 \(id 4\) component 0 is NaN/],
      [() => pg.putCollection("strict", { ids: [3, 3], vectors: [[1, 2], [1, 2]] }), /duplicate id 3/],
      [() => pg.putCollection("strict", { ids: [3], vectors: [[1, 2], [1, 2]] }), /1 ids but 2 vectors/],
      [() => pg.delete("strict", [-1]), /index 0 is -1/],
    ] as const) {
      const error = await backendError(write(), "pg1");
      expect(error.collection).toBe("strict");
      expect(error.message).toMatch(detail);
      expect(error.message).toContain(first.url);
    }
    expect(await contents(pg, "strict")).toEqual(before);
    for (const call of [() => pg.pullVectors("nope"), () => pg.currentBundle("nope"), () => pg.delete("nope", [1])]) {
      expect((await backendError(call(), "pg1")).message).toMatch(/unknown collection/);
    }
    expect(await pg.listCollections()).not.toContain("nope");
  });

  test("50k × 128 putCollection → pullVectors round-trips exactly", async () => {
    const pg = backend("pg1");
    const n = 50_000;
    const dim = 128;
    const vectors = randomVectors(n, dim, 7);
    const ids = Array.from({ length: n }, (_, i) => i * 3 + 1);
    let start = performance.now();
    await pg.putCollection("big", { ids, vectors });
    const putMs = performance.now() - start;
    start = performance.now();
    const batch = await pg.pullVectors("big");
    const pullMs = performance.now() - start;
    console.log(`postgres 50k × 128: putCollection ${putMs.toFixed(0)} ms, pullVectors ${pullMs.toFixed(0)} ms`);
    expect(batch.dim).toBe(dim);
    expect(Array.from(batch.ids as ArrayLike<number>)).toEqual(ids);
    expect(Buffer.from(batch.vectors.buffer).equals(Buffer.from(vectors.buffer))).toBe(true);
  }, 120_000);

  test("a write in progress is invisible until it commits: readers see the old generation with the old data", async () => {
    const pg = backend("pg1");
    await pg.putCollection("atomic", { ids: [1, 2], vectors: [[1, 1], [2, 2]] });
    const old = await contents(pg, "atomic");
    // A second client holds a SHARE lock on the vectors table: the write bumps the
    // generation (uncommitted), then blocks on its first vector change until we release.
    const blocker = await rawClient().reserve();
    await blocker`begin`;
    await blocker`lock table rulake_vectors in share mode`;
    const writing = pg.putCollection("atomic", { ids: [3], vectors: [[3, 3]] });
    const raw = rawClient();
    await waitFor(async () => (await raw`select count(*)::int as n from pg_locks where not granted`)[0].n > 0);
    expect(await pg.currentBundle("atomic")).toEqual({ dataRef: "postgres://pg1/atomic", dim: 2, generation: 1n });
    expect(await contents(pg, "atomic")).toEqual(old);
    await blocker`commit`;
    blocker.release();
    expect(await writing).toBe(2n);
    expect(await contents(pg, "atomic")).toEqual({ ids: [3], vectors: [3, 3], generation: 2n });
  }, 30_000);

  test("concurrent readers of a large rewrite see either the old or the new data, each with its own generation", async () => {
    const pg = backend("pg1");
    const dim = 16;
    const n = 20_000;
    await pg.putCollection("swap", { ids: Array.from({ length: n }, (_, i) => i), vectors: new Float32Array(n * dim).fill(1) });
    const writing = pg.putCollection("swap", { ids: Array.from({ length: n }, (_, i) => i + n), vectors: new Float32Array(n * dim).fill(2) });
    let done = false;
    void writing.finally(() => (done = true));
    let pulls = 0;
    do {
      const batch = await pg.pullVectors("swap");
      const value = batch.generation === 1n ? 1 : 2;
      expect(batch.ids.length).toBe(n);
      expect(batch.vectors.every((v) => v === value)).toBe(true);
      pulls++;
    } while (!done);
    expect(await writing).toBe(2n);
    expect(pulls).toBeGreaterThan(0);
  }, 60_000);

  test("two servers at once: same collection name, independent data and generations", async () => {
    const a = backend("pg-a", first);
    const b = backend("pg-b", second);
    await Promise.all([a.putCollection("shard", { ids: [1], vectors: [[1, 1]] }), b.putCollection("shard", { ids: [2, 3], vectors: [[2, 2], [3, 3]] })]);
    await b.upsert("shard", { ids: [4], vectors: [[4, 4]] });
    expect(await contents(a, "shard")).toEqual({ ids: [1], vectors: [1, 1], generation: 1n });
    expect(await contents(b, "shard")).toEqual({ ids: [2, 3, 4], vectors: [2, 2, 3, 3, 4, 4], generation: 2n });
    expect((await a.currentBundle("shard")).dataRef).toBe("postgres://pg-a/shard");
    expect((await b.currentBundle("shard")).dataRef).toBe("postgres://pg-b/shard");
  });

  test("malformed rows written behind the backend's back are BackendErrors on pull", async () => {
    const pg = backend("pg1");
    const raw = rawClient();
    await pg.putCollection("tampered", { ids: [1, 2], vectors: [[1, 1], [2, 2]] });
    await raw`update rulake_vectors set vec = ${new Uint8Array(5)} where collection = 'tampered' and id = 2`;
    expect((await backendError(pg.pullVectors("tampered"), "pg1")).message).toMatch(/malformed row: id 2 has a 5-byte vector, dim 2 needs 8/);
    await raw`update rulake_vectors set vec = ${new Uint8Array(new Float32Array([0, NaN]).buffer)} where collection = 'tampered' and id = 2`;
    expect((await backendError(pg.pullVectors("tampered"), "pg1")).message).toMatch(/vector 1 \(id 2\) component 1 is NaN/);
  });

  test("SQL errors are BackendErrors with the server's code", async () => {
    const pg = backend("pg1");
    const raw = rawClient();
    await pg.putCollection("sqlerr", { ids: [1], vectors: [[1]] });
    await raw`alter table rulake_vectors rename to rulake_vectors_moved`;
    try {
      const error = await backendError(pg.pullVectors("sqlerr"), "pg1");
      expect(error.message).toMatch(/rulake_vectors.*does not exist.*SQLSTATE 42P01/);
      expect(error.collection).toBe("sqlerr");
    } finally {
      await raw`alter table rulake_vectors_moved rename to rulake_vectors`;
    }
  });

  // One server for both checks, because starting a server costs seconds.
  test("on a fresh server, backends starting together create the schema once; once it stops, every call is a BackendError naming the backend and the URL without its password", async () => {
    const server = await startPostgres();
    const url = server.url.replace("postgres@", "postgres:hunter2@");
    const backends = Array.from({ length: 4 }, (_, i) => new PostgresBackend(`fresh${i}`, { url }));
    try {
      await Promise.all(backends.map((pg, i) => pg.putCollection(`c${i}`, { ids: [i], vectors: [[i]] })));
      expect(await backends[0]!.listCollections()).toEqual(["c0", "c1", "c2", "c3"]);
    } finally {
      await server.stop();
    }
    const pg = backends[0]!;
    for (const call of [() => pg.currentBundle("c0"), () => pg.pullVectors("c0"), () => pg.putCollection("c0", { ids: [1], vectors: [[1]] }), () => pg.listCollections()]) {
      const error = await backendError(call(), "fresh0");
      expect(error.message).toContain(server.url);
      expect(error.message).not.toContain("hunter2");
    }
    await Promise.all(backends.map((backend) => backend.close()));
  }, 60_000);

  test("bad URLs are BackendErrors; an unreachable one fails on first use", async () => {
    const notUrl = await backendError(Promise.resolve().then(() => new PostgresBackend("bad", { url: "nope:secret@@" })), "bad");
    expect(notUrl.message).not.toContain("secret");
    expect((await backendError(Promise.resolve().then(() => new PostgresBackend("bad", { url: "mysql://u@h/db" })), "bad")).message).toMatch(/not a PostgreSQL URL/);
    await using pg = new PostgresBackend("gone", { url: "postgres://u:secret@127.0.0.1:1/db?password=secret" });
    const error = await backendError(pg.currentBundle("docs"), "gone");
    expect(error.message).toContain("postgres://u@127.0.0.1:1/db");
    expect(error.message).not.toContain("secret");
  });

  test("a caller's client: used as given, left open by close(); a closed backend refuses calls", async () => {
    const sql = rawClient();
    const pg = new PostgresBackend("shared", { sql });
    expect(pg.server).toBe(`postgres://postgres@127.0.0.1:${first.port}/postgres`);
    await pg.putCollection("mine", { ids: [5], vectors: [[5, 5]] });
    await pg.close();
    await pg.close();
    expect((await backendError(pg.currentBundle("mine"), "shared")).message).toMatch(/closed/);
    const [row] = await sql`select count(*)::int as n from rulake_vectors where collection = 'mine'`;
    expect(row.n).toBe(1);
  });
});

/** Polls `condition` until it holds (or throws after `timeoutMs`). */
async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}
