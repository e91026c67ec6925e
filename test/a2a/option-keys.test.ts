/**
 * Options the caller writes are checked key by key: a misspelt key (which would
 * leave a limit unenforced or a setting at its default) is an A2aError naming
 * it and the closest valid key, raised before any request is made.
 */
import { afterAll, expect, test } from "bun:test";
import { A2aClient, A2aServer, type A2aServerOptions } from "../../src/a2a/index.ts";
import { A2aError } from "../../src/a2a/errors.ts";
import { collect, testSkills } from "./fixtures/peers.ts";

const server = A2aServer.start({ name: "keys-agent", description: "A test agent", skills: testSkills() });
afterAll(() => server.stop());

async function refusal(attempt: () => Promise<unknown>): Promise<A2aError> {
  const before = server.stats.requests;
  const error = await attempt().then(
    () => new Error("expected a refusal"),
    (e: Error) => e,
  );
  expect(error).toBeInstanceOf(A2aError);
  expect((error as A2aError).code).toBe("INVALID_REQUEST");
  expect(server.stats.requests).toBe(before);
  return error as A2aError;
}

test("A2aClient.connect: a misspelt option or policy key is refused by name with the closest valid key", async () => {
  const connectError = await refusal(() => A2aClient.connect(server.url, { trustedKeys: server.trustedKeys, timeoutMS: 5 } as never));
  expect(connectError.message).toStartWith('unknown option "timeoutMS" in A2aClient.connect options; did you mean "timeoutMs"?');
  const policyError = await refusal(() => A2aClient.connect(server.url, { trustedKeys: server.trustedKeys, policy: { maxCostUSD: 1 } } as never));
  expect(policyError.message).toStartWith('unknown option "maxCostUSD" in A2aClient.connect options.policy; did you mean "maxCostUsd"?');
  const notObject = await refusal(() => A2aClient.connect(server.url, "fast" as never));
  expect(notObject.message).toBe('A2aClient.connect options must be an object, got "fast" (string)');
});

test("per-call options, task requests, their policies and list queries are checked the same way", async () => {
  const client = await A2aClient.connect(server.url, { trustedKeys: server.trustedKeys, dialect: "a2a", cardCache: null });
  const cases: [() => Promise<unknown>, string][] = [
    [() => client.sendTask({ skill: "echo", input: "x" }, { signl: undefined } as never), 'unknown option "signl" in sendTask options; did you mean "signal"?'],
    [() => client.sendTask({ skill: "echo", input: "x", polcy: { maxTokens: 1 } } as never), 'unknown option "polcy" in the task request; did you mean "policy"?'],
    [() => client.sendTask({ skill: "echo", input: "x", policy: { maxtokens: 1 } } as never), 'unknown option "maxtokens" in request.policy; did you mean "maxTokens"?'],
    [() => collect(client.streamTask({ skill: "echo", input: "x" }, { sigal: undefined } as never)), 'unknown option "sigal" in streamTask options; did you mean "signal"?'],
    [() => client.getTask("t", { historylength: 1 } as never), 'unknown option "historylength" in getTask options; did you mean "historyLength"?'],
    [() => client.cancelTask("t", { abort: 1 } as never), 'unknown option "abort" in cancelTask options (valid: signal)'],
    [() => client.listTasks({ pagesize: 5 } as never), 'unknown option "pagesize" in listTasks query; did you mean "pageSize"?'],
    [() => client.listTasks({}, { signals: undefined } as never), 'unknown option "signals" in listTasks options; did you mean "signal"?'],
  ];
  for (const [attempt, message] of cases) expect((await refusal(attempt)).message).toStartWith(message);
  expect((await client.sendTask({ skill: "echo", input: "x", policy: { maxTokens: 1000 } })).status.state).toBe("completed");
});

test("A2aServer.start: misspelt keys in the options, signing and skills are each named with the closest valid key", () => {
  const skills = testSkills();
  const base: A2aServerOptions = { name: "n", description: "d", skills };
  const cases: [object, string][] = [
    [{ ...base, hostName: "::1" }, 'unknown option "hostName" in the options; did you mean "hostname"?'],
    [{ ...base, signing: { rvAgent: false } }, 'unknown option "rvAgent" in signing; did you mean "rvagent"?'],
    [{ ...base, skills: { ...skills, extra: { description: "x", handler: () => "y", outputMode: ["text/plain"] } } }, 'unknown option "outputMode" in skills.extra; did you mean "outputModes"?'],
    [{ ...base, skills: { ...skills, broken: null } }, "skills.broken must be an object, got null"],
  ];
  for (const [options, message] of cases) {
    let error: unknown;
    try {
      A2aServer.start(options as A2aServerOptions).stop();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(A2aError);
    expect((error as A2aError).code).toBe("CARD_INVALID");
    expect((error as A2aError).message).toContain(message);
  }
  expect(() => A2aServer.start(undefined as never)).toThrow(new A2aError("CARD_INVALID", "A2aServer options must be an object"));
});
