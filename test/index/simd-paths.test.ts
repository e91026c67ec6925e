// Every SIMD path (the best one this CPU has vs RUVECTOR_SIMD=scalar, each in its own process
// since the path is chosen once per process) gives bit-identical ids and scores. Runs on the
// arm64 build under qemu too (scripts/test-arm64), where the best path is NEON.
import { expect, test } from "bun:test";
import { cpuFeatures } from "../../src/index.ts";
import { runBun } from "../support/helpers.ts";

const CHILD = `
import { FlatF32Index, IvfRabitqIndex } from "@ruvector/bun";
import { randomVectors } from "${import.meta.dir}/../support/helpers.ts";
const out = [];
for (const dim of [1, 3, 64, 100, 384, 784, 1536]) {
  // 70 rows: partial blocks of 32; 9 lists of 70 leave some lists with one or two rows.
  const data = randomVectors(70, dim, dim);
  const queries = randomVectors(4, dim, dim + 1);
  for (const index of [
    IvfRabitqIndex.build(data, { dim, nlist: 9, exBits: 5, nprobe: 3 }),
    IvfRabitqIndex.build(data, { dim, nlist: 70, metric: "cosine", store: "f16", rerank: 20 }),
    FlatF32Index.build(data, { dim }),
  ]) {
    const r = index.searchBatch(queries, 10, { threads: 1 });
    out.push(index.constructor.name, dim, Array.from(r.ids), Array.from(new Uint32Array(r.scores.buffer)));
    index.close();
  }
}
console.log(JSON.stringify(out));
`;

test("the best SIMD path and the scalar reference give bit-identical ids and scores on every width", async () => {
  const simd = cpuFeatures().filter((f) => f === "avx2" || f === "neon");
  expect(simd.length).toBeGreaterThan(0);
  const [best, scalar] = await Promise.all([runBun(CHILD, { RUVECTOR_SIMD: "" }), runBun(CHILD, { RUVECTOR_SIMD: "scalar" })]);
  expect(best.stderr).toBe("");
  expect(scalar.stderr).toBe("");
  expect(best.code).toBe(0);
  const results = JSON.parse(best.stdout) as unknown[];
  expect(results.length).toBe(7 * 3 * 4);
  expect(JSON.parse(scalar.stdout)).toEqual(results);
}, 600_000);
