/**
 * The one FFI loader: finds libruvector, opens it with bun:ffi, checks its
 * version, and turns status codes into typed errors.
 */
import { dlopen, FFIType, suffix, type Pointer } from "bun:ffi";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { version } from "./version.ts";
import { ErrorInfo, NativeStruct } from "./structs.ts";
import {
  CacheMissError,
  LakeError,
  WitnessMismatch,
  DimensionMismatch,
  EmbedError,
  EmptyIndex,
  InvalidArgument,
  LakeIoError,
  NativeLibraryError,
  PersistError,
  RuVectorError,
  UnknownId,
} from "./errors.ts";

const { i32, u32, u64, ptr, cstring } = FFIType;

/** Every native function with its C signature, as `ruvector.h` declares it (a test compares them). */
export const symbols = {
  ruv_last_error: { args: [ptr, u64, ptr], returns: i32 },
  ruv_status_str: { args: [i32], returns: cstring },
  ruv_version: { args: [ptr, u64, ptr], returns: i32 },
  ruv_abi_version: { args: [ptr], returns: i32 },
  ruv_cpu_features: { args: [ptr], returns: i32 },
  ruv_runtime_wake_fd: { args: [ptr], returns: i32 },
  ruv_runtime_poll: { args: [ptr, u64, ptr], returns: i32 },
  ruv_job_status: { args: [ptr], returns: i32 },
  ruv_job_progress: { args: [ptr, ptr, ptr], returns: i32 },
  ruv_job_take_hits: { args: [ptr, ptr, ptr, u64, ptr], returns: i32 },
  ruv_job_take_index: { args: [ptr, ptr], returns: i32 },
  ruv_job_take_shard_hits: { args: [ptr, ptr, ptr, ptr, u64, ptr], returns: i32 },
  ruv_job_take_count: { args: [ptr, ptr], returns: i32 },
  ruv_job_free: { args: [ptr], returns: i32 },
  ruv_index_new: { args: [ptr, ptr], returns: i32 },
  ruv_index_build: { args: [ptr, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_index_build_async: { args: [ptr, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_index_add: { args: [ptr, ptr, u64, ptr, u64], returns: i32 },
  ruv_index_add_with: { args: [ptr, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_index_upsert_with: { args: [ptr, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_index_build_with: { args: [ptr, ptr, u64, ptr, u64, ptr, ptr], returns: i32 },
  ruv_index_build_async_with: { args: [ptr, ptr, u64, ptr, u64, ptr, ptr], returns: i32 },
  ruv_index_tags: { args: [ptr, ptr, u64], returns: i32 },
  ruv_index_get_tags: { args: [ptr, u64, ptr], returns: i32 },
  ruv_index_remove: { args: [ptr, ptr, u64, u32, ptr], returns: i32 },
  ruv_index_upsert: { args: [ptr, ptr, u64, ptr, u64], returns: i32 },
  ruv_index_compact: { args: [ptr], returns: i32 },
  ruv_index_search: { args: [ptr, ptr, u64, ptr, ptr, ptr, u64, ptr], returns: i32 },
  ruv_index_search_async: { args: [ptr, ptr, u64, ptr, ptr], returns: i32 },
  ruv_index_search_batch: { args: [ptr, ptr, u64, ptr, ptr, ptr, u64, ptr], returns: i32 },
  ruv_index_search_batch_async: { args: [ptr, ptr, u64, ptr, ptr], returns: i32 },
  ruv_index_info: { args: [ptr, ptr], returns: i32 },
  ruv_index_get: { args: [ptr, u64, ptr, u64], returns: i32 },
  ruv_index_ids: { args: [ptr, ptr, u64], returns: i32 },
  ruv_index_vectors: { args: [ptr, ptr, u64], returns: i32 },
  ruv_index_equals: { args: [ptr, ptr, ptr], returns: i32 },
  ruv_index_save: { args: [ptr, ptr, u64], returns: i32 },
  ruv_index_save_async: { args: [ptr, ptr, u64, ptr], returns: i32 },
  ruv_index_load: { args: [ptr, u64, u32, ptr], returns: i32 },
  ruv_index_load_async: { args: [ptr, u64, u32, ptr], returns: i32 },
  ruv_index_load_with: { args: [ptr, u64, ptr, ptr], returns: i32 },
  ruv_index_load_with_async: { args: [ptr, u64, ptr, ptr], returns: i32 },
  ruv_index_free: { args: [ptr], returns: i32 },
  ruv_lake_new: { args: [ptr, ptr], returns: i32 },
  ruv_lake_free: { args: [ptr], returns: i32 },
  ruv_lake_key: { args: [ptr, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_lake_needs_check: { args: [ptr, u32, ptr], returns: i32 },
  ruv_lake_needs_check_with: { args: [ptr, u32, u32, ptr], returns: i32 },
  ruv_lake_check: { args: [ptr, u32, ptr, ptr], returns: i32 },
  ruv_lake_prime: { args: [ptr, u32, ptr, ptr, u64, ptr, u64], returns: i32 },
  ruv_lake_prime_async: { args: [ptr, u32, ptr, ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_lake_apply_changes: { args: [ptr, u32, ptr, ptr, ptr, ptr], returns: i32 },
  ruv_lake_engine_of: { args: [ptr, u32, ptr], returns: i32 },
  ruv_lake_search: { args: [ptr, u32, ptr, u64, u32, ptr, ptr, u64, ptr], returns: i32 },
  ruv_lake_search_async: { args: [ptr, u32, ptr, u64, u32, ptr], returns: i32 },
  ruv_lake_search_batch: { args: [ptr, u32, ptr, u64, u32, u32, ptr, ptr, u64, ptr], returns: i32 },
  ruv_lake_search_federated: { args: [ptr, ptr, u64, ptr, u64, u32, ptr, ptr, ptr, u64, ptr], returns: i32 },
  ruv_lake_search_federated_async: { args: [ptr, ptr, u64, ptr, u64, u32, ptr], returns: i32 },
  ruv_lake_search_with: { args: [ptr, u32, ptr, u64, ptr, ptr, ptr, u64, ptr], returns: i32 },
  ruv_lake_search_with_async: { args: [ptr, u32, ptr, u64, ptr, ptr], returns: i32 },
  ruv_lake_search_batch_with: { args: [ptr, u32, ptr, u64, ptr, ptr, ptr, u64, ptr], returns: i32 },
  ruv_lake_search_federated_with: { args: [ptr, ptr, u64, ptr, u64, ptr, ptr, ptr, ptr, u64, ptr], returns: i32 },
  ruv_lake_search_federated_with_async: { args: [ptr, ptr, u64, ptr, u64, ptr, ptr], returns: i32 },
  ruv_lake_invalidate: { args: [ptr, u32], returns: i32 },
  ruv_lake_witness_of: { args: [ptr, u32, ptr, u64, ptr], returns: i32 },
  ruv_lake_is_primed: { args: [ptr, u32, ptr], returns: i32 },
  ruv_lake_dim: { args: [ptr, u32, ptr], returns: i32 },
  ruv_lake_sample_rows: { args: [ptr, u32, ptr, u64, ptr], returns: i32 },
  ruv_lake_len: { args: [ptr, u32, ptr], returns: i32 },
  ruv_lake_stats: { args: [ptr, u32, u32, ptr], returns: i32 },
  ruv_lake_publish: { args: [ptr, ptr, u64, ptr, ptr, u64, ptr], returns: i32 },
  ruv_lake_refresh_from_dir: { args: [ptr, u32, ptr, u64, ptr], returns: i32 },
  ruv_lake_save_to_dir_async: { args: [ptr, u32, ptr, u64, ptr], returns: i32 },
  ruv_lake_warm_from_dir_async: { args: [ptr, u32, ptr, u64, ptr], returns: i32 },
  ruv_witness: { args: [ptr, u64, u32, ptr, u64, ptr], returns: i32 },
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
  ruv_file_temporary: { args: [ptr, u64, ptr, u64, ptr], returns: i32 },
  ruv_file_lock: { args: [ptr, u64, u32, ptr], returns: i32 },
  ruv_file_unlock: { args: [i32], returns: i32 },
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

/** `RUV_INDEX_KIND_*`: index variants. */
export const IndexKind = { Flat: 0, Rabitq: 1, Plus: 2, Asym: 3, Ivf: 4, Any: 0xffff_ffff } as const;
/** `RUV_IVF_STORE_*`: what an IvfRabitqIndex keeps for its exact rerank. */
export const IvfStore = { None: 0, F16: 1, F32: 2 } as const;
/** `RUV_INDEX_REMOVE_*`: flags of `ruv_index_remove`. */
export const RemoveFlag = { IgnoreMissing: 1 } as const;
/** `RUV_LAKE_CHECK_*`: flags of `ruv_lake_needs_check_with`. */
export const LakeCheckFlag = { Uncounted: 1 } as const;
/** `RUV_LOAD_*`: flags of `RuvLoadOptions`. */
export const LoadFlag = { Mmap: 1, Verify: 2 } as const;
/** `RUV_FILTER_IDS_*`: the id rule of a `RuvSearchFilter`. */
export const FilterIds = { Any: 0, Allow: 1, Deny: 2 } as const;
/** `RUV_METRIC_*`: distance metrics. */
export const MetricCode = { L2: 0, Cosine: 1 } as const;
/** `RUV_CONSISTENCY_*`: lake consistency modes. */
export const ConsistencyCode = { Fresh: 0, Eventual: 1, Frozen: 2 } as const;
/** `RUV_LAKE_ENGINE_*`: the index a lake caches collections as. */
export const LakeEngineCode = { Plus: 0, Ivf: 1, Auto: 2 } as const;
/** `RUV_CHECK_RESULT_*`: what a lake freshness check found. */
export const CheckResult = { Hit: 0, Shared: 1, Miss: 2 } as const;
/** `RUV_REFRESH_RESULT_*`: what comparing a bundle directory with the cache did. */
export const RefreshCode = { UpToDate: 0, Invalidated: 1, BundleMissing: 2 } as const;
/** `RUV_STATS_SCOPE_*`: whose lake counters to read. */
export const StatsScope = { Global: 0, Backend: 1, Collection: 2 } as const;
/** `RUV_GENERATION_KIND_*`: how a collection's generation is encoded. */
export const GenerationKind = { Number: 0, String: 1 } as const;
/** `RUV_CPU_*`: SIMD feature bits of `ruv_cpu_features`. */
export const CpuBit = { Avx2: 1, Popcnt: 2, Avx512f: 4, Avx512vpopcntdq: 8, Fma: 16, Neon: 32 } as const;

/** Every enumerated value of the ABI by its header prefix (a test compares them with `ruvector.h`). */
export const ABI_CONSTANTS = {
  RUV_STATUS_: Status,
  RUV_INDEX_KIND_: IndexKind,
  RUV_METRIC_: MetricCode,
  RUV_IVF_STORE_: IvfStore,
  RUV_INDEX_REMOVE_: RemoveFlag,
  RUV_LAKE_CHECK_: LakeCheckFlag,
  RUV_LOAD_: LoadFlag,
  RUV_FILTER_IDS_: FilterIds,
  RUV_CONSISTENCY_: ConsistencyCode,
  RUV_LAKE_ENGINE_: LakeEngineCode,
  RUV_CHECK_RESULT_: CheckResult,
  RUV_REFRESH_RESULT_: RefreshCode,
  RUV_STATS_SCOPE_: StatsScope,
  RUV_GENERATION_KIND_: GenerationKind,
  RUV_CPU_: CpuBit,
} as const;

/** `RUV_ABI_VERSION`: the C ABI this layer speaks. */
export const ABI_VERSION = 3;

/** `linux-x64-gnu`-style key of the running platform. */
export function platformKey(platform: string = process.platform, arch: string = process.arch): string {
  const libc = platform === "linux" ? (isMusl() ? "-musl" : "-gnu") : "";
  return `${platform}-${arch}${libc}`;
}

/** Platforms whose native package is built (see `zig build targets`): Linux only, glibc and musl. */
export const SUPPORTED_PLATFORMS = ["linux-x64-gnu", "linux-arm64-gnu", "linux-x64-musl", "linux-arm64-musl"] as const;

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
  const name = `libruvector.${suffix}`;
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

/** Reads a NUL-terminated string through a `(buf, cap, out_len)` getter, growing the buffer until it fits. */
export function readString(getter: (buf: Uint8Array, cap: number, outLen: BigUint64Array) => number): string {
  let buf = new Uint8Array(256);
  const len = new BigUint64Array(1);
  for (;;) {
    getter(buf, buf.length, len);
    const n = Number(len[0]);
    if (n < buf.length) return decoder.decode(buf.subarray(0, n));
    buf = new Uint8Array(n + 1);
  }
}

/** The last failed native call on this thread: its status, message and, for a dimension mismatch, the dimensions. */
export interface NativeError {
  status: number;
  message: string;
  expectedDim: number;
  actualDim: number;
}

/** Details of the last failed native call on this thread. */
export function lastError(): NativeError {
  const info = new NativeStruct(ErrorInfo);
  const message = readString((buf, cap, outLen) => {
    const status = lib().ruv_last_error(buf, cap, info.bytes);
    outLen[0] = info.u64("message_len");
    return status;
  });
  return { status: info.u32("status"), message, expectedDim: Number(info.u64("expected_dim")), actualDim: Number(info.u64("actual_dim")) };
}

/** UTF-8 bytes of a string, for `(ptr, len)` path arguments. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Which part of the library a failed call belongs to: I/O failures become its own error class. */
export type ErrorArea = "index" | "lake";

/** Converts a non-zero status into the typed error it stands for. */
export function statusError(status: number, error: NativeError = lastError(), area: ErrorArea = "index"): RuVectorError {
  const { message } = error;
  switch (status) {
    case Status.NotFound:
      return unknownId(message);
    case Status.InvalidArgument:
    case Status.BufferTooSmall:
      return new InvalidArgument(message);
    case Status.DimensionMismatch:
      return new DimensionMismatch(error.expectedDim, error.actualDim, message);
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
      return area === "lake" ? new LakeIoError(message) : new PersistError(message);
    default:
      return new RuVectorError("INTERNAL", `native error (status ${status}): ${message}`);
  }
}

/** The native "id N is not in the index" as the {@link UnknownId} naming N. */
function unknownId(message: string): InvalidArgument {
  const id = /^id (\d+) is not in the index/.exec(message)?.[1];
  return id === undefined ? new InvalidArgument(message) : new UnknownId(Number(id), message);
}

/** Throws the typed error for a non-zero status. */
export function check(status: number, area: ErrorArea = "index"): void {
  if (status !== Status.Ok) throw statusError(status, lastError(), area);
}

/** Reads a handle written through a `T**` output. */
export function outPointer(cell: BigUint64Array): Pointer {
  return Number(cell[0]) as Pointer;
}

/** Version of the loaded native library. */
export function nativeVersion(): string {
  return readString(lib().ruv_version);
}

/** A SIMD feature the native kernels can use. */
export type CpuFeature = Lowercase<keyof typeof CpuBit>;

/** SIMD features the native library detected on this CPU at run time. */
export function cpuFeatures(): CpuFeature[] {
  const bits = new Uint32Array(1);
  check(lib().ruv_cpu_features(bits));
  return Object.entries(CpuBit)
    .filter(([, bit]) => bits[0]! & bit)
    .map(([name]) => name.toLowerCase() as CpuFeature);
}
