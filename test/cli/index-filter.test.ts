/** `ruvector index build --tags` and `index search` filters, spawned as real processes. */
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeFvecs } from "../../src/formats.ts";
import { loadIndex } from "../../src/index/index.ts";
import { expectOneLineError, expectUsageError, randomVectors, row, ruvector, ruvectorJson, tempDir } from "../support/helpers.ts";

const DIM = 8;
const N = 100;

/** An fvecs file of N vectors and a tags file giving row i the bit i % 3 (hex and decimal lines). */
function inputs(): { dir: string; vectors: string; tags: string; data: Float32Array } {
  const dir = tempDir();
  const data = randomVectors(N, DIM, 9);
  const vectors = join(dir, "v.fvecs");
  writeFvecs(vectors, { data, dim: DIM, rows: N });
  const tags = join(dir, "tags.txt");
  writeFileSync(tags, Array.from({ length: N }, (_, i) => (i % 2 ? `0x${(1 << i % 3).toString(16)}` : String(1 << i % 3))).join("\n") + "\n");
  return { dir, vectors, tags, data };
}

const ids = (result: { results: { id: number }[][] }) => result.results[0]!.map((h) => h.id);

test("index build --tags stores the tags; index search filters by ids and tags", async () => {
  const { dir, vectors, tags, data } = inputs();
  for (const variant of ["plus", "ivf"]) {
    const out = join(dir, `${variant}.idx`);
    await ruvectorJson(["index", "build", vectors, "-o", out, "--variant", variant, "--tags", tags]);
    using index = loadIndex(out);
    expect(index.tagsOf(5)).toBe(4n);
    const q = `--vector=${Array.from(row(data, DIM, 5)).join(",")}`;
    expect(ids(await ruvectorJson(["index", "search", out, q, "-k", "5", "--filter-ids", "5,7,1000"])).sort()).toEqual([5, 7]);
    expect(ids(await ruvectorJson(["index", "search", out, q, "-k", "5", "--exclude-ids", "5"]))).not.toContain(5);
    const fours = ids(await ruvectorJson(["index", "search", out, q, "-k", "5", "--tags-any", "0x4"]));
    expect(fours).toHaveLength(5);
    expect(fours.every((id) => id % 3 === 2)).toBe(true);
    const notOne = ids(await ruvectorJson(["index", "search", out, q, "-k", "50", "--tags-none", "1", "--tags-all", "2"]));
    expect(notOne.every((id) => id % 3 === 1)).toBe(true);
    expect(ids(await ruvectorJson(["index", "search", out, q, "--tags-all", "0x8"]))).toEqual([]);
  }
});

test("bad filter options are usage errors naming the value; a bad tags file is an input error", async () => {
  const { dir, vectors, tags } = inputs();
  const out = join(dir, "i.rbpx");
  await ruvectorJson(["index", "build", vectors, "-o", out, "--tags", tags]);
  const search = ["index", "search", out, "--vector", "1,2,3,4,5,6,7,8"];
  expectUsageError(await ruvector([...search, "--filter-ids", "1,-2"]), "--filter-ids: element 1 ('-2') is not an id (an integer in 0..2^53-1)", "ruvector index search");
  expectUsageError(await ruvector([...search, "--exclude-ids", "x"]), "--exclude-ids: element 0 ('x') is not an id", "ruvector index search");
  expectUsageError(await ruvector([...search, "--filter-ids", "1", "--exclude-ids", "2"]), "give either --filter-ids or --exclude-ids, not both", "ruvector index search");
  expectUsageError(await ruvector([...search, "--tags-any", "0xzz"]), "--tags-any must be a 64-bit mask (decimal or 0x hex), got '0xzz'", "ruvector index search");
  expectUsageError(await ruvector([...search, "--tags-all", "18446744073709551616"]), "--tags-all must be a 64-bit mask", "ruvector index search");
  expectUsageError(await ruvector([...search, "--tags-any", "0"]), "--tags-any 0 matches no vector: give at least one bit", "ruvector index search");
  const short = join(dir, "short.txt");
  writeFileSync(short, "1\n2\n");
  expectOneLineError(await ruvector(["index", "build", vectors, "-o", join(dir, "x.rbpx"), "--tags", short]), `${short} has 2 tag lines for ${N} vectors (one per vector)`);
  const bad = join(dir, "bad.txt");
  writeFileSync(bad, Array.from({ length: N }, (_, i) => (i === 3 ? "-1" : "0")).join("\n"));
  expectOneLineError(await ruvector(["index", "build", vectors, "-o", join(dir, "y.rbpx"), "--tags", bad]), `${bad} line 4: '-1' is not a 64-bit tag value (decimal or 0x hex)`);
});
