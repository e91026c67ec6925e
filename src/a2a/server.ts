/**
 * `A2aServer`: an A2A agent on `Bun.serve`, speaking A2A 1.0 and the rvAgent dialect on one
 * port, with signed cards and a handler per skill.
 * @module
 */
import type { Server } from "bun";
import { sha256 } from "@noble/hashes/sha2.js";
import { optionKeys, optionKeysProblem } from "../options.ts";
import { A2aError, TransportError } from "./errors.ts";
import { toHex } from "./bytes.ts";
import { CARD_PATHS } from "./card.ts";
import { readBoundedText } from "./http.ts";
import { isObject, JsonTooDeep, parseJson, type JsonObject } from "./json.ts";
import { publicJwk, signingKey, type JwsAlg, type SigningKey, type TrustedKey } from "./keys.ts";
import type { GlobalBudget } from "./policy.ts";
import { handleA2aCall } from "./server-a2a.ts";
import { a2aCard, rvAgentCard, skillTags, type CardFacts } from "./server-card.ts";
import { rpcFailure, type RpcCall, type ServerContext, type SkillDefinition } from "./server-http.ts";
import { handleRvAgentCall, handleRvAgentStream } from "./server-rvagent.ts";
import { TaskRegistry } from "./server-tasks.ts";
import type { Dialect, SkillInfo } from "./types.ts";

/** How the server signs its cards. */
export interface ServerSigning {
  /** JWS algorithms signing the A2A 1.0 card, one signature each; `[]` leaves it unsigned. Default `["EdDSA"]`. */
  jws?: readonly JwsAlg[];
  /** Sign the rvAgent card (Ed25519-hex). Default true. */
  rvagent?: boolean;
  /** 32-byte Ed25519 secret key (EdDSA and rvAgent); a random one when absent. */
  ed25519SecretKey?: Uint8Array;
  /** 32-byte P-256 secret key (ES256); a random one when absent. */
  p256SecretKey?: Uint8Array;
}

/** Options of {@link A2aServer.start}. */
export interface A2aServerOptions {
  /** The agent's name; must not be empty. */
  name: string;
  /** What the agent does; must not be empty (the card requires it). */
  description: string;
  /** Default `1.0.0`. */
  version?: string;
  organization?: string;
  /** The skills, by id; at least one. Each needs a non-empty `description`. */
  skills: Readonly<Record<string, SkillDefinition>>;
  /** Media types skills accept unless they declare their own `inputModes`. Default `["text/plain"]`. */
  defaultInputModes?: readonly string[];
  /** Media types skills answer with unless they declare their own `outputModes`. Default `["text/plain"]`. */
  defaultOutputModes?: readonly string[];
  /** Default `127.0.0.1`. */
  hostname?: string;
  /** Default 0: an ephemeral port (see {@link A2aServer.url}). */
  port?: number;
  /** Dialects served. Default both. */
  dialects?: readonly Dialect[];
  signing?: ServerSigning;
  /** Server-side budget: each accepted task is charged its declared cost. */
  budget?: GlobalBudget;
  /** Largest request body. Default 8 MiB. */
  maxRequestBytes?: number;
  /** Tasks kept for `GetTask`/resubscription; the oldest finished ones are dropped first. Default 1000. */
  maxTasks?: number;
}

/** Request counters, for tests and monitoring. */
export interface ServerStats {
  /** Every HTTP request. */
  requests: number;
  /** Card GETs, 304s included. */
  cardRequests: number;
  /** Card GETs answered 304 Not Modified. */
  notModified: number;
  /** JSON-RPC POSTs. */
  rpcRequests: number;
  /** rvAgent SSE GETs. */
  streamRequests: number;
  /** Tasks started. */
  tasksStarted: number;
  /** JSON-RPC calls by method; calls of methods neither dialect defines count under `"(unknown)"`. */
  methods: Record<string, number>;
}

const DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024;

const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "SendMessage", "SendStreamingMessage", "GetTask", "ListTasks", "CancelTask", "SubscribeToTask", "GetExtendedAgentCard",
  "CreateTaskPushNotificationConfig", "GetTaskPushNotificationConfig", "ListTaskPushNotificationConfigs", "DeleteTaskPushNotificationConfig",
  "tasks/send", "tasks/sendSubscribe", "tasks/get", "tasks/cancel", "tasks/resubscribe",
]);

