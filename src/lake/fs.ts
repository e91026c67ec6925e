/**
 * FsBackend: one `ruvec1` file per collection under a root directory, the
 * format of upstream's `FsBackend`, byte for byte. Its registry (collection →
 * file name) is persisted in the root, so a new instance finds the same
 * collections; upstream kept it in memory only.
 */
import { mkdirSync, statSync, type BigIntStats } from "node:fs";
import { open, rm, type FileHandle } from "node:fs/promises";
import { constants } from "node:fs";
import { writeFileAtomic } from "../formats.ts";
import { parseJsonBounded, readRegularFile, withFileLock } from "../fsio.ts";
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
/** The advisory lock every writer of this root holds while it writes a collection and the registry. */
const LOCK_FILE = ".rulake.lock";
/** Largest registry read: about 60,000 entries of the longest names. */
const MAX_REGISTRY_BYTES = 32 << 20;
/** Checksum sidecars: `.{filename}.ruvsum` beside each file this backend writes. */
const SIDECAR_SUFFIX = ".ruvsum";
const MAX_SIDECAR_BYTES = 4096;

/** One state of a collection file: its size and CRC-32. */
interface Checksum {
  size: number;
  crc32: string;
}
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
   * atomically: a temporary named after this process, fsync, rename) with its
   * checksum sidecar, and registers it. Writers of one root, in this process or
   * others, take turns under an advisory lock.
   */
  async writeAsync(collection: string, filename: string, write: VectorWrite): Promise<void> {
    const scope = this.scopeOf(collection, filename);
    const { ids, vectors, dim } = checkWrite(scope, write);
    const bytes = encodeRuvec1(ids, vectors, dim);
    await this.locked(scope, async () => {
      const checksum = checksumOf(bytes);
      const previous = readChecksums(scope, scope.path).filter((c) => c.size !== checksum.size || c.crc32 !== checksum.crc32);
      let sidecarWritten = false;
      try {
        // Until the rename lands the file may be either state: the sidecar names both.
        await writeFileAtomic(scope.path, bytes, async () => {
          await writeChecksums(scope.path, [checksum, ...previous.slice(0, 1)]);
          sidecarWritten = true;
        });
        await writeChecksums(scope.path, [checksum]);
      } catch (error) {
        if (sidecarWritten) await restoreChecksums(scope.path, previous);
        throw fail(scope, `cannot write: ${describe(error)}`, error);
      }
      await this.saveRegistryEntry(scope, collection, filename);
    });
  }

  /** Registers an existing `ruvec1` file in the root as `collection`, after checking its header, and records its checksum. */
  async registerAsync(collection: string, filename: string): Promise<void> {
    const scope = this.scopeOf(collection, filename);
    await this.locked(scope, async () => {
      const { handle, stats } = await openRuvec1(scope, scope.path);
      let bytes: Uint8Array;
      try {
        bytes = await readAll(scope, handle, Number(stats.size));
      } finally {
        await handle.close();
      }
      await writeChecksums(scope.path, [checksumOf(bytes)]).catch((error) => {
        throw fail(scope, `cannot write the checksum sidecar: ${describe(error)}`, error);
      });
      await this.saveRegistryEntry(scope, collection, filename);
    });
  }

  /** All vectors of `collection`, read from its file and checked against its checksum sidecar when it has one. */
  async pullVectors(collection: string): Promise<PulledBatch> {
    const scope = this.fileScope(collection);
    const { handle, header, stats } = await openRuvec1(scope, scope.path);
    try {
      const bytes = await readAll(scope, handle, Number(stats.size));
      verifyChecksum(scope, scope.path, bytes);
      return { ...decodeRecords(scope, bytes, header), dim: header.dim, generation: generationOf(stats) };
    } finally {
      await handle.close();
    }
  }

  /** Runs `body` holding this root's writer lock. */
  private locked<T>(scope: Scope, body: () => Promise<T>): Promise<T> {
    return withFileLock(join(this.root, LOCK_FILE), body).catch((error) => {
      throw wrap(scope, "cannot lock the root", error);
    });
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
      const text = new TextDecoder().decode(readRegularFile(this.registryPath, MAX_REGISTRY_BYTES, "the registry"));
      parsed = parseJsonBounded(text, "the registry");
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

  /**
   * Adds one entry to the registry on disk, written atomically. Called under
   * the root's lock, after re-reading the registry, so no writer's entry is lost.
   */
  private async saveRegistryEntry(scope: Scope, collection: string, filename: string): Promise<void> {
    this.registry = this.loadRegistry();
    const files = new Map(this.registry.files).set(collection, filename);
    try {
      await writeFileAtomic(this.registryPath, new TextEncoder().encode(`${JSON.stringify({ format: 1, collections: Object.fromEntries(files) }, null, 2)}\n`));
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
  if (filename === REGISTRY_FILE || filename === LOCK_FILE) throw bad("is the registry's own file");
  if (filename.startsWith(".") && filename.endsWith(SIDECAR_SUFFIX)) throw bad(`is a checksum sidecar name (".*${SIDECAR_SUFFIX}")`);
}

/** `.{filename}.ruvsum` beside the file; a name too long for that keeps a prefix and a hash of the rest. */
function sidecarPath(path: string): string {
  const filename = path.slice(path.lastIndexOf("/") + 1);
  let name = `.${filename}${SIDECAR_SUFFIX}`;
  if (Buffer.byteLength(name) > MAX_FILENAME_BYTES) {
    const prefix = Buffer.from(filename).subarray(0, 200).toString("utf8").replace(/\uFFFD$/, "");
    name = `.${prefix}~${Bun.hash.crc32(filename).toString(16).padStart(8, "0")}${SIDECAR_SUFFIX}`;
  }
  return join(path, "..", name);
}

/** Puts back the sidecar a failed write replaced: the previous checksums, or none. */
async function restoreChecksums(path: string, previous: Checksum[]): Promise<void> {
  if (previous.length > 0) await writeChecksums(path, previous).catch(() => undefined);
  else await rm(sidecarPath(path), { force: true });
}

function checksumOf(bytes: Uint8Array): Checksum {
  return { size: bytes.length, crc32: Bun.hash.crc32(bytes).toString(16).padStart(8, "0") };
}

/** The checksums a file's sidecar accepts; none when it has no sidecar (a file written by upstream). */
function readChecksums(scope: Scope, path: string): Checksum[] {
  let text: string;
  try {
    text = new TextDecoder().decode(readRegularFile(sidecarPath(path), MAX_SIDECAR_BYTES, "the checksum sidecar"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw wrap(scope, "cannot read the checksum sidecar", error);
  }
  let parsed: unknown;
  try {
    parsed = parseJsonBounded(text, "the checksum sidecar");
  } catch (error) {
    throw wrap(scope, "corrupt checksum sidecar", error);
  }
  const checksums = (parsed as { checksums?: unknown } | null)?.checksums;
  const valid = (c: any): c is Checksum => Number.isSafeInteger(c?.size) && typeof c?.crc32 === "string" && /^[0-9a-f]{8}$/.test(c.crc32);
  if (!Array.isArray(checksums) || !checksums.every(valid)) {
    throw fail(scope, `corrupt checksum sidecar ${sidecarPath(path)}: expected { "checksums": [{ size, crc32 }] }`);
  }
  return checksums;
}

function writeChecksums(path: string, checksums: Checksum[]): Promise<void> {
  return writeFileAtomic(sidecarPath(path), new TextEncoder().encode(`${JSON.stringify({ format: 1, checksums })}\n`));
}

/** Throws unless `bytes` match a checksum the file's sidecar records (a file without a sidecar is not checked). */
function verifyChecksum(scope: Scope, path: string, bytes: Uint8Array): void {
  const accepted = readChecksums(scope, path);
  if (accepted.length === 0) return;
  const actual = checksumOf(bytes);
  if (accepted.some((c) => c.size === actual.size && c.crc32 === actual.crc32)) return;
  const recorded = accepted.map((c) => `${c.crc32} (${c.size} bytes)`).join(" or ");
  throw fail(scope, `checksum mismatch: the file's CRC-32 is ${actual.crc32} (${actual.size} bytes), its sidecar ${sidecarPath(path)} records ${recorded} (file corrupted, or replaced by a writer that does not keep the sidecar)`);
}

/** Opens a `ruvec1` file and checks its header against its size. */
async function openRuvec1(scope: Scope, path: string): Promise<OpenRuvec1> {
  let handle: FileHandle | undefined;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait forever for a writer.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
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

/** `error` as a BackendError of `scope`: kept if it already is one, else wrapped with `what`. */
function wrap(scope: Scope, what: string, error: unknown): Error {
  return error instanceof BackendError ? error : fail(scope, `${what}: ${describe(error)}`, error);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
