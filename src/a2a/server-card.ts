/**
 * The server's two cards: A2A 1.0 (JWS-signed, costs in the skill-cost extension) and
 * rvAgent (Ed25519-hex-signed, costs in `metadata.ruvector.skill_costs`).
 * @module
 */
import { compact, type JsonObject } from "./json.ts";
import type { SigningKey } from "./keys.ts";
import type { SkillDefinition } from "./server-http.ts";
import { signA2aCard, signRvAgentCard } from "./sign.ts";
import { SKILL_COST_EXTENSION } from "./types.ts";
import { A2A_VERSION } from "./wire-a2a.ts";

/** What both cards say about the agent. */
export interface CardFacts {
  name: string;
  description: string;
  version: string;
  organization: string | undefined;
  url: string;
  skills: ReadonlyMap<string, SkillDefinition>;
  defaultInputModes: readonly string[];
  defaultOutputModes: readonly string[];
}

/** A skill's tags; the card requires some, so the id stands in when none are given. */
export function skillTags(id: string, skill: SkillDefinition): string[] {
  return skill.tags && skill.tags.length > 0 ? skill.tags : [id];
}

/** The A2A 1.0 card, signed by every key in `keys` (unsigned when there are none). */
export function a2aCard(facts: CardFacts, keys: readonly SigningKey[]): JsonObject {
  const costs = Object.fromEntries(
    [...facts.skills].flatMap(([id, skill]) => (skill.cost ? [[id, compact({ ...skill.cost })]] : [])),
  );
  const extensions = Object.keys(costs).length === 0 ? [] : [{
    uri: SKILL_COST_EXTENSION,
    description: "Declared cost of each skill, per task",
    params: { skills: costs },
  }];
  const card: JsonObject = compact({
    name: facts.name,
    description: facts.description,
    version: facts.version,
    supportedInterfaces: [{ url: facts.url, protocolBinding: "JSONRPC", protocolVersion: A2A_VERSION }],
    provider: facts.organization === undefined ? undefined : { organization: facts.organization, url: facts.url },
    capabilities: { streaming: true, pushNotifications: false, extensions },
    defaultInputModes: facts.defaultInputModes,
    defaultOutputModes: facts.defaultOutputModes,
    skills: [...facts.skills].map(([id, skill]) => compact({
      id,
      name: skill.name ?? id,
      description: skill.description,
      tags: skillTags(id, skill),
      examples: skill.examples,
      inputModes: skill.inputModes,
      outputModes: skill.outputModes,
    })),
  });
  return keys.length === 0 ? card : signA2aCard(card, keys);
}

/** The rvAgent card in upstream's struct shape, signed when `key` is given. */
export function rvAgentCard(facts: CardFacts, key: SigningKey | undefined): JsonObject {
  const costs = Object.fromEntries(
    [...facts.skills].flatMap(([id, skill]) =>
      skill.cost ? [[id, compact({ usd_per_task: skill.cost.usdPerTask, tokens_per_task: skill.cost.tokensPerTask })]] : []),
  );
  const card: JsonObject = {
    name: facts.name,
    description: facts.description,
    url: facts.url,
    provider: { organization: facts.organization ?? facts.name, url: null },
    version: facts.version,
    capabilities: { streaming: true, pushNotifications: false },
    skills: [...facts.skills].map(([id, skill]) => ({
      id,
      name: skill.name ?? id,
      description: skill.description,
      tags: skillTags(id, skill),
      inputModes: ["text"],
      outputModes: ["text"],
    })),
    authentication: { schemes: [] },
    metadata: { ruvector: { skill_costs: costs } },
  };
  return key ? signRvAgentCard(card, key) : card;
}
