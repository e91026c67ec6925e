/**
 * The model registry, as the native library declares it: names, kinds,
 * dimensions and every file with its pinned SHA-256.
 */
import { EmbedError } from "../errors.ts";
import { lib, readString } from "../ffi.ts";

/** One file of a model. */
export interface ModelFileInfo {
  /** File name inside the model's cache folder. */
  name: string;
  /** Path relative to the model's download base URL. */
  urlPath: string;
  /** Accepted SHA-256 values (lower-case hex). */
  sha256: string[];
  /** What the file is and where its pinned hashes come from. */
  source: string;
}

/** One model of the registry. */
export interface ModelInfo {
  name: string;
  /** `"text"` (strings → vectors) or `"image"` (RGB/RGBA pixels → vectors). */
  kind: "text" | "image";
  /** Embedding dimension. */
  dim: number;
  /** Text models: `"mean"` or `"cls"` pooling; `null` for images. */
  pooling: "mean" | "cls" | null;
  /** Text: maximum tokens incl. special tokens; image: the square input side. */
  maxLength: number;
  files: ModelFileInfo[];
  /** Default download base (`{revision}` is substituted), or null when there is no public source. */
  baseUrl: string | null;
  /** Why the model cannot be used, or null when it can. */
  unavailable: string | null;
}

let cached: ModelInfo[] | undefined;

/** Every model the library knows, available or not. */
export function models(): ModelInfo[] {
  cached ??= JSON.parse(readString(lib().ruv_embed_registry)) as ModelInfo[];
  return cached;
}

/** The registry entry for `name`; throws {@link EmbedError} listing the known names. */
export function modelInfo(name: string): ModelInfo {
  const found = models().find((m) => m.name === name);
  if (!found) throw new EmbedError(`unknown model "${name}"; known models: ${models().map((m) => m.name).join(", ")}`);
  return found;
}
