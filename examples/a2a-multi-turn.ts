/**
 * A multi-turn A2A task on loopback: a travel agent that asks a follow-up question
 * (`input-required`) when the request lacks a date, and books once it has one. The client
 * streams the first turn, reads the question, answers it with the same `taskId`, and streams
 * the answer; then lists the conversation's tasks.
 *
 *   bun examples/a2a-multi-turn.ts
 */
import { A2aClient, A2aServer, type TaskUpdate } from "../src/index.ts";

const DATE = /\b\d{4}-\d{2}-\d{2}\b/;

await using agent = A2aServer.start({
  name: "travel-desk",
  description: "Books train tickets; asks for what is missing",
  skills: {
    book: {
      description: "Books a ticket to a city on a date (YYYY-MM-DD)",
      handler({ text, history, emit }) {
        // Each message of the task runs the handler again; the earlier turns are in `history`.
        const said = [...history.filter((m) => m.role === "user").flatMap((m) => m.parts), { kind: "text" as const, text }]
          .map((part) => (part.kind === "text" ? part.text : ""))
          .join(" ");
        const date = DATE.exec(said)?.[0];
        if (!date) return { state: "input-required", message: "On which date (YYYY-MM-DD)?" };
        emit.status(`booking for ${date}`);
        return `Ticket booked: ${said.replace(DATE, "").trim()} on ${date}`;
      },
    },
  },
});

const client = await A2aClient.connect(agent.url, { trustedKeys: agent.trustedKeys });
const show = (update: TaskUpdate) => {
  if (update.kind === "status") {
    const text = update.status.message?.parts.map((p) => (p.kind === "text" ? p.text : "")).join("") ?? "";
    console.log(`  status ${update.status.state}${text ? `: ${text}` : ""}`);
  } else if (update.kind === "artifact") {
    console.log(`  artifact: ${update.artifact.parts.map((p) => (p.kind === "text" ? p.text : "")).join("")}`);
  }
};

console.log("user: a ticket to Lisbon, please");
let taskId: string | undefined;
let question: string | undefined;
for await (const update of client.streamTask({ skill: "book", input: "a ticket to Lisbon, please", contextId: "trip-1" })) {
  show(update);
  if (update.kind === "status") {
    taskId = update.taskId;
    if (update.status.state === "input-required") question = update.status.message?.parts.map((p) => (p.kind === "text" ? p.text : "")).join("");
  }
}
if (!taskId || !question) throw new Error("the agent should have asked for the date");

console.log(`agent asked: ${question}\nuser: 2027-03-14`);
for await (const update of client.streamTask({ skill: "book", input: "2027-03-14", taskId })) show(update);

const page = await client.listTasks({ contextId: "trip-1", includeArtifacts: true });
console.log(`tasks in trip-1: ${page.tasks.map((t) => `${t.id.slice(0, 8)}… ${t.status.state}, ${t.history.length} messages`).join("; ")}`);
