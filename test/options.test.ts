/** The shared option and argument checks: unknown keys name the closest valid key; values are quoted with their type. */
import { expect, test } from "bun:test";
import { InvalidArgument } from "../src/errors.ts";
import { checkOptionKeys, closestKey, describeValue, float32Hint, optionKeys, optionKeysProblem } from "../src/options.ts";

const KEYS = ["dim", "seed", "rerankFactor", "metric", "ids", "padToWord"];

test("an unknown option key is an InvalidArgument naming it, the closest valid key and the valid list", () => {
  expect(() => checkOptionKeys({ dim: 4, rerankfactor: 50 }, KEYS, "RabitqPlusIndex.build options")).toThrow(
    new InvalidArgument('unknown option "rerankfactor" in RabitqPlusIndex.build options; did you mean "rerankFactor"? (valid: dim, seed, rerankFactor, metric, ids, padToWord)'),
  );
  expect(() => checkOptionKeys({ colour: 1 }, KEYS, "x")).toThrow('unknown option "colour" in x (valid:');
  expect(() => checkOptionKeys({ dim: 4, seed: 1 }, KEYS, "x")).not.toThrow();
});

test("options that are not an object are refused by name; a module's own error type can carry the message", () => {
  for (const bad of [null, 5, "dim", [1]]) expect(optionKeysProblem(bad, KEYS, "x options")).toBe(`x options must be an object, got ${describeValue(bad)}`);
  expect(optionKeysProblem({ dim: 1 }, KEYS, "x")).toBeUndefined();
  class OwnError extends Error {}
  expect(() => checkOptionKeys({ sead: 1 }, KEYS, "x", (m) => new OwnError(m))).toThrow(new OwnError('unknown option "sead" in x; did you mean "seed"? (valid: dim, seed, rerankFactor, metric, ids, padToWord)'));
});

test("optionKeys lists the keys of its record", () => {
  expect(optionKeys<{ a?: number; b: string }>({ a: true, b: true })).toEqual(["a", "b"]);
});

test("closest keys: case-folded first, then a prefix, then a few edits, else none", () => {
  expect(closestKey("PADTOWORD", KEYS)).toBe("padToWord");
  expect(closestKey("metrc", KEYS)).toBe("metric");
  expect(closestKey("rerank", KEYS)).toBe("rerankFactor");
  expect(closestKey("sed", KEYS)).toBe("seed");
  expect(closestKey("zzzzzz", KEYS)).toBeUndefined();
});

test("values are quoted with their type, and arrays get a Float32Array.from hint", () => {
  expect(describeValue([0.5, 1, 2, 3])).toBe("[0.5, 1, 2, …] (Array of 4)");
  expect(describeValue("abc")).toBe('"abc" (string)');
  expect(describeValue(new Float64Array(3))).toBe("Float64Array(3)");
  expect(describeValue(12)).toBe("12 (number)");
  expect(describeValue(3n)).toBe("3n (bigint)");
  expect(describeValue(null)).toBe("null");
  expect(describeValue(new Map())).toBe("Map object");
  expect(describeValue(function connect() {})).toBe("connect (function)");
  expect(float32Hint([1, 2])).toBe("; convert it with Float32Array.from(...)");
  expect(float32Hint(new Float64Array(2))).toBe("; convert it with Float32Array.from(...)");
  expect(float32Hint("x")).toBe("");
});
