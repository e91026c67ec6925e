/** `ruvector a2a …`, spawned as a real process against an A2aServer running in this test process. */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { A2aServer, publicJwk, signingKey } from "../../src/a2a/index.ts";
import { CLI, expectCommandHelp, expectOneLineError, expectUsageError, ruvector, tempDir } from "../support/helpers.ts";

const STATUS_LINES = 4;
let canceledSlowTasks = 0;

const agent = A2aServer.start({
  name: "cli-test-agent",
  description: "Skills for the CLI tests",
  skills: {
    shout: {
      description: "Upper-cases the input",
      cost: { usdPerTask: 0.001, tokensPerTask: 50 },
      handler: ({ text }) => text.toUpperCase(),
    },
    count: {
      description: "Counts to four, one status each",
      cost: { usdPerTask: 0.002 },
      async handler({ emit }) {
        for (let i = 1; i <= STATUS_LINES; i++) {
          emit.status(`step ${i}`);
          await Bun.sleep(10);
        }
        return "counted";
      },
    },
    boom: { description: "Always fails", handler: () => Promise.reject(new Error("kaboom")) },
    slow: {
      description: "Runs until canceled",
      async handler({ emit, signal }) {
        emit.status("started");
        while (!signal.aborted) await Bun.sleep(10);
        canceledSlowTasks++;
      },
    },
    pricey: { description: "Costs five dollars", cost: { usdPerTask: 5 }, handler: () => "paid" },
    ask: {
      description: "Asks for a name, then greets it",
      handler: ({ history, text }) => (history.length === 0 ? { state: "input-required", message: "Your name?" } : `Hello, ${text}!`),
    },
  },
});
afterAll(() => agent.stop());

const dir = tempDir("ruvector-cli-a2a-");
const trusted = join(dir, "trusted.json");
const untrusted = join(dir, "untrusted.json");
await Bun.write(trusted, JSON.stringify(agent.trustedKeys));
const stranger = signingKey("EdDSA");
await Bun.write(untrusted, JSON.stringify({ [stranger.kid]: publicJwk(stranger) }));

describe("a2a card", () => {
  for (const dialect of ["a2a", "rvagent"] as const) {
    test(`${dialect}: the card verifies against the trusted keys; --json has the skills with their costs`, async () => {
      const run = await ruvector(["a2a", "card", agent.url, "--trusted-keys", trusted, "--dialect", dialect, "--json"]);
      expect(run).toMatchObject({ code: 0, stderr: "" });
      const card = JSON.parse(run.stdout);
      expect(card).toMatchObject({ url: agent.url, name: "cli-test-agent", dialect, agentId: agent.agentId, streaming: true });
      expect(card.signature).toBeDefined();
      expect(card.raw).toBeUndefined();
      const shout = card.skills.find((s: { id: string }) => s.id === "shout");
      expect(shout.cost).toEqual({ usdPerTask: 0.001, tokensPerTask: 50 });
    });
  }

  test("as text: name, dialect, agent id and a skills table with declared costs", async () => {
    const run = await ruvector(["a2a", "card", agent.url, "--trusted-keys", trusted]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^name +cli-test-agent$/m);
    expect(run.stdout).toMatch(/^dialect +a2a$/m);
    expect(run.stdout).toMatch(new RegExp(`^agent id +${agent.agentId}$`, "m"));
    expect(run.stdout).toMatch(/^ {2}shout +\$0\.001\/task, ≤50 tokens +Upper-cases the input$/m);
    expect(run.stdout).toMatch(/^ {2}boom +\(undeclared\) +Always fails$/m);
  });

  test("untrusted keys, or none, fail with CardSignatureInvalid's message; --no-verify accepts the card", async () => {
    for (const keys of [["--trusted-keys", untrusted], []]) {
      expectOneLineError(await ruvector(["a2a", "card", agent.url, ...keys]), new RegExp(`agent card at ${agent.url}`));
    }
    const unverified = await ruvector(["a2a", "card", agent.url, "--no-verify", "--json"]);
    expect(unverified.code).toBe(0);
    expect(JSON.parse(unverified.stdout)).toMatchObject({ name: "cli-test-agent", agentId: null, signature: null });
  });

  test("a peer that is down fails with exit 1 naming the URL; a bad keys file too", async () => {
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const url = `http://127.0.0.1:${closed.port}/`;
    await closed.stop(true);
    expectOneLineError(await ruvector(["a2a", "card", url, "--trusted-keys", trusted]), url);
    expectOneLineError(await ruvector(["a2a", "send", url, "--skill", "shout", "--input", "x", "--no-verify"]), url);
    await Bun.write(join(dir, "bad.json"), "[1, 2]");
    expectOneLineError(await ruvector(["a2a", "card", agent.url, "--trusted-keys", join(dir, "bad.json")]), /expected a JSON object of public JWKs/);
    expectOneLineError(await ruvector(["a2a", "card", agent.url, "--trusted-keys", join(dir, "absent.json")]), /absent\.json: no such file/);
  });
});

