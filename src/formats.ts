/**
 * Readers for the vector file formats the CLI, tests and benchmarks use:
 * TEXMEX `.fvecs` / `.ivecs`, NumPy `.npy` (float32, C order) and gzipped IDX.
 */
import { gunzipSync } from "node:zlib";
import { InvalidArgument } from "./errors.ts";

/** Rows of equal width in one flat typed array. */
export interface Matrix<T extends Float32Array | Int32Array> {
  data: T;
  rows: number;
  dim: number;
}

function vecs(bytes: Uint8Array, what: string): { rows: number; dim: number; view: DataView } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4) throw new InvalidArgument(`${what}: file of ${bytes.byteLength} bytes is too short`);
  const dim = view.getInt32(0, true);
  if (dim <= 0 || dim > 1 << 20) throw new InvalidArgument(`${what}: invalid row width ${dim}`);
  const stride = 4 + 4 * dim;
  if (bytes.byteLength % stride !== 0) {
    throw new InvalidArgument(`${what}: ${bytes.byteLength} bytes is not a whole number of ${dim}-wide rows (truncated?)`);
  }
  const rows = bytes.byteLength / stride;
  for (let r = 0; r < rows; r++) {
    const d = view.getInt32(r * stride, true);
    if (d !== dim) throw new InvalidArgument(`${what}: row ${r} has width ${d}, expected ${dim}`);
  }
  return { rows, dim, view };
}

function readRows<T extends Float32Array | Int32Array>(bytes: Uint8Array, what: string, make: (n: number) => T): Matrix<T> {
  const { rows, dim, view } = vecs(bytes, what);
  const data = make(rows * dim);
  const get = data instanceof Float32Array ? view.getFloat32.bind(view) : view.getInt32.bind(view);
  for (let r = 0; r < rows; r++) {
    const base = r * (dim + 1) * 4 + 4;
    for (let j = 0; j < dim; j++) data[r * dim + j] = get(base + 4 * j, true);
  }
  return { data, rows, dim };
}

/** Parses `.fvecs`: repeated `[int32 dim][dim × float32]`, little-endian. */
export function parseFvecs(bytes: Uint8Array, what = "fvecs"): Matrix<Float32Array> {
  return readRows(bytes, what, (n) => new Float32Array(n));
}

/** Parses `.ivecs`: repeated `[int32 dim][dim × int32]`, little-endian. */
export function parseIvecs(bytes: Uint8Array, what = "ivecs"): Matrix<Int32Array> {
  return readRows(bytes, what, (n) => new Int32Array(n));
}

/** Parses a NumPy `.npy` holding a 1-D or 2-D little-endian float32 array in C order. */
export function parseNpy(bytes: Uint8Array, what = "npy"): Matrix<Float32Array> {
  const magic = "\x93NUMPY";
  if (bytes.byteLength < 10 || String.fromCharCode(...bytes.subarray(0, 6)) !== magic) {
    throw new InvalidArgument(`${what}: not a .npy file (bad magic)`);
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.byteLength) throw new InvalidArgument(`${what}: truncated header`);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1]?.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (descr !== "<f4") throw new InvalidArgument(`${what}: dtype ${descr} is not little-endian float32 ('<f4')`);
  if (fortran) throw new InvalidArgument(`${what}: Fortran-order arrays are not supported`);
  if (!shape || shape.length < 1 || shape.length > 2 || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new InvalidArgument(`${what}: unsupported shape (${shape?.join(", ")}); expected 1-D or 2-D`);
  }
  const [rows, dim] = shape.length === 1 ? [1, shape[0]!] : [shape[0]!, shape[1]!];
  const offset = start + headerLen;
  if (bytes.byteLength - offset !== rows * dim * 4) {
    throw new InvalidArgument(`${what}: data holds ${bytes.byteLength - offset} bytes, shape (${rows}, ${dim}) needs ${rows * dim * 4}`);
  }
  const data = new Float32Array(rows * dim);
  new Uint8Array(data.buffer).set(bytes.subarray(offset));
  return { data, rows, dim };
}

