/**
 * Objects the caller writes for the lake and its backends are checked key by
 * key: a misspelt key is a typed error naming it and the closest valid key,
 * raised before anything changes.
 */
import { expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BackendError, Consistency, FsBackend, InvalidArgument, LocalBackend, PostgresBackend, RuLake, type LakeOptions } from "../../src/index.ts";
import { tempDir } from "../support/helpers.ts";

const defaults: LakeOptions = { rerankFactor: 20, rotationSeed: 42, maxCacheEntries: 0, maxCacheBytes: 0, consistency: Consistency.fresh(), backendTimeoutMs: 30_000 };

test("RuLake options: a misspelt key is an InvalidArgument naming it and the closest valid key", () => {
  expect(() => new RuLake({ ...defaults, rerankfactor: 50 } as never)).toThrow(
    new InvalidArgument(
      'unknown option "rerankfactor" in RuLake options; did you mean "rerankFactor"? (valid: rerankFactor, rotationSeed, maxCacheEntries, maxCacheBytes, consistency, backendTimeoutMs, engine, targetRecall, ivf)',
    ),
  );
  expect(() => new RuLake(null as never)).toThrow(new InvalidArgument("RuLake options must be an object, got null"));
  using lake = new RuLake(defaults);
  expect(lake.cacheStats().entries).toBe(0);
});

test("backend writes: a misspelt key is a BackendError naming the backend, the key and the closest valid one; nothing is written", async () => {
  const local = new LocalBackend("mem");
  const write = { ids: [1], vector: [[0.5, 0.25]] };
  expect(() => local.putCollection("docs", write as never)).toThrow(BackendError);
  expect(() => local.putCollection("docs", write as never)).toThrow('unknown option "vector" in the write; did you mean "vectors"? (valid: ids, vectors, dim)');
  expect(() => local.upsert("docs", { ids: [1], vectors: [[1, 2]], dims: 2 } as never)).toThrow('unknown option "dims" in the write; did you mean "dim"?');
  expect(local.listCollections()).toEqual([]);
  const root = tempDir("ruvector-keys-");
  const fs = new FsBackend("disk", root);
  const error = await fs.writeAsync("docs", "docs.ruvec", { Ids: [1], vectors: [[1]] } as never).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BackendError);
  expect((error as BackendError).message).toContain('unknown option "Ids" in the write; did you mean "ids"?');
  expect((error as BackendError).backend).toBe("disk");
  expect(existsSync(join(root, "docs.ruvec"))).toBe(false);
  rmSync(root, { recursive: true, force: true });
});

test("PostgresBackend connection: { url } or { sql }, a misspelt key named, checked before connecting", () => {
  const cases: [unknown, string][] = [
    [{ URL: "postgres://u@localhost/db" }, 'unknown option "URL" in the PostgresBackend connection; did you mean "url"? (valid: url); pass { url } or { sql }'],
    [{ url: "postgres://u@localhost/db", max: 4 }, 'unknown option "max" in the PostgresBackend connection (valid: url); pass { url } or { sql }'],
    [{ url: 5432 }, 'the PostgresBackend connection needs { url: "postgres://…" } or { sql }, got url 5432 (number)'],
    [{ sql: "postgres://u@localhost/db" }, 'the PostgresBackend connection\'s sql must be a Bun SQL client, got "postgres://u@localhost/db" (string)'],
    ["postgres://u@localhost/db", 'the PostgresBackend connection must be an object, got "postgres://u@localhost/db" (string)'],
  ];
  for (const [connection, message] of cases) {
    let error: unknown;
    try {
      new PostgresBackend("pg", connection as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).message).toContain(message);
  }
});
