/**
 * FsBackend: one `ruvec1` file per collection under a root directory, the
 * format of upstream's `FsBackend`, byte for byte. Its registry (collection →
 * file name) is persisted in the root, so a new instance finds the same
 * collections; upstream kept it in memory only.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, type BigIntStats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { writeFileAtomic } from "../formats.ts";
import { join, resolve } from "node:path";
import { BackendError } from "../errors.ts";
import type { BackendAdapter, BundleInfo, PulledBatch } from "./backend.ts";
import { checkBackendId, checkDim, checkFinite, checkIds, checkSize, checkWrite, collectionScope, fail, type CollectionScope, type Scope, type VectorWrite } from "./validate.ts";

/** First 8 bytes of every `ruvec1` file. */
const MAGIC = new TextEncoder().encode("ruvec1\0\0");
/** magic (8) · u64 count · u32 dim · u32 reserved. */
const HEADER_BYTES = 24;
/** The registry's file name in the root; no collection file may take it. */
const REGISTRY_FILE = "rulake-registry.json";
/** Longest file name most file systems accept, in bytes. */
const MAX_FILENAME_BYTES = 255;

/** What a `ruvec1` header says. */
interface Ruvec1Header {
  count: number;
  dim: number;
}

/** A call's scope with the absolute path of the collection's file. */
type FileScope = CollectionScope & { readonly path: string };

/** An open `ruvec1` file whose header and size agree. */
interface OpenRuvec1 {
  handle: FileHandle;
  header: Ruvec1Header;
  stats: BigIntStats;
}

/** The persisted registry, with the file identity it was read from. */
interface LoadedRegistry {
  files: Map<string, string>;
  identity: string;
}

/**
 * Collections stored as `ruvec1` files (little-endian: magic `ruvec1\0\0`,
 * u64 count, u32 dim, u32 reserved = 0, then count × { u64 id, dim × f32 })
 * in `root`, with a registry `root/rulake-registry.json` naming each
 * collection's file. Writes are atomic (temporary file, fsync, rename); a
 * pull checks the header against the file size before allocating anything.
 */
export class FsBackend implements BackendAdapter {
  /** Unique id of this backend within a lake. */
  readonly id: string;
  /** The root directory, absolute. */
  readonly root: string;
  private registry: LoadedRegistry;

  /** A backend over `root` (created if missing), with the collections its registry names. */
  constructor(id: string, root: string) {
    this.id = checkBackendId(id);
    this.root = resolve(root);
    try {
      mkdirSync(this.root, { recursive: true });
    } catch (error) {
      throw fail({ backend: this.id, source: this.root }, `cannot create the root directory: ${describe(error)}`, error);
    }
    this.registry = this.loadRegistry();
  }

  /** Names of the registered collections. */
  listCollections(): string[] {
    return [...this.files().keys()];
  }

  /** The file name registered for `collection`, or undefined. */
  filenameOf(collection: string): string | undefined {
    return this.files().get(collection);
  }

  /**
   * Writes `collection` to `root/filename` (replacing the whole file
   * atomically: `.{filename}.tmp`, fsync, rename) and registers it.
   */
  async writeAsync(collection: string, filename: string, write: VectorWrite): Promise<void> {
    const scope = this.scopeOf(collection, filename);
    const { ids, vectors, dim } = checkWrite(scope, write);
    const temporary = temporaryName(scope, filename);
    try {
      await writeFileAtomic(scope.path, encodeRuvec1(ids, vectors, dim), temporary);
    } catch (error) {
      throw fail(scope, `cannot write: ${describe(error)}`, error);
    }
    this.saveRegistryEntry(scope, collection, filename);
  }

  /** Registers an existing `ruvec1` file in the root as `collection`, after checking its header. */
  async registerAsync(collection: string, filename: string): Promise<void> {
    const scope = this.scopeOf(collection, filename);
    const file = await openRuvec1(scope, scope.path);
    await file.handle.close();
    this.saveRegistryEntry(scope, collection, filename);
  }

  /** All vectors of `collection`, read from its file. */
  async pullVectors(collection: string): Promise<PulledBatch> {
    const scope = this.fileScope(collection);
    const { handle, header, stats } = await openRuvec1(scope, scope.path);
    try {
      const bytes = await readAll(scope, handle, Number(stats.size));
      return { ...decodeRecords(scope, bytes, header), dim: header.dim, generation: generationOf(stats) };
    } finally {
      await handle.close();
    }
  }

