/** all-MiniLM-L6-v2-int8: the opt-in dynamic int8 graph, close to the fp32 default. */
import { afterAll, describe, expect, test } from "bun:test";
import { EmbedError, Embedder, modelInfo } from "../../src/index.ts";
import { nounGlosses } from "../../examples/wordnet-glosses.ts";
import { cosine, MODELS_CACHE, tempCache } from "./fixtures.ts";

const fp32 = await Embedder.openAsync("all-MiniLM-L6-v2", { cacheDir: MODELS_CACHE });
const int8 = await Embedder.openAsync("all-MiniLM-L6-v2-int8", { cacheDir: MODELS_CACHE });
afterAll(() => {
  fp32.close();
  int8.close();
});

describe("all-MiniLM-L6-v2-int8", () => {
  test("is a 384-d mean-pooled text model with its own pinned file and no public source", () => {
    expect(int8.dim).toBe(384);
    expect(modelInfo("all-MiniLM-L6-v2-int8")).toMatchObject({ kind: "text", dim: 384, pooling: "mean", maxLength: 256, baseUrl: null, unavailable: null });
    expect(Math.hypot(...int8.embed("hello world"))).toBeCloseTo(1, 5);
  });

  test("stays close to fp32 on 256 WordNet definitions and edge cases (every cosine ≥ 0.95, mean ≥ 0.99)", () => {
    const texts = ["", "a", "Ünïcödé: 東京は日本の首都です。", Array(300).fill("word").join(" "), ...nounGlosses(256)];
    const [a, b] = [fp32.rows(fp32.embedBatch(texts)), int8.rows(int8.embedBatch(texts))];
    const cos = texts.map((_, i) => cosine(a[i]!, b[i]!));
    expect(Math.min(...cos)).toBeGreaterThanOrEqual(0.95);
    expect(cos.reduce((s, c) => s + c, 0) / cos.length).toBeGreaterThanOrEqual(0.99);
  }, 120_000);

  test("ranks like fp32: the nearest definitions of 3 questions agree", () => {
    const docs = nounGlosses(500);
    const top = (e: Embedder, q: string) => {
      const rows = e.rows(e.embedBatch(docs));
      const v = e.embed(q);
      return rows.map((r, i) => [i, cosine(r, v)] as const).sort((x, y) => y[1] - x[1])[0]![0];
    };
    for (const q of ["the star that gives us daylight", "a feline pet that purrs", "money paid to a worker"]) expect(top(int8, q)).toBe(top(fp32, q));
  }, 120_000);

  test("missing files ⇒ EmbedError naming the pinned hash and how to provide them", async () => {
    const pin = modelInfo("all-MiniLM-L6-v2-int8").files[0]!.sha256[0]!;
    await expect(Embedder.openAsync("all-MiniLM-L6-v2-int8", { cacheDir: tempCache(), env: {} })).rejects.toThrow(
      new RegExp(`missing model.onnx \\(sha256 ${pin}\\), tokenizer.json .* no public download source; .*set RUVECTOR_MODELS_URL or pass baseUrl`),
    );
    await expect(Embedder.openAsync("all-MiniLM-L6-v2-int8", { cacheDir: tempCache(), env: {} })).rejects.toBeInstanceOf(EmbedError);
  });
});
