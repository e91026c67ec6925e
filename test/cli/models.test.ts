/** `ruvector models list|fetch|verify` and the model resolution story: one layout for caches and mirrors, errors that say how to get files. */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Embedder, EmbedError, modelInfo } from "../../src/index.ts";
import { MOBILENET_DIR, MOBILENET_FILE, serveDir, tempCache } from "../embed/fixtures.ts";
import { ruvector, ruvectorJson } from "../support/helpers.ts";

const server = serveDir(MOBILENET_DIR);
afterAll(() => server.stop());

describe("ruvector models", () => {
  test("list is the registry with cache status, the same as embed --list", async () => {
    const env = { RUVECTOR_MODELS_DIR: tempCache() };
    const listed = await ruvectorJson(["models", "list"], { env });
    expect(listed).toEqual(await ruvectorJson(["embed", "--list"], { env }));
    expect(listed.find((m: { name: string }) => m.name === "mobilenetv2")).toMatchObject({ kind: "image", dim: 1280, available: true, cached: false });
  });

  test("fetch --from DIR copies verified files (public or cache layout); verify passes, then fails on a tampered file", async () => {
    const root = tempCache();
    const env = { RUVECTOR_MODELS_DIR: root };
    const fetched = await ruvectorJson(["models", "fetch", "mobilenetv2", "--from", MOBILENET_DIR], { env });
    expect(fetched).toMatchObject({ model: "mobilenetv2", dir: join(root, "mobilenetv2"), files: [{ file: MOBILENET_FILE, status: "ok" }] });
    expect(readdirSync(join(root, "mobilenetv2"))).toEqual([MOBILENET_FILE]);
    // Another machine's cache root works as a source too (files below <model>/).
    const second = tempCache();
    expect((await ruvectorJson(["models", "fetch", "mobilenetv2", "--from", root], { env: { RUVECTOR_MODELS_DIR: second } })).files[0].status).toBe("ok");

    const verified = await ruvectorJson(["models", "verify", "mobilenetv2"], { env });
    expect(verified).toEqual([{ model: "mobilenetv2", files: [expect.objectContaining({ file: MOBILENET_FILE, status: "ok" })] }]);
    const path = join(root, "mobilenetv2", MOBILENET_FILE);
    writeFileSync(path, readFileSync(path).map((x, i) => (i === 99 ? x ^ 1 : x)));
    const bad = await ruvector(["models", "verify"], { env });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`mobilenetv2 +${MOBILENET_FILE.replace(/\./g, "\\.")} +mismatch`));
    expect(bad.stderr).toBe(`ruvector: model files failed verification: mobilenetv2/${MOBILENET_FILE}: mismatch\n`);
  });

  test("fetch --from URL downloads from a mirror; a folder that lacks the files is an error listing where it looked", async () => {
    const root = tempCache();
    const fetched = await ruvectorJson(["models", "fetch", "mobilenetv2", "--from", server.url], { env: { RUVECTOR_MODELS_DIR: root } });
    expect(fetched.files[0].status).toBe("ok");
    const empty = tempCache();
    const run = await ruvector(["models", "fetch", "mobilenetv2", "--from", empty], { env: { RUVECTOR_MODELS_DIR: tempCache() } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${MOBILENET_FILE} is not in ${empty} (looked for ${join(empty, MOBILENET_FILE)}, ${join(empty, "mobilenetv2", MOBILENET_FILE)})`);
  });

  test("usage: fetch needs a model; unknown models list the known ones", async () => {
    expect((await ruvector(["models", "fetch"])).code).toBe(2);
    const unknown = await ruvector(["models", "fetch", "resnet9000"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown model "resnet9000"; known models:');
  });
});

describe("model resolution", () => {
  test("a mirror may serve the cache's flat layout: serving a cache folder works for a model whose public path differs", async () => {
    const minilm = modelInfo("all-MiniLM-L6-v2");
    expect(minilm.files.some((f) => f.urlPath !== f.name)).toBe(true);
    const cache = serveDir(process.env.RUVECTOR_MODELS_DIR!);
    try {
      const cacheDir = tempCache();
      using emb = await Embedder.openAsync("all-MiniLM-L6-v2", { cacheDir, env: { RUVECTOR_MODELS_URL: cache.url } });
      expect(emb.dim).toBe(384);
      const public404 = minilm.files.filter((f) => f.urlPath !== f.name).map((f) => `all-MiniLM-L6-v2/${f.urlPath}`);
      for (const path of public404) expect(cache.hits).toContain(path);
    } finally {
      cache.stop();
    }
  });

  test("an offline download error names the cache folder, both variables and the command that fixes it", async () => {
    const cacheDir = tempCache();
    const err = await Embedder.openAsync("mobilenetv2", { cacheDir, baseUrl: "http://127.0.0.1:9/" }).catch((e) => e);
    expect(err).toBeInstanceOf(EmbedError);
    for (const part of [join(cacheDir, "mobilenetv2"), "RUVECTOR_MODELS_DIR", "RUVECTOR_MODELS_URL", "`ruvector models fetch mobilenetv2 --from <dir>`"]) expect(err.message).toContain(part);
    expect(() => Embedder.open("mobilenetv2", { cacheDir })).toThrow(/missing mobilenet_v2_int8_embedding\.onnx in .*RUVECTOR_MODELS_DIR.*ruvector models fetch mobilenetv2/);
  });

  test("ONNX Runtime is checked before any download", async () => {
    const before = server.hits.length;
    const env = { RUVECTOR_ORT_LIB: "/nope/libonnxruntime.so.1" };
    await expect(Embedder.openAsync("mobilenetv2", { cacheDir: tempCache(), baseUrl: server.url, env })).rejects.toThrow(/RUVECTOR_ORT_LIB points to \/nope/);
    expect(server.hits.length).toBe(before);
  });
});
