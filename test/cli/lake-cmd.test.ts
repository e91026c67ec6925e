/** `ruvector lake …`, spawned as a real process over a real FsBackend collection in a temp dir. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FsBackend } from "../../src/lake/fs.ts";
import { RuLake } from "../../src/lake/lake.ts";
import { expectCommandHelp, expectOneLineError, expectUsageError, randomVectors, row, ruvector, ruvectorJson, tempDir } from "../support/helpers.ts";

const DIM = 16;
const N = 400;
const vectors = randomVectors(N, DIM, 41);
const ids = Array.from({ length: N }, (_, i) => 9_000_000_000 + 13 * i);

/** A temp FsBackend root holding collection `docs` of backend `fs`, and the flags naming it. */
async function fsCollection(): Promise<{ root: string; flags: string[]; backend: FsBackend }> {
  const root = tempDir("ruvector-cli-lake-");
  const backend = new FsBackend("fs", root);
  await backend.writeAsync("docs", "docs.ruvec", { ids, vectors, dim: DIM });
  return { root, flags: ["--fs-root", root, "--backend", "fs", "--collection", "docs"], backend };
}

describe("publish and refresh", () => {
  test("publish → up-to-date → rewrite → invalidated; missing dir → bundle-missing; tampered sidecar → exit 1", async () => {
    const { root, flags, backend } = await fsCollection();
    const bundle = join(root, "..", `${root.split("/").pop()}-bundle`);
    const published = await ruvectorJson(["lake", "publish", ...flags, "--dir", bundle]);
    expect(published).toEqual({ backend: "fs", collection: "docs", dir: bundle, witness: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // The witness is the lake's own: the API publishing the same collection agrees.
    using lake = RuLake.builder().build();
    lake.registerBackend(new FsBackend("fs", root));
    expect(await lake.publishBundleAsync(["fs", "docs"], tempDir())).toBe(published.witness);

    const upToDate = await ruvectorJson(["lake", "refresh", ...flags, "--dir", bundle]);
    expect(upToDate).toEqual({ backend: "fs", collection: "docs", dir: bundle, result: "up-to-date", witness: published.witness });
    const text = await ruvector(["lake", "refresh", ...flags, "--dir", bundle]);
    expect(text).toMatchObject({ code: 0, stderr: "" });
    expect(text.stdout).toMatch(/^result +up-to-date\n/);

    await backend.writeAsync("docs", "docs.ruvec", { ids: ids.slice(1), vectors: vectors.subarray(DIM), dim: DIM });
    const invalidated = await ruvectorJson(["lake", "refresh", ...flags, "--dir", bundle]);
    expect(invalidated.result).toBe("invalidated");
    expect(invalidated.witness).not.toBe(published.witness);

    const missing = await ruvectorJson(["lake", "refresh", ...flags, "--dir", tempDir()]);
    expect(missing.result).toBe("bundle-missing");

    const sidecar = join(bundle, "table.rulake.json");
    writeFileSync(sidecar, readFileSync(sidecar, "utf8").replace(`"dim": ${DIM}`, `"dim": ${DIM + 1}`));
    expectOneLineError(await ruvector(["lake", "refresh", ...flags, "--dir", bundle]), /witness mismatch/);
  });

  test("--rerank and --seed are part of the witness", async () => {
    const { flags } = await fsCollection();
    const a = await ruvectorJson(["lake", "publish", ...flags, "--dir", tempDir()]);
    const b = await ruvectorJson(["lake", "publish", ...flags, "--dir", tempDir(), "--rerank", "8", "--seed", "7"]);
    expect(b.witness).not.toBe(a.witness);
    const text = await ruvector(["lake", "publish", ...flags, "--dir", tempDir(), "--seed", "7", "--rerank", "8"]);
    expect(text.stdout).toContain(`witness     ${b.witness}\n`);
  });

  test("--engine and --target-recall are part of the witness; stats --warm names the engine", async () => {
    const { flags } = await fsCollection();
    const plus = await ruvectorJson(["lake", "publish", ...flags, "--dir", tempDir()]);
    const ivf = await ruvectorJson(["lake", "publish", ...flags, "--dir", tempDir(), "--engine", "ivf"]);
    const stricter = await ruvectorJson(["lake", "publish", ...flags, "--dir", tempDir(), "--engine", "ivf", "--target-recall", "0.99"]);
    const auto = await ruvectorJson(["lake", "publish", ...flags, "--dir", tempDir(), "--engine", "auto"]);
    expect(new Set([plus.witness, ivf.witness, stricter.witness]).size).toBe(3);
    expect(auto.witness).toBe(plus.witness); // a small collection: auto caches it as Plus
    const saved = tempDir();
    expect((await ruvector(["lake", "save", ...flags, "--dir", saved, "--engine", "ivf"])).code).toBe(0);
    const backend = flags[flags.indexOf("--backend") + 1]!;
    const collection = flags[flags.indexOf("--collection") + 1]!;
    const stats = await ruvectorJson(["lake", "stats", "--warm", saved, "--backend", backend, "--collection", collection]);
    expect(stats.warmed.engine).toBe("ivf");
    expect(stats.warmed.witness).toBe(ivf.witness);
  });

  test("an unknown collection or backend root fails with one line naming it", async () => {
    const { root } = await fsCollection();
    const run = await ruvector(["lake", "refresh", "--fs-root", root, "--backend", "fs", "--collection", "nope", "--dir", tempDir()]);
    expectOneLineError(run, /collection "nope": unknown collection/);
  });
});

describe("save, then search and stats from the saved dir (warm restart)", () => {
  test("search from the saved dir returns the original ids, like the primed lake", async () => {
    const { root, flags } = await fsCollection();
    const saved = join(tempDir(), "saved");
    const summary = await ruvectorJson(["lake", "save", ...flags, "--dir", saved]);
    expect(summary).toEqual({ backend: "fs", collection: "docs", dir: saved, witness: expect.stringMatching(/^[0-9a-f]{64}$/), memoryBytes: expect.any(Number) });
    expect(existsSync(join(saved, "table.rulake.json"))).toBe(true);

    using lake = RuLake.builder().build();
    lake.registerBackend(new FsBackend("fs", root));
    const queries = [3, 150, 399].map((i) => row(vectors, DIM, i));
    const expected = await Promise.all(queries.map(async (q) => (await lake.searchOneAsync(["fs", "docs"], q, 5)).map(({ id, score }) => ({ id, score }))));
    expect(expected.map((hits) => hits[0]!.id)).toEqual([ids[3]!, ids[150]!, ids[399]!]);

    const queryFile = join(tempDir(), "q.jsonl");
    await Bun.write(queryFile, queries.map((q) => JSON.stringify(Array.from(q))).join("\n") + "\n");
    const warm = ["lake", "search", "--dir", saved, "--backend", "fs", "--collection", "docs"];
    const searched = await ruvectorJson([...warm, "--query", queryFile, "-k", "5"]);
    expect(searched).toEqual({ backend: "fs", collection: "docs", k: 5, queries: 3, results: expected });

    const one = await ruvector([...warm, "--vector", Array.from(queries[1]!).join(","), "-k", "1"]);
    expect(one).toMatchObject({ code: 0, stderr: "" });
    expect(one.stdout).toMatch(new RegExp(`^query +rank +id +score\\n0 +1 +${ids[150]} +0\\n$`));

    const allowed = await ruvectorJson([...warm, "--query", queryFile, "-k", "5", "--filter-ids", `${ids[3]},${ids[150]}`]);
    expect(allowed.results.map((hits: { id: number }[]) => new Set(hits.map((h) => h.id)))).toEqual(Array(3).fill(new Set([ids[3]!, ids[150]!])));
    const excluded = await ruvectorJson([...warm, "--vector", Array.from(queries[1]!).join(","), "-k", "3", "--exclude-ids", String(ids[150])]);
    expect(excluded.results[0].map((h: { id: number }) => h.id)).not.toContain(ids[150]);
    expect(excluded.results[0].length).toBe(3);

    const stats = await ruvectorJson(["lake", "stats", "--warm", saved, "--backend", "fs", "--collection", "docs", "--fs-root", root]);
    expect(stats.warmed).toEqual({ backend: "fs", collection: "docs", dir: saved, vectors: N, witness: summary.witness, engine: "plus" });
    expect(stats.stats).toMatchObject({ entries: 1, warmInstalls: 1, primes: 0, hits: 0 });
    expect(stats.stats.bytes).toBeGreaterThan(0);
    expect(stats.collections).toEqual([{ collection: "docs", dim: DIM, dataRef: `file://${join(root, "docs.ruvec")}`, generation: expect.any(String) }]);
    const statsText = await ruvector(["lake", "stats", "--warm", saved, "--backend", "fs", "--collection", "docs"]);
    expect(statsText.stdout).toMatch(/^warmed +fs\/docs from /);
    expect(statsText.stdout).toMatch(/^vectors +400$/m);
    expect(statsText.stdout).toMatch(/^warm installs +1$/m);
  });

  test("a tampered saved bundle or a wrong collection name fails with exit 1", async () => {
    const { flags } = await fsCollection();
    const saved = join(tempDir(), "saved");
    expect((await ruvector(["lake", "save", ...flags, "--dir", saved])).code).toBe(0);
    const other = await ruvector(["lake", "search", "--dir", tempDir(), "--backend", "fs", "--collection", "docs", "--vector", "1"]);
    expectOneLineError(other, /table\.rulake\.json|index\.rbpx|no such file/i);
    const sidecar = join(saved, "table.rulake.json");
    writeFileSync(sidecar, readFileSync(sidecar, "utf8").replace('"rerank_factor": 20', '"rerank_factor": 21'));
    const run = await ruvector(["lake", "search", "--dir", saved, "--backend", "fs", "--collection", "docs", "--vector", Array(DIM).fill(0).join(",")]);
    expectOneLineError(run, /witness/);
  });
});

describe("usage errors exit 2; --help everywhere", () => {
  const fs = ["--fs-root", "/tmp/x", "--backend", "fs", "--collection", "docs"];
  const cases: Array<[args: string[], message: string, usage: string]> = [
    [["lake"], "missing lake command", "ruvector lake <publish|refresh|save|search|stats>"],
    [["lake", "drop"], "unknown command 'lake drop'", "ruvector lake <publish|refresh|save|search|stats>"],
    [["lake", "publish", ...fs], "missing required option --dir", "ruvector lake publish --fs-root"],
    [["lake", "publish", "--dir", "d", "--backend", "fs", "--collection", "c"], "missing required option --fs-root", "ruvector lake publish"],
    [["lake", "refresh", "--fs-root", "r", "--dir", "d", "--collection", "c"], "missing required option --backend", "ruvector lake refresh"],
    [["lake", "save", ...fs, "--dir", "d", "--rerank", "0"], "--rerank must be an integer in 1..1024, got '0'", "ruvector lake save"],
    [["lake", "publish", ...fs, "--dir", "d", "--seed", "x"], "--seed must be an integer", "ruvector lake publish"],
    [["lake", "publish", ...fs, "--dir", "d", "--engine", "hnsw"], "--engine must be one of plus, ivf, auto, got 'hnsw'", "ruvector lake publish"],
    [["lake", "save", ...fs, "--dir", "d", "--target-recall", "1.5"], "--target-recall must be a number in (0, 1], got '1.5'", "ruvector lake save"],
    [["lake", "search", "--dir", "d", "--backend", "fs", "--collection", "c"], "give --query <file> or --vector <list>", "ruvector lake search"],
    [["lake", "search", "--dir", "d", "--backend", "fs", "--collection", "c", "--vector", "1", "-k", "0"], "-k must be an integer", "ruvector lake search"],
    [["lake", "search", "--dir", "d", "--backend", "fs", "--collection", "c", "--vector", "1", "--filter-ids", "1", "--exclude-ids", "2"], "give either --filter-ids or --exclude-ids, not both", "ruvector lake search"],
    [["lake", "stats"], "give --warm <saved>, --fs-root <dir>, or both", "ruvector lake stats"],
    [["lake", "stats", "--warm", "d", "--backend", "fs"], "missing required option --collection", "ruvector lake stats"],
    [["lake", "refresh", ...fs, "--dir", "d", "extra"], "unexpected argument 'extra'", "ruvector lake refresh"],
  ];
  for (const [args, message, usage] of cases) {
    test(`ruvector ${args.join(" ")}`, async () => expectUsageError(await ruvector(args), message, usage));
  }

  const fsOptions = ["--fs-root DIR", "--backend ID", "--collection NAME", "--rerank N", "--seed N", "--dir DIR", "--json"];
  const commands: Array<[name: string, options: string[]]> = [
    ["lake publish", fsOptions],
    ["lake refresh", [...fsOptions, "up-to-date", "invalidated", "bundle-missing"]],
    ["lake save", fsOptions],
    ["lake search", ["--dir DIR", "--backend ID", "--collection NAME", "--query FILE", "--vector LIST", "-k N", "--filter-ids LIST", "--exclude-ids LIST", "--json"]],
    ["lake stats", ["--warm DIR", "--fs-root DIR", "--backend ID", "--collection NAME", "--json"]],
  ];
  for (const [name, options] of commands) {
    test(`ruvector ${name} --help lists its options; help ${name} and -h print the same`, async () => {
      await expectCommandHelp(name, options);
    });
  }

  test("ruvector --help lists the lake commands; lake --help lists its group", async () => {
    const top = await ruvector(["--help"]);
    for (const [name] of commands) expect(top.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
    const group = await ruvector(["lake", "--help"]);
    expect(group).toMatchObject({ code: 0, stderr: "" });
    expect(group.stdout).toStartWith("usage: ruvector lake <publish|refresh|save|search|stats> [options]");
  });
});
