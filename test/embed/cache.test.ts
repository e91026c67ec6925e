import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EmbedError, Embedder, modelDir, models, resolveOrtLibrary, type DownloadProgress } from "../../src/index.ts";
import { MOBILENET_DIR, MOBILENET_FILE, serveDir, tempCache } from "./fixtures.ts";

const server = serveDir(MOBILENET_DIR);
afterAll(() => server.stop());
const GOOD = "7a8a9de7ac2afea4056fae28fbd4286a769e85493fd94a04d5707385707cabb0";

describe("model cache: download once, verify by pinned SHA-256", () => {
  test("downloads a missing model with progress, then loads from the cache without the network", async () => {
    const cacheDir = tempCache();
    const progress: DownloadProgress[] = [];
    const before = server.hits.length;
    const a = await Embedder.openAsync("mobilenetv2", { cacheDir, baseUrl: server.url, onProgress: (p) => progress.push(p) });
    a.close();
    expect(server.hits.slice(before)).toEqual([MOBILENET_FILE]);
    const size = readFileSync(join(MOBILENET_DIR, MOBILENET_FILE)).length;
    expect(progress.at(-1)).toEqual({ model: "mobilenetv2", file: MOBILENET_FILE, received: size, total: size });
    expect(readdirSync(join(cacheDir, "mobilenetv2"))).toEqual([MOBILENET_FILE]);
    const b = await Embedder.openAsync("mobilenetv2", { cacheDir, baseUrl: server.url });
    b.close();
    expect(server.hits.length).toBe(before + 1);
  });

  test("RUVECTOR_MODELS_URL and RUVECTOR_MODELS_DIR are honoured", async () => {
    const root = tempCache();
    const mirror = serveDir(join(MOBILENET_DIR, ".."));
    try {
      const env = { RUVECTOR_MODELS_DIR: root, RUVECTOR_MODELS_URL: mirror.url };
      expect(modelDir("mobilenetv2", { env })).toBe(join(root, "mobilenetv2"));
      // the mirror root serves <model>/<file>; this model's folder is named differently there
      await expect(Embedder.openAsync("mobilenetv2", { env })).rejects.toThrow(/HTTP 404/);
      expect(mirror.hits).toEqual([`mobilenetv2/${MOBILENET_FILE}`]);
    } finally {
      mirror.stop();
    }
  });

  for (const [what, bytes] of [
    ["tampered", (b: Uint8Array) => b.map((x, i) => (i === 1000 ? x ^ 1 : x))],
    ["truncated", (b: Uint8Array) => b.subarray(0, b.length >> 1)],
  ] as const) {
    test(`a ${what} download ⇒ EmbedError naming the file and both hashes; nothing cached`, async () => {
      const cacheDir = tempCache();
      server.override.set(MOBILENET_FILE, bytes(new Uint8Array(readFileSync(join(MOBILENET_DIR, MOBILENET_FILE)))));
      try {
        const err = await Embedder.openAsync("mobilenetv2", { cacheDir, baseUrl: server.url }).catch((e) => e);
        expect(err).toBeInstanceOf(EmbedError);
        expect(err.code).toBe("EMBED");
        expect(err.message).toContain(MOBILENET_FILE);
        expect(err.message).toContain(`expected ${GOOD}, got `);
        expect(readdirSync(join(cacheDir, "mobilenetv2"))).toEqual([]);
      } finally {
        server.override.clear();
      }
    });
  }

  test("HTTP error or unreachable server ⇒ EmbedError with the URL", async () => {
    server.override.set(MOBILENET_FILE, 500);
    try {
      await expect(Embedder.openAsync("mobilenetv2", { cacheDir: tempCache(), baseUrl: server.url })).rejects.toThrow(/HTTP 500/);
    } finally {
      server.override.clear();
    }
    await expect(Embedder.openAsync("mobilenetv2", { cacheDir: tempCache(), baseUrl: "http://127.0.0.1:9/" })).rejects.toThrow(
      /cannot download mobilenet_v2_int8_embedding.onnx for mobilenetv2 from http:\/\/127.0.0.1:9\//,
    );
  });

  test("a tampered or truncated cached file ⇒ EmbedError on load; it is not used", async () => {
    const cacheDir = tempCache();
    (await Embedder.openAsync("mobilenetv2", { cacheDir, baseUrl: server.url })).close();
    const path = join(cacheDir, "mobilenetv2", MOBILENET_FILE);
    const good = readFileSync(path);
    writeFileSync(path, good.subarray(0, 1000));
    const err = await Embedder.openAsync("mobilenetv2", { cacheDir }).catch((e) => e);
    expect(err).toBeInstanceOf(EmbedError);
    expect(err.message).toMatch(new RegExp(`model file .*${MOBILENET_FILE} failed SHA-256 verification: expected ${GOOD}, got [0-9a-f]{64}`));
    writeFileSync(path, good.map((x, i) => (i === 5 ? x ^ 0xff : x)));
    await expect(Embedder.openAsync("mobilenetv2", { cacheDir })).rejects.toThrow(/failed SHA-256 verification/);
  });

  test("open opens a cached model on the calling thread and reports a missing one", async () => {
    const cacheDir = tempCache();
    expect(() => Embedder.open("mobilenetv2", { cacheDir })).toThrow(/missing mobilenet_v2_int8_embedding.onnx in /);
    (await Embedder.openAsync("mobilenetv2", { cacheDir, baseUrl: server.url })).close();
    using e = Embedder.open("mobilenetv2", { cacheDir });
    expect(e.dim).toBe(1280);
  });

  test("a missing file with no download source ⇒ EmbedError naming it and its pinned hash", async () => {
    const cacheDir = tempCache();
    await expect(Embedder.openAsync("mobilenetv2", { cacheDir, env: {} })).rejects.toThrow(
      new RegExp(`missing ${MOBILENET_FILE} \\(sha256 ${GOOD}\\) in .*no public download source`),
    );
    expect(existsSync(join(cacheDir, "mobilenetv2"))).toBe(false);
  });

  test("unknown and unavailable models ⇒ EmbedError", async () => {
    await expect(Embedder.openAsync("resnet9000")).rejects.toThrow(/unknown model "resnet9000"; known models: all-MiniLM-L6-v2, all-MiniLM-L6-v2-int8, bge-small-en-v1.5, mobilenetv2, mobilenetv3-small/);
    await expect(Embedder.openAsync("mobilenetv3-small")).rejects.toThrow(/unavailable: no real pretrained weights/);
    await expect(Embedder.openAsync("bge-small-en-v1.5")).rejects.toThrow(/unavailable/);
  });

  test("the registry declares every model with dims and pinned hashes", () => {
    const byName = Object.fromEntries(models().map((m) => [m.name, m]));
    expect(byName["all-MiniLM-L6-v2"]).toMatchObject({ kind: "text", dim: 384, pooling: "mean", maxLength: 256, unavailable: null });
    expect(byName["all-MiniLM-L6-v2-int8"]).toMatchObject({ kind: "text", dim: 384, pooling: "mean", maxLength: 256, unavailable: null });
    expect(byName["bge-small-en-v1.5"]).toMatchObject({ kind: "text", dim: 384, pooling: "cls" });
    expect(byName["mobilenetv2"]).toMatchObject({ kind: "image", dim: 1280, maxLength: 224, unavailable: null });
    expect(byName["mobilenetv3-small"]).toMatchObject({ kind: "image", dim: 576 });
    for (const m of models()) for (const f of m.files) for (const h of f.sha256) expect(h).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("ONNX Runtime resolution", () => {
  test("finds onnxruntime-node's library", () => {
    expect(resolveOrtLibrary({ env: {} })).toMatch(/onnxruntime-node\/bin\/napi-v6\/linux\/x64\/libonnxruntime\.so\.1$/);
  });

  test("absent ⇒ EmbedError saying exactly what to install", () => {
    expect(() => resolveOrtLibrary({ env: {}, searchFrom: [] })).toThrow(
      /ONNX Runtime not found; install ONNX Runtime 1.30: `ONNXRUNTIME_NODE_INSTALL=skip bun add onnxruntime-node@1.30.0`/,
    );
    expect(() => resolveOrtLibrary({ env: { RUVECTOR_ORT_LIB: "/nope/libonnxruntime.so.1" } })).toThrow(/RUVECTOR_ORT_LIB points to \/nope/);
  });

  test("openAsync reports a missing runtime as EmbedError", async () => {
    const cacheDir = tempCache();
    const env = { RUVECTOR_ORT_LIB: "/nope/libonnxruntime.so.1" };
    await expect(Embedder.openAsync("mobilenetv2", { cacheDir, baseUrl: server.url, env })).rejects.toThrow(EmbedError);
  });
});
