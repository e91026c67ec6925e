/** Mistakes a new user makes, and messages that name the argument, quote the value and say how to fix it. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ClosedError, Embedder, FlatF32Index, InvalidArgument, loadIndex, PersistError, RabitqPlusIndex, writeFvecs, writeNpy } from "../../src/index.ts";
import { randomVectors, tempDir } from "../support/helpers.ts";

const DIM = 8;
const data = randomVectors(50, DIM, 5);

describe("unknown option keys are refused, naming the closest valid key", () => {
  test("build, create and buildAsync options", async () => {
    expect(() => RabitqPlusIndex.build(data, { dim: DIM, rerankfactor: 50 } as never)).toThrow(
      new InvalidArgument('unknown option "rerankfactor" in RabitqPlusIndex options; did you mean "rerankFactor"? (valid: dim, seed, rerankFactor, metric, padToWord, ids, tags, onProgress)'),
    );
    expect(() => FlatF32Index.create({ dim: DIM, metirc: "cosine" } as never)).toThrow('unknown option "metirc" in FlatF32Index options; did you mean "metric"?');
    await expect(RabitqPlusIndex.buildAsync(data, { dim: DIM, padToWords: false } as never)).rejects.toThrow('did you mean "padToWord"?');
  });

  test("search, searchAsync and searchBatch options (argument errors throw before any Promise)", () => {
    using index = RabitqPlusIndex.build(data, { dim: DIM });
    const q = data.subarray(0, DIM);
    expect(() => index.search(q, 3, { rerank: 4 } as never)).toThrow('unknown option "rerank" in search options; did you mean "rerankFactor"? (valid: rerankFactor, filter)');
    expect(() => index.searchBatch(q, 3, { thread: 1 } as never)).toThrow('unknown option "thread" in searchBatch options; did you mean "threads"?');
    expect(() => index.searchAsync(q, 3, { rerankfactor: 2 } as never)).toThrow('did you mean "rerankFactor"?');
    expect(index.search(q, 3, { rerankFactor: 2 })).toHaveLength(3);
  });

  test("Embedder.openAsync and open options", async () => {
    await expect(Embedder.openAsync("mobilenetv2", { cachedir: "/tmp" } as never)).rejects.toThrow('unknown option "cachedir" in Embedder.openAsync options; did you mean "cacheDir"?');
    expect(() => Embedder.open("mobilenetv2", { baseUrl: "http://x/" } as never)).toThrow('unknown option "baseUrl" in Embedder.open options (valid: ortLibrary, cacheDir, env)');
  });
});

describe("wrong values: the argument is named, the value and its type quoted, the fix suggested", () => {
  test("add(id, number[]) names `vector` and suggests Float32Array.from", () => {
    using index = FlatF32Index.create({ dim: 3 });
    expect(() => index.add(1, [0.5, 1, 2] as never)).toThrow(
      new InvalidArgument("vector must be a Float32Array, got [0.5, 1, 2] (Array of 3); convert it with Float32Array.from(...)"),
    );
    expect(() => index.search(new Float64Array(3) as never, 1)).toThrow("query must be a Float32Array, got Float64Array(3); convert it with Float32Array.from(...)");
    expect(() => FlatF32Index.build("abc" as never, { dim: 3 })).toThrow('vectors must be a Float32Array, got "abc" (string)');
    expect(() => FlatF32Index.build(new Float32Array(3), { dim: "3" } as never)).toThrow('dim must be an integer in 1..8192, got "3" (string)');
  });

  test("a handle closed by a using block says so; one closed by close() says that", () => {
    let escaped: FlatF32Index;
    {
      using index = FlatF32Index.build(data, { dim: DIM });
      escaped = index;
    }
    expect(() => escaped.length).toThrow(ClosedError);
    expect(() => escaped.length).toThrow("FlatF32Index is closed: the `using` block that held it has ended");
    const closed = FlatF32Index.build(data, { dim: DIM });
    closed.close();
    expect(() => closed.search(data.subarray(0, DIM), 1)).toThrow("FlatF32Index is closed: close() was called on it");
  });
});

test("loading a vector file or a missing file as an index says what it is and what to do", () => {
  const dir = tempDir("ruvector-args-");
  writeFvecs(join(dir, "base.fvecs"), { data: randomVectors(4, 100, 1), rows: 4, dim: 100 });
  expect(() => loadIndex(join(dir, "base.fvecs"))).toThrow(
    new PersistError(`${join(dir, "base.fvecs")}: not an index file: it looks like a .fvecs vector file (4 rows of dim 100); build an index from it first (readFvecs + build, or \`ruvector index build FILE.fvecs -o INDEX\`)`),
  );
  writeNpy(join(dir, "base.npy"), { data: randomVectors(4, 8, 1), rows: 4, dim: 8 });
  expect(() => loadIndex(join(dir, "base.npy"))).toThrow("not an index file: it is a NumPy .npy array");
  expect(() => loadIndex(join(dir, "absent.rbpx"))).toThrow(new PersistError(`cannot read index file ${join(dir, "absent.rbpx")}: no such file or directory`));
});
