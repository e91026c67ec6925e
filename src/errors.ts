/**
 * The error hierarchy. Every error thrown by this library is a
 * {@link RuVectorError} with a stable `code`; subclasses group them by area.
 */

/** Root of every error this library throws. `code` is stable across versions. */
export class RuVectorError extends Error {
  /** Stable, machine-readable error code, e.g. `"DIMENSION_MISMATCH"`. */
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The native library could not be found, loaded, or does not match this package. */
export class NativeLibraryError extends RuVectorError {
  constructor(message: string, options?: ErrorOptions) {
    super("NATIVE_LIBRARY", message, options);
  }
}

/** A method was called on an object after `close()`. */
export class ClosedError extends RuVectorError {
  /** `how` says what closed it: an explicit `close()`, or the end of a `using` block. */
  constructor(what: string, how: "close" | "using" = "close") {
    super(
      "CLOSED",
      how === "using"
        ? `${what} is closed: the \`using\` block that held it has ended; use it inside that block, or hold it without \`using\` and call close() when done`
        : `${what} is closed: close() was called on it`,
    );
  }
}

/** Errors raised by vector indexes. */
export class IndexError extends RuVectorError {}

/** A vector or query has the wrong number of dimensions. */
export class DimensionMismatch extends IndexError {
  /** The index's dimension. */
  readonly expected: number;
  /** The dimension that was passed. */
  readonly actual: number;
  constructor(expected: number, actual: number, message?: string) {
    super("DIMENSION_MISMATCH", message ?? `dimension mismatch: expected ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** A search ran on an index holding no vectors. */
export class EmptyIndex extends IndexError {
  constructor(message = "search on an empty index") {
    super("EMPTY_INDEX", message);
  }
}

/** An index file could not be written or read: truncated, corrupted, foreign or unreadable. */
export class PersistError extends IndexError {
  constructor(message: string, options?: ErrorOptions) {
    super("PERSIST", message, options);
  }
}

/** An argument is invalid: wrong type, out of range, non-finite, duplicate id, … */
export class InvalidArgument extends IndexError {
  constructor(message: string) {
    super("INVALID_ARGUMENT", message);
  }
}

/** An {@link InvalidArgument}: an id given to `remove` or `removeBatch` is not in the index. */
export class UnknownId extends InvalidArgument {
  override readonly code: string = "UNKNOWN_ID";
  /** The first id that is not in the index. */
  readonly id: number;
  constructor(id: number, message = `id ${id} is not in the index`) {
    super(message);
    this.id = id;
  }
}

/** Errors raised by the lake and its backends. */
export class LakeError extends RuVectorError {}

/** Extra details a {@link BackendError} may carry. */
export interface BackendErrorOptions extends ErrorOptions {
  /** The collection the failing call was about, when there was one. */
  collection?: string;
}

/** A backend failed: unreachable, unknown collection, invalid write, or malformed data. */
export class BackendError extends LakeError {
  /** Id of the backend that failed. */
  readonly backend: string;
  /** The collection the failing call was about, when there was one. */
  readonly collection: string | undefined;
  constructor(backend: string, detail: string, options?: BackendErrorOptions) {
    const where = options?.collection === undefined ? "" : `, collection "${options.collection}"`;
    super("BACKEND", `backend "${backend}"${where}: ${detail}`, options);
    this.backend = backend;
    this.collection = options?.collection;
  }
}

/** The lake could not read or write a directory or file (bundle sidecar, saved cache). */
export class LakeIoError extends LakeError {
  constructor(message: string, options?: ErrorOptions) {
    super("LAKE_IO", message, options);
  }
}

/** A search needed a cached collection that is not primed and could not be primed (e.g. `frozen` with no backend). */
export class CacheMissError extends LakeError {
  constructor(message: string, options?: ErrorOptions) {
    super("CACHE_MISS", message, options);
  }
}

/** A bundle's recorded witness does not match the witness recomputed from its fields: tampered or corrupt. */
export class WitnessMismatch extends LakeError {
  constructor(message: string, options?: ErrorOptions) {
    super("WITNESS_MISMATCH", message, options);
  }
}

/** Errors raised by embedding models: unknown or unavailable model, missing or unverified model file, failed download, missing ONNX Runtime, wrong input shape. */
export class EmbedError extends RuVectorError {
  constructor(message: string, options?: ErrorOptions) {
    super("EMBED", message, options);
  }
}

/** An {@link EmbedError}: an `embedBatchAsync` call was cancelled through its `AbortSignal` (`cause` is the signal's reason). */
export class EmbedAborted extends EmbedError {
  override readonly code: string = "EMBED_ABORTED";
  /** Texts embedded before the call stopped. */
  readonly done: number;
  /** Texts the call was given. */
  readonly total: number;
  constructor(done: number, total: number, reason: unknown) {
    super(`embedding aborted after ${done} of ${total} texts`, { cause: reason });
    this.done = done;
    this.total = total;
  }
}
