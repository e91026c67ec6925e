import { expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../support/helpers.ts";

const MUTANTS = 5_000;

test(`every loader survives ${MUTANTS} seeded mutants per format: only ok or typed errors, no crash, no hang`, async () => {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "run.ts"), "--mutants", String(MUTANTS)], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const line = stdout.split("\n").find((l) => l.startsWith("FUZZ "));
  expect({ code, stderr, report: line !== undefined }).toEqual({ code: 0, stderr: "", report: true });
  const { tallies } = JSON.parse(line!.slice(5)) as { tallies: { format: string; ok: number; typed: number; crash: number; hang: number }[] };
  expect(tallies.length).toBe(12);
  for (const t of tallies) {
    expect({ format: t.format, crash: t.crash, hang: t.hang }).toEqual({ format: t.format, crash: 0, hang: 0 });
    expect(t.ok + t.typed).toBeGreaterThan(MUTANTS);
  }
  console.log(stdout.split("\n").filter((l) => l && !l.startsWith("FUZZ ")).join("\n"));
}, 600_000);
