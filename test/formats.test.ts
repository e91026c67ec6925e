import { expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { InvalidArgument } from "../src/index.ts";
import {
  encodeFvecs,
  encodeJsonl,
  encodeNpy,
  parseFvecs,
  parseIdxImages,
  parseIvecs,
  parseJsonl,
  parseNpy,
  parseTextJsonl,
  parseTextLines,
  writeFileAtomic,
} from "../src/formats.ts";
import { tempDir } from "./support/helpers.ts";

function fvecs(rows: number[][]): Uint8Array {
  const out = new DataView(new ArrayBuffer(rows.reduce((s, r) => s + 4 + 4 * r.length, 0)));
  let at = 0;
  for (const r of rows) {
    out.setInt32(at, r.length, true);
    r.forEach((x, j) => out.setFloat32(at + 4 + 4 * j, x, true));
    at += 4 + 4 * r.length;
  }
  return new Uint8Array(out.buffer);
}

function npy(header: string, data: Float32Array): Uint8Array {
  const pad = 64 - ((10 + header.length + 1) % 64);
  const h = header + " ".repeat(pad) + "\n";
  const out = new Uint8Array(10 + h.length + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0]);
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(new TextEncoder().encode(h), 10);
  out.set(new Uint8Array(data.buffer), 10 + h.length);
  return out;
}

test("fvecs and ivecs parse rows and reject ragged or truncated files", () => {
  const m = parseFvecs(fvecs([[1, 2, 3], [4, 5, 6]]));
  expect([m.rows, m.dim, Array.from(m.data)]).toEqual([2, 3, [1, 2, 3, 4, 5, 6]]);
  expect(parseIvecs(fvecs([[1, 2]])).dim).toBe(2);
  expect(() => parseFvecs(fvecs([[1, 2, 3], [4, 5, 6]]).subarray(0, 20))).toThrow("not a whole number of 3-wide rows (truncated?)");
  expect(() => parseFvecs(fvecs([[1, 2], [3, 4, 5, 6]].map((r) => r)).subarray(0, 24))).toThrow(InvalidArgument);
  expect(() => parseFvecs(new Uint8Array(2))).toThrow("too short");
  expect(() => parseFvecs(new Uint8Array([0, 0, 0, 0]))).toThrow("invalid row width 0");
});

test("npy parses float32 C-order arrays and names what it cannot read", () => {
  const data = new Float32Array([1, 2, 3, 4, 5, 6]);
  const m = parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data));
  expect([m.rows, m.dim, Array.from(m.data)]).toEqual([2, 3, [1, 2, 3, 4, 5, 6]]);
  expect(parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", data)).dim).toBe(6);
  expect(() => parseNpy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data))).toThrow("dtype <f8 is not little-endian float32");
  expect(() => parseNpy(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data))).toThrow("Fortran-order");
  expect(() => parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", data))).toThrow("needs 32");
  expect(() => parseNpy(new TextEncoder().encode("not numpy at all"))).toThrow("bad magic");
});

test("IDX image files parse and reject truncation", () => {
  const raw = new Uint8Array(16 + 2 * 4);
  const v = new DataView(raw.buffer);
  [0x803, 2, 2, 2].forEach((x, i) => v.setUint32(4 * i, x));
  raw.set([1, 2, 3, 4, 5, 6, 7, 8], 16);
  const m = parseIdxImages(gzipSync(raw));
  expect([m.rows, m.dim, Array.from(m.data)]).toEqual([2, 4, [1, 2, 3, 4, 5, 6, 7, 8]]);
  expect(() => parseIdxImages(gzipSync(raw.subarray(0, 20)))).toThrow("truncated");
  expect(() => parseIdxImages(gzipSync(new Uint8Array(20)))).toThrow("not an IDX3 image file");
});

test("writers produce what the readers (and NumPy's layout) expect, exactly", () => {
  const data = new Float32Array([1, -2.5, 3e-8, Math.fround(0.1), -0, 6]);
  const m = { data, rows: 2, dim: 3 };
  expect(encodeFvecs(m)).toEqual(fvecs([[1, -2.5, 3e-8], [Math.fround(0.1), -0, 6]]));
  expect(encodeNpy(m)).toEqual(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data));
  expect(parseFvecs(encodeFvecs(m))).toEqual(m);
  expect(parseNpy(encodeNpy(m))).toEqual(m);
  expect(parseJsonl(encodeJsonl(m))).toEqual({ ...m, ids: undefined });
  expect(parseJsonl(encodeJsonl(m, [7, 2 ** 53 - 1]))).toEqual({ ...m, ids: [7, 2 ** 53 - 1] });
  expect(() => encodeJsonl(m, [1])).toThrow("1 ids for 2 rows");
  const empty = { data: new Float32Array(0), rows: 0, dim: 4 };
  expect(parseNpy(encodeNpy(empty))).toEqual(empty);
});

