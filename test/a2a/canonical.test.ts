import { describe, expect, test } from "bun:test";
import { a2aCardSigningInput, rvAgentCardSigningInput } from "../../src/a2a/canonical.ts";
import { canonicalJson, jcs } from "../../src/a2a/jcs.ts";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("RFC 8785 (JCS)", () => {
  test("serialises the RFC's sample (§3.2.2): numbers, escapes, literals", () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(jcs(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  test("sorts keys by UTF-16 code units (§3.2.3)", () => {
    const input = { "\u20ac": 0, "\r": 0, "\ufb33": 0, "1": 0, "\ud83d\ude00": 0, "\u0080": 0, "\u00f6": 0 };
    const order = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33"];
    expect(jcs(input)).toBe(`{${order.map((key) => `${JSON.stringify(key)}:0`).join(",")}}`);
  });

  test("rvAgent order is by code point (UTF-8 bytes), which differs above the BMP", () => {
    const keys = Object.keys(JSON.parse(canonicalJson({ "\ufb33": 0, "\ud83d\ude00": 0 }, "codepoint")));
    expect(keys).toEqual(["\ufb33", "\ud83d\ude00"]);
  });

  test("refuses values JSON cannot carry", () => {
    expect(() => jcs({ x: Number.NaN })).toThrow(TypeError);
    expect(() => jcs({ x: "\ud800" })).toThrow(TypeError);
    expect(() => jcs({ x: 1n })).toThrow(TypeError);
  });
});

describe("card signing input", () => {
  test("A2A: drops signatures and default values, keeps optional false and unknown fields", () => {
    const card = {
      name: "a",
      description: "",
      signatures: [{ protected: "x", signature: "y" }],
      capabilities: { streaming: false, extensions: [{ uri: "u", required: false, params: { empty: [], keep: 0 } }] },
      skills: [{ id: "s", tags: [] }],
      custom: { note: "covered" },
    };
    expect(decode(a2aCardSigningInput(card))).toBe(
      '{"capabilities":{"extensions":[{"params":{"keep":0},"uri":"u"}],"streaming":false},"custom":{"note":"covered"},"name":"a","skills":[{"id":"s"}]}',
    );
  });

  test("rvAgent: drops only the signature, keeps metadata.ruvector and nulls", () => {
    const card = { b: null, a: 1, metadata: { ruvector: { agent_id: "x", signature: { alg: "ed25519-hex" } } } };
    expect(decode(rvAgentCardSigningInput(card))).toBe('{"a":1,"b":null,"metadata":{"ruvector":{"agent_id":"x"}}}');
    expect(card.metadata.ruvector.signature).toBeDefined();
  });
});
