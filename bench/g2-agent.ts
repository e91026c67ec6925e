// The A2A peer of the G2 gate, in its own process: a skill that streams N
// status updates. Prints {url, trustedKeys} as one JSON line, then serves
// until its stdin closes.
import { A2aServer } from "../src/index.ts";

await using agent = A2aServer.start({
  name: "ticker",
  description: "Streams status updates",
  skills: {
    ticks: {
      description: "Emits N working statuses, N given as the input text",
      async handler({ text, emit }) {
        const n = Number(text);
        for (let i = 0; i < n; i++) {
          emit.status(`tick ${i}`);
          // A remote agent paces its updates; ~1 ms every 10 keeps the stream mostly waiting, as on a network.
          if (i % 10 === 9) await Bun.sleep(1);
        }
        return `${n} ticks`;
      },
    },
  },
});
console.log(JSON.stringify({ url: agent.url, trustedKeys: agent.trustedKeys }));
for await (const _ of Bun.stdin.stream());
