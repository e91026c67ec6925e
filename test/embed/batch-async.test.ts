/** embedBatchAsync on large inputs: progress, cancellation through AbortSignal, results equal to embedBatch. */
import { afterAll, describe, expect, test } from "bun:test";
import { EmbedAborted, EmbedError, Embedder, type EmbedProgress } from "../../src/index.ts";
import { cosine, MODELS_CACHE } from "./fixtures.ts";

const emb = await Embedder.openAsync("all-MiniLM-L6-v2", { cacheDir: MODELS_CACHE });
afterAll(() => emb.close());
const corpus = (n: number) => Array.from({ length: n }, (_, i) => `item ${i} of a list about ${i % 7 ? "cats" : "vector search"}`);

describe("embedBatchAsync: progress and cancellation", () => {
  test("reports growing progress ending at the total; vectors equal embedBatch's", async () => {
    const texts = corpus(1500);
    const seen: EmbedProgress[] = [];
    const out = await emb.embedBatchAsync(texts, { onProgress: (p) => seen.push(p), progressIntervalMs: 5 });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toEqual({ done: 1500, total: 1500 });
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.done).toBeGreaterThan(seen[i - 1]!.done);
    const check = [0, 777, 1499];
    const direct = emb.rows(emb.embedBatch(check.map((i) => texts[i]!)));
    check.forEach((i, k) => expect(cosine(emb.rows(out)[i]!, direct[k]!)).toBeGreaterThan(0.99999));
  }, 120_000);

  test("aborting stops the native work and rejects with EmbedAborted; the embedder keeps working", async () => {
    const texts = corpus(20_000);
    const controller = new AbortController();
    const reason = new Error("user pressed stop");
    const started = performance.now();
    const pending = emb.embedBatchAsync(texts, {
      signal: controller.signal,
      progressIntervalMs: 5,
      onProgress: (p) => p.done >= 64 && controller.abort(reason),
    });
    const err = await pending.catch((e) => e);
    expect(err).toBeInstanceOf(EmbedAborted);
    expect(err).toBeInstanceOf(EmbedError);
    expect(err.code).toBe("EMBED_ABORTED");
    expect(err.cause).toBe(reason);
    expect(err.total).toBe(20_000);
    expect(err.done).toBeGreaterThanOrEqual(64);
    expect(err.done).toBeLessThan(20_000);
    expect(err.message).toBe(`embedding aborted after ${err.done} of 20000 texts`);
    expect(performance.now() - started).toBeLessThan(60_000); // all 20k would take minutes
    expect(emb.embedBatch(["still works"]).length).toBe(384);
  }, 120_000);

  test("an already aborted signal rejects at once; bad options ⇒ EmbedError", async () => {
    const signal = AbortSignal.abort("nope");
    const err = await emb.embedBatchAsync(["a", "b"], { signal }).catch((e) => e);
    expect(err).toBeInstanceOf(EmbedAborted);
    expect([err.done, err.total, err.cause]).toEqual([0, 2, "nope"]);
    expect(() => emb.embedBatchAsync(["a"], { progressIntervalMs: 0 })).toThrow(/progressIntervalMs must be a positive number, got 0/);
    expect(() => emb.embedBatchAsync([7 as unknown as string])).toThrow(/text 0 is a number/);
  });
});
