import { describe, expect, test } from "bun:test";
import { BackendError, LakeError, RuVectorError } from "../../src/errors.ts";
import { LocalBackend } from "../../src/lake/local.ts";
import { randomVectors } from "../support/helpers.ts";

/** The pulled vectors as a map id → array, order-independent. */
async function contents(backend: LocalBackend, collection: string): Promise<Map<number, number[]>> {
  const batch = await backend.pullVectors(collection);
  const out = new Map<number, number[]>();
  Array.from(batch.ids as ArrayLike<number>).forEach((id, row) => out.set(id, Array.from(batch.vectors.subarray(row * batch.dim, (row + 1) * batch.dim))));
  return out;
}

/** Asserts `fn` throws a BackendError naming backend and collection, with `detail` in its message. */
function expectBackendError(fn: () => unknown, backend: string, collection: string | undefined, detail: RegExp): BackendError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(BackendError);
  const error = caught as BackendError;
  expect(error).toBeInstanceOf(LakeError);
  expect(error).toBeInstanceOf(RuVectorError);
  expect(error.code).toBe("BACKEND");
  expect(error.backend).toBe(backend);
  expect(error.collection).toBe(collection);
  expect(error.message).toContain(`"${backend}"`);
  if (collection !== undefined) expect(error.message).toContain(`"${collection}"`);
  expect(error.message).toMatch(detail);
  return error;
}

