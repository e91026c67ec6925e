import { afterAll, describe, expect, test } from "bun:test";
import { mergePolicies } from "../../src/a2a/policy.ts";
import { A2aClient, A2aServer, GlobalBudget, type Dialect, type TaskRequest } from "../../src/a2a/index.ts";
import { A2aError, BudgetExceeded, PolicyViolation } from "../../src/a2a/errors.ts";
import { collect, testSkills } from "./fixtures/peers.ts";

const server = A2aServer.start({ name: "policy-agent", description: "A test agent", skills: testSkills() });
afterAll(() => server.stop());

const connect = (dialect: Dialect, options: Parameters<typeof A2aClient.connect>[1] = {}) =>
  A2aClient.connect(server.url, { trustedKeys: server.trustedKeys, dialect, cardCache: null, ...options });

/** Runs `attempt` and checks it failed with `type` without any request reaching the server. */
async function refusedLocally(attempt: () => Promise<unknown>, type: new (...args: any[]) => Error): Promise<Error> {
  const before = server.stats.requests;
  const error: Error = await attempt().then(
    () => new Error("expected a refusal"),
    (refusal: Error) => refusal,
  );
  expect(error).toBeInstanceOf(type);
  expect(server.stats.requests).toBe(before);
  return error;
}

for (const dialect of ["a2a", "rvagent"] as const) {
  describe(`TaskPolicy before any request (${dialect})`, () => {
    const violations: [string, TaskRequest, string][] = [
      ["a skill outside allowedSkills", { skill: "echo", input: "x", policy: { allowedSkills: ["chunks"] } }, "not in policy.allowedSkills"],
      ["a declared cost over maxCostUsd", { skill: "slow", input: "x", policy: { maxCostUsd: 0.1 } }, "costs $0.5 per task"],
      ["an undeclared cost with maxCostUsd set", { skill: "free", input: "x", policy: { maxCostUsd: 1 } }, "declares no cost"],
      ["declared tokens over maxTokens", { skill: "echo", input: "x", policy: { maxTokens: 50 } }, "uses up to 100 tokens"],
    ];
    for (const [what, request, reason] of violations) {
      test(`${what} ⇒ PolicyViolation, for sendTask and streamTask`, async () => {
        const client = await connect(dialect);
        const error = await refusedLocally(() => client.sendTask(request), PolicyViolation);
        expect(error.message).toContain(reason);
        await refusedLocally(() => collect(client.streamTask(request)), PolicyViolation);
      });
    }

    test("the client's default policy applies to every task, and a request can only tighten it", async () => {
      const client = await connect(dialect, { policy: { allowedSkills: ["echo", "chunks"], maxCostUsd: 1 } });
      await refusedLocally(() => client.sendTask({ skill: "slow", input: "x", policy: { allowedSkills: ["slow"] } }), PolicyViolation);
      await refusedLocally(() => client.sendTask({ skill: "chunks", input: "x", policy: { maxCostUsd: 0.01 } }), PolicyViolation);
      const task = await client.sendTask({ skill: "echo", input: "x", policy: { maxCostUsd: 5 } });
      expect(task.id).toBeString();
    });

    test("an unknown skill, a malformed request or policy is refused before any request", async () => {
      const client = await connect(dialect);
      const unknown = await refusedLocally(() => client.sendTask({ skill: "nope", input: "x" }), A2aError);
      expect((unknown as A2aError).code).toBe("UNKNOWN_SKILL");
      const invalid = await refusedLocally(() => client.sendTask({ skill: "echo", input: "x", policy: { maxCostUsd: -1 } }), A2aError);
      expect((invalid as A2aError).code).toBe("INVALID_REQUEST");
      const noSkill = await refusedLocally(() => client.sendTask({ skill: "", input: "x" }), A2aError);
      expect(noSkill.message).toContain("request.skill");
      const badInput = await refusedLocally(() => client.sendTask({ skill: "echo", input: 42 as unknown as string }), A2aError);
      expect(badInput.message).toContain("request.input");
    });

    test("maxDurationMs: a task that runs too long is canceled and the stream fails with PolicyViolation", async () => {
      const client = await connect(dialect);
      const before = server.stats.methods;
      const error = await collect(client.streamTask({ skill: "slow", input: "x", policy: { maxDurationMs: 150 } })).catch((e) => e);
      expect(error).toBeInstanceOf(PolicyViolation);
      expect(error.message).toContain("maxDurationMs=150");
      const cancelMethod = dialect === "a2a" ? "CancelTask" : "tasks/cancel";
      expect((server.stats.methods[cancelMethod] ?? 0) - (before[cancelMethod] ?? 0)).toBe(1);
    });

    test("maxDurationMs set at sendTask is enforced when the task is streamed later", async () => {
      const client = await connect(dialect);
      if (dialect === "rvagent") {
        // rvAgent's send answers only when the task ends, so the limit applies to the send itself.
        const error = await client.sendTask({ skill: "slow", input: "x", policy: { maxDurationMs: 150 } }).catch((e) => e);
        expect(error).toBeInstanceOf(PolicyViolation);
        return;
      }
      const task = await client.sendTask({ skill: "slow", input: "x", policy: { maxDurationMs: 150 } });
      const error = await collect(client.streamTask(task.id)).catch((e) => e);
      expect(error).toBeInstanceOf(PolicyViolation);
      expect((await client.getTask(task.id)).status.state).toBe("canceled");
    });
  });
}