/** A served card: its body, ETag and Last-Modified. */
interface ServedCard {
  json: JsonObject;
  body: string;
  etag: string;
  lastModified: string;
}

/**
 * An A2A agent served by Bun. Stop it with `stop()` or `await using`. A2A 1.0 callers pick
 * a skill with `message.metadata.ruvector.skill` (optional when there is only one) and may
 * forward a policy in `message.metadata.ruvector.policy`; rvAgent callers name both in the
 * `TaskSpec`. Forwarded policies are checked against the skills' declared costs.
 */
export class A2aServer implements AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:43123/`. */
  readonly url: string;
  /** hex(SHAKE-256(Ed25519 public key)): the rvAgent agent id and the EdDSA `kid`. */
  readonly agentId: string;
  /** The public keys that sign the cards, by `kid`: pass them to `A2aClient.connect`. */
  readonly trustedKeys: Readonly<Record<string, TrustedKey>>;
  readonly #server: Server<undefined>;
  readonly #context: ServerContext;
  readonly #cards = new Map<string, ServedCard>();
  readonly #dialects: ReadonlySet<Dialect>;
  readonly #maxRequestBytes: number;
  readonly #stats: Omit<ServerStats, "tasksStarted"> = {
    requests: 0,
    cardRequests: 0,
    notModified: 0,
    rpcRequests: 0,
    streamRequests: 0,
    methods: {},
  };

  private constructor(options: A2aServerOptions) {
    validateOptions(options);
    this.#dialects = new Set(options.dialects ?? ["a2a", "rvagent"]);
    this.#maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    const skills = new Map(Object.entries(options.skills));
    this.#context = {
      registry: new TaskRegistry(options.maxTasks ?? 1000),
      skills,
      skillInfos: [...skills].map(([id, skill]) => skillInfo(id, skill)),
      agentName: options.name,
      budget: options.budget,
      defaultInputModes: options.defaultInputModes ?? ["text/plain"],
    };
    this.#server = Bun.serve({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
      fetch: (request, server) => this.#handle(request, server),
    });
    this.url = this.#server.url.href;
    const { ed25519, jwsKeys, rvAgentKey } = signingKeys(options.signing);
    this.agentId = ed25519.kid;
    this.trustedKeys = Object.fromEntries([ed25519, ...jwsKeys].map((key) => [key.kid, publicJwk(key)]));
    this.#publishCards(options, jwsKeys, rvAgentKey);
  }

  /** Starts serving at once (`Bun.serve` is synchronous). */
  static start(options: A2aServerOptions): A2aServer {
    return new A2aServer(options);
  }

  /** The cards as served, by dialect. */
  get cards(): Readonly<Partial<Record<Dialect, JsonObject>>> {
    const entries = [...this.#dialects].flatMap((dialect) => {
      const served = this.#cards.get(`/${CARD_PATHS[dialect]}`);
      return served ? [[dialect, structuredClone(served.json)]] : [];
    });
    return Object.fromEntries(entries);
  }

  /** A copy of the request counters. */
  get stats(): ServerStats {
    return { ...structuredClone(this.#stats), tasksStarted: this.#context.registry.started };
  }

  /** Stops listening, drops open connections, and aborts running handlers. */
  async stop(): Promise<void> {
    this.#context.registry.abortAll();
    await this.#server.stop(true);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #publishCards(options: A2aServerOptions, jwsKeys: readonly SigningKey[], rvAgentKey: SigningKey | undefined): void {
    const facts: CardFacts = {
      name: options.name,
      description: options.description,
      version: options.version ?? "1.0.0",
      organization: options.organization,
      url: this.url,
      skills: this.#context.skills,
      defaultInputModes: this.#context.defaultInputModes,
      defaultOutputModes: options.defaultOutputModes ?? ["text/plain"],
    };
    if (this.#dialects.has("a2a")) this.#serveCard(CARD_PATHS.a2a, a2aCard(facts, jwsKeys));
    if (this.#dialects.has("rvagent")) this.#serveCard(CARD_PATHS.rvagent, rvAgentCard(facts, rvAgentKey));
  }

  #serveCard(path: string, json: JsonObject): void {
    const body = JSON.stringify(json);
    const etag = `"${toHex(sha256(new TextEncoder().encode(body))).slice(0, 32)}"`;
    this.#cards.set(`/${path}`, { json, body, etag, lastModified: new Date().toUTCString() });
  }

  async #handle(request: Request, server: Server<undefined>): Promise<Response> {
    this.#stats.requests++;
    const { pathname } = new URL(request.url);
    const card = this.#cards.get(pathname);
    if (request.method === "GET" && card) return this.#cardResponse(card, request);
    if (request.method === "GET" && this.#dialects.has("rvagent") && pathname.startsWith("/tasks/")) {
      const resubscribe = pathname === "/tasks/resubscribe";
      if (resubscribe || pathname === "/tasks/sendSubscribe") {
        this.#stats.streamRequests++;
        return handleRvAgentStream(this.#context, { request, server }, resubscribe);
      }
    }
    if (request.method === "POST" && pathname === "/") return this.#rpc(request, server);
    return new Response("not found", { status: 404 });
  }

  #cardResponse(card: ServedCard, request: Request): Response {
    this.#stats.cardRequests++;
    const headers = { etag: card.etag, "last-modified": card.lastModified, "cache-control": "public, max-age=300" };
    if (isNotModified(request, card)) {
      this.#stats.notModified++;
      return new Response(null, { status: 304, headers });
    }
    return new Response(card.body, { headers: { ...headers, "content-type": "application/json" } });
  }

  async #rpc(request: Request, server: Server<undefined>): Promise<Response> {
    this.#stats.rpcRequests++;
    let text: string;
    try {
      text = await readBoundedText(request, request.url, this.#maxRequestBytes);
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      return rpcFailure("a2a", null, new A2aError("INVALID_REQUEST", `request body over ${this.#maxRequestBytes} bytes`), 413);
    }
    if (!isJsonContentType(request.headers.get("content-type"))) {
      const type = request.headers.get("content-type") ?? "";
      return rpcFailure("a2a", null, new A2aError("CONTENT_TYPE_NOT_SUPPORTED", `request Content-Type ${type.slice(0, 64)} is not application/json`));
    }
    const call = parseCall(text, request, server);
    if (call instanceof A2aError) return rpcFailure("a2a", null, call);
    // Counted by name only for the methods a dialect defines, so callers cannot grow the table.
    const counted = KNOWN_METHODS.has(call.method) ? call.method : "(unknown)";
    this.#stats.methods[counted] = (this.#stats.methods[counted] ?? 0) + 1;
    const dialect: Dialect = call.method.startsWith("tasks/") ? "rvagent" : "a2a";
    if (!this.#dialects.has(dialect)) return rpcFailure(dialect, call.id, new A2aError("METHOD_NOT_FOUND", `unknown method ${call.method}`));
    return dialect === "a2a" ? handleA2aCall(this.#context, call) : handleRvAgentCall(this.#context, call);
  }
}

