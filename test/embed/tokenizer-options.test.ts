import { expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { EmbedError, InvalidArgument } from "../../src/errors.ts";
import { Tokenizer } from "../../src/embed/tokenizer.ts";
import { tempDir } from "../support/helpers.ts";

test("maxLength must be an integer in 2..2^20, named in the error", () => {
  for (const maxLength of [-1, 0, 1, 2.5, Number.NaN, 2 ** 20 + 1]) {
    expect(() => Tokenizer.fromFile("/nonexistent/tokenizer.json", { maxLength })).toThrow(
      new InvalidArgument(`maxLength must be an integer of at least 2 (room for [CLS] and [SEP]) and at most 1048576, got ${maxLength}`),
    );
  }
});

test("a tokenizer path that is a FIFO or a device is refused without blocking or reading", () => {
  const fifo = join(tempDir(), "tokenizer.json");
  execFileSync("mkfifo", [fifo]);
  expect(() => Tokenizer.fromFile(fifo)).toThrow(EmbedError);
  expect(() => Tokenizer.fromFile(fifo)).toThrow("is a FIFO; only regular files are read");
  expect(() => Tokenizer.fromFile("/dev/zero")).toThrow("is a character device");
});

test("a misspelt option is an InvalidArgument naming it and the closest valid key, before the file is opened", () => {
  expect(() => Tokenizer.fromFile("/nonexistent/tokenizer.json", { maxlength: 64 } as never)).toThrow(
    new InvalidArgument('unknown option "maxlength" in Tokenizer.fromFile options; did you mean "maxLength"? (valid: maxLength)'),
  );
  expect(() => Tokenizer.fromFile("/nonexistent/tokenizer.json", 64 as never)).toThrow(new InvalidArgument("Tokenizer.fromFile options must be an object, got 64 (number)"));
});
