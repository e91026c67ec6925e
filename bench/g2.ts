/**
 * Gate G2 — no event-loop fights: one event loop consumes an A2A SSE stream of
 * 1,000 status updates (from a peer in another process) while two
 * searchOneAsync calls run on a 100k × 128 lake. Reports the longest
 * event-loop stall and total wall time vs the slowest of the three alone.
 *
 *   bun bench/g2.ts
 */
import { join } from "node:path";
import { A2aClient, LocalBackend, RuLake, type TrustedKeys } from "../src/index.ts";
import { synthetic } from "./data.ts";

export interface G2Result {
  streamMs: number;
  searchMs: [number, number];
  togetherMs: number;
  ratio: number;
  worstStallMs: number;
  statusUpdates: number;
}

/** Runs the G2 measurement; `updates` status events, a lake of `n` vectors. */
export async function measureG2(updates = 1000, n = 100_000): Promise<G2Result> {
  const agent = Bun.spawn([process.execPath, join(import.meta.dir, "g2-agent.ts")], { stdin: "pipe", stdout: "pipe" });
  try {
    const reader = agent.stdout.getReader();
    const line = new TextDecoder().decode((await reader.read()).value);
    const { url, trustedKeys } = JSON.parse(line) as { url: string; trustedKeys: TrustedKeys };
    const client = await A2aClient.connect(url, { trustedKeys });
    const data = synthetic(n, 128, 2);
    const backend = new LocalBackend("lake");
    backend.putCollection("docs", { ids: Array.from({ length: n }, (_, i) => i), vectors: data.base.data });
    using lake = RuLake.builder().build();
    lake.registerBackend(backend);
    await lake.primeAsync(["lake", "docs"]);
    const q = (i: number) => data.queries.data.subarray(i * 128, (i + 1) * 128);

    let statusUpdates = 0;
    const stream = async () => {
      statusUpdates = 0;
      for await (const u of client.streamTask({ skill: "ticks", input: String(updates) })) if (u.kind === "status") statusUpdates++;
    };
    const search = (i: number) => () => lake.searchOneAsync(["lake", "docs"], q(i), 100);
    // Every run is timed with the stall monitor on, best of three, so alone and together compare alike.
    let worstStallMs = 0;
    const time = async (f: () => Promise<unknown>) => {
      let best = Infinity;
      for (let round = 0; round < 3; round++) {
        let last = performance.now();
        const monitor = setInterval(() => {
          const now = performance.now();
          worstStallMs = Math.max(worstStallMs, now - last);
          last = now;
        }, 1);
        const t = performance.now();
        await f();
        best = Math.min(best, performance.now() - t);
        clearInterval(monitor);
      }
      return best;
    };
    await stream();
    await search(0)();
    const streamMs = await time(stream);
    const searchMs: [number, number] = [await time(search(0)), await time(search(1))];
    worstStallMs = 0;
    const togetherMs = await time(() => Promise.all([stream(), search(0)(), search(1)()]));
    const ratio = togetherMs / Math.max(streamMs, ...searchMs);
    return { streamMs, searchMs, togetherMs, ratio, worstStallMs, statusUpdates };
  } finally {
    agent.stdin.end();
    agent.kill();
    await agent.exited;
  }
}

if (import.meta.main) {
  const r = await measureG2();
  console.log(`## G2 — ${r.statusUpdates} SSE status updates + 2 × searchOneAsync (k = 100) on a 100k × 128 lake, one event loop\n`);
  console.log("| measure | value |\n|---|---:|");
  console.log(`| stream alone / search alone (×2) | ${r.streamMs.toFixed(1)} / ${r.searchMs.map((x) => x.toFixed(1)).join(", ")} ms |`);
  console.log(`| all three together | ${r.togetherMs.toFixed(1)} ms (**${r.ratio.toFixed(2)}×** the slowest alone; gate ≤ 1.2×) |`);
  console.log(`| longest event-loop stall while together | ${r.worstStallMs.toFixed(1)} ms (gate ≤ 50 ms) |`);
}
