import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  FlatF32Index,
  PersistError,
  RabitqAsymIndex,
  RabitqIndex,
  RabitqPlusIndex,
  loadIndex,
  loadIndexAsync,
} from "../../src/index.ts";
import { randomVectors, row, runBun, tempDir } from "../support/helpers.ts";

const VARIANTS = [FlatF32Index, RabitqIndex, RabitqPlusIndex, RabitqAsymIndex] as const;
const dim = 20;
const n = 400;
const data = randomVectors(n, dim, 21);
const queries = randomVectors(25, dim, 22);
const bigIds = Array.from({ length: n }, (_, i) => Number.MAX_SAFE_INTEGER - 3 * i);

describe.each(VARIANTS)("%p persistence", (Variant) => {
  for (const metric of ["l2", "cosine"] as const) {
    test(`save → load → search is bit-identical (${metric}, ids up to 2^53-1)`, async () => {
      const dir = tempDir();
      using idx = Variant.build(data, { dim, metric, ids: bigIds, rerankFactor: 4 });
      idx.add(12345, row(data, dim, 0).map((x) => x / 2));
      await idx.saveAsync(join(dir, "a.idx"));
      idx.save(join(dir, "b.idx"));
      expect(readFileSync(join(dir, "a.idx"))).toEqual(readFileSync(join(dir, "b.idx")));
      using back = await Variant.loadAsync(join(dir, "a.idx"));
      using backSync = Variant.load(join(dir, "b.idx"));
      expect(back.equals(idx)).toBe(true);
      expect(backSync.equals(idx)).toBe(true);
      expect(back.metric).toBe(metric);
      expect(back.length).toBe(n + 1);
      const [before, after] = [idx, back].map((x) => x.searchBatch(queries, 10));
      expect(Array.from(after!.ids)).toEqual(Array.from(before!.ids));
      expect(Array.from(after!.scores)).toEqual(Array.from(before!.scores));
      expect(Array.from(back.ids())).toEqual([...bigIds, 12345]);
      using any = await loadIndexAsync(join(dir, "a.idx"));
      expect(any).toBeInstanceOf(Variant);
      using anySync = loadIndex(join(dir, "b.idx"));
      expect(anySync).toBeInstanceOf(Variant);
      expect(anySync.equals(idx)).toBe(true);
    });
  }

  test("loading a file of another variant names both", async () => {
    const dir = tempDir();
    const other = Variant === FlatF32Index ? RabitqPlusIndex : FlatF32Index;
    using idx = other.build(data, { dim });
    idx.save(join(dir, "x.idx"));
    await expect(Variant.loadAsync(join(dir, "x.idx"))).rejects.toThrow(`file holds a ${other.name}, not a ${Variant.name}`);
  });
});

/** The body of one of our files as upstream writes it: version 1, no trailer. */
function upstreamBody(bytes: Uint8Array): Uint8Array {
  const body = bytes.slice(0, 32 + n * (4 + 4 * dim));
  new DataView(body.buffer).setUint32(8, 1, true);
  return body;
}

function plusFile(dir: string): { path: string; bytes: Uint8Array } {
  using idx = RabitqPlusIndex.build(data, { dim, seed: 9, rerankFactor: 7, padToWord: false, ids: Array.from({ length: n }, (_, i) => i * 5) });
  const path = join(dir, "index.rbpx");
  idx.save(path);
  return { path, bytes: new Uint8Array(readFileSync(path)) };
}

test("RabitqPlusIndex files keep upstream's rbpx0001 layout", () => {
  const { bytes } = plusFile(tempDir());
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe("rbpx0001");
  // Version 0 marks "our trailer follows" (a file cut at the trailer is then noticed); upstream reads versions ≤ 1.
  expect(view.getUint32(8, true)).toBe(0);
  expect(view.getUint32(12, true)).toBe(dim);
  expect(view.getBigUint64(16, true)).toBe(9n);
  expect(view.getUint32(24, true)).toBe(7);
  expect(view.getUint32(28, true)).toBe(n);
  const record = 4 + 4 * dim;
  expect(view.getUint32(32 + 3 * record, true)).toBe(15);
  expect(view.getFloat32(32 + 3 * record + 4, true)).toBe(data[3 * dim]!);
});

test("a plain upstream rbpx0001 file (no trailer) loads as RabitqPlusIndex", async () => {
  const dir = tempDir();
  const { bytes } = plusFile(dir);
  writeFileSync(join(dir, "upstream.rbpx"), upstreamBody(bytes));
  using idx = await RabitqPlusIndex.loadAsync(join(dir, "upstream.rbpx"));
  expect(idx.length).toBe(n);
  expect(idx.rerankFactor).toBe(7);
  expect(idx.ids()[3]).toBe(15);
  expect(idx.search(row(data, dim, 3), 1)[0]!.id).toBe(15);
  await expect(FlatF32Index.loadAsync(join(dir, "upstream.rbpx"))).rejects.toThrow("file holds a RabitqPlusIndex, not a FlatF32Index");
});

