/** Finds ONNX Runtime's shared library (it is never bundled into libruvector). */
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { EmbedError } from "../errors.ts";
import { checkRegular, describeFsError, FileRefused, readRegularFile, temporaryPath } from "../fsio.ts";

/** Where to look for ONNX Runtime. */
export interface OrtResolveOptions {
  env?: Record<string, string | undefined>;
  /** Folders to resolve `onnxruntime-node` from (default: the working directory and this package). */
  searchFrom?: string[];
}

/** What to install when ONNX Runtime is missing. */
export const ORT_INSTALL_HINT =
  "install ONNX Runtime 1.30: `ONNXRUNTIME_NODE_INSTALL=skip bun add onnxruntime-node@1.30.0` " +
  "(its bin/napi-v6/<os>/<arch>/libonnxruntime.so.1 is used), or `pip install onnxruntime==1.30.0` and set " +
  "RUVECTOR_ORT_LIB to its onnxruntime/capi/libonnxruntime.so.1.30.0";

function libraryName(): string {
  if (process.platform === "darwin") return "libonnxruntime.1.30.0.dylib";
  if (process.platform === "win32") return "onnxruntime.dll";
  return "libonnxruntime.so.1";
}

/**
 * The ONNX Runtime library to load: `RUVECTOR_ORT_LIB`, else `ORT_DYLIB_PATH`,
 * else the one inside an installed `onnxruntime-node`. Throws {@link EmbedError}
 * saying exactly what to install when none is found.
 */
export function resolveOrtLibrary(options: OrtResolveOptions = {}): string {
  const env = options.env ?? process.env;
  for (const key of ["RUVECTOR_ORT_LIB", "ORT_DYLIB_PATH"] as const) {
    const path = env[key];
    if (!path) continue;
    if (!existsSync(path)) throw new EmbedError(`${key} points to ${path}, which does not exist; ${ORT_INSTALL_HINT}`);
    return path;
  }
  const from = options.searchFrom ?? [join(process.cwd(), "package.json"), import.meta.path];
  for (const origin of from) {
    try {
      const pkg = createRequire(origin).resolve("onnxruntime-node/package.json");
      const path = join(dirname(pkg), "bin", "napi-v6", process.platform, process.arch, libraryName());
      if (existsSync(path)) return path;
    } catch {
      // not installed where this origin resolves; try the next one
    }
  }
  throw new EmbedError(`ONNX Runtime not found; ${ORT_INSTALL_HINT}`);
}

/**
 * A path ONNX Runtime's native loader can open. A library embedded in a
 * `bun build --compile` executable (`import lib from "…" with { type: "file" }`)
 * lives under `/$bunfs/`, which only Bun can read: it is copied once to
 * `$TMPDIR/.ruvector-<uid>-<hash>-<name>` (atomically) and that copy, when its
 * content still matches, is reused by later launches.
 */
export function loadableLibraryPath(path: string): string {
  if (!path.startsWith("/$bunfs/")) return path;
  const bytes = readEmbedded(path);
  const hash = Bun.hash(bytes).toString(16);
  const target = join(tmpdir(), `.ruvector-${process.getuid?.() ?? 0}-${hash}-${basename(path)}`);
  if (hashOfCopy(target) === hash) return target;
  const temp = temporaryPath(target);
  writeFileSync(temp, bytes, { mode: 0o755, flag: "wx" });
  renameSync(temp, target);
  return target;
}

/** Largest ONNX Runtime library read: a CPU build is about 20 MB, GPU builds of the core library stay well below this. */
export const MAX_ORT_LIBRARY_BYTES = 512 * 2 ** 20;

/**
 * An embedded library's bytes. `/$bunfs/` files cannot be opened with open(2),
 * only read whole; they are part of the executable, so checking what stat
 * reports before reading bounds the read.
 */
function readEmbedded(path: string): Uint8Array {
  try {
    checkRegular(statSync(path), MAX_ORT_LIBRARY_BYTES, `the embedded ONNX Runtime library ${path}`);
    return readFileSync(path);
  } catch (e) {
    throw new EmbedError(e instanceof FileRefused ? e.message : `cannot read the embedded ONNX Runtime library ${path}: ${describeFsError(e)}`);
  }
}

/** The hash of an earlier launch's copy, or `undefined` when there is none to reuse (missing, not a regular file, too large). */
function hashOfCopy(target: string): string | undefined {
  if (!existsSync(target)) return undefined;
  try {
    return Bun.hash(readRegularFile(target, MAX_ORT_LIBRARY_BYTES, target)).toString(16);
  } catch {
    return undefined;
  }
}

/** The ONNX Runtime library an embedder opens: `ortLibrary` if given, else {@link resolveOrtLibrary}. */
export function ortLibraryFor(options: { ortLibrary?: string; env?: Record<string, string | undefined> }): string {
  return loadableLibraryPath(options.ortLibrary ?? resolveOrtLibrary({ env: options.env }));
}
