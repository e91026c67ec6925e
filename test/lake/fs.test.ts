import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BackendError } from "../../src/errors.ts";
import { FsBackend } from "../../src/lake/fs.ts";
import { caught, randomVectors, tempDir } from "../support/helpers.ts";

/** Awaits `promise` and returns the BackendError it rejects with, after checking it names `backend`. */
async function backendError(promise: Promise<unknown> | (() => unknown), backend = "cold"): Promise<BackendError> {
  const error = (await caught(promise)) as BackendError;
  expect(error).toBeInstanceOf(BackendError);
  expect(error.backend).toBe(backend);
  expect(error.message).toContain(`backend "${backend}"`);
  return error;
}

/** A ruvec1 file built by hand, independently of FsBackend's encoder. */
function ruvec1(records: [bigint, number[]][], dim: number, count = BigInt(records.length), magic = "ruvec1\0\0"): Buffer {
  const header = Buffer.alloc(24);
  header.write(magic, 0, "latin1");
  header.writeBigUInt64LE(count, 8);
  header.writeUInt32LE(dim, 16);
  const body = records.map(([id, values]) => {
    const record = Buffer.alloc(8 + 4 * values.length);
    record.writeBigUInt64LE(id, 0);
    values.forEach((v, i) => record.writeFloatLE(v, 8 + 4 * i));
    return record;
  });
  return Buffer.concat([header, ...body]);
}

