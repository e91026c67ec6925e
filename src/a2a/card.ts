/**
 * Agent card discovery: fetch (A2A 1.0 path, then the rvAgent path), ETag revalidation,
 * shape validation, and the view the client exposes.
 * @module
 */
import { A2aError, TransportError } from "./errors.ts";
import { fetchChecked, readBoundedText, withDeadline, type HttpSettings } from "./http.ts";
import { asArray, asObject, asString, isObject, JsonTooDeep, optArrayOf, optNumber, optString, parseJson, type JsonObject } from "./json.ts";
import { SKILL_COST_EXTENSION, type AgentCardView, type Dialect, type SkillCost, type SkillInfo } from "./types.ts";
import { A2A_VERSION, speaksVersion } from "./wire-a2a.ts";

/** Well-known card path per dialect, relative to the agent's base URL. */
export const CARD_PATHS: Readonly<Record<Dialect, string>> = {
  a2a: ".well-known/agent-card.json",
  rvagent: ".well-known/agent.json",
};

const MAX_CACHED_CARDS = 256;

/**
 * Remembers card bodies by URL with their `ETag`, so a later fetch revalidates with
 * `If-None-Match` and a `304` reuses the body. Signatures are still checked on every use.
 */
export class CardCache {
  readonly #entries = new Map<string, { etag: string; text: string }>();

  /** How many cards are cached. */
  get size(): number {
    return this.#entries.size;
  }

  /** The cached body and ETag of `url`, if any. */
  lookup(url: string): { etag: string; text: string } | undefined {
    return this.#entries.get(url);
  }