describe("a2a send and stream", () => {
  for (const dialect of ["a2a", "rvagent"] as const) {
    test(`${dialect}: send completes and prints the result`, async () => {
      const args = ["a2a", "send", agent.url, "--skill", "shout", "--input", "hello there", "--trusted-keys", trusted, "--dialect", dialect];
      const json = await ruvector([...args, "--json", "--max-cost-usd", "0.01", "--max-duration-ms", "10000"]);
      expect(json).toMatchObject({ code: 0, stderr: "" });
      const task = JSON.parse(json.stdout);
      expect(task.status.state).toBe("completed");
      expect(JSON.stringify(task.artifacts)).toContain("HELLO THERE");
      const text = await ruvector(args);
      expect(text).toMatchObject({ code: 0, stderr: "" });
      expect(text.stdout).toMatch(/^state +completed$/m);
      expect(text.stdout).toMatch(/HELLO THERE$/m);
    });

    test(`${dialect}: stream prints one line per update and ends at the terminal state`, async () => {
      const args = ["a2a", "stream", agent.url, "--skill", "count", "--input", "go", "--trusted-keys", trusted, "--dialect", dialect];
      const text = await ruvector(args);
      expect(text).toMatchObject({ code: 0, stderr: "" });
      const lines = text.stdout.trimEnd().split("\n");
      expect(lines.filter((l) => /^status working: step \d$/.test(l)).length).toBeGreaterThanOrEqual(STATUS_LINES);
      expect(lines.at(-1)).toMatch(/^status completed \(final\)/);
      expect(text.stdout).toMatch(/^artifact \S+: counted$/m);

      const json = await ruvector([...args, "--json"]);
      expect(json).toMatchObject({ code: 0, stderr: "" });
      const updates = json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
      expect(updates.filter((u) => u.kind === "status" && u.status.state === "working").length).toBeGreaterThanOrEqual(STATUS_LINES);
      expect(updates.at(-1)).toMatchObject({ kind: "status", final: true, status: { state: "completed" } });
    });
  }

  test("a task that fails exits 1 with its reason, after printing it", async () => {
    const send = await ruvector(["a2a", "send", agent.url, "--skill", "boom", "--input", "x", "--trusted-keys", trusted]);
    expectOneLineError(send, /task \S+ ended failed.*kaboom/, /^state +failed$/m);
    const stream = await ruvector(["a2a", "stream", agent.url, "--skill", "boom", "--input", "x", "--trusted-keys", trusted]);
    expectOneLineError(stream, /ended failed/, /^status failed \(final\)/m);
  });

  test("a task waiting for input exits 0 with the question; --task-id answers it", async () => {
    const asked = await ruvector(["a2a", "send", agent.url, "--skill", "ask", "--input", "hi", "--trusted-keys", trusted, "--json"]);
    expect(asked).toMatchObject({ code: 0, stderr: "" });
    const task = JSON.parse(asked.stdout);
    expect(task.status.state).toBe("input-required");
    expect(task.status.message.parts).toEqual([{ kind: "text", text: "Your name?" }]);
    const answered = await ruvector(["a2a", "stream", agent.url, "--skill", "ask", "--input", "Ada", "--task-id", task.id, "--trusted-keys", trusted]);
    expect(answered).toMatchObject({ code: 0, stderr: "" });
    expect(answered.stdout).toMatch(/^artifact result: Hello, Ada!$/m);
    expect(answered.stdout.trimEnd().split("\n").at(-1)).toBe("status completed (final)");
    const finished = await ruvector(["a2a", "send", agent.url, "--skill", "ask", "--input", "again", "--task-id", task.id, "--trusted-keys", trusted]);
    expectOneLineError(finished, /takes no more messages/);
    const empty = await ruvector(["a2a", "send", agent.url, "--skill", "ask", "--input", "x", "--task-id", "", "--trusted-keys", trusted]);
    expect(empty.code).toBe(2);
  });

  test("a skill dearer than --max-cost-usd is refused before anything is sent", async () => {
    const started = agent.stats.tasksStarted;
    const run = await ruvector(["a2a", "send", agent.url, "--skill", "pricey", "--input", "x", "--trusted-keys", trusted, "--max-cost-usd", "1"]);
    expectOneLineError(run, /pricey/);
    expect(agent.stats.tasksStarted).toBe(started);
  });

  test("Ctrl-C during a stream cancels the task and exits 1", async () => {
    const before = canceledSlowTasks;
    const proc = Bun.spawn([process.execPath, CLI, "a2a", "stream", agent.url, "--skill", "slow", "--input", "x", "--trusted-keys", trusted], { stdout: "pipe", stderr: "pipe" });
    const reader = proc.stdout.getReader();
    let seen = "";
    while (!seen.includes("status working")) seen += new TextDecoder().decode((await reader.read()).value);
    proc.kill("SIGINT");
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^ruvector: interrupted; task \S+ is canceled\n$/);
    // The handler sees the abort on its next 10 ms poll, which may come after the CLI has exited.
    for (let i = 0; i < 200 && canceledSlowTasks === before; i++) await Bun.sleep(10);
    expect(canceledSlowTasks).toBe(before + 1);
  });
});

