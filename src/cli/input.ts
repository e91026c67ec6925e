/** Reading vector, query and ground-truth files; the parser is chosen by extension. */
import { extname } from "node:path";
import { parseFvecs, parseIvecs, parseJsonl, parseNpy, type Matrix } from "../formats.ts";
import { InputError, UsageError } from "./failures.ts";

/** Vectors from a file, with the ids it gave (JSONL objects) or undefined for 0..n−1. */
export interface VectorFile extends Matrix<Float32Array> {
  ids: number[] | undefined;
}

const VECTOR_PARSERS: Readonly<Record<string, (bytes: Uint8Array, what: string) => VectorFile>> = {
  ".fvecs": (bytes, what) => ({ ...parseFvecs(bytes, what), ids: undefined }),
  ".npy": (bytes, what) => ({ ...parseNpy(bytes, what), ids: undefined }),
  ".jsonl": parseJsonl,
  ".ndjson": parseJsonl,
};

/** The file extensions {@link readVectors} understands, for help texts. */
export const VECTOR_EXTENSIONS = Object.keys(VECTOR_PARSERS);

/** Reads a `.fvecs`, `.npy` or `.jsonl` file of vectors. */
export async function readVectors(path: string): Promise<VectorFile> {
  const parse = VECTOR_PARSERS[extname(path).toLowerCase()];
  if (!parse) {
    throw new UsageError(`cannot tell the format of '${path}': expected one of ${VECTOR_EXTENSIONS.join(", ")}`);
  }
  return parse(await readBytes(path), path);
}

/** Reads exact nearest-neighbour ids (`.ivecs`, one row per query). */
export async function readTruth(path: string): Promise<Matrix<Int32Array>> {
  return parseIvecs(await readBytes(path), path);
}

/** Views of each row of `m`. */
export function rowsOf(m: Matrix<Float32Array>): Float32Array[] {
  return Array.from({ length: m.rows }, (_, i) => m.data.subarray(i * m.dim, (i + 1) * m.dim));
}

/** The first `limit` rows of `m` (all of them when `limit` is undefined), sharing its memory. */
export function firstRows(m: Matrix<Float32Array>, limit: number | undefined): Matrix<Float32Array> {
  const rows = Math.min(m.rows, limit ?? m.rows);
  return { data: m.data.subarray(0, rows * m.dim), rows, dim: m.dim };
}

/** Parses a comma-separated vector such as `0.1,0.2,-1e-3`. */
export function parseVectorList(text: string): Float32Array {
  const parts = text.split(",").map((s) => s.trim());
  const values = parts.map(Number);
  const bad = parts.findIndex((s, i) => s === "" || !Number.isFinite(Math.fround(values[i]!)));
  if (bad >= 0) throw new UsageError(`--vector: element ${bad} ('${parts[bad]}') is not a finite float32`);
  return Float32Array.from(values);
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await Bun.file(path).bytes();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (err as Error).message;
    throw new InputError(`cannot read ${path}: ${reason}`);
  }
}
