/** The `ruvector` CLI, spawned as a real process: round trips against the API, bench on GloVe, errors and help. */
import { describe, expect, test } from "bun:test";
import { chmodSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { FlatF32Index, loadIndexAsync, RabitqAsymIndex, RabitqPlusIndex, type VectorIndex } from "../../src/index/index.ts";
import { SHARED } from "../support/datasets.ts";
import { CLI, expectCommandHelp, expectOneLineError, expectUsageError, randomVectors, ROOT, row, ruvector, ruvectorJson, tempDir } from "../support/helpers.ts";

const GLOVE = join(SHARED, "datasets", "glove-100-angular-100k");

function fvecsBytes(data: Float32Array, dim: number): Uint8Array {
  const rows = data.length / dim;
  const view = new DataView(new ArrayBuffer(rows * (4 + 4 * dim)));
  for (let r = 0; r < rows; r++) {
    view.setInt32(r * (4 + 4 * dim), dim, true);
    for (let j = 0; j < dim; j++) view.setFloat32(r * (4 + 4 * dim) + 4 + 4 * j, data[r * dim + j]!, true);
  }
  return new Uint8Array(view.buffer);
}

function npyBytes(data: Float32Array, dim: number, descr = "<f4"): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${data.length / dim}, ${dim}), }`;
  const header = dict.padEnd(64 * Math.ceil((10 + dict.length + 1) / 64) - 10 - 1) + "\n";
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

function jsonlText(data: Float32Array, dim: number, ids?: number[]): string {
  const lines = Array.from({ length: data.length / dim }, (_, i) => {
    const vector = Array.from(row(data, dim, i));
    return JSON.stringify(ids ? { id: ids[i], vector } : vector);
  });
  return lines.join("\n") + "\n";
}

/** What `index info --json` must report for an index, computed through the API. */
function expectedInfo(index: VectorIndex, variant: string) {
  return {
    variant,
    class: index.constructor.name,
    n: index.length,
    dim: index.dim,
    metric: index.metric,
    seed: Number(index.seed),
    rerankFactor: index.rerankFactor,
    memoryBytes: index.memoryBytes,
  };
}

const DIM = 12;
const N = 300;
const base = randomVectors(N, DIM, 11);
const queries = randomVectors(7, DIM, 12);

describe("index build, search and info round-trip through the API", () => {
  const dir = tempDir("ruvector-cli-");
  const queryFile = join(dir, "queries.fvecs");
  const jsonlIds = Array.from({ length: N }, (_, i) => 1000 + 7 * i);
  const cases = [
    {
      format: "fvecs",
      write: (path: string) => Bun.write(path, fvecsBytes(base, DIM)),
      flags: ["--variant", "plus", "--metric", "cosine", "--rerank", "8", "--seed", "7"],
      reference: () => RabitqPlusIndex.build(base, { dim: DIM, metric: "cosine", rerankFactor: 8, seed: 7 }),
      variant: "plus",
    },
    {
      format: "npy",
      write: (path: string) => Bun.write(path, npyBytes(base, DIM)),
      flags: ["--variant", "flat"],
      reference: () => FlatF32Index.build(base, { dim: DIM }),
      variant: "flat",
    },
    {
      format: "jsonl",
      write: (path: string) => Bun.write(path, jsonlText(base, DIM, jsonlIds)),
      flags: ["--variant", "asym", "--rerank", "4", "--no-pad"],
      reference: () => RabitqAsymIndex.build(base, { dim: DIM, rerankFactor: 4, padToWord: false, ids: jsonlIds }),
      variant: "asym",
    },
  ];

  for (const c of cases) {
    test(`.${c.format} → ${c.variant}: the saved index equals the API's build, info and search match the API`, async () => {
      await Bun.write(queryFile, fvecsBytes(queries, DIM));
      const input = join(dir, `base.${c.format}`);
      const out = join(dir, `${c.format}.rvx`);
      await c.write(input);

      const built = await ruvectorJson(["index", "build", input, "-o", out, ...c.flags]);
      using index = await loadIndexAsync(out);
      using reference = c.reference();
      expect(index.equals(reference)).toBe(true);
      expect(built).toEqual({ ...expectedInfo(index, c.variant), buildMs: expect.any(Number), output: out });

      expect(await ruvectorJson(["index", "info", out])).toEqual(expectedInfo(index, c.variant));

      const searched = await ruvectorJson(["index", "search", out, "--query", queryFile, "-k", "5"]);
      const viaApi = Array.from({ length: 7 }, (_, i) => index.search(row(queries, DIM, i), 5));
      expect(searched).toEqual({ k: 5, queries: 7, results: viaApi });

      const one = await ruvectorJson(["index", "search", out, `--vector=${Array.from(row(queries, DIM, 3)).join(",")}`, "-k", "3"]);
      expect(one.results).toEqual([index.search(row(queries, DIM, 3), 3)]);
    });
  }

  test("JSONL bare arrays get row-number ids; --rerank overrides the factor per search", async () => {
    const input = join(dir, "bare.jsonl");
    const out = join(dir, "bare.rvx");
    await Bun.write(input, "\n" + jsonlText(base, DIM) + "\n\n");
    await Bun.write(queryFile, fvecsBytes(queries, DIM));
    expect((await ruvectorJson(["index", "build", input, "-o", out])).n).toBe(N);
    using index = await loadIndexAsync(out);
    expect(Array.from(index.ids())).toEqual(Array.from({ length: N }, (_, i) => i));
    const searched = await ruvectorJson(["index", "search", out, "--query", queryFile, "-k", "4", "--rerank", "1"]);
    expect(searched.results).toEqual(Array.from({ length: 7 }, (_, i) => index.search(row(queries, DIM, i), 4, { rerankFactor: 1 })));
  });

  test("without --json, results print as aligned text and nothing goes to stderr", async () => {
    const input = join(dir, "text.fvecs");
    const out = join(dir, "text.rvx");
    await Bun.write(input, fvecsBytes(base, DIM));
    const built = await ruvector(["index", "build", input, "-o", out]);
    expect(built).toMatchObject({ code: 0, stderr: "" });
    expect(built.stdout).toMatch(/^variant +plus \(RabitqPlusIndex\)\nvectors +300\ndim +12\n/);
    expect(built.stdout).toContain(`saved    ${out}\n`);
    const info = await ruvector(["index", "info", out]);
    expect(info.stdout).toMatch(/^metric +l2$/m);
    expect(info.stdout).toMatch(/^memory +[\d.]+ KiB$/m);
    const searched = await ruvector(["index", "search", out, "--vector", Array.from(row(base, DIM, 5)).join(","), "-k", "2"]);
    expect(searched).toMatchObject({ code: 0, stderr: "" });
    const lines = searched.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^query +rank +id +score$/);
    expect(lines[1]).toMatch(/^0 +1 +5 +0$/);
    expect(lines).toHaveLength(3);
  });
  test("--variant ivf builds an IvfRabitqIndex with its options; info and search --nprobe/--rerank use them", async () => {
    const input = join(dir, "ivf.fvecs");
    const out = join(dir, "ivf.idx");
    await Bun.write(input, fvecsBytes(base, DIM));
    const built = await ruvectorJson(["index", "build", input, "-o", out, "--variant", "ivf", "--nlist", "8", "--nprobe", "2", "--ex-bits", "5", "--store", "f32", "--rerank", "20"]);
    expect(built).toMatchObject({ variant: "ivf", class: "IvfRabitqIndex", n: N, ivf: { nlist: 8, nprobe: 2, exBits: 5, store: "f32", rerank: 20 } });
    const info = await ruvector(["index", "info", out]);
    expect(info.stdout).toMatch(/^lists +8 \(probing 2; not calibrated\)$/m);
    expect(info.stdout).toMatch(/^store +f32, rerank 20$/m);
    using index = await loadIndexAsync(out);
    const searched = await ruvectorJson(["index", "search", out, "--vector", Array.from(row(base, DIM, 5)).join(","), "-k", "3", "--nprobe", "8", "--rerank", "300"]);
    expect(searched.results).toEqual([index.search(row(base, DIM, 5), 3, { nprobe: 8, rerank: 300 })]);
    expect(searched.results[0][0]).toEqual({ id: 5, score: 0 });
  });

  test("a reader that stops early (| head) ends the CLI quietly with exit 0", async () => {
    const input = join(dir, "many.fvecs");
    const out = join(dir, "many.rvx");
    await Bun.write(input, fvecsBytes(base, DIM));
    expect((await ruvector(["index", "build", input, "-o", out, "--variant", "flat"])).code).toBe(0);
    // 300 queries × 100 hits is far more than a pipe buffer holds, so the CLI is still writing when we hang up.
    const proc = Bun.spawn([process.execPath, CLI, "index", "search", out, "--query", input, "-k", "100"], { stdout: "pipe", stderr: "pipe" });
    const reader = proc.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toStartWith("query");
    await reader.cancel();
    expect(await proc.exited).toBe(0);
    expect(await new Response(proc.stderr).text()).toBe("");
  });
});