/** Parses gzipped IDX3 image files (Fashion-MNIST): uint8 pixels as float32 rows. */
export function parseIdxImages(gz: Uint8Array, what = "idx"): Matrix<Float32Array> {
  const raw = gunzipSync(gz);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.byteLength < 16 || view.getUint32(0) !== 0x803) throw new InvalidArgument(`${what}: not an IDX3 image file`);
  const [rows, h, w] = [view.getUint32(4), view.getUint32(8), view.getUint32(12)];
  const dim = h * w;
  if (raw.byteLength !== 16 + rows * dim) throw new InvalidArgument(`${what}: truncated (${raw.byteLength} bytes for ${rows} × ${dim})`);
  return { data: Float32Array.from(raw.subarray(16)), rows, dim };
}

/** Vectors read from JSONL, with the ids the lines gave, if any. */
export interface JsonlVectors extends Matrix<Float32Array> {
  /** Ids of `{"id", "vector"}` lines in file order; undefined when the lines are bare arrays. */
  ids: number[] | undefined;
}

interface JsonlRow {
  id: number | undefined;
  vector: number[];
}

function jsonlRow(line: string, at: string): JsonlRow {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new InvalidArgument(`${at}: invalid JSON (${(err as Error).message})`);
  }
  if (Array.isArray(value)) return { id: undefined, vector: jsonlVector(value, at) };
  if (typeof value !== "object" || value === null || !("vector" in value) || !Array.isArray(value.vector)) {
    throw new InvalidArgument(`${at}: expected an array of numbers or an object {"id": n, "vector": [...]}`);
  }
  const id = "id" in value ? value.id : undefined;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
    throw new InvalidArgument(`${at}: "id" must be an integer in 0..2^53-1, got ${JSON.stringify(id)}`);
  }
  return { id, vector: jsonlVector(value.vector, at) };
}

function jsonlVector(values: unknown[], at: string): number[] {
  if (values.length === 0) throw new InvalidArgument(`${at}: empty vector`);
  values.forEach((x, j) => {
    // JSON.parse turns 1e999 into Infinity, and finite doubles can still overflow float32.
    if (typeof x !== "number" || !Number.isFinite(Math.fround(x))) {
      throw new InvalidArgument(`${at}: element ${j} is ${JSON.stringify(x)}, not a finite float32`);
    }
  });
  return values as number[];
}

/**
 * Parses JSONL vectors: one per line, either a JSON array of numbers or an
 * object `{"id": n, "vector": [...]}`, every line in the same form and width.
 * Blank lines are skipped; errors name the 1-based line number.
 */
export function parseJsonl(bytes: Uint8Array, what = "jsonl"): JsonlVectors {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidArgument(`${what}: not UTF-8 text`);
  }
  const values: number[] = [];
  const ids: number[] = [];
  let first: { line: number; dim: number; withIds: boolean } | undefined;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const at = `${what}: line ${i + 1}`;
    const row = jsonlRow(line, at);
    const withIds = row.id !== undefined;
    first ??= { line: i + 1, dim: row.vector.length, withIds };
    if (withIds !== first.withIds) {
      throw new InvalidArgument(`${at}: ${withIds ? "an object" : "a bare array"}, but line ${first.line} is ${first.withIds ? "an object" : "a bare array"}`);
    }
    if (row.vector.length !== first.dim) {
      throw new InvalidArgument(`${at}: vector has ${row.vector.length} elements, line ${first.line} has ${first.dim}`);
    }
    if (row.id !== undefined) ids.push(row.id);
    for (const x of row.vector) values.push(x);
  });
  if (!first) throw new InvalidArgument(`${what}: no vectors`);
  return { data: Float32Array.from(values), rows: values.length / first.dim, dim: first.dim, ids: first.withIds ? ids : undefined };
}
