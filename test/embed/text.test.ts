import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClosedError, Embedder, modelInfo } from "../../src/index.ts";
import { independentMiniLM } from "./independent.ts";
import { cacheWith, cosine, MINILM_PADDED, MODELS_CACHE, tempCache } from "./fixtures.ts";
import numpyReference from "./minilm-numpy-reference.json";

const emb = await Embedder.openAsync("all-MiniLM-L6-v2", { cacheDir: MODELS_CACHE });
/** The same weights in the upstream graph layout (every op on the padded batch). */
const padded = Embedder.open("all-MiniLM-L6-v2", { cacheDir: cacheWith("all-MiniLM-L6-v2", MINILM_PADDED) });
afterAll(() => {
  emb.close();
  padded.close();
});

const LONG = Array.from({ length: 400 }, (_, i) => `sentence ${i} talks about vectors, search and retrieval`).join(". ");
const SENTENCES = [
  "A man is eating food.",
  "A man is eating a piece of bread.",
  "The sky is blue.",
  "hello world",
  "",
  "   ",
  "Hello, World! Don't panic: naïve café 123.",
  "Unbelievably tokenization-heavy sentences exist.",
  "Ünïcödé: 東京は日本の首都です。",
  "Emoji 🚀🔥 and math ∑∫√ symbols",
  "Привет, как дела?",
  "مرحبا بالعالم",
  "a",
  "The quick brown fox jumps over the lazy dog.",
  "Vector databases index embeddings for nearest-neighbour search.",
  "RaBitQ quantizes vectors to one bit per dimension with an error bound.",
  "I love my dog.",
  "Stock markets fell sharply on Monday after the announcement.",
  "She plays the violin beautifully.",
  "What is the capital of France?",
  LONG,
  `${LONG} ${LONG}`,
  "new\nlines\tand\ttabs",
  "UPPER CASE and lower case",
];

describe("all-MiniLM-L6-v2 (real weights)", () => {
  test("is a 384-d text model with unit-length outputs", () => {
    expect(emb.dim).toBe(384);
    const v = emb.embed("hello world");
    expect(v.length).toBe(384);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
  });

  test("matches the numpy forward pass of the upstream safetensors", () => {
    for (const c of numpyReference.cases) expect(cosine(emb.embed(c.text), c.embedding)).toBeGreaterThan(0.99999);
  });

  test(`${SENTENCES.length} sentences agree with transformers.js + onnxruntime-node at cosine ≥ 0.999`, async () => {
    const other = await independentMiniLM(MINILM_PADDED);
    const ours = emb.rows(emb.embedBatch(SENTENCES));
    const theirs: Float32Array[] = [];
    for (const s of SENTENCES) theirs.push(...(await other.embed([s])));
    SENTENCES.forEach((s, i) => {
      const c = cosine(ours[i]!, theirs[i]!);
      if (c < 0.999) throw new Error(`sentence ${i} (${JSON.stringify(s.slice(0, 40))}): cosine ${c}`);
    });
    // batched (padded) inputs give the same vectors as one by one
    const batched = await other.embed(SENTENCES.slice(0, 8));
    batched.forEach((v, i) => expect(cosine(ours[i]!, v)).toBeGreaterThan(0.999));
  }, 60_000);

  test("similar sentences are close, unrelated ones are not", () => {
    const [a, b, c] = emb.rows(emb.embedBatch(["A man is eating food.", "A man is eating a piece of bread.", "The sky is blue."]));
    expect(cosine(a!, b!)).toBeGreaterThan(0.7);
    expect(cosine(a!, c!)).toBeLessThan(0.2);
  });

  test("batching and padding do not change a text's vector", () => {
    const alone = emb.embed("I love my dog.");
    const batch = emb.rows(emb.embedBatch(["I love my dog.", LONG, "x"]));
    expect(cosine(alone, batch[0]!)).toBeGreaterThan(0.99999);
  });

  test("edge cases: empty, whitespace, 10k words (truncated), lone surrogates, empty batch", () => {
    for (const t of ["", " \n\t ", "\uD800", "a\uDFFFb"]) {
      const v = emb.embed(t);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    }
    expect(emb.embed("")).toEqual(emb.embed("   "));
    expect(emb.embed("\uD800")).toEqual(emb.embed("\uFFFD"));
    const words = Array.from({ length: 10_000 }, (_, i) => `word${i}`).join(" ");
    expect(emb.embed(words).every(Number.isFinite)).toBe(true);
    expect(emb.embedBatch([]).length).toBe(0);
    expect(() => emb.embedBatch([1 as unknown as string])).toThrow(/text 0 is a number/);
    expect(() => emb.embedBatch("abc" as unknown as string[])).toThrow(/array of strings/);
  });

  test("10k short texts: chunked, bounded memory, same as small batches", async () => {
    const texts = Array.from({ length: 10_000 }, (_, i) => `item ${i % 100}`);
    const rssBefore = process.memoryUsage().rss;
    const out = await emb.embedBatchAsync(texts);
    expect(out.length).toBe(10_000 * 384);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024);
    const check = emb.rows(emb.embedBatch(texts.slice(0, 3)));
    for (let i = 0; i < 3; i++) expect(cosine(emb.rows(out)[i]!, check[i]!)).toBeGreaterThan(0.99999);
    expect(cosine(emb.rows(out)[100]!, check[0]!)).toBeGreaterThan(0.99999);
  }, 120_000);

  test("two embedders used concurrently from async calls give the sequential vectors", async () => {
    const other = await Embedder.openAsync("all-MiniLM-L6-v2", { cacheDir: MODELS_CACHE });
    const a = SENTENCES.slice(0, 12);
    const b = SENTENCES.slice(12);
    const seqA = emb.embedBatch(a);
    const seqB = other.embedBatch(b);
    const [ca, cb, ca2] = await Promise.all([emb.embedBatchAsync(a), other.embedBatchAsync(b), other.embedBatchAsync(a)]);
    expect(ca).toEqual(seqA);
    expect(cb).toEqual(seqB);
    expect(ca2).toEqual(seqA);
    other.close();
  }, 60_000);

  test("closing while an async batch runs is safe; calls after close throw", async () => {
    const other = await Embedder.openAsync("all-MiniLM-L6-v2", { cacheDir: MODELS_CACHE });
    const pending = other.embedBatchAsync(SENTENCES);
    other.close();
    expect((await pending).length).toBe(SENTENCES.length * 384);
    expect(() => other.embed("x")).toThrow(ClosedError);
    expect(() => other.embedBatchAsync(["x"])).toThrow(ClosedError);
  });

  test("openAsync and embedBatchAsync leave the event loop free", async () => {
    let last = performance.now();
    let worst = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 2);
    const other = await Embedder.openAsync("all-MiniLM-L6-v2", { cacheDir: MODELS_CACHE });
    await other.embedBatchAsync(Array.from({ length: 300 }, (_, i) => `sentence number ${i} about nothing much`));
    clearInterval(timer);
    other.close();
    expect(worst).toBeLessThan(100);
  }, 60_000);

  test("the default model file is the padding-free graph", () => {
    const sha = new Bun.CryptoHasher("sha256").update(readFileSync(join(MODELS_CACHE, "all-MiniLM-L6-v2", "model.onnx"))).digest("hex");
    expect(sha).toBe(modelInfo("all-MiniLM-L6-v2").files[0]!.sha256[0]!);
  });

  test("a tampered padding-free graph is refused, naming the file and the pinned hashes", () => {
    const root = join(tempCache(), "all-MiniLM-L6-v2");
    mkdirSync(root, { recursive: true });
    copyFileSync(join(MODELS_CACHE, "all-MiniLM-L6-v2", "tokenizer.json"), join(root, "tokenizer.json"));
    const bytes = readFileSync(join(MODELS_CACHE, "all-MiniLM-L6-v2", "model.onnx"));
    const middle = bytes.length >> 1;
    bytes[middle] = bytes[middle]! ^ 1;
    writeFileSync(join(root, "model.onnx"), bytes);
    const pins = modelInfo("all-MiniLM-L6-v2").files[0]!.sha256;
    expect(() => Embedder.open("all-MiniLM-L6-v2", { cacheDir: join(root, "..") })).toThrow(
      new RegExp(`model\\.onnx failed SHA-256 verification: expected ${pins.join(" or ")}, got [0-9a-f]{64}`),
    );
  });

  test("image calls on a text model ⇒ EmbedError", () => {
    expect(() => emb.embedImage(new Uint8Array(12), { width: 2, height: 2 })).toThrow(/text model: use embed/);
  });
});