describe("bench on GloVe-100 (100k base, first 200 queries)", () => {
  const data = [join(GLOVE, "base.fvecs"), "--queries", join(GLOVE, "query.fvecs"), "--truth", join(GLOVE, "groundtruth.ivecs"), "--limit", "200"];

  test("flat reproduces the ground truth: recall@10 = 1", async () => {
    const r = await ruvectorJson(["bench", ...data, "--variant", "flat", "--metric", "cosine"]);
    expect(r).toMatchObject({ variant: "flat", n: 100_000, dim: 100, k: 10, queries: 200, recall: 1 });
    for (const key of ["qpsSingle", "qpsBatch", "buildMs", "memoryBytes", "cores"]) expect(r[key]).toBeGreaterThan(0);
  }, 120_000);

  test("ivf calibrated to 0.9 reaches it on held-out queries, and --sweep traces recall against nprobe", async () => {
    const r = await ruvectorJson(["bench", ...data, "--variant", "ivf", "--metric", "cosine", "--target-recall", "0.9", "--sweep"]);
    expect(r).toMatchObject({ variant: "ivf", class: "IvfRabitqIndex", queries: 200, ivf: { nlist: 512, exBits: 7, store: "none", rerank: 0 } });
    expect(r.ivf.calibratedRecall).toBeGreaterThanOrEqual(0.9);
    expect(r.recall).toBeGreaterThanOrEqual(0.88);
    const sweep = r.sweep as Array<{ nprobe: number; rerank: number; recall: number; qps: number }>;
    expect(sweep.map((p) => p.nprobe)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
    expect(sweep.every((p) => p.rerank === 0)).toBe(true);
    for (let i = 1; i < sweep.length; i++) expect(sweep[i]!.recall).toBeGreaterThanOrEqual(sweep[i - 1]!.recall);
    expect(sweep.at(-1)!.recall).toBeGreaterThan(0.97);
  }, 300_000);

  test("with a store, --sweep also varies rerank (k, 4k, 16k) at every nprobe", async () => {
    const r = await ruvectorJson(["bench", ...data, "--variant", "ivf", "--metric", "cosine", "--nlist", "64", "--store", "f16", "--sweep"]);
    expect(r).toMatchObject({ variant: "ivf", ivf: { nlist: 64, store: "f16" } });
    const sweep = r.sweep as Array<{ nprobe: number; rerank: number; recall: number; qps: number }>;
    expect(sweep.map((p) => `${p.nprobe}/${p.rerank}`)).toEqual([1, 2, 4, 8, 16, 32, 64].flatMap((n) => [10, 40, 160].map((d) => `${n}/${d}`)));
    for (let i = 0; i < sweep.length; i += 3) expect(sweep[i + 2]!.recall).toBeGreaterThanOrEqual(sweep[i]!.recall - 0.01);
    expect(sweep.at(-1)!.recall).toBeGreaterThan(0.98);
    expect(sweep.every((p) => p.qps > 0)).toBe(true);
  }, 300_000);

  test("plus with rerank 20 passes recall@10 0.5", async () => {
    const r = await ruvectorJson(["bench", ...data, "--rerank", "20"]);
    expect(r).toMatchObject({ variant: "plus", rerankFactor: 20, queries: 200 });
    expect(r.recall).toBeGreaterThan(0.5);
    expect(r.recall).toBeLessThan(1);
  }, 120_000);
});

describe("bad input files: one line on stderr, exit 1", () => {
  const dir = tempDir("ruvector-cli-bad-");
  const good = fvecsBytes(base, DIM);
  const cases: Array<[name: string, file: string, bytes: Uint8Array | string, message: string]> = [
    ["truncated .fvecs", "cut.fvecs", good.subarray(0, good.length - 3), "not a whole number of 12-wide rows (truncated?)"],
    ["text posing as .fvecs", "text.fvecs", "hello, world\n", "invalid row width"],
    ["an .fvecs file posing as .npy", "fvecs.npy", good, "not a .npy file (bad magic)"],
    ["truncated .npy", "cut.npy", npyBytes(base, DIM).subarray(0, 500), "shape (300, 12) needs 14400"],
    ["float64 .npy", "f8.npy", npyBytes(base, DIM, "<f8"), "dtype <f8"],
    ["JSONL cut mid-line", "cut.jsonl", jsonlText(base, DIM).split("\n").slice(0, 3).join("\n").slice(0, -9), "cut.jsonl: line 3: invalid JSON"],
    ["ragged JSONL", "ragged.jsonl", "[1,2,3]\n\n[4,5]\n", "line 3: vector has 2 elements, line 1 has 3"],
    ["JSONL with a string element", "nan.jsonl", '[1,"x"]\n', 'line 1: element 1 is "x", not a finite float32'],
    ["JSONL mixing forms", "mixed.jsonl", '{"id":1,"vector":[1]}\n[2]\n', "line 2: a bare array, but line 1 is an object"],
    ["JSONL with a bad id", "id.jsonl", '{"id":-1,"vector":[1]}\n', 'line 1: "id" must be an integer'],
    ["binary JSONL", "bin.jsonl", good, "not UTF-8 text"],
    ["empty JSONL", "empty.jsonl", "\n\n", "no vectors"],
  ];

  for (const [name, file, bytes, message] of cases) {
    test(`index build on ${name}`, async () => {
      const path = join(dir, file);
      await Bun.write(path, bytes);
      expectOneLineError(await ruvector(["index", "build", path, "-o", join(dir, "out.rvx")]), message);
    });
  }

  test("missing files, non-index files, truncated indexes and mismatched queries", async () => {
    const indexPath = join(dir, "ok.rvx");
    await Bun.write(join(dir, "ok.fvecs"), good);
    expect((await ruvector(["index", "build", join(dir, "ok.fvecs"), "-o", indexPath])).code).toBe(0);
    const indexBytes = await Bun.file(indexPath).bytes();
    await Bun.write(join(dir, "cut.rvx"), indexBytes.subarray(0, indexBytes.length >> 1));
    await Bun.write(join(dir, "q5.fvecs"), fvecsBytes(randomVectors(2, 5), 5));
    await Bun.write(join(dir, "truth.ivecs"), fvecsBytes(new Float32Array(3), 3));

    const failures: Array<[string[], RegExp]> = [
      [["index", "build", join(dir, "absent.fvecs"), "-o", indexPath], /cannot read .*absent\.fvecs: no such file/],
      [["index", "info", join(dir, "absent.rvx")], /absent\.rvx/],
      [["index", "info", join(dir, "ok.fvecs")], /not an index file/],
      [["index", "info", join(dir, "cut.rvx")], /cut\.rvx: truncated/],
      [["index", "search", indexPath, "--query", join(dir, "q5.fvecs")], /dimension mismatch: expected 12, got 5/],
      [["index", "search", indexPath, "--vector", "1,2"], /dimension mismatch: expected 12, got 2/],
      [["index", "build", join(dir, "ok.fvecs"), "-o", join(dir, "no", "such", "dir.rvx")], /no such file or directory/i],
      [["bench", join(dir, "ok.fvecs"), "--queries", join(dir, "q5.fvecs"), "--truth", join(dir, "truth.ivecs")], /queries have 5 dimensions, the base vectors 12/],
      [["bench", join(dir, "ok.fvecs"), "--queries", join(dir, "ok.fvecs"), "--truth", join(dir, "truth.ivecs")], /ground truth has 1 rows for 300 queries/],
    ];
    for (const [args, message] of failures) expectOneLineError(await ruvector(args), message);
  });
});

describe("usage errors exit 2 with the usage line", () => {
  const cases: Array<[args: string[], message: string, usage: string]> = [
    [[], "missing command", "ruvector <command>"],
    [["frobnicate"], "unknown command 'frobnicate'", "ruvector <command>"],
    [["index"], "missing index command", "ruvector index <build|search|info|remove>"],
    [["index", "drop"], "unknown command 'index drop'", "ruvector index <build|search|info|remove>"],
    [["index", "build"], "missing <input>", "ruvector index build <input> -o <out>"],
    [["index", "build", "v.fvecs"], "missing required option --out", "ruvector index build"],
    [["index", "build", "v.fvecs", "-o", "x", "--bogus"], "unknown option '--bogus'", "ruvector index build"],
    [["index", "build", "v.fvecs", "-o", "x", "--variant", "hnsw"], "--variant must be one of plus, ivf, flat, rabitq, asym, got 'hnsw'", "ruvector index build"],
    [["index", "build", "v.fvecs", "-o", "x", "--rerank", "2000"], "--rerank must be an integer in 1..1024, got '2000'", "ruvector index build"],
    [["index", "build", "v.fvecs", "-o", "x", "--seed", "-1"], "--seed", "ruvector index build"],
    [["index", "build", "v.csv", "-o", "x"], "cannot tell the format of 'v.csv'", "ruvector index build"],
    [["index", "search", "i.rvx"], "give --query <file> or --vector <list>", "ruvector index search"],
    [["index", "search", "i.rvx", "--query", "q.fvecs", "--vector", "1"], "not both", "ruvector index search"],
    [["index", "search", "i.rvx", "--vector", "1,,2"], "--vector: element 1 ('') is not a finite float32", "ruvector index search"],
    [["index", "search", "i.rvx", "--vector", "1", "-k", "0"], "-k must be an integer", "ruvector index search"],
    [["index", "search", "i.rvx", "--vector", "-1", "-k", "-3"], "-k must be an integer in 1..2147483647, got '-3'", "ruvector index search"],
    [["index", "info"], "missing <index>", "ruvector index info <index>"],
    [["index", "info", "a.rvx", "b.rvx"], "unexpected argument 'b.rvx'", "ruvector index info"],
    [["bench", "b.fvecs", "--truth", "t.ivecs"], "missing required option --queries", "ruvector bench <base>"],
    [["bench", "b.fvecs", "--queries", "q.fvecs", "--truth", "t.ivecs", "--limit", "ten"], "--limit must be an integer", "ruvector bench"],
    [["bench", "b.fvecs", "--queries", "q.fvecs", "--truth", "t.ivecs", "--sweep"], "--sweep applies to --variant ivf only, not plus", "ruvector bench"],
    [["index", "build", "v.fvecs", "-o", "i", "--nlist", "4"], "--nlist applies to --variant ivf only, not plus", "ruvector index build"],
    [["index", "build", "v.fvecs", "-o", "i", "--variant", "ivf", "--rerank", "5"], "--rerank with --variant ivf needs --store f16 or --store f32 to rerank from", "ruvector index build"],
    [["index", "build", "v.fvecs", "-o", "i", "--variant", "ivf", "--target-recall", "1.5"], "--target-recall must be a number in (0, 1], got '1.5'", "ruvector index build"],
    [["index", "build", "v.fvecs", "-o", "i", "--variant", "ivf", "--store", "f8"], "--store must be one of none, f16, f32, got 'f8'", "ruvector index build"],
    [["index", "build", "v.fvecs", "-o", "i", "--variant", "ivf", "--no-pad"], "--no-pad does not apply to --variant ivf (its rotation always pads)", "ruvector index build"],
    [["version", "--jsn"], "unknown option '--jsn'", "ruvector version"],
    [["help", "nope"], "no help for unknown command 'nope'", "ruvector <command>"],
  ];
  for (const [args, message, usage] of cases) {
    test(`ruvector ${args.join(" ")}`, async () => expectUsageError(await ruvector(args), message, usage));
  }
});

describe("--help", () => {
  const commands: Array<[name: string, options: string[]]> = [
    ["index build", ["-o, --out FILE", "--variant", "--metric", "--rerank", "--seed", "--no-pad", "--target-recall R", "--nlist N", "--nprobe N", "--ex-bits N", "--store KIND", "--json"]],
    ["index search", ["--query FILE", "--vector LIST", "-k N", "--rerank N", "--nprobe N", "--json"]],
    ["index info", ["--json"]],
    ["index remove", ["--ids LIST", "-o, --out FILE", "--ignore-missing", "--json"]],
    ["bench", ["--queries FILE", "--truth FILE", "--variant", "--metric", "--rerank", "--seed", "--no-pad", "--target-recall R", "--sweep", "-k N", "--limit N", "--json"]],
    ["version", ["--json"]],
  ];
  for (const [name, options] of commands) {
    test(`ruvector ${name} --help lists its options; help ${name} and -h print the same`, async () => {
      await expectCommandHelp(name, options);
    });
  }

  test("ruvector --help and help list every command; index --help lists its group", async () => {
    const top = await ruvector(["--help"]);
    expect(top).toMatchObject({ code: 0, stderr: "" });
    for (const [name] of commands) expect(top.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
    expect(top.stdout).toContain("Exit codes: 0 success, 1 runtime or data error, 2 usage error");
    expect(await ruvector(["help"])).toEqual(top);
    const group = await ruvector(["index", "--help"]);
    expect(group).toMatchObject({ code: 0, stderr: "" });
    expect(group.stdout).toStartWith("usage: ruvector index <build|search|info|remove> [options]");
    expect(group.stdout).not.toContain("bench");
    expect(await ruvector(["help", "index"])).toEqual(group);
  });
});

describe("version and the bin entry", () => {
  test("version --json reports the package and native versions and CPU features", async () => {
    const pkg = await Bun.file(join(ROOT, "package.json")).json();
    const v = await ruvectorJson(["version"]);
    expect(v).toEqual({ version: pkg.version, nativeVersion: pkg.version, cpuFeatures: expect.any(Array) });
    for (const feature of v.cpuFeatures) expect(["avx2", "popcnt", "avx512f", "avx512vpopcntdq", "fma", "neon"]).toContain(feature);
    const text = await ruvector(["version"]);
    expect(text.stdout).toStartWith(`ruvector  ${pkg.version}\nnative    ${pkg.version}\ncpu       `);
  });

  test("src/cli.ts is an executable with a bun shebang, as package.json's bin", async () => {
    const pkg = await Bun.file(join(ROOT, "package.json")).json();
    expect(pkg.bin.ruvector).toBe("src/cli.ts");
    expect(await Bun.file(CLI).text()).toStartWith("#!/usr/bin/env bun\n");
    expect(statSync(CLI).mode & 0o111).toBe(0o111);
    const proc = Bun.spawn([CLI, "version", "--json"], {
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(0);
    expect(JSON.parse(await new Response(proc.stdout).text()).version).toBe(pkg.version);
  });
});

test.skipIf(!Bun.which("script"))("progress shows on a terminal only", async () => {
  const dir = tempDir("ruvector-cli-tty-");
  const input = join(dir, "v.fvecs");
  await Bun.write(input, fvecsBytes(base, DIM));
  // script(1) gives the child a pseudo-terminal; its stdout and stderr both arrive on ours.
  const shim = join(dir, "ruvector.sh");
  await Bun.write(shim, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(shim, 0o755);
  const proc = Bun.spawn(["script", "-qec", `${shim} index build ${input} -o ${join(dir, "v.rvx")}`, "/dev/null"], { stdout: "pipe", stderr: "pipe" });
  const [tty, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(code).toBe(0);
  expect(tty).toContain("\r\x1b[Kbuilding plus index over 300 vectors");
  expect(tty).toContain("variant  plus (RabitqPlusIndex)");
  const piped = await ruvector(["index", "build", input, "-o", join(dir, "w.rvx")]);
  expect(piped.stderr).toBe("");
  expect(piped.stdout).not.toContain("\x1b");
});
