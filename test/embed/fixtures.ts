/** Shared fixtures of the embedding tests: real model files, a local file server, PNG decoding. */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { SHARED } from "../support/datasets.ts";

export const MOBILENET_DIR = join(SHARED, "models", "mobilenet_v2-imagenet-int8");
export const MINILM_DIR = join(SHARED, "models", "all-MiniLM-L6-v2");
export const MOBILENET_FILE = "mobilenet_v2_int8_embedding.onnx";

/** A fresh, empty cache root. */
export function tempCache(): string {
  return mkdtempSync(join(tmpdir(), "ruv-embed-"));
}

/** A local HTTP server for model files; `override` may replace a file's bytes. */
export interface FileServer {
  url: string;
  hits: string[];
  override: Map<string, Uint8Array | number>;
  stop(): void;
}

/** Serves `dir` on 127.0.0.1 (a number in `override` answers with that HTTP status). */
export function serveDir(dir: string): FileServer {
  const hits: string[] = [];
  const override = new Map<string, Uint8Array | number>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = decodeURIComponent(new URL(req.url).pathname).replace(/^\/+/, "");
      hits.push(path);
      const o = override.get(path);
      if (typeof o === "number") return new Response("no", { status: o });
      if (o) return new Response(o);
      const file = Bun.file(join(dir, path));
      return file.size > 0 ? new Response(file) : new Response("not found", { status: 404 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/`, hits, override, stop: () => server.stop(true) };
}

/** Decodes a PNG into interleaved RGB (or RGBA with `alpha`) bytes. */
export async function decodePng(path: string, alpha = false): Promise<{ pixels: Uint8Array; width: number; height: number }> {
  let img = sharp(path).removeAlpha();
  if (alpha) img = img.ensureAlpha();
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

interface Reference {
  images: Record<string, { top5: { index: number }[]; embedding_full?: number[]; embedding_first8: number[] }>;
}

/** `test/reference_outputs.json` of the MobileNetV2 model. */
export const reference: Reference = JSON.parse(readFileSync(join(MOBILENET_DIR, "test", "reference_outputs.json"), "utf8"));

/** The exactly preprocessed chelsea tensor, [1, 3, 224, 224]. */
export function chelseaTensor(): Float32Array {
  const bytes = readFileSync(join(MOBILENET_DIR, "test", "chelsea_224_nchw_f32.bin"));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** The repository root. */
export const REPO = join(import.meta.dir, "..", "..");

/** The model cache scripts/fetch-models fills (real all-MiniLM-L6-v2, converted from the pinned safetensors). */
export const MODELS_CACHE = process.env.RUVECTOR_MODELS_DIR ?? join(REPO, ".cache", "models");

/** scripts/fetch-models' sources: the upstream model.safetensors and model-padded.onnx (the upstream graph layout). */
export const MINILM_SRC = join(REPO, ".cache", "minilm-src");

/** The fp32 graph in the upstream layout (every op on the padded batch), converted from the same weights. */
export const MINILM_PADDED = join(MINILM_SRC, "model-padded.onnx");

/** A model cache folder holding `modelFile` as `model` 's model.onnx (a symlink) and its tokenizer. */
export function cacheWith(model: string, modelFile: string): string {
  const root = tempCache();
  mkdirSync(join(root, model));
  symlinkSync(modelFile, join(root, model, "model.onnx"));
  symlinkSync(join(MINILM_DIR, "tokenizer.json"), join(root, model, "tokenizer.json"));
  return root;
}