  /** Caches `text` under `url`, evicting the oldest entry beyond 256. */
  store(url: string, etag: string, text: string): void {
    this.#entries.delete(url);
    this.#entries.set(url, { etag, text });
    const oldest = this.#entries.keys().next();
    if (this.#entries.size > MAX_CACHED_CARDS && !oldest.done) this.#entries.delete(oldest.value);
  }

  /** Forgets every card. */
  clear(): void {
    this.#entries.clear();
  }
}

/** A card as fetched: where from, which dialect, its JSON. */
export interface FetchedCard {
  url: string;
  dialect: Dialect;
  json: JsonObject;
}

/** Resolves a well-known path against a base URL, keeping any path prefix of the base. */
export function resolveAgentUrl(baseUrl: string, path: string): string {
  return new URL(path, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`).href;
}

/** Fetches the card, trying the A2A 1.0 path first and the rvAgent path on a 404 when `dialect` is `"auto"`. */
export async function fetchCard(
  baseUrl: string,
  dialect: Dialect | "auto",
  http: HttpSettings,
  cache: CardCache | undefined,
  signal?: AbortSignal,
): Promise<FetchedCard> {
  const order: Dialect[] = dialect === "auto" ? ["a2a", "rvagent"] : [dialect];
  let lastUrl = baseUrl;
  for (const candidate of order) {
    lastUrl = resolveAgentUrl(baseUrl, CARD_PATHS[candidate]);
    const text = await fetchCardText(lastUrl, candidate, http, cache, signal);
    if (text !== undefined) return { url: lastUrl, dialect: candidate, json: parseCardJson(text, lastUrl, http.maxJsonDepth) };
  }
  throw new TransportError(lastUrl, "HTTP 404 Not Found: no agent card", { status: 404 });
}

function fetchCardText(
  url: string,
  dialect: Dialect,
  http: HttpSettings,
  cache: CardCache | undefined,
  signal?: AbortSignal,
): Promise<string | undefined> {
  return withDeadline(url, http, signal, async (deadline) => {
    const cached = cache?.lookup(url);
    const headers: Record<string, string> = { accept: "application/json" };
    if (dialect === "a2a") headers["A2A-Version"] = A2A_VERSION;
    if (cached) headers["if-none-match"] = cached.etag;
    const response = await fetchChecked(url, { headers }, http, deadline, [200, 304, 404]);
    if (response.status === 404) return undefined;
    if (response.status === 304) {
      if (cached) return cached.text;
      throw new TransportError(url, "HTTP 304 for a card that is not cached", { status: 304 });
    }
    const text = await readBoundedText(response, url, http.maxResponseBytes);
    const etag = response.headers.get("etag");
    if (etag && cache) cache.store(url, etag, text);
    return text;
  });
}

function parseCardJson(text: string, url: string, maxDepth: number): JsonObject {
  return readCard(url, () => asObject(parseJson(text, "card", maxDepth), "card"));
}

function readCard<T>(url: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof JsonTooDeep) throw new TransportError(url, error.message, { cause: error });
    if (error instanceof TypeError) throw new A2aError("CARD_INVALID", `agent card at ${url}: ${error.message}`);
    throw error;
  }
}

/** What the client needs from a validated card, before signature information is added. */
export interface ParsedCard {
  view: Omit<AgentCardView, "agentId" | "signature">;
  /** Where JSON-RPC requests go. */
  endpoint: string;
}

/** Validates the card's shape and extracts the view and the JSON-RPC endpoint. */
export function parseCard(card: FetchedCard, baseUrl: string): ParsedCard {
  return readCard(card.url, () => {
    const { json, dialect } = card;
    const costs = dialect === "a2a" ? a2aSkillCosts(json) : rvAgentSkillCosts(json);
    const view = {
      name: asString(json.name, "name"),
      description: optString(json.description, "description") ?? "",
      version: optString(json.version, "version") ?? "",
      dialect,
      skills: asArray(json.skills, "skills").map((skill, i) => skillInfo(skill, `skills[${i}]`, costs)),
      streaming: isObject(json.capabilities) && json.capabilities.streaming === true,
      raw: json,
    };
    return { view, endpoint: dialect === "a2a" ? jsonRpcInterface(json) : baseUrl };
  });
}

function skillInfo(value: unknown, path: string, costs: ReadonlyMap<string, SkillCost>): SkillInfo {
  const json = asObject(value, path);
  const id = asString(json.id, `${path}.id`);
  const tags = optArrayOf(json.tags, `${path}.tags`, asString);
  const info: SkillInfo = {
    id,
    name: optString(json.name, `${path}.name`) ?? id,
    description: optString(json.description, `${path}.description`) ?? "",
    tags,
  };
  const cost = costs.get(id);
  return cost ? { ...info, cost } : info;
}

function jsonRpcInterface(json: JsonObject): string {
  const interfaces = asArray(json.supportedInterfaces, "supportedInterfaces").map((item, i) => asObject(item, `supportedInterfaces[${i}]`));
  const match = interfaces.find((item) => item.protocolBinding === "JSONRPC" && speaksVersion(String(item.protocolVersion ?? "")));
  if (!match) throw new TypeError(`supportedInterfaces has no JSONRPC interface for A2A ${A2A_VERSION}`);
  const url = new URL(asString(match.url, "supportedInterfaces[].url"));
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`interface URL ${url.href} is not http(s)`);
  return url.href;
}

function a2aSkillCosts(json: JsonObject): Map<string, SkillCost> {
  const extensions = isObject(json.capabilities) && Array.isArray(json.capabilities.extensions) ? json.capabilities.extensions : [];
  const extension = extensions.find((item) => isObject(item) && item.uri === SKILL_COST_EXTENSION);
  const skills = isObject(extension) && isObject(extension.params) ? extension.params.skills : undefined;
  return costTable(skills, "usdPerTask", "tokensPerTask", "capabilities.extensions[skill-cost].params.skills");
}

function rvAgentSkillCosts(json: JsonObject): Map<string, SkillCost> {
  const ruvector = isObject(json.metadata) ? json.metadata.ruvector : undefined;
  const skills = isObject(ruvector) ? ruvector.skill_costs : undefined;
  return costTable(skills, "usd_per_task", "tokens_per_task", "metadata.ruvector.skill_costs");
}

function costTable(value: unknown, usdKey: string, tokensKey: string, path: string): Map<string, SkillCost> {
  const table = new Map<string, SkillCost>();
  if (value === undefined) return table;
  for (const [id, entry] of Object.entries(asObject(value, path))) {
    const cost = asObject(entry, `${path}.${id}`);
    const usdPerTask = optNumber(cost[usdKey], `${path}.${id}.${usdKey}`);
    if (usdPerTask === undefined || usdPerTask < 0) throw new TypeError(`${path}.${id}.${usdKey} must be a number >= 0`);
    const tokensPerTask = optNumber(cost[tokensKey], `${path}.${id}.${tokensKey}`);
    table.set(id, tokensPerTask === undefined ? { usdPerTask } : { usdPerTask, tokensPerTask });
  }
  return table;
}
