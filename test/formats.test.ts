import { expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { InvalidArgument } from "../src/index.ts";
import { parseFvecs, parseIdxImages, parseIvecs, parseNpy } from "../src/formats.ts";

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
