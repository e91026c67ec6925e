/** `ruvector a2a card|send|stream`: talk to an A2A 1.0 or rvAgent agent. */
import { endsTurn, type A2aClient, type AgentCardView, type SkillCost, type Task } from "../a2a/index.ts";
import { JSON_OPTION, type CommandSpec } from "./args.ts";
import { cancelAfterInterrupt, checkOutcome, connect, CONNECT_OPTIONS, describeUpdate, interruptible, partsText, statusText, TASK_OPTIONS, taskRequest } from "./a2a-connect.ts";
import { printFields, printJson, table } from "./output.ts";

const TRUST_HELP =
  "The card's signature is verified against --trusted-keys (on by default): an unsigned,\n" +
  "tampered or untrusted card fails with exit 1 unless --no-verify is given.";

/** The card as `--json` prints it: everything but the raw document; null agent id and signature when unverified. */
function cardSummary(url: string, card: AgentCardView) {
  const { raw: _raw, ...rest } = card;
  return { url, ...rest, agentId: card.agentId ?? null, signature: card.signature ?? null };
}

function costText(cost: SkillCost | undefined): string {
  if (!cost) return "(undeclared)";
  return `$${cost.usdPerTask}/task${cost.tokensPerTask === undefined ? "" : `, ≤${cost.tokensPerTask} tokens`}`;
}

const card: CommandSpec = {
  name: "a2a card",
  usage: "<url> [options]",
  summary: "fetch and verify an agent's card; list its skills and their costs",
  description: `Fetches the agent card at <url> and prints its name, dialect, agent id, signature\nand skills with their declared costs.\n${TRUST_HELP}`,
  positionals: ["url"],
  options: { ...CONNECT_OPTIONS, json: JSON_OPTION },
  async run(args) {
    const client = await connect(args);
    const c = client.card;
    if (args.flag("json")) return printJson(cardSummary(client.url, c));
    const signature = c.signature ? `${c.signature.scheme} ${c.signature.alg} (kid ${c.signature.kid})` : "(not verified)";
    printFields([
      ["name", c.name],
      ["description", c.description],
      ["version", c.version],
      ["dialect", c.dialect],
      ["agent id", c.agentId ?? "(not verified)"],
      ["signature", signature],
      ["streaming", c.streaming ? "yes" : "no"],
    ]);
    process.stdout.write(`\nskills:\n${table([["id", "cost", "description"], ...c.skills.map((s) => [s.id, costText(s.cost), s.description])], "  ")}`);
  },
};

/** A task for people: id, state, status message and each artifact's text. */
function printTask(task: Task): void {
  const status = statusText(task);
  printFields([
    ["task", task.id],
    ["state", task.status.state],
    ...(status ? [["message", status] as const] : []),
    ...task.artifacts.map((a) => [`artifact ${a.name ?? a.artifactId}`, partsText(a.parts)] as const),
  ]);
}

const send: CommandSpec = {
  name: "a2a send",
  usage: "<url> --skill <id> --input <text> [options]",
  summary: "run one task on an agent and print its result",
  description:
    "Sends one task and waits for it to end (following it when the peer answers before it\n" +
    "is done), then prints its state, status message and artifacts. Exit 0 when it completed\n" +
    "(or waits for input: answer with --task-id), 1 when it failed, was rejected or canceled.\n" +
    "Ctrl-C cancels it.\n" +
    TRUST_HELP,
  positionals: ["url"],
  options: { ...TASK_OPTIONS, ...CONNECT_OPTIONS, json: JSON_OPTION },
  async run(args) {
    const request = taskRequest(args);
    let client: A2aClient | undefined;
    let taskId = request.taskId;
    const task = await interruptible(
      async (signal) => {
        client = await connect(args, signal);
        const sent = await client.sendTask(request, { signal });
        taskId = sent.id;
        if (endsTurn(sent.status.state)) return sent;
        for await (const _ of client.streamTask(sent.id, { signal }));
        return client.getTask(sent.id, { signal });
      },
      () => (client ? cancelAfterInterrupt(client, taskId) : Promise.resolve("interrupted while connecting")),
    );
    if (args.flag("json")) printJson(task);
    else printTask(task);
    checkOutcome(task.id, task.status.state, statusText(task));
  },
};

const stream: CommandSpec = {
  name: "a2a stream",
  usage: "<url> --skill <id> --input <text> [options]",
  summary: "run one task on an agent and print its updates as they come",
  description:
    "Sends one task as a stream and prints each update on its own line (one JSON object per\n" +
    "line with --json) until the task completes, fails, is canceled or needs input. Dropped\n" +
    "connections are resumed. Exit codes as for `a2a send`; Ctrl-C cancels the task.\n" +
    TRUST_HELP,
  positionals: ["url"],
  options: { ...TASK_OPTIONS, ...CONNECT_OPTIONS, json: { ...JSON_OPTION, help: "print each update as one line of JSON" } },
  async run(args) {
    const request = taskRequest(args);
    const json = args.flag("json");
    let client: A2aClient | undefined;
    let taskId = request.taskId;
    let last: { state: Task["status"]["state"]; reason: string | undefined } | undefined;
    await interruptible(
      async (signal) => {
        client = await connect(args, signal);
        for await (const update of client.streamTask(request, { signal })) {
          process.stdout.write(`${json ? JSON.stringify(update) : describeUpdate(update)}\n`);
          if (update.kind === "task") {
            taskId = update.task.id;
            last = { state: update.task.status.state, reason: statusText(update.task) };
          } else if (update.kind === "status") {
            taskId = update.taskId;
            last = { state: update.status.state, reason: update.status.message && partsText(update.status.message.parts) };
          }
        }
      },
      () => (client ? cancelAfterInterrupt(client, taskId) : Promise.resolve("interrupted while connecting")),
    );
    checkOutcome(taskId, last?.state, last?.reason);
  },
};

/** The `a2a` command group. */
export const A2A_COMMANDS: readonly CommandSpec[] = [card, send, stream];
