/**
 * JSON-RPC error codes in both dialects, both ways. The dialects disagree: in A2A 1.0
 * −32002 means "task not cancelable", in rvAgent it means "policy violation". A2A 1.0 errors
 * also carry a `google.rpc.ErrorInfo` whose `reason` we prefer over the number; our server
 * puts policy, budget and card errors under the domain {@link RUVECTOR_ERROR_DOMAIN}.
 * @module
 */
import { A2aError, BudgetExceeded, CardSignatureInvalid, PolicyViolation } from "./errors.ts";
import { isObject, type JsonObject } from "./json.ts";
import type { Dialect } from "./types.ts";

/** `ErrorInfo.domain` of the errors our server adds to A2A 1.0. */
const RUVECTOR_ERROR_DOMAIN = "ruvector.dev";
const A2A_ERROR_DOMAIN = "a2a-protocol.org";
const ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo";

// Reason → code per dialect. Where codes repeat, the first reason listed wins when reading.
const CODES: ReadonlyArray<readonly [reason: string, a2a: number, rvagent: number]> = [
  ["INVALID_REQUEST", -32600, -32600],
  ["PARSE_ERROR", -32700, -32700],
  ["METHOD_NOT_FOUND", -32601, -32601],
  ["INVALID_PARAMS", -32602, -32602],
  ["UNKNOWN_SKILL", -32602, -32602],
  ["INTERNAL", -32603, -32603],
  ["TASK_NOT_FOUND", -32001, -32010],
  ["TASK_NOT_CANCELABLE", -32002, -32600],
  ["PUSH_NOTIFICATION_NOT_SUPPORTED", -32003, -32601],
  ["UNSUPPORTED_OPERATION", -32004, -32600],
  ["CONTENT_TYPE_NOT_SUPPORTED", -32005, -32602],
  ["INVALID_AGENT_RESPONSE", -32006, -32603],
  ["EXTENDED_AGENT_CARD_NOT_CONFIGURED", -32007, -32601],
  ["EXTENSION_SUPPORT_REQUIRED", -32008, -32600],
  ["VERSION_NOT_SUPPORTED", -32009, -32600],
  ["POLICY_VIOLATION", -32050, -32002],
  ["BUDGET_EXCEEDED", -32051, -32003],
  ["CARD_SIGNATURE_INVALID", -32052, -32006],
  ["UNAUTHORIZED", -32401, -32001],
  ["RECURSION_LIMIT", -32053, -32004],
];

const RUVECTOR_REASONS: ReadonlySet<string> = new Set([
  "POLICY_VIOLATION", "BUDGET_EXCEEDED", "CARD_SIGNATURE_INVALID", "UNAUTHORIZED", "RECURSION_LIMIT",
]);

const DIALECT_COLUMN = { a2a: 1, rvagent: 2 } as const;

function codeOf(reason: string, dialect: Dialect): number {
  const row = CODES.find(([name]) => name === reason);
  return row ? row[DIALECT_COLUMN[dialect]] : -32603;
}

function reasonOf(code: number, dialect: Dialect): string {
  return CODES.find((row) => row[DIALECT_COLUMN[dialect]] === code)?.[0] ?? "PEER_ERROR";
}

function errorInfoReason(data: unknown): string | undefined {
  if (!Array.isArray(data)) return undefined;
  const info = data.find(
    (item) => isObject(item) && typeof item.reason === "string" && (item.domain === RUVECTOR_ERROR_DOMAIN || item.domain === A2A_ERROR_DOMAIN),
  );
  return isObject(info) ? String(info.reason) : undefined;
}

/** The typed error for a JSON-RPC `error` member the peer at `url` answered with. */
export function errorFromRpc(dialect: Dialect, error: JsonObject, url: string): A2aError {
  const code = typeof error.code === "number" ? error.code : -32603;
  const message = `${typeof error.message === "string" ? error.message : "peer error"} (JSON-RPC ${code} from ${url})`;
  const reason = (dialect === "a2a" ? errorInfoReason(error.data) : undefined) ?? reasonOf(code, dialect);
  const options = { rpcCode: code };
  if (reason === "POLICY_VIOLATION") return new PolicyViolation(message, options);
  if (reason === "BUDGET_EXCEEDED") return new BudgetExceeded(message, options);
  if (reason === "CARD_SIGNATURE_INVALID") return new CardSignatureInvalid(url, message, options);
  return new A2aError(reason, message, options);
}

/** The JSON-RPC `error` member our server answers with for `error`. */
export function errorToRpc(dialect: Dialect, error: unknown): JsonObject {
  const reason = error instanceof A2aError ? error.code : "INTERNAL";
  const message = error instanceof Error ? error.message : String(error);
  const code = codeOf(reason, dialect);
  if (dialect === "rvagent") return { code, message };
  const domain = RUVECTOR_REASONS.has(reason) ? RUVECTOR_ERROR_DOMAIN : A2A_ERROR_DOMAIN;
  return { code, message, data: [{ "@type": ERROR_INFO_TYPE, reason, domain }] };
}
