/**
 * Model files in the local cache: resolved from `~/.cache/ruvector/models/<name>/`
 * (or `RUVECTOR_MODELS_DIR`), downloaded once when missing — streamed, with
 * progress, into a temporary file that is renamed into place only after its
 * SHA-256 matched a pinned value. A bad download is deleted, never cached.
 */
import { existsSync } from "node:fs";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { EmbedError } from "../errors.ts";
import type { ModelFileInfo, ModelInfo } from "./registry.ts";

/** Download progress of one file. */
export interface DownloadProgress {
  model: string;
  file: string;
  /** Bytes received so far. */
  received: number;
  /** Total bytes, when the server said (Content-Length). */
  total: number | undefined;
}

/** Where model files live and where they come from. */
export interface CacheOptions {
  /** Root of the model cache (files go to `<cacheDir>/<model>/`). Default `RUVECTOR_MODELS_DIR`, else `~/.cache/ruvector/models`. */
  cacheDir?: string;
  /** URL of the model's folder to download missing files from. Default `RUVECTOR_MODELS_URL/<model>/`, else the model's public source. */
  baseUrl?: string;
  /** Revision substituted into the model's public source URL. Default `"main"`. Files are verified by pinned hash whatever the revision. */
  revision?: string;
  /** Called as bytes arrive. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Environment to read `RUVECTOR_MODELS_DIR` / `RUVECTOR_MODELS_URL` from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

/** The folder holding `model`'s files. */
export function modelDir(model: string, options: CacheOptions = {}): string {
  const env = options.env ?? process.env;
  const root = options.cacheDir ?? env.RUVECTOR_MODELS_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "ruvector", "models");
  return join(root, model);
}

function sourceUrl(info: ModelInfo, options: CacheOptions): string | undefined {
  const env = options.env ?? process.env;
  const base = options.baseUrl ?? (env.RUVECTOR_MODELS_URL ? `${env.RUVECTOR_MODELS_URL.replace(/\/+$/, "")}/${info.name}/` : undefined);
  const url = base ?? info.baseUrl?.replaceAll("{revision}", encodeURIComponent(options.revision ?? "main"));
  return url && (url.endsWith("/") ? url : `${url}/`);
}

async function download(info: ModelInfo, file: ModelFileInfo, base: string, dest: string, options: CacheOptions): Promise<void> {
  const url = new URL(file.urlPath, base).href;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new EmbedError(`cannot download ${file.name} for ${info.name} from ${url}: ${(e as Error).message}`, { cause: e });
  }
  if (!response.ok || !response.body) {
    throw new EmbedError(`cannot download ${file.name} for ${info.name} from ${url}: HTTP ${response.status}`);
  }
  const total = Number(response.headers.get("content-length")) || undefined;
  const temp = `${dest}.part-${process.pid}-${crypto.randomUUID()}`;
  const out = await open(temp, "w");
  const hasher = new Bun.CryptoHasher("sha256");
  let received = 0;
  let ok = false;
  try {
    for await (const chunk of response.body) {
      hasher.update(chunk);
      await out.write(chunk);
      received += chunk.byteLength;
      options.onProgress?.({ model: info.name, file: file.name, received, total });
    }
    await out.sync();
    const actual = hasher.digest("hex");
    if (!file.sha256.includes(actual)) {
      throw new EmbedError(
        `downloaded ${file.name} for ${info.name} from ${url} failed SHA-256 verification: expected ${file.sha256.join(" or ")}, got ${actual} (${received} bytes); it was deleted, not cached`,
      );
    }
    ok = true;
  } finally {
    await out.close();
    if (!ok) await unlink(temp).catch(() => undefined);
  }
  await rename(temp, dest);
}

/**
 * Makes sure every file of `info` is in its cache folder, downloading the
 * missing ones; returns the folder. Files already there are verified by the
 * native library when the model is opened.
 */
export async function ensureModelFiles(info: ModelInfo, options: CacheOptions = {}): Promise<string> {
  const dir = modelDir(info.name, options);
  const missing = info.files.filter((f) => !existsSync(join(dir, f.name)));
  if (missing.length === 0) return dir;
  const base = sourceUrl(info, options);
  if (!base) {
    const list = missing.map((f) => `${f.name} (sha256 ${f.sha256.join(" or ")})`).join(", ");
    throw new EmbedError(
      `model ${info.name}: missing ${list} in ${dir}, and it has no public download source; pass baseUrl, set RUVECTOR_MODELS_URL, or place the files there`,
    );
  }
  await mkdir(dir, { recursive: true });
  for (const file of missing) await download(info, file, base, join(dir, file.name), options);
  return dir;
}