describe("damaged and foreign files raise PersistError, never crash", () => {
  const dir = tempDir();
  const { bytes } = plusFile(dir);
  const body = 32 + n * (4 + 4 * dim);
  const cases: Array<[string, Uint8Array, string]> = [
    ["empty", new Uint8Array(0), "truncated"],
    ["truncated header", bytes.subarray(0, 20), "truncated"],
    ["truncated body", bytes.subarray(0, body - 10), "truncated"],
    ["truncated trailer", bytes.subarray(0, bytes.length - 5), "trailing bytes"],
    ["foreign (PNG)", new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(64)]), "not an index file"],
    ["text", new TextEncoder().encode("hello, this is not an index file at all, just words"), "not an index file"],
  ];
  const flip = (at: number, mask: number) => {
    const copy = bytes.slice();
    copy[at]! ^= mask;
    return copy;
  };
  cases.push(["bit flip in a vector", flip(32 + 4 + 5, 0x10), "checksum mismatch"]);
  cases.push(["bit flip in the trailer ids", flip(body + 48, 0x01), "checksum mismatch"]);
  cases.push(["bit flip in the header dim", flip(13, 0x40), "checksum mismatch"]);
  const huge = bytes.slice(0, body);
  new DataView(huge.buffer).setUint32(28, 99_999_999, true);
  cases.push(["header claims 100M rows", huge, "truncated: header declares n=99999999"]);
  const hugeDim = bytes.slice(0, body);
  new DataView(hugeDim.buffer).setUint32(12, 0xffff_ffff, true);
  cases.push(["header claims dim 2^32-1", hugeDim, "dim 4294967295 out of range"]);
  const version = bytes.slice(0, body);
  new DataView(version.buffer).setUint32(8, 7, true);
  cases.push(["future version", version, "unsupported version 7"]);
  const nan = upstreamBody(bytes);
  new DataView(nan.buffer).setFloat32(32 + 4, Number.NaN, true);
  cases.push(["NaN in an upstream body", nan, "non-finite value"]);
  cases.push(["cut exactly at the trailer", bytes.slice(0, body), "the header says a trailer follows"]);

  for (const [name, content, message] of cases) {
    test(name, async () => {
      const path = join(dir, `${name.replaceAll(" ", "-")}.rbpx`);
      writeFileSync(path, content);
      await expect(RabitqPlusIndex.loadAsync(path)).rejects.toThrow(PersistError);
      expect(() => RabitqPlusIndex.load(path)).toThrow(message);
    });
  }

  test("a bit flip anywhere is caught (fuzz, 300 flips)", () => {
    const path = join(dir, "fuzz.rbpx");
    for (let i = 0; i < 300; i++) {
      const at = Math.floor((i * 7919) % bytes.length);
      writeFileSync(path, flip(at, 1 << (i % 8)));
      expect(() => RabitqPlusIndex.load(path)).toThrow(PersistError);
    }
  });

  test("truncation at every length is caught (fuzz)", () => {
    const path = join(dir, "cut.rbpx");
    for (let len = 0; len < bytes.length; len += 97) {
      writeFileSync(path, bytes.subarray(0, len));
      expect(() => RabitqPlusIndex.load(path)).toThrow(PersistError);
    }
  });

  test("a missing file names the path", () => {
    expect(() => FlatF32Index.load(join(dir, "nope.idx"))).toThrow(`cannot read index file ${join(dir, "nope.idx")}`);
    expect(() => FlatF32Index.load("")).toThrow("path must be a non-empty string");
  });
});

test("a failed save raises PersistError and leaves no file", async () => {
  using idx = FlatF32Index.build(data, { dim });
  const dir = tempDir();
  await expect(idx.saveAsync(join(dir, "missing-dir", "x.idx"))).rejects.toThrow(PersistError);
  expect(() => idx.save(join(dir, "missing-dir", "x.idx"))).toThrow("cannot create");
  expect(readdirSync(dir)).toEqual([]);
});

test("a crash in the middle of a save leaves the previous file intact, and the next save reclaims its temporary", async () => {
  const dir = tempDir();
  const path = join(dir, "index.idx");
  using small = FlatF32Index.build(data, { dim });
  small.save(path);
  const before = readFileSync(path);
  const child = Bun.spawn(
    [
      process.execPath,
      "-e",
      `const { FlatF32Index } = await import(${JSON.stringify(join(import.meta.dir, "..", "..", "src", "index.ts"))});
       const v = new Float32Array(4_000_000 * 32).fill(0.5);
       const idx = FlatF32Index.build(v, { dim: 32 });
       console.log("saving");
       await idx.saveAsync(${JSON.stringify(path)});`,
    ],
    { stdout: "pipe" },
  );
  const reader = child.stdout.getReader();
  await reader.read();
  const deadline = Date.now() + 20_000;
  while (!readdirSync(dir).some((f) => f.includes(".tmp-")) && Date.now() < deadline) await Bun.sleep(2);
  const tmp = readdirSync(dir).find((f) => f.includes(".tmp-"));
  expect(tmp).toBeDefined();
  child.kill("SIGKILL");
  await child.exited;
  expect(readFileSync(path)).toEqual(before);
  using back = FlatF32Index.load(path);
  expect(back.equals(small)).toBe(true);
  expect(statSync(join(dir, tmp!)).size).toBeLessThan(4_000_000 * 32 * 4);
  small.save(path);
  expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
}, 60_000);

test("saved files load in a fresh process with identical results", async () => {
  const dir = tempDir();
  using idx = RabitqPlusIndex.build(data, { dim, ids: bigIds });
  await idx.saveAsync(join(dir, "p.rbpx"));
  const expected = JSON.stringify(idx.search(row(queries, dim, 0), 10));
  const child = await runBun(`
    import { RabitqPlusIndex } from "@ruvector/bun";
    const idx = await RabitqPlusIndex.loadAsync(${JSON.stringify(join(dir, "p.rbpx"))});
    console.log(JSON.stringify(idx.search(new Float32Array(${JSON.stringify(Array.from(row(queries, dim, 0)))}), 10)));
  `);
  expect(child.stderr).toBe("");
  expect(child.stdout.trim()).toBe(expected);
  expect(existsSync(join(dir, "p.rbpx"))).toBe(true);
});
