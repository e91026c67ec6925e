import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BackendError } from "../../src/errors.ts";
import { FsBackend } from "../../src/lake/fs.ts";
import { ROOT, caught, randomVectors, tempDir } from "../support/helpers.ts";

async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<BackendError> {
  const error = await caught(promise);
  expect(error).toBeInstanceOf(BackendError);
  return error as BackendError;
}

function write(backend: FsBackend, collection: string, n = 20, dim = 4, seed = 1): Promise<void> {
  return backend.writeAsync(collection, `${collection}.ruvec1`, { ids: Array.from({ length: n }, (_, i) => i), vectors: randomVectors(n, dim, seed), dim });
}

function temporaries(root: string): string[] {
  return readdirSync(root).filter((f) => f.includes(".tmp-"));
}

describe("FsBackend special files and caps", () => {
  test("a FIFO registry is refused at once instead of blocking", async () => {
    const root = tempDir();
    execFileSync("mkfifo", [join(root, "rulake-registry.json")]);
    const error = await rejection(() => new FsBackend("cold", root));
    expect(error.message).toContain("the registry is a FIFO; only regular files are read");
  });

  test("a FIFO collection file is refused at once instead of blocking", async () => {
    const root = tempDir();
    const backend = new FsBackend("cold", root);
    execFileSync("mkfifo", [join(root, "pipe.ruvec1")]);
    const error = await rejection(backend.registerAsync("pipe", "pipe.ruvec1"));
    expect(error.message).toContain("not a regular file");
  });

  test("a registry larger than any real one is refused by its size, before reading", async () => {
    const root = tempDir();
    writeFileSync(join(root, "rulake-registry.json"), "");
    truncateSync(join(root, "rulake-registry.json"), 64 << 20);
    const error = await rejection(() => new FsBackend("cold", root));
    expect(error.message).toContain(`is ${64 << 20} bytes, more than the ${32 << 20} it can hold`);
  });

  test("a deeply nested registry is a typed error, not a stack overflow", async () => {
    const root = tempDir();
    writeFileSync(join(root, "rulake-registry.json"), `{"collections":${"[".repeat(200_000)}${"]".repeat(200_000)}}`);
    const error = await rejection(() => new FsBackend("cold", root));
    expect(error.message).toContain("the registry is nested deeper than 64 levels");
  });
});

describe("FsBackend checksums", () => {
  test("a flipped bit in a vector or an id fails the checksum; upstream's bytes are unchanged", async () => {
    for (const offset of [24 + 3, 24 + 8 + 2]) {
      const root = tempDir();
      const backend = new FsBackend("cold", root);
      await write(backend, "docs");
      const path = join(root, "docs.ruvec1");
      expect(statSync(path).size).toBe(24 + 20 * (8 + 16));
      expect(existsSync(join(root, ".docs.ruvec1.ruvsum"))).toBe(true);
      expect((await backend.pullVectors("docs")).ids.length).toBe(20);
      const bytes = readFileSync(path);
      bytes[offset]! ^= 0x10;
      writeFileSync(path, bytes);
      const error = await rejection(new FsBackend("cold", root).pullVectors("docs"));
      expect(error.message).toMatch(/checksum mismatch: the file's CRC-32 is [0-9a-f]{8} \(504 bytes\), its sidecar .* records [0-9a-f]{8} \(504 bytes\)/);
    }
  });

  test("a file written by another writer (no sidecar) still loads", async () => {
    const root = tempDir();
    const backend = new FsBackend("cold", root);
    await write(backend, "docs");
    rmSync(join(root, ".docs.ruvec1.ruvsum"));
    expect((await backend.pullVectors("docs")).ids.length).toBe(20);
  });

  test("a collection file may not take a sidecar's or the lock's name", async () => {
    const backend = new FsBackend("cold", tempDir());
    for (const name of [".x.ruvsum", ".rulake.lock"]) {
      const error = await rejection(backend.writeAsync("c", name, { ids: [1], vectors: new Float32Array(4), dim: 4 }));
      expect(error.message).toContain(JSON.stringify(name));
    }
  });
});

describe("FsBackend concurrent writers", () => {
  test("200 concurrent writes to one collection in one process all succeed and leave no temporary", async () => {
    const root = tempDir();
    const backend = new FsBackend("cold", root);
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => write(backend, "docs", 10, 4, i + 1)));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(temporaries(root)).toEqual([]);
    expect((await backend.pullVectors("docs")).ids.length).toBe(10);
  });

  test("two processes registering collections at once lose no registry entry", async () => {
    const root = tempDir();
    const child = (who: string) =>
      Bun.spawn([process.execPath, "-e", `
        import { FsBackend } from ${JSON.stringify(join(ROOT, "src", "index.ts"))};
        const backend = new FsBackend("cold", ${JSON.stringify(root)});
        for (let i = 0; i < 40; i++) {
          await backend.writeAsync("${who}-" + i, "${who}-" + i + ".ruvec1", { ids: [i], vectors: new Float32Array([i, 1, 2, 3]), dim: 4 });
        }
      `], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const runs = [child("a"), child("b")];
    const codes = await Promise.all(runs.map((p) => p.exited));
    const errors = await Promise.all(runs.map((p) => new Response(p.stderr).text()));
    expect({ codes, errors }).toEqual({ codes: [0, 0], errors: ["", ""] });
    const collections = new FsBackend("cold", root).listCollections().sort();
    expect(collections.length).toBe(80);
    for (const who of ["a", "b"]) for (let i = 0; i < 40; i++) expect(collections).toContain(`${who}-${i}`);
    expect(temporaries(root)).toEqual([]);
  }, 60_000);
});

describe("temporaries of killed writers", () => {
  test("kill -9 during writes leaves temporaries that the next write into the directory reclaims", async () => {
    const root = tempDir();
    let leftovers = 0;
    for (let attempt = 0; attempt < 10 && leftovers === 0; attempt++) {
      const proc = Bun.spawn([process.execPath, "-e", `
        import { FsBackend } from ${JSON.stringify(join(ROOT, "src", "index.ts"))};
        const backend = new FsBackend("cold", ${JSON.stringify(root)});
        const vectors = new Float32Array(400_000 * 16);
        const ids = Array.from({ length: 400_000 }, (_, i) => i);
        console.log("ready");
        for (;;) await backend.writeAsync("big", "big.ruvec1", { ids, vectors, dim: 16 });
      `], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
      const reader = proc.stdout.getReader();
      await reader.read();
      // Kill as soon as a write is under way (its temporary exists): a fixed delay misses it on a loaded machine.
      for (const start = Date.now(); temporaries(root).length === 0 && Date.now() - start < 10_000; ) await Bun.sleep(1);
      proc.kill(9);
      await proc.exited;
      leftovers = temporaries(root).length;
    }
    expect(leftovers).toBeGreaterThan(0);
    await write(new FsBackend("cold", root), "small");
    expect(temporaries(root)).toEqual([]);
  }, 120_000);
});
