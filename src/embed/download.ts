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

/** Where files come from: a mirror (the caller's, or `RUVECTOR_MODELS_URL`), else the model's public source. */
interface Source {
  url: string;
  /** Mirrors may hold the public layout (`onnx/model.onnx`) or the flat cache layout (`model.onnx`): both are tried. */
  mirror: boolean;
}

function source(info: ModelInfo, options: CacheOptions): Source | undefined {
  const env = options.env ?? process.env;
  const mirror = options.baseUrl ?? (env.RUVECTOR_MODELS_URL ? `${env.RUVECTOR_MODELS_URL.replace(/\/+$/, "")}/${info.name}/` : undefined);
  const url = mirror ?? info.baseUrl?.replaceAll("{revision}", encodeURIComponent(options.revision ?? "main"));
  return url === undefined ? undefined : { url: url.endsWith("/") ? url : `${url}/`, mirror: mirror !== undefined };
}

/** The paths a file may have below a mirror or a local folder: the public layout, then the cache's. */
function layouts(file: ModelFileInfo): string[] {
  return [...new Set([file.urlPath, file.name])];
}

/** What to do when files are missing: where they were looked for and the three ways to provide them. */
export function missingModelHint(model: string, dir: string): string {
  return (
    `model files are looked for in ${dir} (the cacheDir option, else RUVECTOR_MODELS_DIR, else ~/.cache/ruvector/models); ` +
    `to download from a mirror set RUVECTOR_MODELS_URL or pass baseUrl; offline, copy them in with \`ruvector models fetch ${model} --from <dir>\``
  );
}

async function fetchFirst(info: ModelInfo, file: ModelFileInfo, from: Source, dir: string): Promise<{ url: string; response: Response }> {
  const paths = from.mirror ? layouts(file) : [file.urlPath];
  let failure = "";
  for (const path of paths) {
    const url = new URL(path, from.url).href;
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new EmbedError(`cannot download ${file.name} for ${info.name} from ${url}: ${(e as Error).message}; ${missingModelHint(info.name, dir)}`, { cause: e });
    }
    if (response.ok && response.body) return { url, response };
    failure = `${failure}${failure ? ", " : ""}${url}: HTTP ${response.status}`;
    if (response.status !== 404) break;
  }
  throw new EmbedError(`cannot download ${file.name} for ${info.name} (${failure}); ${missingModelHint(info.name, dir)}`);
}

async function download(info: ModelInfo, file: ModelFileInfo, from: Source, dir: string, options: CacheOptions): Promise<void> {
  const { url, response } = await fetchFirst(info, file, from, dir);
  const total = Number(response.headers.get("content-length")) || undefined;
  await writeVerified(info, file, join(dir, file.name), `from ${url}`, async (sink) => {
    let received = 0;
    for await (const chunk of response.body!) {
      await sink(chunk);
      received += chunk.byteLength;
      options.onProgress?.({ model: info.name, file: file.name, received, total });
    }
  });
}

/**
 * Streams a file's bytes into a temporary file beside `dest` and renames it into place only when
 * its SHA-256 is one of the pinned values; otherwise the temporary file is deleted and nothing is cached.
 */
async function writeVerified(info: ModelInfo, file: ModelFileInfo, dest: string, origin: string, produce: (sink: (chunk: Uint8Array) => Promise<void>) => Promise<void>): Promise<void> {
  const temp = `${dest}.part-${process.pid}-${crypto.randomUUID()}`;
  const out = await open(temp, "w");
  const hasher = new Bun.CryptoHasher("sha256");
  let received = 0;
  let ok = false;
  try {
    await produce(async (chunk) => {
      hasher.update(chunk);
      await out.write(chunk);
      received += chunk.byteLength;
    });
    await out.sync();
    const actual = hasher.digest("hex");
    if (!file.sha256.includes(actual)) {
      throw new EmbedError(
        `${file.name} for ${info.name} ${origin} failed SHA-256 verification: expected ${file.sha256.join(" or ")}, got ${actual} (${received} bytes); it was deleted, not cached`,
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
  const from = source(info, options);
  if (!from) {
    const list = missing.map((f) => `${f.name} (sha256 ${f.sha256.join(" or ")})`).join(", ");
    throw new EmbedError(`model ${info.name}: missing ${list} in ${dir}, and it has no public download source; ${missingModelHint(info.name, dir)}`);
  }
  await mkdir(dir, { recursive: true });
  for (const file of missing) await download(info, file, from, dir, options);
  return dir;
}

/** Throws {@link EmbedError} naming the missing files, where they were looked for and how to provide them. */
export function requireCachedFiles(info: ModelInfo, options: CacheOptions = {}): string {
  const dir = modelDir(info.name, options);
  const missing = info.files.filter((f) => !existsSync(join(dir, f.name)));
  if (missing.length > 0) throw new EmbedError(`model ${info.name}: missing ${missing.map((f) => f.name).join(", ")} in ${dir}; ${missingModelHint(info.name, dir)}`);
  return dir;
}

/**
 * Copies `info`'s files from a local folder into the cache, each verified by
 * its pinned SHA-256 on the way. The folder may hold the public layout
 * (`onnx/model.onnx`) or the cache's (`model.onnx`), directly or below a
 * `<model>/` sub-folder — a copy of another machine's cache works. Returns the cache folder.
 */
export async function importModelFilesAsync(info: ModelInfo, from: string, options: CacheOptions = {}): Promise<string> {
  const dir = modelDir(info.name, options);
  await mkdir(dir, { recursive: true });
  for (const file of info.files) {
    const candidates = [from, join(from, info.name)].flatMap((root) => layouts(file).map((p) => join(root, p)));
    const found = candidates.find((p) => existsSync(p));
    if (!found) throw new EmbedError(`model ${info.name}: ${file.name} is not in ${from} (looked for ${candidates.join(", ")})`);
    if (found === join(dir, file.name)) continue;
    await writeVerified(info, file, join(dir, file.name), `copied from ${found}`, async (sink) => {
      for await (const chunk of Bun.file(found).stream()) await sink(chunk);
    });
  }
  return dir;
}

/** One cached file's state: `ok`, `missing`, or `mismatch` (its SHA-256 is not a pinned one). */
export interface ModelFileStatus {
  file: string;
  path: string;
  status: "ok" | "missing" | "mismatch";
  /** The file's SHA-256, when it exists. */
  sha256?: string;
}

/** Hashes every cached file of `info` against its pinned values. */
export async function verifyModelFilesAsync(info: ModelInfo, options: CacheOptions = {}): Promise<ModelFileStatus[]> {
  const dir = modelDir(info.name, options);
  return Promise.all(
    info.files.map(async (file): Promise<ModelFileStatus> => {
      const path = join(dir, file.name);
      if (!existsSync(path)) return { file: file.name, path, status: "missing" };
      const hasher = new Bun.CryptoHasher("sha256");
      for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
      const sha256 = hasher.digest("hex");
      return { file: file.name, path, status: file.sha256.includes(sha256) ? "ok" : "mismatch", sha256 };
    }),
  );
}
