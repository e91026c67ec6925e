import { expect, test } from "bun:test";
import { measureG2 } from "../../bench/g2.ts";

test("consuming 1,000 SSE status updates while two lake searches run never stalls the event loop over 50 ms", async () => {
  const r = await measureG2(1000, 100_000);
  expect(r.statusUpdates).toBeGreaterThanOrEqual(1000);
  expect(r.worstStallMs).toBeLessThan(50);
}, 120_000);