  /** `file://{absolute path}`, dim and generation, from the file's 24-byte header and its metadata. */
  async currentBundle(collection: string): Promise<BundleInfo> {
    const scope = this.fileScope(collection);
    const { handle, header, stats } = await openRuvec1(scope, scope.path);
    await handle.close();
    return { dataRef: `file://${scope.path}`, dim: header.dim, generation: generationOf(stats) };
  }

  /** The scope of a registered collection, naming its file. */
  private fileScope(collection: string): FileScope {
    const scope = collectionScope(this.id, collection);
    const filename = this.files().get(collection);
    if (filename === undefined) throw fail(scope, `unknown collection (not in ${this.registryPath})`);
    return this.scopeOf(collection, filename);
  }

  /** The scope of `collection` stored in `root/filename`, after checking that the name stays inside the root. */
  private scopeOf(collection: string, filename: string): FileScope {
    checkFilename(collectionScope(this.id, collection, `root ${this.root}`), filename);
    const path = join(this.root, filename);
    return { ...collectionScope(this.id, collection), source: `file ${path}`, path };
  }

  private get registryPath(): string {
    return join(this.root, REGISTRY_FILE);
  }

  /** The registry, re-read when its file changed (another instance may have registered). */
  private files(): Map<string, string> {
    if (registryIdentity(this.registryPath) !== this.registry.identity) this.registry = this.loadRegistry();
    return this.registry.files;
  }

  private loadRegistry(): LoadedRegistry {
    const scope = { backend: this.id, source: `registry ${this.registryPath}` };
    const identity = registryIdentity(this.registryPath);
    if (identity === "") return { files: new Map(), identity };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.registryPath, "utf8"));
    } catch (error) {
      throw fail(scope, `cannot read the registry: ${describe(error)}`, error);
    }
    const collections = (parsed as { collections?: unknown } | null)?.collections;
    if (collections === null || typeof collections !== "object" || Array.isArray(collections)) {
      throw fail(scope, 'malformed registry: expected { "collections": { name: filename } }');
    }
    const files = new Map<string, string>();
    for (const [collection, filename] of Object.entries(collections)) {
      checkFilename(collectionScope(this.id, collection, scope.source), filename);
      files.set(collection, filename);
    }
    return { files, identity };
  }

  /** Adds one entry to the registry on disk (merged with what is there now), written atomically. */
  private saveRegistryEntry(scope: Scope, collection: string, filename: string): void {
    const files = new Map(this.files()).set(collection, filename);
    const temporary = join(this.root, `.${REGISTRY_FILE}.tmp`);
    try {
      writeFileSync(temporary, `${JSON.stringify({ format: 1, collections: Object.fromEntries(files) }, null, 2)}\n`, { flush: true });
      renameSync(temporary, this.registryPath);
      syncDirectory(this.root);
    } catch (error) {
      throw fail(scope, `cannot save the registry ${this.registryPath}: ${describe(error)}`, error);
    }
    this.registry = { files, identity: registryIdentity(this.registryPath) };
  }
}

/**
 * The file's state as a generation: mtime in nanoseconds, size and inode.
 * Upstream uses whole seconds and so misses a rewrite within the same second;
 * file-system clocks tick coarsely (milliseconds), so the inode, new on every
 * atomic rewrite, catches back-to-back rewrites of the same size too.
 */
function generationOf(stats: BigIntStats): string {
  return `${stats.mtimeNs}-${stats.size}-${stats.ino}`;
}

/** The registry file's identity (inode, mtime, size), or "" when it does not exist. */
function registryIdentity(path: string): string {
  const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
  return stats === undefined ? "" : generationOf(stats);
}

/** Throws unless `filename` is a plain name inside the root: no separators, no `.`/`..`, no control bytes. */
function checkFilename(scope: Scope, filename: unknown): void {
  const bad = (why: string) => fail(scope, `file name ${JSON.stringify(filename)} ${why}`);
  if (typeof filename !== "string" || filename.length === 0) throw bad("must be a non-empty string");
  if (Buffer.byteLength(filename) > MAX_FILENAME_BYTES) throw bad(`is longer than ${MAX_FILENAME_BYTES} bytes`);
  if (filename === "." || filename === "..") throw bad("would escape the root");
  if (/[\u0000-\u001f\u007f/\\:]/.test(filename)) throw bad('must not contain control bytes, "/", "\\" or ":"');
  if (filename === REGISTRY_FILE || filename === `.${REGISTRY_FILE}.tmp`) throw bad("is the registry's own file");
}

