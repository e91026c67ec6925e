/**
 * Safe file access shared by the TypeScript readers and writers, with the same
 * rules as the native ones (`libruvector/src/fsio.rs`): only regular files are
 * read, opened without blocking and refused by size before reading; temporary
 * files are named after their writer so the next write into a directory
 * reclaims those of dead processes; writers of shared files take an advisory
 * lock that dies with its holder.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { check, lib, utf8 } from "./ffi.ts";

/** Why a file was refused; callers wrap the message in their own typed error. */
export class FileRefused extends Error {
  override readonly name = "FileRefused";
}

/** Deepest JSON nesting the library parses; deeper input is refused before `JSON.parse`. */
export const MAX_JSON_DEPTH = 64;

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

/** A file-system error in words, as messages show it (`no such file or directory`, not `ENOENT: …`). */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EISDIR") return "is a directory";
  if (code === "EACCES") return "permission denied";
  return (err as Error).message;
}

/** Opens `path` read-only without blocking (a FIFO would block `open` forever). */
export function openNonBlocking(path: string): number {
  return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
}

/** Throws {@link FileRefused} unless `stats` is a regular file of at most `cap` bytes. */
export function checkRegular(stats: Stats, cap: number, what: string): void {
  if (!stats.isFile()) throw new FileRefused(`${what} is ${kindOf(stats)}; only regular files are read`);
  if (stats.size > cap) throw new FileRefused(`${what} is ${stats.size} bytes, more than the ${cap} it can hold`);
}

/** The bytes of a regular file of at most `cap` bytes; a file that changes size while read is refused. */
export function readRegularFile(path: string, cap: number, what: string): Uint8Array {
  const fd = openNonBlocking(path);
  try {
    const stats = fstatSync(fd);
    checkRegular(stats, cap, what);
    const bytes = new Uint8Array(stats.size + 1);
    let filled = 0;
    for (;;) {
      const n = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (n === 0) break;
      filled += n;
      if (filled > stats.size) throw new FileRefused(`${what} grew while read (beyond ${stats.size} bytes)`);
    }
    if (filled !== stats.size) throw new FileRefused(`${what} shrank while read: ${filled} of ${stats.size} bytes`);
    return bytes.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

/** `JSON.parse`, after refusing input nested deeper than {@link MAX_JSON_DEPTH} (which would overflow the stack). */
export function parseJsonBounded(text: string, what: string): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) throw new FileRefused(`${what} is nested deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return JSON.parse(text);
}

/**
 * A fresh temporary path beside `path` for an atomic write, named after this
 * process; temporaries that dead processes left in that directory are removed first.
 */
export function temporaryPath(path: string): string {
  const target = utf8(path);
  const buf = new Uint8Array(target.length + 256);
  const len = new BigUint64Array(1);
  check(lib().ruv_file_temporary(target, target.length, buf, buf.length, len));
  return new TextDecoder().decode(buf.subarray(0, Number(len[0])));
}

/** How long a writer waits for a lock another process holds. */
const LOCK_TIMEOUT_MS = 10_000;
/** Writers in this process queue per lock file, so only other processes contend for the `flock`. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `body` holding an exclusive advisory lock on `lockPath` (created if
 * missing). Never blocks the event loop: writers in this process queue, and a
 * lock another process holds is retried asynchronously for up to 10 s.
 */
export function withFileLock<T>(lockPath: string, body: () => T | Promise<T>): Promise<T> {
  const previous = queues.get(lockPath) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => holding(lockPath, body));
  const tail = run.catch(() => undefined);
  queues.set(lockPath, tail);
  void tail.then(() => {
    if (queues.get(lockPath) === tail) queues.delete(lockPath);
  });
  return run;
}

async function holding<T>(lockPath: string, body: () => T | Promise<T>): Promise<T> {
  const path = utf8(lockPath);
  const fd = new Int32Array(1);
  const deadline = performance.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    check(lib().ruv_file_lock(path, path.length, 0, fd));
    if (fd[0] !== -1) break;
    if (performance.now() > deadline) throw new FileRefused(`lock ${lockPath} is still held by another process after ${LOCK_TIMEOUT_MS} ms`);
    await Bun.sleep(2);
  }
  try {
    return await body();
  } finally {
    check(lib().ruv_file_unlock(fd[0]!));
  }
}
