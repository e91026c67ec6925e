import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MODELS_CACHE } from "./fixtures.ts";

const EXAMPLE = join(import.meta.dir, "..", "..", "examples", "rag-in-5-lines.ts");

test("the RAG example has ≤ 5 significant lines", () => {
  const significant = readFileSync(EXAMPLE, "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.trim().startsWith("//") && !l.startsWith("import "));
  expect(significant.length).toBeLessThanOrEqual(5);
});

test("the RAG example retrieves definitions that answer the questions", async () => {
  const questions = ["the star that gives us daylight", "a feline pet that purrs", "money paid to a worker"];
  const proc = Bun.spawn(["bun", EXAMPLE, ...questions], {
    env: { ...process.env, RUVECTOR_MODELS_DIR: MODELS_CACHE },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  const answers = out.split(/^(?=\S)/m).map((block) => block.split("\n").slice(1, 4).join("\n"));
  expect(answers.length).toBe(3);
  expect(answers[0]!.split("\n")[0]).toMatch(/^\s+[\d.]+\s+sun, Sun: the star/);
  expect(answers[1]!.split("\n")[0]).toMatch(/^\s+[\d.]+\s+cat, true cat:/);
  expect(answers[2]).toMatch(/wage, pay, earnings, remuneration, salary/);
}, 180_000);