/** Texts of 2…256 tokens ("word" is one token), over 256, single-token and unicode ones. */
const EDGE = [
  "",
  "a",
  "word",
  ...[1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 120, 144, 200, 233, 253, 254, 300, 1000].map((k) => Array(k).fill("word").join(" ")),
  "Ünïcödé: 東京は日本の首都です。",
  "Emoji 🚀🔥 and math ∑∫√ symbols",
  "Привет, как дела? مرحبا بالعالم",
  "\uD800 lone surrogate",
];

describe("the padding-free graph equals the upstream layout", () => {
  const agree = (ours: Float32Array[], theirs: Float32Array[], texts: string[], what: string) =>
    texts.forEach((t, i) => {
      const c = cosine(ours[i]!, theirs[i]!);
      if (!(c >= 0.9999)) throw new Error(`${what}: text ${i} (${JSON.stringify(t.slice(0, 30))}): cosine ${c}`);
    });

  test("edge cases one by one and in one batch mixing 2…256 tokens (cosine ≥ 0.9999)", () => {
    const reference = EDGE.map((t) => padded.embed(t));
    agree(EDGE.map((t) => emb.embed(t)), reference, EDGE, "alone");
    agree(emb.rows(emb.embedBatch(EDGE)), reference, EDGE, "mixed batch");
    agree(emb.rows(emb.embedBatch([...EDGE].reverse())).reverse(), reference, EDGE, "reversed batch");
    expect(emb.embed("")).toEqual(emb.embed("   "));
  });

  test(`${SENTENCES.length} sentences and 256 WordNet definitions (cosine ≥ 0.9999)`, async () => {
    const { nounGlosses } = await import("../../examples/wordnet-glosses.ts");
    const texts = [...SENTENCES, ...nounGlosses(256)];
    agree(emb.rows(emb.embedBatch(texts)), padded.rows(padded.embedBatch(texts)), texts, "batch");
  }, 120_000);

  test("the tokenizer truncates over-long texts to 256 tokens keeping [CLS] and [SEP]", () => {
    const long = EDGE.at(-5)!;
    expect(emb.embed(long)).toEqual(emb.embed(Array(254).fill("word").join(" ")));
  });
});
