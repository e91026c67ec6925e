/**
 * The one FFI loader: finds libruvector, opens it with bun:ffi, checks its
 * version, and turns status codes into typed errors.
 */
import { dlopen, FFIType, suffix, type Pointer } from "bun:ffi";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { version } from "./version.ts";
import {
  CacheMissError,
  LakeError,
  WitnessMismatch,
  DimensionMismatch,
  EmbedError,
  EmptyIndex,
  InvalidArgument,
  NativeLibraryError,
  PersistError,
  RuVectorError,
} from "./errors.ts";

const { i32, u32, u64, ptr } = FFIType;

const symbols = {
  ruv_last_error: { args: [ptr, u64, ptr], returns: i32 },
  ruv_version: { args: [ptr, u64, ptr], returns: i32 },
  ruv_abi_version: { args: [ptr], returns: i32 },
  ruv_cpu_features: { args: [ptr], returns: i32 },
  ruv_runtime_wake_fd: { args: [ptr], returns: i32 },
  ruv_runtime_poll: { args: [ptr, u64, ptr], returns: i32 },
  ruv_job_status: { args: [ptr], returns: i32 },
  ruv_job_take_hits: { args: [ptr, ptr, ptr, u64, ptr], returns: i32 },
  ruv_job_take_index: { args: [ptr, ptr], returns: i32 },
  ruv_job_take_shard_hits: { args: [ptr, ptr, ptr, ptr, u64, ptr], returns: i32 },
  ruv_job_take_count: { args: [ptr, ptr], returns: i32 },
  ruv_job_free: { args: [ptr], returns: i32 },
  ruv_index_new: { args: [u32, u32, u64, u32, u32, u32, ptr], returns: i32 },
  ruv_index_build: { args: [u32, u32, u64, u32, u32, u32, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_index_build_async: { args: [u32, u32, u64, u32, u32, u32, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_index_add: { args: [ptr, ptr, u64, ptr, u64], returns: i32 },
  ruv_index_search: { args: [ptr, ptr, u64, u32, u32, ptr, ptr, u64, ptr], returns: i32 },
  ruv_index_search_async: { args: [ptr, ptr, u64, u32, u32, ptr], returns: i32 },
  ruv_index_search_batch: { args: [ptr, ptr, u64, u32, u32, u32, ptr, ptr, u64, ptr], returns: i32 },
  ruv_index_search_batch_async: { args: [ptr, ptr, u64, u32, u32, u32, ptr], returns: i32 },
  ruv_index_info: { args: [ptr, ptr], returns: i32 },
  ruv_index_get: { args: [ptr, u64, ptr, u64], returns: i32 },
  ruv_index_ids: { args: [ptr, ptr, u64], returns: i32 },
  ruv_index_vectors: { args: [ptr, ptr, u64], returns: i32 },
  ruv_index_equals: { args: [ptr, ptr, ptr], returns: i32 },
  ruv_index_save: { args: [ptr, ptr, u64], returns: i32 },
  ruv_index_save_async: { args: [ptr, ptr, u64, ptr], returns: i32 },
  ruv_index_load: { args: [ptr, u64, u32, ptr], returns: i32 },
  ruv_index_load_async: { args: [ptr, u64, u32, ptr], returns: i32 },
  ruv_index_free: { args: [ptr], returns: i32 },
  ruv_lake_new: { args: [u32, u64, u32, u64, u64, u64, ptr], returns: i32 },
  ruv_lake_free: { args: [ptr], returns: i32 },
  ruv_lake_key: { args: [ptr, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_lake_needs_check: { args: [ptr, u32, ptr], returns: i32 },
  ruv_lake_check: { args: [ptr, u32, ptr, u64, u32, u32, u64, ptr, u64, ptr], returns: i32 },
  ruv_lake_prime: { args: [ptr, u32, ptr, u64, u32, u32, u64, ptr, u64, ptr, u64, ptr, u64], returns: i32 },
  ruv_lake_prime_async: { args: [ptr, u32, ptr, u64, u32, u32, u64, ptr, u64, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_lake_search: { args: [ptr, u32, ptr, u64, u32, ptr, ptr, u64, ptr], returns: i32 },
  ruv_lake_search_async: { args: [ptr, u32, ptr, u64, u32, ptr], returns: i32 },
  ruv_lake_search_batch: { args: [ptr, u32, ptr, u64, u32, u32, ptr, ptr, u64, ptr], returns: i32 },
  ruv_lake_search_federated: { args: [ptr, ptr, u64, ptr, u64, u32, ptr, ptr, ptr, u64, ptr], returns: i32 },
  ruv_lake_search_federated_async: { args: [ptr, ptr, u64, ptr, u64, u32, ptr], returns: i32 },
  ruv_lake_invalidate: { args: [ptr, u32], returns: i32 },
  ruv_lake_witness_of: { args: [ptr, u32, ptr, u64, ptr], returns: i32 },
  ruv_lake_is_primed: { args: [ptr, u32, ptr], returns: i32 },
  ruv_lake_dim: { args: [ptr, u32, ptr], returns: i32 },
  ruv_lake_stats: { args: [ptr, u32, u32, ptr], returns: i32 },
  ruv_lake_publish: { args: [ptr, ptr, u64, ptr, u64, u32, u32, u64, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_lake_refresh_from_dir: { args: [ptr, u32, ptr, u64, ptr], returns: i32 },
  ruv_lake_save_to_dir_async: { args: [ptr, u32, ptr, u64, ptr], returns: i32 },
  ruv_lake_warm_from_dir_async: { args: [ptr, u32, ptr, u64, ptr], returns: i32 },
  ruv_witness: { args: [ptr, u64, u32, u64, u32, u32, u64, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_job_take_floats: { args: [ptr, ptr, u64, ptr], returns: i32 },
  ruv_embed_registry: { args: [ptr, u64, ptr], returns: i32 },
  ruv_embedder_open: { args: [ptr, u64, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_embedder_open_async: { args: [ptr, u64, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_job_take_embedder: { args: [ptr, ptr], returns: i32 },
  ruv_embedder_free: { args: [ptr], returns: i32 },
  ruv_embedder_dim: { args: [ptr, ptr], returns: i32 },
  ruv_embedder_embed_texts: { args: [ptr, ptr, u64, ptr, u64, ptr, u64], returns: i32 },
  ruv_embedder_embed_texts_async: { args: [ptr, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_embedder_embed_texts_tracked_async: { args: [ptr, ptr, u64, ptr, u64, ptr, ptr], returns: i32 },
  ruv_embed_progress_new: { args: [ptr], returns: i32 },
  ruv_embed_progress_done: { args: [ptr, ptr], returns: i32 },
  ruv_embed_progress_cancel: { args: [ptr], returns: i32 },
  ruv_embed_progress_free: { args: [ptr], returns: i32 },
  ruv_embedder_embed_image: { args: [ptr, ptr, u64, u32, u32, ptr, u64], returns: i32 },
  ruv_embedder_preprocess_image: { args: [ptr, ptr, u64, u32, u32, ptr, u64], returns: i32 },
  ruv_embedder_embed_preprocessed: { args: [ptr, ptr, u64, ptr, u64], returns: i32 },
  ruv_tokenizer_open: { args: [ptr, u64, u32, ptr], returns: i32 },
  ruv_tokenizer_encode: { args: [ptr, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_tokenizer_free: { args: [ptr], returns: i32 },
} as const;

/** Status codes of the C ABI (`RuvStatus` in `ruvector.h`). */
export const Status = {
  Ok: 0,
  InvalidArgument: 1,
  DimensionMismatch: 2,
  EmptyIndex: 3,
  Persist: 4,
  Io: 5,
  Panic: 6,
  NullHandle: 7,
  NotFound: 8,
  Pending: 9,
  BufferTooSmall: 10,
  CacheMiss: 11,
  WitnessMismatch: 12,
  Bundle: 13,
  Embed: 14,
} as const;

const ABI_VERSION = 1;

/** `linux-x64-gnu`-style key of the running platform. */
export function platformKey(platform: string = process.platform, arch: string = process.arch): string {
  const os = platform === "win32" ? "win32" : platform;
  const libc = platform === "linux" ? (isMusl() ? "-musl" : "-gnu") : "";
  return `${os}-${arch}${libc}`;
}

/** Platforms with a published native package. */
export const SUPPORTED_PLATFORMS = [
  "linux-x64-gnu",
  "linux-arm64-gnu",
  "linux-x64-musl",
  "linux-arm64-musl",
  "darwin-x64",
  "darwin-arm64",
  "win32-x64",
] as const;

function isMusl(): boolean {
  const report = process.report?.getReport?.() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime === undefined && existsSync("/etc/alpine-release");
}

/**
 * The library path exported by `@ruvector/bun-<key>`. Each `require` is a
 * literal so `bun build --compile` bundles the installed package and embeds
 * its library (the package imports it with `type: "file"`); packages that are
 * not installed stay runtime requires that fail here and are skipped.
 */
function platformPackageLibrary(key: string): string | undefined {
  try {
    switch (key) {
      case "linux-x64-gnu":
        return require("@ruvector/bun-linux-x64-gnu").default;
      case "linux-arm64-gnu":
        return require("@ruvector/bun-linux-arm64-gnu").default;
      case "linux-x64-musl":
        return require("@ruvector/bun-linux-x64-musl").default;
      case "linux-arm64-musl":
        return require("@ruvector/bun-linux-arm64-musl").default;
      case "darwin-x64":
        return require("@ruvector/bun-darwin-x64").default;
      case "darwin-arm64":
        return require("@ruvector/bun-darwin-arm64").default;
      case "win32-x64":
        return require("@ruvector/bun-win32-x64").default;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** True inside a `bun build --compile` executable, whose modules live under `/$bunfs/`. */
function isCompiled(): boolean {
  return Bun.main.startsWith("/$bunfs/") || import.meta.dir.startsWith("/$bunfs/");
}

function localBuildLibrary(key: string): string | undefined {
  const name = key.startsWith("win32") ? "ruvector.dll" : `libruvector.${suffix}`;
  // A compiled executable has no source tree: a library shipped beside it is its local build.
  if (isCompiled()) {
    const beside = join(dirname(process.execPath), name);
    return existsSync(beside) ? beside : undefined;
  }
  const root = dirname(import.meta.dir);
  const candidates = [
    join(root, "npm", `bun-${key}`, name),
    join(root, "libruvector", "target", "release", name),
    join(root, "libruvector", "target", "x86_64-unknown-linux-gnu", "release", name),
  ].filter((p) => existsSync(p));
  // Several local builds can coexist; the newest is the one just built.
  return candidates.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

/** Where to look for the native library. */
export interface ResolveOptions {
  env?: Record<string, string | undefined>;
  platform?: string;
  arch?: string;
}

/**
 * Where the native library is loaded from, in resolution order: `RUVECTOR_LIB`,
 * the per-platform package `@ruvector/bun-<os>-<arch>[-<libc>]`, a local build
 * (inside a compiled executable: a library beside it).
 *
 * `RUVECTOR_PLATFORM` (e.g. `linux-arm64-gnu`, `freebsd-riscv64`) overrides the
 * detected platform key, to test how a platform without a package is handled;
 * explicit `platform`/`arch` options take precedence over it.
 */
export function resolveLibraryPath(options: ResolveOptions = {}): string {
  const env = options.env ?? process.env;
  const override = env.RUVECTOR_LIB;
  if (override) {
    if (!existsSync(override)) throw new NativeLibraryError(`RUVECTOR_LIB points to ${override}, which does not exist`);
    return override;
  }
  const detected = platformKey();
  const key =
    options.platform !== undefined || options.arch !== undefined
      ? platformKey(options.platform, options.arch)
      : (env.RUVECTOR_PLATFORM ?? detected);
  if (!(SUPPORTED_PLATFORMS as readonly string[]).includes(key)) {
    throw new NativeLibraryError(
      `platform ${key} is not supported by @ruvector/bun; supported: ${SUPPORTED_PLATFORMS.join(", ")}`,
    );
  }
  const local = key === detected ? localBuildLibrary(key) : undefined;
  const found = platformPackageLibrary(key) ?? local;
  if (found) return found;
  throw new NativeLibraryError(
    `no native library for ${key}: install @ruvector/bun-${key}, set RUVECTOR_LIB, or build libruvector (zig build)`,
  );
}

function open(path: string) {
  try {
    return dlopen(path, symbols);
  } catch (e) {
    throw new NativeLibraryError(`cannot load native library ${path}: ${(e as Error).message}`, { cause: e });
  }
}

type Lib = ReturnType<typeof open>["symbols"];

let loaded: Lib | undefined;

/** The native symbols, loaded and version-checked on first use. */
export function lib(): Lib {
  if (loaded) return loaded;
  const path = resolveLibraryPath();
  const symbols = open(path).symbols;
  const native = readString(symbols.ruv_version);
  if (native !== version) {
    throw new NativeLibraryError(`native library ${path} is version ${native}, but @ruvector/bun is ${version}`);
  }
  const abi = new Uint32Array(1);
  symbols.ruv_abi_version(abi);
  if (abi[0] !== ABI_VERSION) {
    throw new NativeLibraryError(`native library ${path} has C ABI ${abi[0]}, expected ${ABI_VERSION}`);
  }
  loaded = symbols;
  return symbols;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads a string through a `(buf, cap, out_len)` getter. */
export function readString(getter: (buf: Uint8Array, cap: number, outLen: BigUint64Array) => number): string {
  let buf = new Uint8Array(256);
  const len = new BigUint64Array(1);
  for (;;) {
    getter(buf, buf.length, len);
    const n = Number(len[0]);
    if (n <= buf.length) return decoder.decode(buf.subarray(0, n));
    buf = new Uint8Array(n);
  }
}

/** The message of the last failed native call on this thread. */
export function lastError(): string {
  return readString(lib().ruv_last_error);
}

/** UTF-8 bytes of a string, for `(ptr, len)` path arguments. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Converts a non-zero status into the typed error it stands for. */
export function statusError(status: number, message: string = lastError()): RuVectorError {
  switch (status) {
    case Status.InvalidArgument:
    case Status.BufferTooSmall:
    case Status.NotFound:
      return new InvalidArgument(message);
    case Status.DimensionMismatch: {
      const m = /expected (\d+), got (\d+)/.exec(message);
      return new DimensionMismatch(Number(m?.[1] ?? NaN), Number(m?.[2] ?? NaN), message);
    }
    case Status.EmptyIndex:
      return new EmptyIndex(message);
    case Status.CacheMiss:
      return new CacheMissError(message);
    case Status.WitnessMismatch:
      return new WitnessMismatch(message);
    case Status.Bundle:
      return new LakeError("BUNDLE", message);
    case Status.Embed:
      return new EmbedError(message);
    case Status.Persist:
    case Status.Io:
      return new PersistError(message);
    default:
      return new RuVectorError("INTERNAL", `native error (status ${status}): ${message}`);
  }
}

/** Throws the typed error for a non-zero status. */
export function check(status: number): void {
  if (status !== Status.Ok) throw statusError(status);
}

/** Reads a handle written through a `T**` output. */
export function outPointer(cell: BigUint64Array): Pointer {
  return Number(cell[0]) as Pointer;
}

/** Version of the loaded native library. */
export function nativeVersion(): string {
  return readString(lib().ruv_version);
}

const CPU_FEATURES = ["avx2", "popcnt", "avx512f", "avx512vpopcntdq", "fma", "neon"] as const;

/** A SIMD feature the native kernels can use. */
export type CpuFeature = (typeof CPU_FEATURES)[number];

/** SIMD features the native library detected on this CPU at run time. */
export function cpuFeatures(): CpuFeature[] {
  const bits = new Uint32Array(1);
  check(lib().ruv_cpu_features(bits));
  return CPU_FEATURES.filter((_, i) => (bits[0]! >> i) & 1);
}
