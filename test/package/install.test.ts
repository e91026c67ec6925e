/**
 * Distribution: the packed tarballs install offline into a fresh project and
 * work there; an unsupported platform gets one clear error; `bun build --compile`
 * yields a single executable that runs elsewhere with no node_modules.
 * Written for the CI machines: Linux x64 with glibc.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SUPPORTED_PLATFORMS } from "../../src/ffi.ts";
import { packAndInstall, ROOT, type Installed } from "../support/install.ts";

const MAX_LIBRARY_BYTES = 8 * 1024 * 1024; // the size budget of a platform library
let installed: Installed;
const cleanup: string[] = [];

beforeAll(() => {
  installed = packAndInstall();
  cleanup.push(installed.work);
});

afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

/** Runs a script inside the installed project with the clean, offline environment. */
function runInProject(code: string, env: Record<string, string> = {}) {
  const file = join(installed.project, `child-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, code);
  const r = Bun.spawnSync([join(installed.env.HOME!, "bin", "bun"), file], {
    cwd: installed.project,
    env: { ...installed.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** `bun build --compile` of an example inside the installed project; returns the executable copied alone into a fresh directory. */
function compileExample(example: string, prefix: string): { dir: string; app: string } {
  copyFileSync(join(ROOT, "examples", example), join(installed.project, example));
  const out = join(installed.project, `${prefix}-app`);
  const build = Bun.spawnSync([join(installed.env.HOME!, "bin", "bun"), "build", "--compile", example, "--outfile", out], {
    cwd: installed.project,
    env: installed.env,
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(build.stderr.toString()).not.toContain("error");
  expect(build.exitCode).toBe(0);
  const dir = mkdtempSync(join(tmpdir(), `ruvector-${prefix}-`));
  cleanup.push(dir);
  const app = join(dir, "app");
  copyFileSync(out, app);
  chmodSync(app, 0o755);
  return { dir, app };
}

const SEARCH = `
  import { RabitqPlusIndex, nativeVersion } from "@ruvector/bun";
  const v = new Float32Array(500 * 16).map((_, i) => Math.sin(i * 0.7));
  using idx = RabitqPlusIndex.build(v, { dim: 16 });
  console.log(JSON.stringify({ native: nativeVersion(), top: idx.search(v.subarray(16 * 9, 16 * 10), 1)[0]?.id }));
`;

test("the install environment has no Rust, cargo or zig and no registry", () => {
  for (const tool of ["cargo", "rustc", "zig"]) expect(Bun.which(tool, { PATH: installed.env.PATH })).toBeNull();
  expect(installed.env.BUN_CONFIG_REGISTRY).toBe("http://127.0.0.1:9/");
});

test("packed tarballs: core + the built platform packages, each library ≤ 8 MB", async () => {
  const names = installed.tarballs.map((t) => t.split("/").pop());
  expect(names).toContain("ruvector-bun-0.1.0.tgz");
  expect(names).toContain("ruvector-bun-linux-x64-gnu-0.1.0.tgz");
  expect(names).toContain("ruvector-bun-linux-arm64-gnu-0.1.0.tgz");
  for (const key of ["linux-x64-gnu", "linux-arm64-gnu"]) {
    const lib = join(installed.project, "node_modules", "@ruvector", `bun-${key}`, "libruvector.so");
    expect(statSync(lib).size).toBeLessThanOrEqual(MAX_LIBRARY_BYTES);
  }
  // The core package carries compiled JavaScript and declarations, no sources and nothing of the native build.
  const core = join(installed.project, "node_modules", "@ruvector", "bun");
  const manifest = await Bun.file(join(core, "package.json")).json();
  expect(manifest.exports["."]).toEqual({ types: "./dist/index.d.ts", default: "./dist/index.js" });
  expect(Object.keys(manifest.optionalDependencies).sort()).toEqual(["@ruvector/bun-linux-arm64-gnu", "@ruvector/bun-linux-x64-gnu"]);
  for (const file of ["index.js", "index.d.ts", "cli.js"]) expect(existsSync(join(core, "dist", file))).toBe(true);
  expect(statSync(join(core, "dist", "cli.js")).mode & 0o111).toBe(0o111);
  for (const absent of ["src", "libruvector", "npm"]) expect(existsSync(join(core, absent))).toBe(false);
  for (const page of ["indexes.md", "lake.md", "embeddings.md", "a2a.md"]) expect(existsSync(join(core, "docs", page))).toBe(true);
  const declarations = new Bun.Glob("**/*.d.ts").scanSync(join(core, "dist"));
  for (const file of declarations) expect(await Bun.file(join(core, "dist", file)).text()).not.toMatch(/from "\.{1,2}\/[^"]*\.ts"/);
});

test("bun add of the tarballs prints no warning (no platform package is listed that was not packed)", () => {
  expect(installed.output).not.toMatch(/warn|404|error/i);
});

const STRICT_FLAGS = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noPropertyAccessFromIndexSignature: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
};

test("a fresh app with every strict compiler flag type-checks a program using every capability with zero errors", () => {
  const app = join(installed.project, "strict");
  mkdirSync(join(app, "node_modules", "@types"), { recursive: true });
  // The user's own dev dependencies: Bun's types (the core package's are its dist/*.d.ts).
  for (const dep of ["@types/bun", "@types/node", "bun-types", "undici-types"]) symlinkSync(join(ROOT, "node_modules", dep), join(app, "node_modules", dep));
  for (const dep of ["@ruvector", "@noble"]) symlinkSync(join(installed.project, "node_modules", dep), join(app, "node_modules", dep));
  const compilerOptions = { target: "ESNext", module: "Preserve", moduleResolution: "bundler", lib: ["ESNext"], types: ["bun"], noEmit: true, ...STRICT_FLAGS };
  writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["app.ts"] }));
  copyFileSync(join(ROOT, "test", "fixtures", "strict-app.ts"), join(app, "app.ts"));
  const tsc = Bun.spawnSync([process.execPath, join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: app, stdout: "pipe", stderr: "pipe" });
  expect(tsc.stdout.toString() + tsc.stderr.toString()).toBe("");
  expect(tsc.exitCode).toBe(0);
});

test("bun add of the tarballs gives a working search, loaded from the platform package", () => {
  console.log(`bun add (offline, from tarballs): ${installed.installMs.toFixed(0)} ms`);
  const r = runInProject(SEARCH);
  expect(r.stderr).toBe("");
  expect(JSON.parse(r.stdout)).toEqual({ native: "0.1.0", top: 9 });
  // Forcing the arm64 key on x64 proves where the library comes from: that package's file.
  const arm = runInProject(SEARCH, { RUVECTOR_PLATFORM: "linux-arm64-gnu" });
  expect(arm.code).not.toBe(0);
  expect(arm.stderr).toContain(`cannot load native library ${join(installed.project, "node_modules", "@ruvector", "bun-linux-arm64-gnu", "libruvector.so")}`);
});

test("an unsupported platform (RUVECTOR_PLATFORM override) gets one clear error naming it and the supported list", () => {
  const r = runInProject(`
    import { RabitqIndex, NativeLibraryError } from "@ruvector/bun";
    try {
      RabitqIndex.create({ dim: 4 });
    } catch (e) {
      console.log(JSON.stringify({ native: e instanceof NativeLibraryError, code: (e as NativeLibraryError).code, message: (e as Error).message }));
    }
  `, { RUVECTOR_PLATFORM: "freebsd-riscv64" });
  expect(r.stderr).toBe("");
  expect(JSON.parse(r.stdout)).toEqual({
    native: true,
    code: "NATIVE_LIBRARY",
    message: `platform freebsd-riscv64 is not supported by @ruvector/bun; supported: ${SUPPORTED_PLATFORMS.join(", ")}`,
  });
  // Uncaught, it is one error (reported once) and a non-zero exit, not a crash.
  const uncaught = runInProject(`import { RabitqIndex } from "@ruvector/bun"; RabitqIndex.create({ dim: 4 });`, { RUVECTOR_PLATFORM: "musl-on-mars" });
  expect(uncaught.code).toBe(1);
  expect(uncaught.stderr.match(/NativeLibraryError: platform musl-on-mars is not supported/g)?.length).toBe(1);
  expect(uncaught.stderr).toContain(`supported: ${SUPPORTED_PLATFORMS.join(", ")}`);
});

test("bun build --compile: one executable that runs from another directory without node_modules; the library is extracted once", () => {
  // Another directory, a clean environment: no node_modules, no bun on PATH, no RUVECTOR_LIB.
  const { dir: elsewhere } = compileExample("compile-app.ts", "binary");
  const extractTo = join(elsewhere, "tmp");
  mkdirSync(extractTo);
  const launch = () => {
    const r = Bun.spawnSync([join(elsewhere, "app")], { cwd: elsewhere, env: { HOME: elsewhere, PATH: "/usr/bin:/bin", TMPDIR: extractTo }, stdout: "pipe", stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    return JSON.parse(r.stdout.toString());
  };
  const expected = { version: "0.1.0", native: "0.1.0", nearest: expect.any(Array), reloaded: expect.any(Array), lake: expect.any(Array) };
  const first = launch();
  expect(first).toEqual(expected);
  expect([first.nearest[0], first.lake[0]]).toEqual([42, 10_042]);
  const extracted = () => readdirSync(extractTo).filter((f) => f.endsWith(".so"));
  expect(extracted()).toHaveLength(1);
  const [so] = extracted();
  const before = statSync(join(extractTo, so!));
  expect(before.size).toBe(statSync(join(installed.project, "node_modules", "@ruvector", "bun-linux-x64-gnu", "libruvector.so")).size);
  expect(launch()).toEqual(first);
  // The second launch reused the extracted file instead of writing another one.
  expect(extracted()).toEqual([so!]);
  const after = statSync(join(extractTo, so!));
  expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
});

test("bun build --compile of an embedding app: libruvector and ONNX Runtime embedded; ONNX Runtime is extracted once", () => {
  // The user's `bun add onnxruntime-node` (ONNX Runtime is an optional peer dependency).
  symlinkSync(join(ROOT, "node_modules", "onnxruntime-node"), join(installed.project, "node_modules", "onnxruntime-node"));
  const { dir: elsewhere } = compileExample("compile-embed-app.ts", "embed-binary");
  const extractTo = join(elsewhere, "tmp");
  mkdirSync(extractTo);
  // Model files come from the verified model cache, as after a first download.
  const env = { HOME: elsewhere, PATH: "/usr/bin:/bin", TMPDIR: extractTo, RUVECTOR_MODELS_DIR: join(ROOT, ".cache", "models") };
  const launch = (question: string) => {
    const r = Bun.spawnSync([join(elsewhere, "app"), question], { cwd: elsewhere, env, stdout: "pipe", stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    return JSON.parse(r.stdout.toString());
  };
  expect(launch("a pet that purrs")).toEqual({ dim: 384, answers: ["Cats are small domesticated felines that purr."] });
  const ort = () => readdirSync(extractTo).filter((f) => f.includes("libonnxruntime"));
  expect(ort()).toHaveLength(1);
  const before = statSync(join(extractTo, ort()[0]!));
  expect(before.size).toBe(statSync(join(ROOT, "node_modules", "onnxruntime-node", "bin", "napi-v6", "linux", "x64", "libonnxruntime.so.1")).size);
  expect(launch("music played with a bow")).toEqual({ dim: 384, answers: ["A violin is a string instrument played with a bow."] });
  const after = statSync(join(extractTo, ort()[0]!));
  expect(ort()).toHaveLength(1);
  expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
});

test("a compiled executable built without the platform package loads a library beside it, else says what is missing", () => {
  // Hide the platform packages so the bundler cannot embed a library.
  const scoped = join(installed.project, "node_modules", "@ruvector");
  const hidden = join(installed.work, "hidden");
  mkdirSync(hidden);
  const platforms = readdirSync(scoped).filter((d) => d.startsWith("bun-"));
  for (const d of platforms) renameSync(join(scoped, d), join(hidden, d));
  try {
    const { dir } = compileExample("compile-app.ts", "bare");
    const launch = () => Bun.spawnSync([join(dir, "app")], { cwd: tmpdir(), env: { HOME: dir, PATH: "/usr/bin:/bin", TMPDIR: dir }, stdout: "pipe", stderr: "pipe" });
    const missing = launch();
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr.toString()).toContain("no native library for linux-x64-gnu: install @ruvector/bun-linux-x64-gnu");
    copyFileSync(join(hidden, "bun-linux-x64-gnu", "libruvector.so"), join(dir, "libruvector.so"));
    const beside = launch();
    expect(beside.stderr.toString()).toBe("");
    expect(JSON.parse(beside.stdout.toString()).nearest[0]).toBe(42);
  } finally {
    for (const d of platforms) renameSync(join(hidden, d), join(scoped, d));
  }
});
