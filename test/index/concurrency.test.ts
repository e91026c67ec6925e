import { expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../support/helpers.ts";

const CHILD = join(import.meta.dir, "concurrency-child.ts");
const DEADLINE_MS = 45_000;

/** Runs the stress child; a deadlock is a kill at the deadline, reported as such. */
async function stress(variant: string, rounds: number): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  const proc = Bun.spawn([process.execPath, CHILD, variant, String(rounds)], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill(9);
  }, DEADLINE_MS);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr, timedOut };
}

for (const variant of ["FlatF32Index", "RabitqIndex", "RabitqPlusIndex", "RabitqAsymIndex"]) {
  test(`${variant}: concurrent async searches, batch searches, saves and adds never deadlock and stay consistent`, async () => {
    const rounds = 15;
    const run = await stress(variant, rounds);
    expect({ timedOut: run.timedOut, stderr: run.stderr, code: run.code }).toEqual({ timedOut: false, stderr: "", code: 0 });
    expect(run.stdout.trim()).toBe(`ok ${2000 + rounds * 8}`);
  }, DEADLINE_MS + 10_000);
}
