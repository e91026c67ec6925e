import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { EmbedError, Embedder } from "../../src/index.ts";
import { chelseaTensor, cosine, decodePng, MOBILENET_DIR, reference, serveDir, tempCache, type FileServer } from "./fixtures.ts";

let server: FileServer;
let emb: Embedder;

beforeAll(async () => {
  server = serveDir(MOBILENET_DIR);
  emb = await Embedder.openAsync("mobilenetv2", { cacheDir: tempCache(), baseUrl: server.url });
});
afterAll(() => {
  emb.close();
  server.stop();
});

async function top1(input: Float32Array): Promise<number> {
  const session = await ort.InferenceSession.create(join(MOBILENET_DIR, "mobilenet_v2_int8.onnx"));
  const { output } = await session.run({ input: new ort.Tensor("float32", input, [1, 3, 224, 224]) });
  const logits = output!.data as Float32Array;
  return logits.indexOf(Math.max(...logits));
}

describe("mobilenetv2 (real ImageNet weights)", () => {
  test("is a 1280-d image model", () => {
    expect(emb.dim).toBe(1280);
    expect(emb.info.kind).toBe("image");
  });

  test("reproduces the reference embedding from the exact preprocessed tensor", () => {
    const ref = reference.images.chelsea!.embedding_full!;
    const v = emb.embedPreprocessed(chelseaTensor());
    expect(cosine(v, ref)).toBeGreaterThan(0.99999);
    const norm = Math.hypot(...ref);
    for (let i = 0; i < ref.length; i++) expect(Math.abs(v[i]! - ref[i]! / norm)).toBeLessThan(1e-5);
  });

  test("preprocessing matches the PIL reference tensor", async () => {
    const { pixels, width, height } = await decodePng(join(MOBILENET_DIR, "test", "chelsea.png"));
    const ours = emb.preprocessImage(pixels, { width, height });
    const ref = chelseaTensor();
    let sum = 0;
    let max = 0;
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(ours[i]! - ref[i]!);
      sum += d;
      max = Math.max(max, d);
    }
    // PIL rounds to uint8 between its two passes; one step is 1/255/0.225 ≈ 0.017.
    expect(sum / ref.length).toBeLessThan(0.008);
    expect(max).toBeLessThan(0.1);
  });

  test("full pipeline from PNG: top-1 class right, embedding close to the reference", async () => {
    for (const [name, klass] of [["chelsea", 285], ["coffee", 967]] as const) {
      const { pixels, width, height } = await decodePng(join(MOBILENET_DIR, "test", `${name}.png`));
      expect(await top1(emb.preprocessImage(pixels, { width, height }))).toBe(klass);
      expect(reference.images[name]!.top5[0]!.index).toBe(klass);
    }
    const { pixels, width, height } = await decodePng(join(MOBILENET_DIR, "test", "chelsea.png"));
    const v = emb.embedImage(pixels, { width, height });
    expect(cosine(v, reference.images.chelsea!.embedding_full!)).toBeGreaterThan(0.99);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
  });

  test("RGBA gives the RGB result; different photos are far apart", async () => {
    const rgb = await decodePng(join(MOBILENET_DIR, "test", "chelsea.png"));
    const rgba = await decodePng(join(MOBILENET_DIR, "test", "chelsea.png"), true);
    const a = emb.embedImage(rgb.pixels, rgb);
    expect(emb.embedImage(rgba.pixels, rgba)).toEqual(a);
    const coffee = await decodePng(join(MOBILENET_DIR, "test", "coffee.png"));
    expect(cosine(a, emb.embedImage(coffee.pixels, coffee))).toBeLessThan(0.3);
  });

  test("wrong image size or format ⇒ EmbedError naming the expected shape", () => {
    const px = new Uint8Array(10 * 10 * 3);
    expect(() => emb.embedImage(px, { width: 11, height: 10 })).toThrow(/11x10 needs 330 bytes \(RGB, 10x11x3\) or 440 bytes \(RGBA, 10x11x4\), got 300/);
    expect(() => emb.embedImage(px, { width: 0, height: 10 })).toThrow(EmbedError);
    expect(() => emb.embedImage(px, { width: 2.5, height: 10 })).toThrow(/width must be an integer/);
    expect(() => emb.embedImage(new Float32Array(300) as unknown as Uint8Array, { width: 10, height: 10 })).toThrow(/Uint8Array of RGB or RGBA/);
    expect(() => emb.embedPreprocessed(new Float32Array(5))).toThrow(/\[1, 3, 224, 224\] = 150528 floats, got 5/);
  });

  test("tiny and odd-shaped images are resized up, not rejected", () => {
    const v = emb.embedImage(new Uint8Array(3 * 7 * 1).fill(200), { width: 7, height: 1 });
    expect(v.length).toBe(1280);
    expect(v.every(Number.isFinite)).toBe(true);
  });

  test("text calls on an image model ⇒ EmbedError", () => {
    expect(() => emb.embed("a cat")).toThrow(/image model: use embedImage/);
  });

  test("closed embedder throws ClosedError", async () => {
    const other = await Embedder.openAsync("mobilenetv2", { cacheDir: tempCache(), baseUrl: server.url });
    other.close();
    expect(() => other.embedPreprocessed(chelseaTensor())).toThrow(/closed/);
  });
});
