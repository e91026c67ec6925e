import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ClosedError, EmbedError, Tokenizer } from "../../src/index.ts";
import { MINILM_DIR } from "./fixtures.ts";

const reference: { cases: { text: string; input_ids: number[] }[] } = JSON.parse(
  readFileSync(join(MINILM_DIR, "reference_tokens.json"), "utf8"),
);

describe("Tokenizer (all-MiniLM-L6-v2 tokenizer.json)", () => {
  const tok = Tokenizer.fromFile(join(MINILM_DIR, "tokenizer.json"));

  test("token ids equal reference_tokens.json", () => {
    expect(reference.cases.length).toBe(6);
    for (const c of reference.cases) expect(Array.from(tok.encode(c.text))).toEqual(c.input_ids);
  });

  test("its built-in fixed padding/truncation at 128 is replaced by truncation at 256", () => {
    expect(Array.from(tok.encode(""))).toEqual([101, 102]);
    expect(Array.from(tok.encode(" \t\n "))).toEqual([101, 102]);
    const long = tok.encode(Array.from({ length: 10_000 }, (_, i) => `word${i % 50}`).join(" "));
    expect(long.length).toBe(256);
    expect(long[0]).toBe(101);
    expect(long[255]).toBe(102);
    expect(tok.encode("a ".repeat(200)).length).toBe(202);
  });

  test("lone surrogates become U+FFFD ([UNK]), never a crash", () => {
    expect(Array.from(tok.encode("a\uD800b"))).toEqual(Array.from(tok.encode("a\uFFFDb")));
  });

  test("maxLength option; bad file and bad options ⇒ typed errors", () => {
    using short = Tokenizer.fromFile(join(MINILM_DIR, "tokenizer.json"), { maxLength: 8 });
    const ids = short.encode("one two three four five six seven eight nine");
    expect(ids.length).toBe(8);
    expect([ids[0], ids[7]]).toEqual([101, 102]);
    expect(() => Tokenizer.fromFile(join(MINILM_DIR, "vocab.txt"))).toThrow(EmbedError);
    expect(() => Tokenizer.fromFile("/nonexistent/tokenizer.json")).toThrow(/cannot read tokenizer/);
    expect(() => Tokenizer.fromFile(join(MINILM_DIR, "tokenizer.json"), { maxLength: 1 })).toThrow(/at least 2/);
  });

  test("closed tokenizer throws ClosedError", () => {
    const t = Tokenizer.fromFile(join(MINILM_DIR, "tokenizer.json"));
    t.close();
    t.close();
    expect(() => t.encode("x")).toThrow(ClosedError);
  });
});