/** `root/.{filename}.tmp`, upstream's temporary name, after checking that it fits the file-name limit too. */
function temporaryName(scope: FileScope, filename: string): string {
  const name = `.${filename}.tmp`;
  if (Buffer.byteLength(name) > MAX_FILENAME_BYTES) {
    throw fail(scope, `file name is too long to write atomically: ".{name}.tmp" must fit in ${MAX_FILENAME_BYTES} bytes (register accepts it)`);
  }
  return join(scope.path, "..", name);
}

/** Opens a `ruvec1` file and checks its header against its size. */
async function openRuvec1(scope: Scope, path: string): Promise<OpenRuvec1> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, "r");
    const stats = await handle.stat({ bigint: true });
    if (!stats.isFile()) throw fail(scope, "not a regular file");
    const head = new Uint8Array(HEADER_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEADER_BYTES, 0);
    const header = parseHeader(scope, head.subarray(0, bytesRead), Number(stats.size));
    return { handle, header, stats };
  } catch (error) {
    await handle?.close();
    throw wrap(scope, "cannot read", error);
  }
}

/** Checks magic, count, dim and the exact file size a header implies. */
function parseHeader(scope: Scope, head: Uint8Array, fileSize: number): Ruvec1Header {
  if (head.length < HEADER_BYTES) throw fail(scope, `truncated: ${fileSize} bytes, a ruvec1 header needs ${HEADER_BYTES}`);
  if (!MAGIC.every((byte, i) => head[i] === byte)) throw fail(scope, "not a ruvec1 file (bad magic)");
  const view = new DataView(head.buffer, head.byteOffset, HEADER_BYTES);
  const count = view.getBigUint64(8, true);
  if (count > 100_000_000n) throw fail(scope, `corrupt header: count ${count} exceeds the limit of 100000000`);
  const header = { count: Number(count), dim: checkDim(scope, view.getUint32(16, true)) };
  // The reserved u32 at offset 20 is ignored on read, as upstream does, so future writers stay readable.
  checkSize(scope, header.count, header.dim);
  const expected = HEADER_BYTES + header.count * recordBytes(header.dim);
  if (fileSize !== expected) {
    throw fail(scope, `${fileSize < expected ? "truncated" : "corrupt"}: ${fileSize} bytes, the header (count ${header.count}, dim ${header.dim}) needs ${expected}`);
  }
  return header;
}

function recordBytes(dim: number): number {
  return 8 + 4 * dim;
}

/** The whole file, read through an open handle (so a concurrent rename cannot swap it). */
async function readAll(scope: Scope, handle: FileHandle, size: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(size);
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
    if (bytesRead === 0) throw fail(scope, `truncated while reading: ${filled} of ${size} bytes`);
    filled += bytesRead;
  }
  return bytes;
}

/**
 * Ids and vectors from a checked file. Vectors are copied as host-order f32,
 * which is the file's little-endian order on every platform Bun runs on.
 */
function decodeRecords(scope: Scope, bytes: Uint8Array, { count, dim }: Ruvec1Header): { ids: Float64Array; vectors: Float32Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rawIds = new BigUint64Array(count);
  const vectors = new Float32Array(count * dim);
  for (let row = 0, offset = HEADER_BYTES; row < count; row++, offset += recordBytes(dim)) {
    rawIds[row] = view.getBigUint64(offset, true);
    vectors.set(new Float32Array(bytes.buffer, bytes.byteOffset + offset + 8, dim), row * dim);
  }
  const ids = checkIds(scope, rawIds);
  checkFinite(scope, vectors, dim, ids);
  return { ids, vectors };
}

/** The `ruvec1` bytes of a collection. */
function encodeRuvec1(ids: Float64Array, vectors: Float32Array, dim: number): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + ids.length * recordBytes(dim));
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setBigUint64(8, BigInt(ids.length), true);
  view.setUint32(16, dim, true);
  view.setUint32(20, 0, true);
  ids.forEach((id, row) => {
    const offset = HEADER_BYTES + row * recordBytes(dim);
    view.setBigUint64(offset, BigInt(id), true);
    new Float32Array(bytes.buffer, offset + 8, dim).set(vectors.subarray(row * dim, (row + 1) * dim));
  });
  return bytes;
}

/** fsyncs a directory, so a rename into it survives a crash. */
function syncDirectory(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** `error` as a BackendError of `scope`: kept if it already is one, else wrapped with `what`. */
function wrap(scope: Scope, what: string, error: unknown): Error {
  return error instanceof BackendError ? error : fail(scope, `${what}: ${describe(error)}`, error);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