describe("GlobalBudget", () => {
  test("tasks per minute: the next task ⇒ BudgetExceeded and no request", async () => {
    const budget = new GlobalBudget({ maxTasksPerMinute: 2 });
    const client = await connect("a2a", { budget });
    await client.sendTask({ skill: "echo", input: "1" });
    await client.sendTask({ skill: "echo", input: "2" });
    const error = await refusedLocally(() => client.sendTask({ skill: "echo", input: "3" }), BudgetExceeded);
    expect(error.message).toContain("maxTasksPerMinute=2");
    expect(budget.usage.tasks).toBe(2);
  });

  test("USD per minute is charged the card-declared cost, shared across clients and dialects", async () => {
    const budget = new GlobalBudget({ maxUsdPerMinute: 0.03 });
    const a2a = await connect("a2a", { budget });
    const rvagent = await connect("rvagent", { budget });
    await a2a.sendTask({ skill: "echo", input: "1" });
    await rvagent.sendTask({ skill: "chunks", input: "2" });
    expect(budget.usage.usd).toBeCloseTo(0.03, 10);
    await refusedLocally(() => rvagent.sendTask({ skill: "echo", input: "3" }), BudgetExceeded);
    await refusedLocally(() => collect(a2a.streamTask({ skill: "echo", input: "4" })), BudgetExceeded);
  });

  test("the window rolls: charges older than a minute no longer count", () => {
    let now = 1_000_000;
    const budget = new GlobalBudget({ maxTasksPerMinute: 1, maxUsdPerMinute: 1, now: () => now });
    budget.charge(0.7);
    expect(() => budget.charge(0)).toThrow(BudgetExceeded);
    now += 59_999;
    expect(() => budget.charge(0)).toThrow(BudgetExceeded);
    now += 1;
    budget.charge(0.7);
    expect(budget.usage).toEqual({ tasks: 1, usd: 0.7 });
  });

  test("sums dollars exactly (no floating-point drift at the limit)", () => {
    const budget = new GlobalBudget({ maxUsdPerMinute: 0.3 });
    budget.charge(0.1);
    budget.charge(0.1);
    budget.charge(0.1);
    expect(() => budget.charge(0.000001)).toThrow(BudgetExceeded);
  });

  test("rejects nonsensical limits", () => {
    expect(() => new GlobalBudget({ maxTasksPerMinute: -1 })).toThrow(A2aError);
    expect(() => new GlobalBudget({ maxUsdPerMinute: Number.NaN })).toThrow(A2aError);
  });
});

test("mergePolicies keeps the stricter value of each field and intersects allow-lists", () => {
  expect(mergePolicies({ maxTokens: 10, maxCostUsd: 1, allowedSkills: ["a", "b"] }, { maxTokens: 20, maxDurationMs: 5, allowedSkills: ["b", "c"] })).toEqual({
    maxTokens: 10,
    maxCostUsd: 1,
    maxDurationMs: 5,
    allowedSkills: ["b"],
  });
  expect(mergePolicies(undefined, undefined)).toEqual({});
});
