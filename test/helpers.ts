/** Shared test utilities: seeded data and child processes. */
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";

export const ROOT = join(import.meta.dir, "..");

/** Deterministic PRNG (mulberry32) in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n × dim vectors in [-1, 1), deterministic for a seed. */
export function randomVectors(n: number, dim: number, seed = 1): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = next() * 2 - 1;
  return out;
}

/** Row `i` of a flat n × dim array, as a view. */
export function row(data: Float32Array, dim: number, i: number): Float32Array {
  return data.subarray(i * dim, (i + 1) * dim);
}

/** A fresh temporary directory. */
export function tempDir(prefix = "ruvector-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs a TypeScript snippet in a fresh Bun process from the repo root. */
export async function runBun(code: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = tempDir("ruvector-child-");
  const file = join(dir, "child.ts");
  await Bun.write(file, code.replaceAll("@ruvector/bun", join(ROOT, "src", "index.ts")));
  const proc = Bun.spawn([process.execPath, file], { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exit] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code: exit, stdout, stderr };
}
