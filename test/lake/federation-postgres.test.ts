import { afterAll, beforeAll, expect, test } from "bun:test";
import { BackendError, PostgresBackend, RuLake } from "../../src/index.ts";
import { randomVectors, row } from "../support/helpers.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

const dim = 64;
let servers: TestPostgres[] = [];
let backends: PostgresBackend[] = [];
const stopped = new Set<TestPostgres>();

beforeAll(async () => {
  servers = await Promise.all([startPostgres(), startPostgres()]);
  backends = servers.map((s, i) => new PostgresBackend(`pg${i + 1}`, { url: s.url }));
}, 60_000);

afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await Promise.all(servers.filter((s) => !stopped.has(s)).map((s) => s.stop()));
});

test("a lake federates search over two PostgreSQL servers and follows their writes", async () => {
  const a = randomVectors(3000, dim, 1);
  const b = randomVectors(3000, dim, 2);
  await backends[0]!.putCollection("docs", { ids: Array.from({ length: 3000 }, (_, i) => i), vectors: a });
  await backends[1]!.putCollection("docs", { ids: Array.from({ length: 3000 }, (_, i) => 1_000_000 + i), vectors: b });
  using lake = RuLake.builder().build();
  backends.forEach((backend) => lake.registerBackend(backend));
  const targets = [["pg1", "docs"], ["pg2", "docs"]] as const;

  const fromA = await lake.searchFederatedAsync(targets, row(a, dim, 42), 5);
  expect(fromA[0]).toMatchObject({ backend: "pg1", collection: "docs", id: 42, score: 0 });
  const fromB = await lake.searchFederatedAsync(targets, row(b, dim, 7), 5);
  expect(fromB[0]).toMatchObject({ backend: "pg2", id: 1_000_007 });
  expect(lake.cacheStats()).toMatchObject({ primes: 2 });

  const moved = new Float32Array(dim).fill(0.999);
  await backends[1]!.upsert("docs", { ids: [5_000_000], vectors: moved });
  const after = await lake.searchFederatedAsync(targets, moved, 1);
  expect(after[0]).toMatchObject({ backend: "pg2", id: 5_000_000 });
  // The upsert reaches the cache as a change set from the change log, not as a full pull.
  expect(lake.cacheStats()).toMatchObject({ primes: 2, changeSets: 1, rowsApplied: 1, invalidations: 0 });
  expect(() => lake.searchOne(["pg1", "docs"], moved, 1)).toThrow("answered asynchronously");

  await servers[1]!.stop();
  stopped.add(servers[1]!);
  const err = await lake.searchFederatedAsync(targets, moved, 1).catch((e) => e);
  expect(err).toBeInstanceOf(BackendError);
  expect(err.backend).toBe("pg2");
  expect(err.message).toContain("shard 1");
  expect(lake.isPrimed(["pg1", "docs"])).toBe(true);
  expect((await lake.searchOneAsync(["pg1", "docs"], row(a, dim, 1), 1))[0]!.id).toBe(1);
}, 120_000);