describe("FsBackend", () => {
  test("write produces the exact ruvec1 bytes, atomically, and pulls back exactly", async () => {
    const root = tempDir();
    const fs = new FsBackend("cold", root);
    await fs.writeAsync("docs", "docs.ruvec", { ids: [1, 2 ** 53 - 1], vectors: [[0.5, -2], [3.25, 1e-7]] });
    const bytes = readFileSync(join(root, "docs.ruvec"));
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from("ruvec1\0\0", "latin1"));
    expect(bytes.readBigUInt64LE(8)).toBe(2n);
    expect(bytes.readUInt32LE(16)).toBe(2);
    expect(bytes.readUInt32LE(20)).toBe(0);
    expect(bytes.toString("hex")).toBe(ruvec1([[1n, [0.5, -2]], [2n ** 53n - 1n, [3.25, 1e-7]]], 2).toString("hex"));
    expect(readdirSync(root).sort()).toEqual([".docs.ruvec.ruvsum", ".rulake.lock", "docs.ruvec", "rulake-registry.json"]);
    const batch = await fs.pullVectors("docs");
    expect(Array.from(batch.ids as ArrayLike<number>)).toEqual([1, 2 ** 53 - 1]);
    expect(batch.vectors).toEqual(new Float32Array([0.5, -2, 3.25, 1e-7]));
    expect(batch.dim).toBe(2);
    const bundle = await fs.currentBundle("docs");
    expect(bundle).toEqual({ dataRef: `file://${join(root, "docs.ruvec")}`, dim: 2, generation: batch.generation });
    expect(bundle.dataRef.startsWith("file:///")).toBe(true);
    expect(fs.listCollections()).toEqual(["docs"]);
    expect(fs.filenameOf("docs")).toBe("docs.ruvec");
  });

  test("reads a ruvec1 file written elsewhere (upstream layout) after register; 1000 × 64 round-trips", async () => {
    const root = tempDir();
    const data = randomVectors(1000, 64, 3);
    const records: [bigint, number[]][] = Array.from({ length: 1000 }, (_, i) => [BigInt(i * 7), Array.from(data.subarray(i * 64, (i + 1) * 64))]);
    writeFileSync(join(root, "ext.ruvec"), ruvec1(records, 64));
    const fs = new FsBackend("cold", root);
    await fs.registerAsync("ext", "ext.ruvec");
    const batch = await fs.pullVectors("ext");
    expect(batch.vectors).toEqual(data);
    expect(Array.from(batch.ids as ArrayLike<number>)).toEqual(records.map(([id]) => Number(id)));
    await fs.writeAsync("copy", "copy.ruvec", { ids: batch.ids, vectors: batch.vectors });
    expect(readFileSync(join(root, "copy.ruvec"))).toEqual(readFileSync(join(root, "ext.ruvec")));
  });

  test("the registry survives a new instance on the same root, and one instance sees another's registrations", async () => {
    const root = tempDir();
    const first = new FsBackend("cold", root);
    await first.writeAsync("a", "a.ruvec", { ids: [1], vectors: [[1, 2, 3]] });
    await first.writeAsync("b", "b.ruvec", { ids: [2], vectors: [[4, 5]] });
    const second = new FsBackend("cold", root);
    expect(second.listCollections().sort()).toEqual(["a", "b"]);
    expect((await second.pullVectors("b")).vectors).toEqual(new Float32Array([4, 5]));
    expect(await second.currentBundle("a")).toEqual(await first.currentBundle("a"));
    await second.writeAsync("c", "c.ruvec", { ids: [3], vectors: [[6]] });
    expect(first.listCollections().sort()).toEqual(["a", "b", "c"]);
    expect(JSON.parse(readFileSync(join(root, "rulake-registry.json"), "utf8"))).toEqual({
      format: 1,
      collections: { a: "a.ruvec", b: "b.ruvec", c: "c.ruvec" },
    });
  });

  test("the generation changes on every write, even back-to-back with the same size, and only then", async () => {
    const fs = new FsBackend("cold", tempDir());
    const seen = new Set<unknown>();
    for (let i = 0; i < 20; i++) {
      await fs.writeAsync("docs", "docs.ruvec", { ids: [1, 2], vectors: [[i, i], [i, -i]] });
      const { generation } = await fs.currentBundle("docs");
      expect(typeof generation).toBe("string");
      expect(seen.has(generation)).toBe(false);
      seen.add(generation);
      await fs.pullVectors("docs");
      expect((await fs.currentBundle("docs")).generation).toBe(generation);
    }
    // Re-registering the same file is not a data change.
    const before = await fs.currentBundle("docs");
    await fs.registerAsync("docs", "docs.ruvec");
    expect(await fs.currentBundle("docs")).toEqual(before);
  });

  test("a write can point a collection at another file", async () => {
    const root = tempDir();
    const fs = new FsBackend("cold", root);
    await fs.writeAsync("docs", "v1.ruvec", { ids: [1], vectors: [[1]] });
    await fs.writeAsync("docs", "v2.ruvec", { ids: [2], vectors: [[2, 2]] });
    expect((await fs.currentBundle("docs")).dataRef).toBe(`file://${join(root, "v2.ruvec")}`);
    expect((await fs.pullVectors("docs")).dim).toBe(2);
    expect(new FsBackend("cold", root).filenameOf("docs")).toBe("v2.ruvec");
  });

  describe("file names that would escape the root or break the registry are rejected", () => {
    const names = ["", ".", "..", "../x.ruvec", "a/b", "a\\b", "c:x", "a\0b", "tab\tname", "x".repeat(256), "é".repeat(128), "rulake-registry.json"];
    for (const name of names) {
      test(JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}… (${Buffer.byteLength(name)} bytes)` : name), async () => {
        const root = tempDir();
        const fs = new FsBackend("cold", root);
        const error = await backendError(fs.writeAsync("docs", name, { ids: [1], vectors: [[1]] }));
        expect(error.collection).toBe("docs");
        expect(error.message).toContain("file name");
        await backendError(fs.registerAsync("docs", name));
        expect(readdirSync(root)).toEqual([]);
        expect(fs.listCollections()).toEqual([]);
      });
    }
    test("a 255-byte name registers and writes (its temporary and sidecar names are shortened)", async () => {
      const root = tempDir();
      const fs = new FsBackend("cold", root);
      await fs.writeAsync("docs", "x".repeat(255), { ids: [1], vectors: [[1]] });
      expect(fs.filenameOf("docs")).toBe("x".repeat(255));
      expect((await fs.pullVectors("docs")).vectors).toEqual(new Float32Array([1]));
      writeFileSync(join(root, "z".repeat(255)), readFileSync(join(root, "x".repeat(255))));
      await fs.registerAsync("long", "z".repeat(255));
      expect((await fs.pullVectors("long")).vectors).toEqual(new Float32Array([1]));
    });
  });

  describe("truncated, foreign or corrupt files are BackendErrors naming the file", () => {
    const good = ruvec1([[1n, [1, 2]], [2n, [3, 4]]], 2);
    // Header faults are caught by register, currentBundle and pullVectors; record faults by pullVectors only.
    const cases: [string, Buffer, RegExp, "header" | "records"][] = [
      ["empty", Buffer.alloc(0), /truncated: 0 bytes, a ruvec1 header needs 24/, "header"],
      ["header cut short", good.subarray(0, 20), /truncated: 20 bytes/, "header"],
      ["records cut short", good.subarray(0, good.length - 3), /truncated: 53 bytes, the header \(count 2, dim 2\) needs 56/, "header"],
      ["trailing bytes", Buffer.concat([good, Buffer.alloc(4)]), /corrupt: 60 bytes/, "header"],
      ["foreign magic", ruvec1([[1n, [1, 2]]], 2, 1n, "ruvec2\0\0"), /bad magic/, "header"],
      ["a JSON file", Buffer.from('{"not": "a vector file", "padding": 0000}'), /bad magic/, "header"],
      ["count over 100M", ruvec1([], 2, 100_000_001n), /count 100000001 exceeds/, "header"],
      ["count near 2^64", ruvec1([], 2, 2n ** 64n - 1n), /exceeds the limit/, "header"],
      ["dim 0", ruvec1([], 0), /dim must be an integer in 1\.\.8192, got 0/, "header"],
      ["dim over 8192", ruvec1([], 8193), /got 8193/, "header"],
      ["NaN value", ruvec1([[1n, [1, 2]], [2n, [3, NaN]]], 2), /vector 1 \(id 2\) component 1 is NaN/, "records"],
      ["infinite value", ruvec1([[1n, [Infinity, 2]]], 2), /component 0 is Infinity/, "records"],
      ["id above 2^53−1", ruvec1([[2n ** 63n, [1, 2]]], 2), /9223372036854775808/, "records"],
      ["duplicate ids", ruvec1([[5n, [1, 2]], [5n, [3, 4]]], 2), /duplicate id 5/, "records"],
    ];
    for (const [name, bytes, detail, part] of cases) {
      test(name, async () => {
        const root = tempDir();
        const path = join(root, "bad.ruvec");
        writeFileSync(path, bytes);
        const fs = new FsBackend("cold", root);
        if (part === "records") await fs.registerAsync("docs", "bad.ruvec");
        else {
          expect((await backendError(fs.registerAsync("docs", "bad.ruvec"))).message).toMatch(detail);
          writeFileSync(path, good);
          await fs.registerAsync("docs", "bad.ruvec");
          writeFileSync(path, bytes);
          expect((await backendError(fs.currentBundle("docs"))).message).toMatch(detail);
        }
        const error = await backendError(fs.pullVectors("docs"));
        expect(error.message).toMatch(detail);
        expect(error.message).toContain(path);
        expect(error.collection).toBe("docs");
      });
    }
  });

  test("a file truncated after registering is caught by both reads", async () => {
    const root = tempDir();
    const fs = new FsBackend("cold", root);
    await fs.writeAsync("docs", "docs.ruvec", { ids: [1, 2, 3], vectors: randomVectors(3, 8) });
    truncateSync(join(root, "docs.ruvec"), 50);
    expect((await backendError(fs.currentBundle("docs"))).message).toMatch(/truncated: 50 bytes/);
    expect((await backendError(fs.pullVectors("docs"))).message).toMatch(/truncated: 50 bytes/);
  });

  test("unknown collections, missing files and invalid writes are BackendErrors; a failed write changes nothing", async () => {
    const root = tempDir();
    const fs = new FsBackend("cold", root);
    expect((await backendError(fs.pullVectors("nope"))).message).toMatch(/unknown collection/);
    expect((await backendError(fs.currentBundle("nope"))).collection).toBe("nope");
    expect((await backendError(fs.registerAsync("docs", "missing.ruvec"))).message).toMatch(/cannot read.*missing\.ruvec/);
    await fs.writeAsync("docs", "docs.ruvec", { ids: [1], vectors: [[1, 2]] });
    const before = { bundle: await fs.currentBundle("docs"), bytes: readFileSync(join(root, "docs.ruvec")) };
    for (const write of [
      { ids: [1, 1], vectors: [[1, 2], [3, 4]] },
      { ids: [1], vectors: [[NaN, 2]] },
      { ids: [1, 2], vectors: [[1, 2]] },
      { ids: [-1], vectors: [[1, 2]] },
    ]) {
      await backendError(fs.writeAsync("docs", "docs.ruvec", write));
    }
    expect(await fs.currentBundle("docs")).toEqual(before.bundle);
    expect(readFileSync(join(root, "docs.ruvec"))).toEqual(before.bytes);
    expect(readdirSync(root).sort()).toEqual([".docs.ruvec.ruvsum", ".rulake.lock", "docs.ruvec", "rulake-registry.json"]);
    mkdirSync(join(root, "dir.ruvec"));
    expect((await backendError(fs.registerAsync("d", "dir.ruvec"))).message).toMatch(/not a regular file/);
  });

  test("a write that cannot land leaves no temporary file and no registration", async () => {
    const root = tempDir();
    const fs = new FsBackend("cold", root);
    mkdirSync(join(root, "taken.ruvec", "inside"), { recursive: true });
    const error = await backendError(fs.writeAsync("docs", "taken.ruvec", { ids: [1], vectors: [[1]] }));
    expect(error.message).toMatch(/cannot write/);
    expect(readdirSync(root).sort()).toEqual([".rulake.lock", "taken.ruvec"]);
    expect(fs.listCollections()).toEqual([]);
  });

  test("a malformed or tampered registry is a BackendError when opened", async () => {
    for (const [text, detail] of [
      ["not json", /cannot read the registry/],
      ["[1, 2]", /malformed registry/],
      ['{"collections": {"docs": "../../etc/passwd"}}', /file name "..\/..\/etc\/passwd"/],
      ['{"collections": {"docs": 7}}', /must be a non-empty string/],
    ] as const) {
      const root = tempDir();
      writeFileSync(join(root, "rulake-registry.json"), text);
      const error = await backendError(() => new FsBackend("cold", root));
      expect(error.message).toMatch(detail);
      expect(error.message).toContain(join(root, "rulake-registry.json"));
    }
  });

  test("the root is created when missing; an unusable root is a BackendError", async () => {
    const root = join(tempDir(), "a", "b");
    new FsBackend("cold", root);
    expect(statSync(root).isDirectory()).toBe(true);
    const file = join(tempDir(), "file");
    writeFileSync(file, "");
    expect((await backendError(() => new FsBackend("cold", join(file, "sub")))).message).toMatch(/cannot create the root/);
    expect(existsSync(join(file, "sub"))).toBe(false);
  });
});
