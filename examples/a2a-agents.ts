/**
 * Two agents talking A2A on loopback: a Bun agent serving a signed card, and a client that
 * verifies it, sends a task, streams another, and cancels a third — in both dialects.
 *
 *   bun examples/a2a-agents.ts
 */
import { A2aClient, A2aServer, GlobalBudget, type TaskUpdate } from "../src/index.ts";

await using agent = A2aServer.start({
  name: "summariser",
  description: "Summarises text, slowly on purpose",
  skills: {
    summarise: {
      description: "First sentence of the input, streamed word by word",
      cost: { usdPerTask: 0.002, tokensPerTask: 500 },
      async handler({ text, emit, signal }) {
        const words = (text.split(".")[0] ?? "").split(" ");
        for (const [i, word] of words.entries()) {
          if (signal.aborted) return;
          emit.artifact(`${word} `, { artifactId: "summary", name: "summary", append: i > 0, lastChunk: i === words.length - 1 });
          await Bun.sleep(20);
        }
        return `${words.length} words`;
      },
    },
  },
});
console.log(`agent ${agent.agentId.slice(0, 16)}… listening on ${agent.url}`);

const budget = new GlobalBudget({ maxTasksPerMinute: 10, maxUsdPerMinute: 0.05 });
const text = "RaBitQ quantises vectors to one bit per dimension. It then reranks candidates exactly.";

for (const dialect of ["a2a", "rvagent"] as const) {
  // Verification is on by default: the card must be signed by a key we trust.
  const client = await A2aClient.connect(agent.url, { trustedKeys: agent.trustedKeys, dialect, budget });
  console.log(`\n[${client.dialect}] ${client.card.name}: skills ${client.card.skills.map((s) => `${s.id} ($${s.cost?.usdPerTask})`).join(", ")}`);

  const task = await client.sendTask({ skill: "summarise", input: text, policy: { maxCostUsd: 0.01, maxTokens: 1000 } });
  console.log(`sent task ${task.id} (${task.status.state})`);

  for await (const update of client.streamTask({ skill: "summarise", input: text, policy: { maxDurationMs: 10_000 } })) {
    console.log(`  ${describe(update)}`);
  }

  for await (const update of client.streamTask({ skill: "summarise", input: text })) {
    const taskId = update.kind === "task" ? update.task.id : update.kind === "status" ? update.taskId : undefined;
    if (taskId && update.kind !== "artifact") {
      console.log(`  canceling ${taskId}: ${(await client.cancelTask(taskId)).status.state}`);
      break;
    }
  }
}
console.log(`\nbudget used: ${JSON.stringify(budget.usage)}; agent saw ${agent.stats.requests} requests`);

function describe(update: TaskUpdate): string {
  switch (update.kind) {
    case "task":
      return `task ${update.task.id}: ${update.task.status.state}, ${update.task.artifacts.length} artifact(s) so far`;
    case "status":
      return `status: ${update.status.state}${update.final ? " (final)" : ""}`;
    case "artifact":
      return `artifact ${update.artifact.name}: ${update.append ? "+" : ""}${update.artifact.parts.map((p) => (p.kind === "text" ? p.text : "…")).join("")}`;
    case "message":
      return "message";
  }
}