describe("usage errors exit 2; --help everywhere", () => {
  const url = "http://127.0.0.1:1/";
  const cases: Array<[args: string[], message: string, usage: string]> = [
    [["a2a"], "missing a2a command", "ruvector a2a <card|send|stream>"],
    [["a2a", "call"], "unknown command 'a2a call'", "ruvector a2a <card|send|stream>"],
    [["a2a", "card"], "missing <url>", "ruvector a2a card <url>"],
    [["a2a", "card", url, "--dialect", "grpc"], "--dialect must be one of auto, a2a, rvagent, got 'grpc'", "ruvector a2a card"],
    [["a2a", "card", url, "--no-verify", "--trusted-keys", "k.json"], "not both", "ruvector a2a card"],
    [["a2a", "send", url, "--input", "x"], "missing required option --skill", "ruvector a2a send <url>"],
    [["a2a", "send", url, "--skill", "s"], "missing required option --input", "ruvector a2a send"],
    [["a2a", "send", url, "--skill", "s", "--input", "x", "--max-cost-usd", "cheap"], "--max-cost-usd must be a non-negative number, got 'cheap'", "ruvector a2a send"],
    [["a2a", "stream", url, "--skill", "s", "--input", "x", "--max-duration-ms", "0"], "--max-duration-ms must be an integer", "ruvector a2a stream"],
    [["a2a", "stream", url, "--skill", "s", "--input", "x", "--bogus"], "unknown option '--bogus'", "ruvector a2a stream"],
  ];
  for (const [args, message, usage] of cases) {
    test(`ruvector ${args.join(" ")}`, async () => expectUsageError(await ruvector(args), message, usage));
  }

  const connectOptions = ["--trusted-keys FILE", "--no-verify", "--dialect NAME", "--json"];
  const taskOptions = ["--skill ID", "--input TEXT", "--max-cost-usd N", "--max-duration-ms N", ...connectOptions];
  const commands: Array<[name: string, options: string[]]> = [
    ["a2a card", connectOptions],
    ["a2a send", taskOptions],
    ["a2a stream", taskOptions],
  ];
  for (const [name, options] of commands) {
    test(`ruvector ${name} --help lists its options; help ${name} and -h print the same`, async () => {
      expect((await expectCommandHelp(name, options)).stdout).toStartWith(`usage: ruvector ${name} <url>`);
    });
  }

  test("ruvector --help lists the a2a commands; a2a --help lists its group", async () => {
    const top = await ruvector(["--help"]);
    for (const [name] of commands) expect(top.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
    const group = await ruvector(["a2a", "--help"]);
    expect(group).toMatchObject({ code: 0, stderr: "" });
    expect(group.stdout).toStartWith("usage: ruvector a2a <card|send|stream> [options]");
  });
});
