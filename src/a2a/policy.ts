/**
 * Client-side limits, checked before any request: the per-task {@link TaskPolicy} against
 * what the card declares, and a {@link GlobalBudget} of tasks and dollars per minute. Our
 * server applies the same policy check to what clients forward.
 * @module
 */
import { A2aError, BudgetExceeded, PolicyViolation } from "./errors.ts";
import { asArray, asString, optNumber, optObject, type JsonObject } from "./json.ts";
import type { SkillInfo, TaskPolicy } from "./types.ts";

/** Wire spelling of policy fields: A2A metadata uses ours, rvAgent snake_case. */
export type PolicyStyle = "camelCase" | "snake_case";

const SNAKE = {
  maxTokens: "max_tokens",
  maxCostUsd: "max_cost_usd",
  maxDurationMs: "max_duration_ms",
  allowedSkills: "allowed_skills",
} as const;

function wireName(key: keyof typeof SNAKE, style: PolicyStyle): string {
  return style === "camelCase" ? key : SNAKE[key];
}

/** A policy as it travels on the wire. */
export function policyToJson(policy: TaskPolicy, style: PolicyStyle): JsonObject {
  const entries = (Object.keys(SNAKE) as (keyof typeof SNAKE)[])
    .filter((key) => policy[key] !== undefined)
    .map((key) => [wireName(key, style), policy[key]]);
  return Object.fromEntries(entries);
}

/** Reads a forwarded policy (absent or null ⇒ no limits); a `TypeError` names a bad field. */
export function policyFromJson(value: unknown, path: string, style: PolicyStyle): TaskPolicy {
  const json = optObject(value, path) ?? {};
  const policy: TaskPolicy = {};
  for (const key of ["maxTokens", "maxCostUsd", "maxDurationMs"] as const) {
    const name = wireName(key, style);
    const number = optNumber(json[name], `${path}.${name}`);
    if (number !== undefined) policy[key] = number;
  }
  const name = wireName("allowedSkills", style);
  const allowed = json[name];
  if (allowed !== undefined && allowed !== null) {
    policy.allowedSkills = asArray(allowed, `${path}.${name}`).map((skill, i) => asString(skill, `${path}.${name}[${i}]`));
  }
  return policy;
}

/** The stricter of two policies, field by field (allow-lists intersect). */
export function mergePolicies(base: TaskPolicy | undefined, override: TaskPolicy | undefined): TaskPolicy {
  const merged: TaskPolicy = {};
  for (const key of ["maxTokens", "maxCostUsd", "maxDurationMs"] as const) {
    const values = [base?.[key], override?.[key]].filter((value): value is number => value !== undefined);
    if (values.length > 0) merged[key] = Math.min(...values);
  }
  const lists = [base?.allowedSkills, override?.allowedSkills].filter((list): list is readonly string[] => list !== undefined);
  if (lists.length > 0) merged.allowedSkills = lists.reduce((a, b) => a.filter((skill) => b.includes(skill)));
  return merged;
}

/** Rejects limits that are not non-negative finite numbers (a zero duration is rejected too). */
export function validatePolicy(policy: TaskPolicy): void {
  for (const key of ["maxTokens", "maxCostUsd", "maxDurationMs"] as const) {
    const value = policy[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= (key === "maxDurationMs" ? 1 : 0))) {
      throw new A2aError("INVALID_REQUEST", `policy.${key} must be a finite number >= ${key === "maxDurationMs" ? 1 : 0}, got ${value}`);
    }
  }
}

/**
 * Checks a task for `skillId` against `policy` and the skills an agent declares, and returns
 * the declared cost of the task in USD (0 when undeclared). An undeclared cost fails
 * `maxCostUsd`: a limit that cannot be checked is not honoured by hoping.
 */
