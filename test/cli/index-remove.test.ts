/** `ruvector index remove`, spawned as a real process, checked through the API. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { loadIndex, RabitqPlusIndex } from "../../src/index/index.ts";
import { expectOneLineError, expectUsageError, randomVectors, row, ruvector, ruvectorJson, tempDir } from "../support/helpers.ts";

const DIM = 16;
const N = 200;

function saved(): { dir: string; path: string; data: Float32Array } {
  const dir = tempDir();
  const data = randomVectors(N, DIM, 5);
  using index = RabitqPlusIndex.build(data, { dim: DIM });
  const path = join(dir, "i.rbpx");
  index.save(path);
  return { dir, path, data };
}

test("index remove saves the index without the ids, over the file or to -o", async () => {
  const { dir, path, data } = saved();
  const out = join(dir, "out.rbpx");
  expect(await ruvectorJson(["index", "remove", path, "--ids", "3,17,42", "-o", out])).toEqual({ removed: 3, remaining: N - 3, output: out });
  using after = loadIndex(out);
  expect(after.length).toBe(N - 3);
  expect(after.get(17)).toBeUndefined();
  expect(after.search(row(data, DIM, 17), 10).some((h) => h.id === 17)).toBe(false);
  using untouched = loadIndex(path);
  expect(untouched.length).toBe(N);
  expect((await ruvectorJson(["index", "remove", path, "--ids", "3, 999", "--ignore-missing"])).removed).toBe(1);
  using inPlace = loadIndex(path);
  expect(inPlace.length).toBe(N - 1);
  const searched = await ruvectorJson(["index", "search", path, `--vector=${Array.from(row(data, DIM, 3)).join(",")}`, "-k", "5"]);
  expect(searched.results[0].some((h: { id: number }) => h.id === 3)).toBe(false);
});

test("an unknown id fails naming it and leaves the file as it was; bad lists are usage errors", async () => {
  const { path } = saved();
  expectOneLineError(await ruvector(["index", "remove", path, "--ids", "1,5000"]), "id 5000 is not in the index");
  using index = loadIndex(path);
  expect(index.length).toBe(N);
  expectUsageError(await ruvector(["index", "remove", path]), "missing required option --ids", "ruvector index remove");
  expectUsageError(await ruvector(["index", "remove", path, "--ids", "1,-2"]), "--ids: element 1 ('-2') is not an id (an integer in 0..2^53-1)", "ruvector index remove");
  expectUsageError(await ruvector(["index", "remove", path, "--ids", "1,,2"]), "--ids: element 1 ('') is not an id", "ruvector index remove");
  expectUsageError(await ruvector(["index", "remove", path, "--ids", "1.5"]), "--ids: element 0 ('1.5') is not an id", "ruvector index remove");
});
