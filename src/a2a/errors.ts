/**
 * The A2A error hierarchy: every error the A2A client and server raise is an {@link A2aError},
 * itself a {@link RuVectorError}.
 * @module
 */
import { RuVectorError } from "../errors.ts";

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