/** An absent Content-Type is tolerated; a present one must be JSON. */
function isJsonContentType(header: string | null): boolean {
  if (header === null) return true;
  const type = header.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || type.endsWith("+json");
}

/** RFC 9110 §13.1: `If-None-Match` decides when present; otherwise `If-Modified-Since`. */
function isNotModified(request: Request, card: ServedCard): boolean {
  const ifNoneMatch = request.headers.get("if-none-match");
  if (ifNoneMatch !== null) return ifNoneMatch.split(",").some((tag) => tag.trim() === card.etag || tag.trim() === "*");
  const since = Date.parse(request.headers.get("if-modified-since") ?? "");
  return !Number.isNaN(since) && Date.parse(card.lastModified) <= since;
}

/** The card's required fields must be there: refuse to publish a card that no client should accept. */
const SERVER_KEYS = optionKeys<A2aServerOptions>({
  name: true, description: true, version: true, organization: true, skills: true, defaultInputModes: true, defaultOutputModes: true,
  hostname: true, port: true, dialects: true, signing: true, budget: true, maxRequestBytes: true, maxTasks: true,
});
const SIGNING_KEYS = optionKeys<ServerSigning>({ jws: true, rvagent: true, ed25519SecretKey: true, p256SecretKey: true });
const SKILL_KEYS = optionKeys<SkillDefinition>({
  name: true, description: true, tags: true, examples: true, inputModes: true, outputModes: true, cost: true, handler: true,
});

