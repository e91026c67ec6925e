/** What the CLI prints for machines and people: JSON errors, exact numbers, documents beside hits, versions without a library, progress ETA. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFvecs } from "../../src/formats.ts";
import { eta } from "../../src/cli/progress.ts";
import { randomVectors, ruvector, ruvectorJson, tempDir } from "../support/helpers.ts";

const DIM = 8;
const N = 40;
const base = randomVectors(N, DIM, 3);

async function builtIndex(dir: string, flags: string[] = []): Promise<string> {
  const input = join(dir, "base.fvecs");
  writeFvecs(input, { data: base, rows: N, dim: DIM });
  const out = join(dir, "base.rvx");
  const run = await ruvector(["index", "build", input, "-o", out, ...flags]);
  expect(run).toMatchObject({ code: 0, stderr: "" });
  return out;
}

describe("--json failures are one JSON document on stderr", () => {
  test("a runtime error carries the library's error code and exits 1", async () => {
    const dir = tempDir("ruvector-cli-json-");
    const index = await builtIndex(dir);
    const run = await ruvector(["index", "search", index, "--vector", "1,2", "--json"]);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: "" });
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: "DIMENSION_MISMATCH", message: "dimension mismatch: expected 8, got 2" } });
  });

  test("an unreadable input file is code INPUT, naming the file", async () => {
    const run = await ruvector(["index", "build", "/nonexistent/v.fvecs", "-o", "x.rvx", "--json"]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: "INPUT", message: "cannot read /nonexistent/v.fvecs: no such file or directory" } });
  });

  test("a usage error is code USAGE with the command's synopsis and exits 2", async () => {
    const run = await ruvector(["index", "build", "v.fvecs", "--json"]);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 2, stdout: "" });
    expect(JSON.parse(run.stderr)).toEqual({
      error: { code: "USAGE", message: "missing required option --out", usage: "ruvector index build <input> -o <out> [options]" },
    });
  });
});

test("a 64-bit seed prints as an exact JSON integer, not a string", async () => {
  const dir = tempDir("ruvector-cli-seed-");
  const index = await builtIndex(dir, ["--seed", "18446744073709551615"]);
  const run = await ruvector(["index", "info", index, "--json"]);
  expect(run).toMatchObject({ code: 0, stderr: "" });
  expect(run.stdout).toContain('"seed":18446744073709551615,');
  expect(typeof JSON.parse(run.stdout).seed).toBe("number");
});

describe("index search --docs prints each hit's document", () => {
  test("JSONL documents are matched by their ids, in text and JSON output", async () => {
    const dir = tempDir("ruvector-cli-docs-");
    const input = join(dir, "base.jsonl");
    const ids = Array.from({ length: N }, (_, i) => 100 + i);
    await Bun.write(input, ids.map((id, i) => JSON.stringify({ id, vector: Array.from(base.subarray(i * DIM, (i + 1) * DIM)) })).join("\n"));
    const index = join(dir, "docs.rvx");
    expect((await ruvector(["index", "build", input, "-o", index, "--variant", "flat"])).code).toBe(0);
    const docs = join(dir, "docs.jsonl");
    await Bun.write(docs, ids.map((id) => JSON.stringify({ id, text: `document number ${id}\nsecond line` })).join("\n"));
    const query = Array.from(base.subarray(5 * DIM, 6 * DIM)).join(",");

    const json = await ruvectorJson(["index", "search", index, "--vector", query, "-k", "2", "--docs", docs]);
    expect(json.results[0][0]).toEqual({ id: 105, score: 0, document: "document number 105\nsecond line" });
    const text = await ruvector(["index", "search", index, "--vector", query, "-k", "1", "--docs", docs]);
    expect(text.stdout.split("\n")[0]).toMatch(/^query +rank +id +score +document$/);
    expect(text.stdout.split("\n")[1]).toMatch(/^0 +1 +105 +0 +document number 105 second line$/);
  });

  test("plain text lines are documents 0..n-1; a hit with no document is an error naming the id", async () => {
    const dir = tempDir("ruvector-cli-docs-");
    const index = await builtIndex(dir, ["--variant", "flat"]);
    const docs = join(dir, "docs.txt");
    await Bun.write(docs, Array.from({ length: 10 }, (_, i) => `line ${i}`).join("\n"));
    const near = (i: number) => Array.from(base.subarray(i * DIM, (i + 1) * DIM)).join(",");
    const ok = await ruvectorJson(["index", "search", index, "--vector", near(3), "-k", "1", "--docs", docs]);
    expect(ok.results[0][0]).toMatchObject({ id: 3, document: "line 3" });
    const missing = await ruvector(["index", "search", index, "--vector", near(30), "-k", "1", "--docs", docs]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`ruvector: ${docs} has no document for id 30 (it holds 10 documents)\n`);
  });
});

describe("version without a native library", () => {
  const env = { RUVECTOR_LIB: "/nonexistent/libruvector.so" };
  test("prints the package version and why the library is missing, and exits 0", async () => {
    const pkg = await Bun.file(join(import.meta.dir, "..", "..", "package.json")).json();
    const json = await ruvectorJson(["version"], { env });
    expect(json).toEqual({
      version: pkg.version,
      nativeVersion: null,
      cpuFeatures: [],
      nativeError: "RUVECTOR_LIB points to /nonexistent/libruvector.so, which does not exist",
    });
    const text = await ruvector(["version"], { env });
    expect(text).toMatchObject({ code: 0, stderr: "" });
    expect(text.stdout).toStartWith(`ruvector  ${pkg.version}\nnative    missing: RUVECTOR_LIB points to`);
  });
});

test("progress ETA follows the rate so far, and is blank before there is one and at the end", () => {
  expect(eta(0, 0, 100)).toBe("");
  expect(eta(10, 100, 100)).toBe("");
  expect(eta(2, 50, 100)).toBe(" ETA 2s");
  expect(eta(30, 10, 100)).toBe(" ETA 4m30s");
  expect(eta(3600, 1, 3)).toBe(" ETA 2h00m");
});