test("texts: one per line (blank lines skipped, CRLF dropped) or JSONL {text, id}", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  expect(parseTextLines(bytes("a b\r\n\n  \n c \nlast"))).toEqual({ texts: ["a b", " c ", "last"], ids: undefined });
  expect(() => parseTextLines(bytes(" \n\r\n"), "t.txt")).toThrow("t.txt: no texts");
  expect(() => parseTextLines(new Uint8Array([0xff, 0xfe]), "t.txt")).toThrow("t.txt: not UTF-8 text");
  expect(parseTextJsonl(bytes('{"text":"x","lang":"en"}\n\n{"text":""}\n'))).toEqual({ texts: ["x", ""], ids: undefined });
  expect(parseTextJsonl(bytes('{"id":3,"text":"x"}\n{"id":1,"text":"y"}'))).toEqual({ texts: ["x", "y"], ids: [3, 1] });
  expect(() => parseTextJsonl(bytes('["x"]'), "d.jsonl")).toThrow('d.jsonl: line 1: expected an object {"text": "…"}');
  expect(() => parseTextJsonl(bytes('{"text":1}'), "d.jsonl")).toThrow("line 1: expected an object");
  expect(() => parseTextJsonl(bytes('{"text":"a"}\n{"id":1,"text":"b"}'), "d.jsonl")).toThrow('line 2: has an "id", but line 1 lacks one');
  expect(() => parseTextJsonl(bytes('{"id":1.5,"text":"a"}'), "d.jsonl")).toThrow('line 1: "id" must be an integer in 0..2^53-1, got 1.5');
  expect(() => parseTextJsonl(bytes("\n"), "d.jsonl")).toThrow("d.jsonl: no texts");
});

test("writeFileAtomic replaces a file whole and leaves no temporary file, even when it fails", async () => {
  const dir = tempDir();
  const path = join(dir, "v.npy");
  await Bun.write(path, "old");
  await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
  expect(readdirSync(dir)).toEqual(["v.npy"]);
  await expect(writeFileAtomic(join(dir, "missing", "x.npy"), new Uint8Array(1))).rejects.toThrow(/ENOENT/);
  // A failed rename (a directory is in the way) must not leave the temporary file behind.
  mkdirSync(join(dir, "sub"));
  await expect(writeFileAtomic(join(dir, "sub"), new Uint8Array(1))).rejects.toThrow();
  expect(readdirSync(dir).sort()).toEqual(["sub", "v.npy"]);
});

test("the package exports file readers and writers: .fvecs and .npy round-trip, .ivecs reads, errors name the file", async () => {
  const api = await import("../src/index.ts");
  const dir = tempDir("ruvector-formats-api-");
  const m = { data: Float32Array.from([1, -2.5, 3, 0.125, 5, 6]), rows: 2, dim: 3 };
  api.writeFvecs(join(dir, "m.fvecs"), m);
  expect(api.readFvecs(join(dir, "m.fvecs"))).toEqual(m);
  api.writeNpy(join(dir, "m.npy"), m);
  expect(api.readNpy(join(dir, "m.npy"))).toEqual(m);
  await Bun.write(join(dir, "t.ivecs"), new Uint8Array(Int32Array.from([2, 1, 2]).buffer));
  expect(api.readIvecs(join(dir, "t.ivecs"))).toEqual({ data: Int32Array.from([1, 2]), rows: 1, dim: 2 });
  await Bun.write(join(dir, "bad.npy"), "not numpy");
  expect(() => api.readNpy(join(dir, "bad.npy"))).toThrow(`${join(dir, "bad.npy")}: not a .npy file`);
  expect(() => api.readFvecs(join(dir, "absent.fvecs"))).toThrow(new InvalidArgument(`cannot read ${join(dir, "absent.fvecs")}: no such file or directory`));
  expect(() => api.readFvecs(dir)).toThrow(`${dir} is a directory; only regular files are read`);
  expect(readdirSync(dir).sort()).toEqual(["bad.npy", "m.fvecs", "m.npy", "t.ivecs"]);
});