/** Unknown keys anywhere in the options the caller wrote: a misspelt one must not be silently ignored. */
function unknownKeys(options: A2aServerOptions): string[] {
  const checks: [unknown, readonly string[], string][] = [[options, SERVER_KEYS, "the options"]];
  if (options.signing !== undefined) checks.push([options.signing, SIGNING_KEYS, "signing"]);
  for (const [id, skill] of Object.entries(options.skills ?? {})) checks.push([skill, SKILL_KEYS, `skills.${id}`]);
  return checks.flatMap(([value, allowed, what]) => optionKeysProblem(value, allowed, what) ?? []);
}

function validateOptions(options: A2aServerOptions): void {
  if (typeof options !== "object" || options === null) throw new A2aError("CARD_INVALID", "A2aServer options must be an object");
  const problems: string[] = unknownKeys(options);
  const nonEmpty = (value: unknown, what: string) => {
    if (typeof value !== "string" || value.trim() === "") problems.push(`${what} must be a non-empty string`);
  };
  nonEmpty(options.name, "name");
  nonEmpty(options.description, "description");
  if (options.version !== undefined) nonEmpty(options.version, "version");
  const skills = Object.entries(options.skills ?? {});
  if (skills.length === 0) problems.push("skills must name at least one skill");
  for (const [id, skill] of skills) {
    if (typeof skill !== "object" || skill === null) continue; // reported by unknownKeys
    nonEmpty(id, "a skill id");
    nonEmpty(skill.description, `skills.${id}.description`);
    if (typeof skill.handler !== "function") problems.push(`skills.${id}.handler must be a function`);
    for (const mode of [...(skill.inputModes ?? []), ...(skill.outputModes ?? [])]) {
      if (!MEDIA_TYPE.test(mode)) problems.push(`skills.${id}: ${mode} is not a media type`);
    }
  }
  for (const mode of [...(options.defaultInputModes ?? []), ...(options.defaultOutputModes ?? [])]) {
    if (!MEDIA_TYPE.test(mode)) problems.push(`${mode} is not a media type`);
  }
  if (problems.length > 0) throw new A2aError("CARD_INVALID", `A2aServer options: ${problems.join("; ")}`);
}

const MEDIA_TYPE = /^[\w.+*-]+\/[\w.+*-]+$/;

function parseCall(text: string, request: Request, server: Server<undefined>): RpcCall | A2aError {
  let json: unknown;
  try {
    json = parseJson(text, "request body");
  } catch (error) {
    if (error instanceof JsonTooDeep) return new A2aError("INVALID_REQUEST", error.message);
    return new A2aError("PARSE_ERROR", "request body is not valid JSON");
  }
  if (!isObject(json) || json.jsonrpc !== "2.0" || typeof json.method !== "string") {
    return new A2aError("INVALID_REQUEST", "not a JSON-RPC 2.0 request");
  }
  const id = typeof json.id === "string" || typeof json.id === "number" ? json.id : null;
  return { id, method: json.method, params: json.params, request, server };
}

function signingKeys(signing: ServerSigning = {}): { ed25519: SigningKey; jwsKeys: SigningKey[]; rvAgentKey: SigningKey | undefined } {
  const ed25519 = signingKey("EdDSA", signing.ed25519SecretKey);
  const jwsKeys = (signing.jws ?? ["EdDSA"]).map((alg) => (alg === "EdDSA" ? ed25519 : signingKey("ES256", signing.p256SecretKey)));
  return { ed25519, jwsKeys, rvAgentKey: signing.rvagent === false ? undefined : ed25519 };
}

function skillInfo(id: string, skill: SkillDefinition): SkillInfo {
  const info: SkillInfo = { id, name: skill.name ?? id, description: skill.description, tags: skillTags(id, skill) };
  return skill.cost ? { ...info, cost: skill.cost } : info;
}
