/**
 * An async prime reads a private copy of the pulled vectors, so a backend that
 * reuses, changes or transfers its buffer once it has answered cannot race the
 * job that builds the cached index.
 */
import { expect, test } from "bun:test";
import { BackendError, RabitqPlusIndex, RuLake, type BackendAdapter, type BundleInfo, type PulledBatch } from "../../src/index.ts";
import { randomVectors, row } from "../support/helpers.ts";

const dim = 128;

/** A backend that hands out one buffer and then does `afterAnswer` to it on the next turn. */
class ReusingAdapter implements BackendAdapter {
  constructor(
    readonly id: string,
    private readonly vectors: Float32Array,
    private readonly afterAnswer: (vectors: Float32Array) => void,
  ) {}
  listCollections(): string[] {
    return ["c"];
  }
  currentBundle(): BundleInfo {
    return { dataRef: `reuse://${this.id}/c`, dim, generation: 1 };
  }
  async pullVectors(): Promise<PulledBatch> {
    setImmediate(() => this.afterAnswer(this.vectors));
    return { ids: Array.from({ length: this.vectors.length / dim }, (_, i) => i), vectors: this.vectors, dim, generation: 1 };
  }
}

test("a backend overwriting its buffer while the prime job runs does not change what was primed", async () => {
  // 15k × 128 floats fit one copy slice, so the copy is whole before the backend's next turn.
  const original = randomVectors(15_000, dim, 11);
  const served = original.slice();
  using lake = RuLake.builder().rerankFactor(20).rotationSeed(42).build();
  lake.registerBackend(new ReusingAdapter("reuser", served, (v) => v.fill(0)));
  await lake.primeAsync(["reuser", "c"]);
  expect(served.every((x) => x === 0)).toBe(true);
  using direct = RabitqPlusIndex.build(original, { dim, seed: 42, rerankFactor: 20 });
  const queries = randomVectors(5, dim, 12);
  for (let i = 0; i < 5; i++) {
    const q = row(queries, dim, i);
    expect(lake.searchOne(["reuser", "c"], q, 10).map((h) => [h.id, h.score])).toEqual(direct.search(q, 10).map((h) => [h.id, h.score]));
  }
});

test("a backend transferring its buffer during the copy fails the prime with a BackendError naming it", async () => {
  // 17k × 128 floats span two copy slices; the transfer lands between them.
  const served = randomVectors(17_000, dim, 13);
  using lake = RuLake.builder().build();
  lake.registerBackend(new ReusingAdapter("mover", served, (v) => void (v.buffer as ArrayBuffer).transfer()));
  const error = await lake.primeAsync(["mover", "c"]).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BackendError);
  expect((error as BackendError).message).toContain("mover");
  expect((error as BackendError).message).toContain("pulled vectors is a detached Float32Array");
  expect(lake.cacheStats().entries).toBe(0);
});