export function checkPolicy(skillId: string, skills: readonly SkillInfo[], policy: TaskPolicy, agent: string): number {
  const skill = skills.find((candidate) => candidate.id === skillId);
  if (!skill) {
    const offered = skills.map((s) => s.id).join(", ") || "none";
    throw new A2aError("UNKNOWN_SKILL", `agent ${agent} offers no skill ${skillId} (it offers: ${offered})`);
  }
  if (policy.allowedSkills && !policy.allowedSkills.includes(skillId)) {
    throw new PolicyViolation(`skill ${skillId} is not in policy.allowedSkills [${policy.allowedSkills.join(", ")}]`);
  }
  if (policy.maxCostUsd !== undefined) {
    if (!skill.cost) {
      throw new PolicyViolation(`agent ${agent} declares no cost for skill ${skillId}, so policy.maxCostUsd=${policy.maxCostUsd} cannot be honoured`);
    }
    if (skill.cost.usdPerTask > policy.maxCostUsd) {
      throw new PolicyViolation(`skill ${skillId} costs $${skill.cost.usdPerTask} per task, over policy.maxCostUsd=$${policy.maxCostUsd}`);
    }
  }
  const tokens = skill.cost?.tokensPerTask;
  if (policy.maxTokens !== undefined && tokens !== undefined && tokens > policy.maxTokens) {
    throw new PolicyViolation(`skill ${skillId} uses up to ${tokens} tokens per task, over policy.maxTokens=${policy.maxTokens}`);
  }
  return skill.cost?.usdPerTask ?? 0;
}

/** Limits of a {@link GlobalBudget}. */
export interface BudgetLimits {
  /** Most tasks started in any 60-second window. */
  maxTasksPerMinute?: number;
  /** Most declared USD spent in any 60-second window. */
  maxUsdPerMinute?: number;
  /** Clock in milliseconds; `Date.now` unless testing. */
  now?: () => number;
}

const WINDOW_MS = 60_000;
const MICRO = 1_000_000;

/**
 * A rolling one-minute budget shared by every client given it. Each task is charged its
 * card-declared cost before it is sent; a charge that would exceed a limit throws
 * `BudgetExceeded` and is not recorded. A send that fails after being charged stays
 * charged: it may have reached the peer.
 */
export class GlobalBudget {
  readonly #limits: BudgetLimits;
  readonly #now: () => number;
  readonly #charges: { at: number; microUsd: number }[] = [];

  constructor(limits: BudgetLimits) {
    for (const key of ["maxTasksPerMinute", "maxUsdPerMinute"] as const) {
      const value = limits[key];
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
        throw new A2aError("INVALID_REQUEST", `${key} must be a finite number >= 0, got ${value}`);
      }
    }
    this.#limits = limits;
    this.#now = limits.now ?? Date.now;
  }

  /** Tasks and USD charged in the current window. */
  get usage(): { tasks: number; usd: number } {
    this.#expire();
    return { tasks: this.#charges.length, usd: this.#microUsd() / MICRO };
  }

  /** Records one task costing `usd`, or throws `BudgetExceeded` and records nothing. */
  charge(usd: number): void {
    this.#expire();
    const { maxTasksPerMinute, maxUsdPerMinute } = this.#limits;
    const tasks = this.#charges.length + 1;
    if (maxTasksPerMinute !== undefined && tasks > maxTasksPerMinute) {
      throw new BudgetExceeded(`global budget: task ${tasks} in the last minute would exceed maxTasksPerMinute=${maxTasksPerMinute}`);
    }
    const microUsd = Math.round(usd * MICRO);
    const spent = this.#microUsd() + microUsd;
    if (maxUsdPerMinute !== undefined && spent > Math.round(maxUsdPerMinute * MICRO)) {
      throw new BudgetExceeded(`global budget: $${spent / MICRO} in the last minute would exceed maxUsdPerMinute=$${maxUsdPerMinute}`);
    }
    this.#charges.push({ at: this.#now(), microUsd });
  }

  #microUsd(): number {
    return this.#charges.reduce((sum, charge) => sum + charge.microUsd, 0);
  }

  #expire(): void {
    const cutoff = this.#now() - WINDOW_MS;
    while (this.#charges.length > 0 && (this.#charges[0]?.at ?? 0) <= cutoff) this.#charges.shift();
  }
}
