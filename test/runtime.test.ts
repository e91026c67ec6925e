import { expect, test } from "bun:test";
import { FlatF32Index, RabitqPlusIndex } from "../src/index.ts";
import { eventLoopGaps, randomVectors, row, runBun } from "./support/helpers.ts";

test("a 1M × 128 async build never stalls the event loop for more than 50 ms", async () => {
  const dim = 128;
  const n = 1_000_000;
  const vectors = randomVectors(n, dim, 3);
  const build = () => eventLoopGaps(() => RabitqPlusIndex.buildAsync(vectors, { dim }));
  const runs = [await build()];
  // A stall of ours recurs in every build; a loaded machine's preemption of the JS thread does not, so one
  // build over the limit gets a second.
  if (runs[0]!.worstGapMs >= 50) runs.push(await build());
  for (const { result, ticks } of runs) {
    using index = result;
    expect(index.length).toBe(n);
    expect(ticks).toBeGreaterThan(100);
    expect(index.search(row(vectors, dim, 123_456), 1)[0]!.id).toBe(123_456);
  }
  const gaps = runs.map((r) => r.worstGapMs);
  expect(Math.min(...gaps), `worst event-loop gap per build: ${gaps.map((g) => g.toFixed(1)).join(", ")} ms`).toBeLessThan(50);
}, 300_000);

test("the event-loop gap measure sees a stall in the synchronous set-up of an async call", async () => {
  const busy = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  const { worstGapMs } = await eventLoopGaps(async () => {
    busy(80);
    await Bun.sleep(20);
  });
  expect(worstGapMs).toBeGreaterThanOrEqual(80);
});

test("thousands of concurrent async searches all settle with the right results", async () => {
  const dim = 16;
  const data = randomVectors(2000, dim, 4);
  using index = FlatF32Index.build(data, { dim });
  const rounds = await Promise.all(
    Array.from({ length: 5000 }, (_, i) => index.searchAsync(row(data, dim, i % 2000), 1).then((h) => h[0]!.id === i % 2000)),
  );
  expect(rounds.every(Boolean)).toBe(true);
});

test("a pending async call keeps the process alive until it settles", async () => {
  const child = await runBun(`
    import { RabitqPlusIndex } from "@ruvector/bun";
    const v = new Float32Array(200_000 * 64).map(() => Math.random());
    RabitqPlusIndex.buildAsync(v, { dim: 64 }).then((idx) => idx.searchAsync(v.subarray(0, 64), 3)).then((hits) => console.log("settled", hits.length));
  `);
  expect(child.stderr).toBe("");
  expect(child.stdout.trim()).toBe("settled 3");
  expect(child.code).toBe(0);
});

test("hot loops over small, freshly allocated query arrays stay correct after the JIT tiers up", () => {
  const dim = 16;
  const data = randomVectors(1000, dim, 8);
  using index = FlatF32Index.build(data, { dim });
  let wrong = 0;
  for (let i = 0; i < 30_000; i++) {
    const q = data.slice((i % 1000) * dim, (i % 1000 + 1) * dim);
    if (index.search(q, 1)[0]!.id !== i % 1000) wrong++;
  }
  expect(wrong).toBe(0);
});

test("dropping 200k indexes without close() keeps RSS flat once GC runs", async () => {
  const child = await runBun(`
    import { FlatF32Index } from "@ruvector/bun";
    const v = new Float32Array(8 * 32).map((_, i) => Math.cos(i));
    const churn = async (count) => {
      for (let i = 0; i < count; i++) {
        FlatF32Index.build(v, { dim: 32 });
        if (i % 5000 === 4999) { Bun.gc(true); await new Promise((r) => setTimeout(r, 0)); }
      }
      Bun.gc(true); await new Promise((r) => setTimeout(r, 10)); Bun.gc(true); await new Promise((r) => setTimeout(r, 10));
    };
    await churn(20_000);
    const before = process.memoryUsage.rss();
    await churn(200_000);
    const after = process.memoryUsage.rss();
    console.log(JSON.stringify({ before, after }));
  `);
  expect(child.stderr).toBe("");
  const { before, after } = JSON.parse(child.stdout) as { before: number; after: number };
  // One leaked index holds ~1.5 KiB (vectors, ids, bookkeeping): 200k would be ~300 MB.
  expect(after - before).toBeLessThan(64 * 1024 * 1024);
}, 300_000);
