import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FlatF32Index, InvalidArgument, PersistError, RabitqIndex, RabitqPlusIndex } from "../../src/index.ts";
import { randomVectors, tempDir } from "../support/helpers.ts";

function detach(view: Float32Array): void {
  structuredClone(view.buffer, { transfer: [view.buffer as ArrayBuffer] });
}

test("a detached Float32Array is an InvalidArgument, never an empty index", async () => {
  const vectors = randomVectors(10, 4, 1);
  detach(vectors);
  expect(() => FlatF32Index.build(vectors, { dim: 4 })).toThrow(new InvalidArgument("vectors is a detached Float32Array (its buffer was transferred)"));
  await expect(RabitqPlusIndex.buildAsync(vectors, { dim: 4 })).rejects.toThrow("vectors is a detached Float32Array");
  using index = FlatF32Index.create({ dim: 4 });
  expect(() => index.addBatch(vectors, [])).toThrow("vectors is a detached Float32Array");
  const query = new Float32Array(4);
  detach(query);
  expect(() => index.search(query, 1)).toThrow("query is a detached Float32Array");
});

test("transferring the input right after buildAsync starts cannot reach the native build", async () => {
  const dim = 8;
  const small = randomVectors(1000, dim, 2);
  const expected = FlatF32Index.build(small.slice(), { dim });
  const building = FlatF32Index.buildAsync(small, { dim });
  detach(small);
  using built = await building;
  expect(built.equals(expected)).toBe(true);
  expected.close();
  // Larger than one copy slice: the copy notices the transfer and fails with a typed error.
  const large = randomVectors(3 << 20, 1, 3);
  const failing = RabitqIndex.buildAsync(large, { dim: 1 });
  detach(large);
  await expect(failing).rejects.toThrow(InvalidArgument);
});

test("load (sync) refuses a tiny header that would need a huge rotation; the message names the limit", () => {
  const head = new Uint8Array(32);
  const view = new DataView(head.buffer);
  head.set(new TextEncoder().encode("rbpx0001"));
  view.setUint32(8, 1, true);
  view.setUint32(12, 2048, true);
  view.setBigUint64(16, 42n, true);
  view.setUint32(24, 20, true);
  const path = join(tempDir(), "huge-rotation.rbpx");
  writeFileSync(path, head);
  expect(() => RabitqPlusIndex.load(path)).toThrow("stored dim 2048 needs a 2048×2048 random rotation, above the limit 1024 of this load");
});

test("special files are refused by every index loader", async () => {
  expect(() => FlatF32Index.load("/dev/zero")).toThrow(PersistError);
  expect(() => FlatF32Index.load("/dev/zero")).toThrow("is a character device; only regular files are read");
  await expect(RabitqPlusIndex.loadAsync("/dev/zero")).rejects.toThrow("is a character device");
  await expect(RabitqPlusIndex.loadAsync("/tmp")).rejects.toThrow("is a directory");
});
