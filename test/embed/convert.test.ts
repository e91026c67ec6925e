/**
 * scripts/convert-minilm.py is deterministic: regenerating every graph from the
 * pinned upstream safetensors gives, byte for byte, the files the registry and
 * scripts/fetch-models pin.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modelInfo } from "../../src/index.ts";
import { MINILM_SRC, REPO } from "./fixtures.ts";

const SAFETENSORS = join(MINILM_SRC, "model.safetensors");
const fetchModels = readFileSync(join(REPO, "scripts", "fetch-models"), "utf8");
const pinned = (graph: string) => fetchModels.match(new RegExp(`\\[${graph}\\]=([0-9a-f]{64})`))?.[1];

function convert(args: string[]): { code: number; stderr: string } {
  const run = Bun.spawnSync(["python3", join(REPO, "scripts", "convert-minilm.py"), ...args], {
    env: { ...process.env, PYTHONPATH: join(REPO, ".tools", "py") },
    stderr: "pipe",
  });
  return { code: run.exitCode, stderr: run.stderr.toString() };
}

describe("scripts/convert-minilm.py", () => {
  const cases = [
    ["padfree", modelInfo("all-MiniLM-L6-v2").files[0]!.sha256[0]],
    ["padfree-int8", modelInfo("all-MiniLM-L6-v2-int8").files[0]!.sha256[0]],
    ["padded", modelInfo("all-MiniLM-L6-v2").files[0]!.sha256[2]],
  ] as const;

  for (const [graph, sha] of cases) {
    test(`--graph ${graph} reproduces the pinned ${sha?.slice(0, 8)}… byte for byte`, () => {
      expect(pinned(graph)).toBe(sha);
      const dir = mkdtempSync(join(tmpdir(), "ruv-convert-"));
      try {
        const out = join(dir, "model.onnx");
        expect(convert(["--graph", graph, SAFETENSORS, out])).toMatchObject({ code: 0, stderr: "" });
        expect(new Bun.CryptoHasher("sha256").update(readFileSync(out)).digest("hex")).toBe(sha!);
        expect(readdirSync(dir)).toEqual(["model.onnx"]); // written atomically, no temporary left
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  }

  test("bad arguments and a missing input fail with a message, writing nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "ruv-convert-"));
    try {
      const bad = convert(["--graph", "sparse", SAFETENSORS, join(dir, "x.onnx")]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("invalid choice: 'sparse'");
      expect(convert([SAFETENSORS, join(dir, "x.onnx"), "tokens.json"]).stderr).toContain("give both TOKENS.json and OUT_REF.json");
      const missing = convert([join(dir, "nope.safetensors"), join(dir, "x.onnx")]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain("nope.safetensors");
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
