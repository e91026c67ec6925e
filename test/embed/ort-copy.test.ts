/**
 * A compiled executable's embedded ONNX Runtime library is copied to $TMPDIR
 * for the native loader. Whatever sits at the copy's name from earlier launches
 * (or was planted there) is only reused when it is a regular file with the same
 * content: a FIFO or a device is neither read nor waited on, it is replaced.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { lstatSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../support/helpers.ts";

const root = resolve(import.meta.dir, "../..");
// The executable finds the native library through RUVECTOR_LIB, so no platform package is embedded.
const platformPackages = ["x64-gnu", "arm64-gnu", "x64-musl", "arm64-musl"].flatMap((p) => ["--external", `@ruvector/bun-linux-${p}`]);
const work = tempDir("ruvector-ort-copy-");
const tmp = join(work, "tmp");
const app = join(work, "app");
const library = new Uint8Array(300_000).map((_, i) => (i * 31 + 7) & 255);

beforeAll(() => {
  writeFileSync(join(work, "libfakeort.so"), library);
  writeFileSync(
    join(work, "main.ts"),
    `import lib from "./libfakeort.so" with { type: "file" };
     import { loadableLibraryPath } from ${JSON.stringify(join(root, "src/embed/ort.ts"))};
     console.log(loadableLibraryPath(lib));`,
  );
  const build = Bun.spawnSync([process.execPath, "build", "--compile", "main.ts", ...platformPackages, "--outfile", app], { cwd: work, stdout: "pipe", stderr: "pipe" });
  expect(build.stderr.toString()).not.toContain("error");
  expect(build.exitCode).toBe(0);
  Bun.spawnSync(["mkdir", "-p", tmp]);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs the executable with $TMPDIR set; returns the path it would load. */
function launch(): string {
  const lib = join(root, "npm/bun-linux-x64-gnu/libruvector.so");
  const r = Bun.spawnSync([app], { env: { ...process.env, TMPDIR: tmp, RUVECTOR_LIB: lib }, stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
  return r.stdout.toString().trim();
}

function expectFreshCopy(target: string): void {
  expect(lstatSync(target).isFile()).toBe(true);
  expect(statSync(target).mode & 0o777).toBe(0o755);
  expect(new Uint8Array(readFileSync(target))).toEqual(library);
  expect(readdirSync(tmp)).toEqual([target.split("/").pop()!]);
}

test("the first launch copies the library; a later one reuses the copy", () => {
  const target = launch();
  expect(target.startsWith(`${tmp}/.ruvector-`)).toBe(true);
  expectFreshCopy(target);
  const before = statSync(target).ino;
  expect(launch()).toBe(target);
  expect(statSync(target).ino).toBe(before);
});

test("a FIFO, a symlink to /dev/zero or other content at the copy's name is replaced, not read", () => {
  const target = launch();
  const plants: [string, () => void][] = [
    ["FIFO", () => expect(Bun.spawnSync(["mkfifo", target]).exitCode).toBe(0)],
    ["/dev/zero", () => symlinkSync("/dev/zero", target)],
    ["other bytes", () => writeFileSync(target, library.subarray(1))],
  ];
  for (const [, plant] of plants) {
    rmSync(target);
    plant();
    expect(launch()).toBe(target);
    expectFreshCopy(target);
  }
});
