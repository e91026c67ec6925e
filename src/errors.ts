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
  constructor(what: string) {
    super("CLOSED", `${what} is closed`);
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

/** Extra details an {@link A2aError} may carry. */
export interface A2aErrorOptions extends ErrorOptions {
  /** The JSON-RPC error code the peer answered with, when the error came from the peer. */
  rpcCode?: number;
}

/** Errors raised by the A2A client and server (`code` says which, e.g. `"TASK_NOT_FOUND"`). */
export class A2aError extends RuVectorError {
  /** The JSON-RPC error code the peer answered with, when the error came from the peer. */
  readonly rpcCode: number | undefined;
  constructor(code: string, message: string, options?: A2aErrorOptions) {
    super(code, message, options);
    this.rpcCode = options?.rpcCode;
  }
}

/** An agent card is unsigned, tampered with, or signed by a key the caller does not trust. */
export class CardSignatureInvalid extends A2aError {
  /** Where the card came from. */
  readonly url: string;
  constructor(url: string, reason: string, options?: A2aErrorOptions) {
    super("CARD_SIGNATURE_INVALID", `agent card at ${url}: ${reason}`, options);
    this.url = url;
  }
}

/** A task would break (or broke) a task policy: the caller's, or the peer's. */
export class PolicyViolation extends A2aError {
  constructor(message: string, options?: A2aErrorOptions) {
    super("POLICY_VIOLATION", message, options);
  }
}

/** A rolling budget (tasks or USD per window) would be exceeded: the caller's, or the peer's. */
export class BudgetExceeded extends A2aError {
  constructor(message: string, options?: A2aErrorOptions) {
    super("BUDGET_EXCEEDED", message, options);
  }
}

/** Extra details a {@link TransportError} may carry. */
export interface TransportErrorOptions extends A2aErrorOptions {
  /** The HTTP status, when the peer answered with one. */
  status?: number;
  /** Whether repeating the same request may succeed (peer down, connection dropped, stall). */
  retryable?: boolean;
}

/** The peer is down, slow, stalled, answered with an HTTP error, or sent something unreadable. */
export class TransportError extends A2aError {
  /** The URL that failed. */
  readonly url: string;
  /** The HTTP status, when the peer answered with one. */
  readonly status: number | undefined;
  /** Whether repeating the same request may succeed (peer down, connection dropped, stall). */
  readonly retryable: boolean;
  constructor(url: string, detail: string, options?: TransportErrorOptions) {
    super("TRANSPORT", `${detail} (${url})`, options);
    this.url = url;
    this.status = options?.status;
    this.retryable = options?.retryable ?? false;
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
