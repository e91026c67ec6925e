import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cpuFeatures, nativeVersion, NativeLibraryError, version } from "../src/index.ts";
import { resolveLibraryPath, SUPPORTED_PLATFORMS } from "../src/ffi.ts";
import { ROOT, runBun, tempDir } from "./helpers.ts";

const ZIG_LIB = join(ROOT, "npm", "bun-linux-x64-gnu", "libruvector.so");

async function run(cmd: string[], cwd = ROOT): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out: out + err };
}

test("version and nativeVersion agree; cpuFeatures reports detected SIMD", () => {
  expect(nativeVersion()).toBe(version);
  const features = cpuFeatures();
  expect(Array.isArray(features)).toBe(true);
  if (process.arch === "x64") expect(features).toContain("popcnt");
});

test("the committed C header is what cbindgen generates from the sources", async () => {
  const dir = tempDir();
  const fresh = join(dir, "ruvector.h");
  const r = await run(["cbindgen", "--quiet", "--config", "libruvector/cbindgen.toml", "--crate", "libruvector", "--output", fresh, "libruvector"]);
  expect(r.out).toBe("");
  expect(readFileSync(fresh, "utf8")).toBe(readFileSync(join(ROOT, "libruvector", "include", "ruvector.h"), "utf8"));
});

test("a C program compiled against the header builds, searches, saves and loads", async () => {
  const dir = tempDir();
  const exe = join(dir, "smoke");
  const libDir = join(ROOT, "npm", "bun-linux-x64-gnu");
  const cc = await run(["cc", "-std=c11", "-Wall", "-Werror", "-I", "libruvector/include", "test/c/smoke.c", "-L", libDir, "-lruvector", "-lm", "-o", exe]);
  expect(cc.out).toBe("");
  const p = Bun.spawn([exe, join(dir, "smoke.rbpx")], { env: { LD_LIBRARY_PATH: libDir }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(err).toBe("");
  expect(out).toStartWith("ok: top hit 7");
  expect(code).toBe(0);
});

test("the zig-linked library needs nothing newer than glibc 2.17 and no libgcc_s", async () => {
  expect(existsSync(ZIG_LIB)).toBe(true);
  const syms = await run(["objdump", "-T", ZIG_LIB]);
  const versions = [...syms.out.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => Number(m[1]) * 1000 + Number(m[2]));
  expect(versions.length).toBeGreaterThan(0);
  expect(Math.max(...versions)).toBeLessThanOrEqual(2017);
  const needed = await run(["readelf", "-d", ZIG_LIB]);
  expect(needed.out).not.toContain("libgcc_s");
  expect(readFileSync(ZIG_LIB).length).toBeLessThan(8 * 1024 * 1024);
});

test("the zig-linked library is the one a fresh process uses via RUVECTOR_LIB, and it works", async () => {
  const child = await runBun(
    `import { RabitqPlusIndex, nativeVersion } from "@ruvector/bun";
     using idx = RabitqPlusIndex.build(new Float32Array(64).map((_, i) => i % 7), { dim: 8 });
     console.log(nativeVersion(), idx.search(new Float32Array(8), 2).length);`,
    { RUVECTOR_LIB: ZIG_LIB },
  );
  expect(child.stderr).toBe("");
  expect(child.stdout.trim()).toBe(`${version} 2`);
});

test("RUVECTOR_LIB pointing nowhere is a clear NativeLibraryError", async () => {
  expect(() => resolveLibraryPath({ env: { RUVECTOR_LIB: "/nonexistent/libruvector.so" } })).toThrow(
    "RUVECTOR_LIB points to /nonexistent/libruvector.so, which does not exist",
  );
  const child = await runBun(`import { RabitqIndex } from "@ruvector/bun"; RabitqIndex.create({ dim: 4 });`, { RUVECTOR_LIB: "/nonexistent/x.so" });
  expect(child.code).not.toBe(0);
  expect(child.stderr).toContain("NativeLibraryError");
});

test("an unsupported platform gets one message naming it and the supported list", () => {
  const err = (() => {
    try {
      resolveLibraryPath({ env: {}, platform: "freebsd", arch: "riscv64" });
    } catch (e) {
      return e as Error;
    }
  })();
  expect(err).toBeInstanceOf(NativeLibraryError);
  expect(err!.message).toBe(`platform freebsd-riscv64 is not supported by @ruvector/bun; supported: ${SUPPORTED_PLATFORMS.join(", ")}`);
});

test("a library of another version is refused with a clear error, not a crash", async () => {
  const dir = tempDir();
  const header = readFileSync(join(ROOT, "libruvector", "include", "ruvector.h"), "utf8");
  const names = [...header.matchAll(/int32_t (ruv_\w+)\(/g)].map((m) => m[1]!);
  const stub = [
    "#include <stdint.h>",
    "#include <string.h>",
    `int32_t ruv_version(uint8_t *buf, uint64_t cap, uint64_t *len) { const char *v = "0.0.0-stub"; *len = strlen(v); memcpy(buf, v, cap < *len ? cap : *len); return 0; }`,
    ...names.filter((n) => n !== "ruv_version").map((n) => `int32_t ${n}(void) { return 0; }`),
  ].join("\n");
  await Bun.write(join(dir, "stub.c"), stub);
  const cc = await run(["cc", "-shared", "-fPIC", "-o", join(dir, "libstub.so"), join(dir, "stub.c")]);
  expect(cc.code).toBe(0);
  const child = await runBun(`import { FlatF32Index } from "@ruvector/bun"; FlatF32Index.create({ dim: 4 });`, { RUVECTOR_LIB: join(dir, "libstub.so") });
  expect(child.code).not.toBe(0);
  expect(child.stderr).toContain(`is version 0.0.0-stub, but @ruvector/bun is ${version}`);
});
