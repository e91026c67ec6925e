/** Reading and writing vector files, and reading texts to embed; the format is chosen by extension. */
import { extname } from "node:path";
import {
  encodeFvecs,
  encodeJsonl,
  encodeNpy,
  parseFvecs,
  parseIvecs,
  parseJsonl,
  parseNpy,
  parseTextJsonl,
  parseTextLines,
  writeFileAtomic,
  type Matrix,
  type Texts,
} from "../formats.ts";
import { describeFsError } from "../fsio.ts";
import { InputError, UsageError } from "./failures.ts";

/** Vectors from a file, with the ids it gave (JSONL objects) or undefined for 0..n−1. */
export interface VectorFile extends Matrix<Float32Array> {
  ids: number[] | undefined;
}

interface VectorFormat {
  parse(bytes: Uint8Array, what: string): VectorFile;
  /** Encodes rows, with their ids where the format has a place for them. */
  encode(vectors: Matrix<Float32Array>, ids: number[] | undefined): Uint8Array;
  /** Whether the format stores ids (JSONL); the others store rows 0..n−1. */
  keepsIds: boolean;
}

const JSONL: VectorFormat = { parse: parseJsonl, encode: encodeJsonl, keepsIds: true };

const VECTOR_FORMATS: Readonly<Record<string, VectorFormat>> = {
  ".fvecs": { parse: (bytes, what) => ({ ...parseFvecs(bytes, what), ids: undefined }), encode: encodeFvecs, keepsIds: false },
  ".npy": { parse: (bytes, what) => ({ ...parseNpy(bytes, what), ids: undefined }), encode: encodeNpy, keepsIds: false },
  ".jsonl": JSONL,
  ".ndjson": JSONL,
};

/** The file extensions {@link readVectors} and {@link vectorWriter} understand, for help texts. */
export const VECTOR_EXTENSIONS = Object.keys(VECTOR_FORMATS);

function vectorFormat(path: string): VectorFormat {
  const format = VECTOR_FORMATS[extname(path).toLowerCase()];
  if (!format) throw new UsageError(`cannot tell the format of '${path}': expected one of ${VECTOR_EXTENSIONS.join(", ")}`);
  return format;
}

/** Reads a `.fvecs`, `.npy` or `.jsonl` file of vectors. */
export async function readVectors(path: string): Promise<VectorFile> {
  return vectorFormat(path).parse(await readBytes(path), path);
}

/** Writes vectors to a file, atomically, in the format its extension names. */
export interface VectorWriter {
  /** Whether the format stores ids (JSONL); the others store rows 0..n−1. */
  readonly keepsIds: boolean;
  write(vectors: VectorFile): Promise<void>;
}

/**
 * A writer for `path` in the format its extension names (one of
 * {@link VECTOR_EXTENSIONS}); a usage error now, before any work, if there is none.
 */
export function vectorWriter(path: string): VectorWriter {
  const format = vectorFormat(path);
  return {
    keepsIds: format.keepsIds,
    async write(vectors) {
      const bytes = format.encode(vectors, vectors.ids);
      try {
        await writeFileAtomic(path, bytes);
      } catch (err) {
        throw new InputError(`cannot write ${path}: ${describeFsError(err)}`);
      }
    },
  };
}

const TEXT_JSONL_EXTENSIONS = [".jsonl", ".ndjson"];

/**
 * Reads texts to embed from `path`, or from stdin when it is `-`: JSONL objects
 * `{"text": …}` for `.jsonl`/`.ndjson` files, otherwise one text per line.
 */
export async function readTexts(path: string): Promise<Texts> {
  if (path === "-") return parseTextLines(await Bun.stdin.bytes(), "stdin");
  const parse = TEXT_JSONL_EXTENSIONS.includes(extname(path).toLowerCase()) ? parseTextJsonl : parseTextLines;
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
    throw new InputError(`cannot read ${path}: ${describeFsError(err)}`);
  }
}
