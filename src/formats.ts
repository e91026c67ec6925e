/**
 * Readers and writers for the vector file formats the CLI, tests and benchmarks
 * use: TEXMEX `.fvecs` / `.ivecs`, NumPy `.npy` (float32, C order), JSONL and
 * gzipped IDX; and readers for texts to embed (plain lines or JSONL).
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { gunzipSync } from "node:zlib";
import { InvalidArgument } from "./errors.ts";
import { describeFsError, FileRefused, readRegularFile, temporaryPath } from "./fsio.ts";

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

function jsonlRow(value: unknown, at: string): JsonlRow {
  if (Array.isArray(value)) return { id: undefined, vector: jsonlVector(value, at) };
  if (typeof value !== "object" || value === null || !("vector" in value) || !Array.isArray(value.vector)) {
    throw new InvalidArgument(`${at}: expected an array of numbers or an object {"id": n, "vector": [...]}`);
  }
  return { id: jsonlId("id" in value ? value.id : undefined, at), vector: jsonlVector(value.vector, at) };
}

function jsonlId(id: unknown, at: string): number {
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) {
    throw new InvalidArgument(`${at}: "id" must be an integer in 0..2^53-1, got ${JSON.stringify(id)}`);
  }
  return id;
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

/** `bytes` as UTF-8 text; anything else is an error naming `what`. */
function utf8Text(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidArgument(`${what}: not UTF-8 text`);
  }
}

/** The non-blank lines of UTF-8 text (a trailing CR dropped), each with its 1-based line number. */
function textLines(bytes: Uint8Array, what: string): Array<{ line: string; number: number }> {
  const lines: Array<{ line: string; number: number }> = [];
  utf8Text(bytes, what)
    .split("\n")
    .forEach((raw, i) => {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line.trim() !== "") lines.push({ line, number: i + 1 });
    });
  return lines;
}

/** The JSON value of each non-blank line, with `what: line N` to name it in errors. */
function jsonlValues(bytes: Uint8Array, what: string): Array<{ value: unknown; number: number; at: string }> {
  return textLines(bytes, what).map(({ line, number }) => {
    const at = `${what}: line ${number}`;
    try {
      return { value: JSON.parse(line) as unknown, number, at };
    } catch (err) {
      throw new InvalidArgument(`${at}: invalid JSON (${(err as Error).message})`);
    }
  });
}

/**
 * Parses JSONL vectors: one per line, either a JSON array of numbers or an
 * object `{"id": n, "vector": [...]}`, every line in the same form and width.
 * Blank lines are skipped; errors name the 1-based line number.
 */
export function parseJsonl(bytes: Uint8Array, what = "jsonl"): JsonlVectors {
  const values: number[] = [];
  const ids: number[] = [];
  let first: { line: number; dim: number; withIds: boolean } | undefined;
  for (const { value, number, at } of jsonlValues(bytes, what)) {
    const row = jsonlRow(value, at);
    const withIds = row.id !== undefined;
    first ??= { line: number, dim: row.vector.length, withIds };
    if (withIds !== first.withIds) {
      throw new InvalidArgument(`${at}: ${withIds ? "an object" : "a bare array"}, but line ${first.line} is ${first.withIds ? "an object" : "a bare array"}`);
    }
    if (row.vector.length !== first.dim) {
      throw new InvalidArgument(`${at}: vector has ${row.vector.length} elements, line ${first.line} has ${first.dim}`);
    }
    if (row.id !== undefined) ids.push(row.id);
    for (const x of row.vector) values.push(x);
  }
  if (!first) throw new InvalidArgument(`${what}: no vectors`);
  return { data: Float32Array.from(values), rows: values.length / first.dim, dim: first.dim, ids: first.withIds ? ids : undefined };
}

/** Texts to embed, with the ids their lines gave (JSONL) or undefined for 0..n−1. */
export interface Texts {
  texts: string[];
  ids: number[] | undefined;
}

/** Parses plain text, one text per line; blank lines are skipped, a trailing CR is dropped. */
export function parseTextLines(bytes: Uint8Array, what = "text"): Texts {
  const texts = textLines(bytes, what).map(({ line }) => line);
  if (texts.length === 0) throw new InvalidArgument(`${what}: no texts`);
  return { texts, ids: undefined };
}

/**
 * Parses JSONL texts: one object `{"text": "…"}` per line, optionally with an
 * `"id": n` on every line or on none. Other fields are ignored; blank lines are
 * skipped; errors name the 1-based line number.
 */
export function parseTextJsonl(bytes: Uint8Array, what = "jsonl"): Texts {
  const texts: string[] = [];
  const ids: number[] = [];
  let first: { line: number; withIds: boolean } | undefined;
  for (const { value, number, at } of jsonlValues(bytes, what)) {
    if (typeof value !== "object" || value === null || Array.isArray(value) || !("text" in value) || typeof value.text !== "string") {
      throw new InvalidArgument(`${at}: expected an object {"text": "…"} (optionally with "id": n)`);
    }
    const withIds = "id" in value;
    first ??= { line: number, withIds };
    if (withIds !== first.withIds) {
      throw new InvalidArgument(`${at}: ${withIds ? "has" : "lacks"} an "id", but line ${first.line} ${first.withIds ? "has" : "lacks"} one`);
    }
    if (withIds) ids.push(jsonlId(value.id, at));
    texts.push(value.text);
  }
  if (!first) throw new InvalidArgument(`${what}: no texts`);
  return { texts, ids: first.withIds ? ids : undefined };
}