describe("LocalBackend", () => {
  test("putCollection → pullVectors and currentBundle; generation starts at 1", async () => {
    const local = new LocalBackend("hot");
    const vectors = randomVectors(3, 4, 1);
    expect(local.putCollection("docs", { ids: [7, 8, 9], vectors })).toBe(1);
    const batch = await local.pullVectors("docs");
    expect(Array.from(batch.ids as ArrayLike<number>)).toEqual([7, 8, 9]);
    expect(batch.vectors).toEqual(vectors);
    expect(batch.dim).toBe(4);
    expect(batch.generation).toBe(1);
    expect(await local.currentBundle("docs")).toEqual({ dataRef: "local://hot/docs", dim: 4, generation: 1 });
    expect(local.listCollections()).toEqual(["docs"]);
    expect(local.has("docs")).toBe(true);
    expect(local.has("other")).toBe(false);
    expect(local.size("docs")).toBe(3);
  });

  test("accepts one array per vector, BigUint64Array ids and an empty collection with an explicit dim", async () => {
    const local = new LocalBackend("hot");
    local.putCollection("rows", { ids: new BigUint64Array([1n, 2n ** 53n - 1n]), vectors: [[1, 2], [3, 4]] });
    expect(await contents(local, "rows")).toEqual(new Map([[1, [1, 2]], [2 ** 53 - 1, [3, 4]]]));
    local.putCollection("empty", { ids: [], vectors: new Float32Array(0), dim: 5 });
    expect(local.size("empty")).toBe(0);
    expect(local.currentBundle("empty").dim).toBe(5);
  });

  test("putCollection replaces everything, even the dim, and keeps counting generations", async () => {
    const local = new LocalBackend("hot");
    local.putCollection("docs", { ids: [1, 2], vectors: [[1, 1], [2, 2]] });
    expect(local.putCollection("docs", { ids: [3], vectors: [[3, 3, 3]] })).toBe(2);
    expect(await contents(local, "docs")).toEqual(new Map([[3, [3, 3, 3]]]));
    expect(local.currentBundle("docs").dim).toBe(3);
  });

  test("upsert inserts new ids, replaces existing ones, keeps the rest, and creates a missing collection", async () => {
    const local = new LocalBackend("hot");
    expect(local.upsert("docs", { ids: [1, 2], vectors: [[1, 1], [2, 2]] })).toBe(1);
    expect(local.upsert("docs", { ids: [2, 3], vectors: new Float32Array([20, 20, 30, 30]) })).toBe(2);
    expect(await contents(local, "docs")).toEqual(new Map([[1, [1, 1]], [2, [20, 20]], [3, [30, 30]]]));
    // The collection's dim lets a flat empty upsert through without repeating it.
    expect(local.upsert("docs", { ids: [], vectors: new Float32Array(0) })).toBe(3);
  });

  test("append adds one new id; many appends grow the collection", async () => {
    const local = new LocalBackend("hot");
    local.putCollection("docs", { ids: [0], vectors: [[0, 0]] });
    for (let id = 1; id < 100; id++) expect(local.append("docs", id, [id, -id])).toBe(id + 1);
    const data = await contents(local, "docs");
    expect(data.size).toBe(100);
    expect(data.get(57)).toEqual([57, -57]);
  });

  test("delete removes present ids, ignores missing ones, returns the count", async () => {
    const local = new LocalBackend("hot");
    local.putCollection("docs", { ids: [1, 2, 3, 4], vectors: [[1], [2], [3], [4]] });
    expect(local.delete("docs", [2, 99, 1])).toBe(2);
    expect(local.currentBundle("docs").generation).toBe(2);
    expect(await contents(local, "docs")).toEqual(new Map([[3, [3]], [4, [4]]]));
    // Deleting ids that are not there changes nothing, so the generation stays.
    expect(local.delete("docs", [99, 100])).toBe(0);
    expect(local.currentBundle("docs").generation).toBe(2);
    local.upsert("docs", { ids: [1], vectors: [[10]] });
    expect(await contents(local, "docs")).toEqual(new Map([[3, [3]], [4, [4]], [1, [10]]]));
  });

  test("the generation changes on every write and only then", () => {
    const local = new LocalBackend("hot");
    const generations = [
      local.putCollection("docs", { ids: [1], vectors: [[1, 1]] }),
      local.upsert("docs", { ids: [2], vectors: [[2, 2]] }),
      local.append("docs", 3, [3, 3]),
      (local.delete("docs", [3]), local.currentBundle("docs").generation),
    ];
    expect(generations).toEqual([1, 2, 3, 4]);
    local.pullVectors("docs");
    local.currentBundle("docs");
    local.size("docs");
    expect(local.currentBundle("docs").generation).toBe(4);
  });

  test("a pulled batch is a snapshot: later writes and the caller's arrays do not change it", async () => {
    const local = new LocalBackend("hot");
    const ids = [1, 2];
    const vectors = new Float32Array([1, 1, 2, 2]);
    local.putCollection("docs", { ids, vectors });
    vectors[0] = 99;
    ids[0] = 42;
    const batch = await local.pullVectors("docs");
    local.upsert("docs", { ids: [1], vectors: [[5, 5]] });
    local.delete("docs", [2]);
    expect(Array.from(batch.ids as ArrayLike<number>)).toEqual([1, 2]);
    expect(Array.from(batch.vectors)).toEqual([1, 1, 2, 2]);
    batch.vectors[0] = -1;
    expect((await contents(local, "docs")).get(1)).toEqual([5, 5]);
  });

  describe("rejects, naming backend and collection, and changes nothing", () => {
    const cases: [string, (local: LocalBackend) => unknown, RegExp][] = [
      ["dim mismatch names both dims", (l) => l.upsert("docs", { ids: [9], vectors: [[1, 2, 3]] }), /dim 2.*dim 3/],
      ["explicit dim mismatch", (l) => l.upsert("docs", { ids: [9], vectors: new Float32Array(4), dim: 4 }), /dim 2.*dim 4/],
      ["NaN names row, id and component", (l) => l.upsert("docs", { ids: [8, 9], vectors: [[0, 0], [1, NaN]] }), /vector 1 \(id 9\) component 1 is NaN/],
      ["Infinity", (l) => l.putCollection("docs", { ids: [9], vectors: [[Infinity, 0]] }), /vector 0 \(id 9\) component 0 is Infinity/],
      ["negative id", (l) => l.upsert("docs", { ids: [-1], vectors: [[1, 1]] }), /index 0 is -1/],
      ["fractional id", (l) => l.upsert("docs", { ids: [1.5], vectors: [[1, 1]] }), /index 0 is 1.5/],
      ["id above 2^53−1", (l) => l.upsert("docs", { ids: [2 ** 53], vectors: [[1, 1]] }), /0\.\.2\^53/],
      ["bigint id above 2^53−1", (l) => l.upsert("docs", { ids: new BigUint64Array([2n ** 53n]), vectors: [[1, 1]] }), /9007199254740992/],
      ["duplicate ids", (l) => l.upsert("docs", { ids: [5, 6, 5], vectors: new Float32Array(6) }), /duplicate id 5 at indexes 0 and 2/],
      ["more vectors than ids", (l) => l.upsert("docs", { ids: [5], vectors: [[1, 1], [2, 2]] }), /1 ids but 2 vectors/],
      ["flat values not a multiple of ids", (l) => l.upsert("docs", { ids: [5, 6], vectors: new Float32Array(3) }), /2 ids but 3 vector values/],
      ["flat values not matching the given dim", (l) => l.putCollection("docs", { ids: [5], vectors: new Float32Array(3), dim: 2 }), /needs 2 values, got 3/],
      ["ragged rows", (l) => l.putCollection("docs", { ids: [5, 6], vectors: [[1, 1], [1]] }), /vector 1 has 1 values, expected dim 2/],
      ["dim 0", (l) => l.putCollection("docs", { ids: [], vectors: new Float32Array(0), dim: 0 }), /dim must be an integer in 1\.\.8192, got 0/],
      ["dim above 8192", (l) => l.putCollection("docs", { ids: [1], vectors: new Float32Array(8193) }), /got 8193/],
      ["empty write without a dim", (l) => l.putCollection("docs", { ids: [], vectors: [] }), /dim is required/],
      ["not a write", (l) => l.upsert("docs", null as never), /must be an object/],
      ["append of an existing id", (l) => l.append("docs", 1, [1, 1]), /id 1 already exists/],
      ["append with the wrong dim", (l) => l.append("docs", 7, [1]), /dim 2.*dim 1/],
      ["delete with a bad id", (l) => l.delete("docs", [1, -3]), /index 1 is -3/],
    ];
    for (const [name, write, detail] of cases) {
      test(name, async () => {
        const local = new LocalBackend("hot");
        local.putCollection("docs", { ids: [1, 2], vectors: [[1, 1], [2, 2]] });
        const before = await contents(local, "docs");
        expectBackendError(() => write(local), "hot", "docs", detail);
        expect(await contents(local, "docs")).toEqual(before);
        expect(local.currentBundle("docs")).toEqual({ dataRef: "local://hot/docs", dim: 2, generation: 1 });
      });
    }
  });

  test("an unknown collection is a BackendError for every read and for append/delete", () => {
    const local = new LocalBackend("hot");
    for (const call of [
      () => local.pullVectors("nope"),
      () => local.currentBundle("nope"),
      () => local.size("nope"),
      () => local.append("nope", 1, [1]),
      () => local.delete("nope", [1]),
    ]) {
      expectBackendError(call, "hot", "nope", /unknown collection/);
    }
    expect(local.has("nope")).toBe(false);
  });

  test("bad collection names and backend ids are rejected", () => {
    const local = new LocalBackend("hot");
    expectBackendError(() => local.upsert("", { ids: [1], vectors: [[1]] }), "hot", "", /non-empty string/);
    expectBackendError(() => local.upsert("a\nb", { ids: [1], vectors: [[1]] }), "hot", "a\nb", /control characters/);
    expectBackendError(() => new LocalBackend(""), "", undefined, /backend id/);
  });
});