/** Encodes rows as `.fvecs` (what {@link parseFvecs} reads). */
export function encodeFvecs(m: Matrix<Float32Array>): Uint8Array {
  const stride = 4 * (m.dim + 1);
  const bytes = new Uint8Array(m.rows * stride);
  const view = new DataView(bytes.buffer);
  for (let r = 0; r < m.rows; r++) {
    view.setInt32(r * stride, m.dim, true);
    for (let j = 0; j < m.dim; j++) view.setFloat32(r * stride + 4 + 4 * j, m.data[r * m.dim + j]!, true);
  }
  return bytes;
}

/** Encodes rows as a version 1.0 `.npy` of shape `(rows, dim)`, little-endian float32, C order (what {@link parseNpy} reads). */
export function encodeNpy(m: Matrix<Float32Array>): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${m.rows}, ${m.dim}), }`;
  // Magic, version and length take 10 bytes; the header ends in a newline and pads the whole to a multiple of 64.
  const header = dict.padEnd(Math.ceil((10 + dict.length + 1) / 64) * 64 - 10 - 1) + "\n";
  const bytes = new Uint8Array(10 + header.length + 4 * m.rows * m.dim);
  bytes.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  // The data starts 64-byte aligned; like parseNpy, this relies on a little-endian host (every supported target).
  new Float32Array(bytes.buffer, 10 + header.length, m.rows * m.dim).set(m.data.subarray(0, m.rows * m.dim));
  return bytes;
}

/**
 * Encodes rows as JSONL (what {@link parseJsonl} reads): objects
 * `{"id": n, "vector": [...]}` when `ids` are given, else bare arrays. Values
 * are written exactly (a float32 round-trips through its shortest double).
 */
export function encodeJsonl(m: Matrix<Float32Array>, ids?: readonly number[]): Uint8Array {
  if (ids && ids.length !== m.rows) throw new InvalidArgument(`${ids.length} ids for ${m.rows} rows`);
  const lines = Array.from({ length: m.rows }, (_, r) => {
    const vector = Array.from(m.data.subarray(r * m.dim, (r + 1) * m.dim));
    return JSON.stringify(ids ? { id: ids[r], vector } : vector) + "\n";
  });
  return new TextEncoder().encode(lines.join(""));
}

/**
 * Writes `bytes` to `path` atomically: into a temporary file beside it, fsynced,
 * then renamed over `path`, and the directory fsynced. Readers see the old file or the new one, never a
 * part; the temporary file is removed if anything fails. The temporary is named after this process
 * (see {@link temporaryPath}), so one a crash leaves behind is reclaimed by the next write into that
 * directory. `beforeRename` runs once the new bytes are durable, just before they replace `path`.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, beforeRename?: () => Promise<void>): Promise<void> {
  const scratch = temporaryPath(path);
  let renamed = false;
  try {
    const handle = await open(scratch, "wx");
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await beforeRename?.();
    await rename(scratch, path);
    renamed = true;
  } finally {
    if (!renamed) await unlink(scratch).catch(() => undefined);
  }
  // The rename is durable once the directory holding it is synced.
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** A vector file's bytes: a regular file only (a FIFO or device is refused, never read), errors naming the path. */
function readDataFile(path: string): Uint8Array {
  try {
    return readRegularFile(path, Number.MAX_SAFE_INTEGER, path);
  } catch (err) {
    if (err instanceof FileRefused) throw new InvalidArgument(err.message);
    throw new InvalidArgument(`cannot read ${path}: ${describeFsError(err)}`);
  }
}

/**
 * Writes `bytes` to `path` atomically on the calling thread (temporary file
 * beside it, fsync, rename, directory fsync), like {@link writeFileAtomic}.
 */
function writeFileAtomicSync(path: string, bytes: Uint8Array): void {
  const scratch = temporaryPath(path);
  try {
    const fd = openSync(scratch, "wx");
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(scratch, path);
  } catch (err) {
    rmSync(scratch, { force: true });
    throw err;
  }
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Reads a `.fvecs` file (TEXMEX: repeated `[int32 dim][dim × float32]`), e.g. an ANN benchmark's base or query set. */
export function readFvecs(path: string): Matrix<Float32Array> {
  return parseFvecs(readDataFile(path), path);
}

/** Reads a `.ivecs` file (TEXMEX: repeated `[int32 dim][dim × int32]`), e.g. ground-truth neighbour ids. */
export function readIvecs(path: string): Matrix<Int32Array> {
  return parseIvecs(readDataFile(path), path);
}

/** Reads a NumPy `.npy` file holding a 1-D or 2-D little-endian float32 array in C order. */
export function readNpy(path: string): Matrix<Float32Array> {
  return parseNpy(readDataFile(path), path);
}

/** Writes rows as a `.fvecs` file, atomically. */
export function writeFvecs(path: string, m: Matrix<Float32Array>): void {
  writeFileAtomicSync(path, encodeFvecs(m));
}

/** Writes rows as a `.npy` file of shape `(rows, dim)`, float32, atomically. */
export function writeNpy(path: string, m: Matrix<Float32Array>): void {
  writeFileAtomicSync(path, encodeNpy(m));
}
