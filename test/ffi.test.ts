import { expect, test } from "bun:test";
import { FFIType } from "bun:ffi";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cpuFeatures, nativeVersion, NativeLibraryError, version } from "../src/index.ts";
import { ABI_CONSTANTS, ABI_VERSION, resolveLibraryPath, SUPPORTED_PLATFORMS, symbols } from "../src/ffi.ts";
import { STRUCT_LAYOUTS } from "../src/structs.ts";
import { ROOT, runBun, tempDir } from "./support/helpers.ts";

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

const HEADER = () => readFileSync(join(ROOT, "libruvector", "include", "ruvector.h"), "utf8");
const LIB_DIR = join(ROOT, "npm", "bun-linux-x64-gnu");

/** Compiles `source` (a file) with `compiler` against the header and the built library, runs it, and returns its output. */
async function compileAndRun(compiler: string[], source: string, args: string[] = []): Promise<{ out: string; err: string; code: number }> {
  const dir = tempDir();
  const exe = join(dir, "program");
  const cc = await run([...compiler, "-Wall", "-Werror", "-I", "libruvector/include", source, "-L", LIB_DIR, "-lruvector", "-lm", "-o", exe]);
  expect(cc.out).toBe("");
  const p = Bun.spawn([exe, ...args.map((a) => a.replace("$DIR", dir))], { env: { LD_LIBRARY_PATH: LIB_DIR }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

test("a C program compiled against the header builds, searches, saves, loads, reads errors and lake counters", async () => {
  const { out, err, code } = await compileAndRun(["cc", "-std=c11"], "test/c/smoke.c", ["$DIR/smoke.rbpx"]);
  expect(err).toBe("");
  expect(out).toStartWith("ok: top hit 7");
  expect(code).toBe(0);
});

test("the same program compiles and links as C++ (the header has extern \"C\" guards)", async () => {
  const { out, err, code } = await compileAndRun(["c++", "-std=c++20", "-x", "c++"], "test/c/smoke.c", ["$DIR/smoke.rbpx"]);
  expect(err).toBe("");
  expect(out).toStartWith("ok: top hit 7");
  expect(code).toBe(0);
});

/** The FFIType of a C parameter or return type as the header spells it. */
function ffiType(c: string): string {
  const t = c.replace(/\b(const|struct)\b/g, "").trim();
  if (t === "char *") return "cstring";
  if (t.includes("*")) return "ptr";
  return ({ uint32_t: "u32", int32_t: "i32", uint64_t: "u64" } as Record<string, string>)[t] ?? `unknown C type ${c}`;
}

test("src/ffi.ts declares exactly the header's functions, with the header's argument and return types", () => {
  const header = HEADER().replace(/\/\*[\s\S]*?\*\//g, "");
  const declared = new Map<string, { args: string[]; returns: string }>();
  for (const m of header.matchAll(/^([a-z_0-9 ]+?\s*\**)\s*(ruv_\w+)\(([^)]*)\);/gm)) {
    const params = m[3]!.trim() === "void" ? [] : m[3]!.split(",").map((p) => ffiType(p.trim().replace(/\w+$/, "")));
    declared.set(m[2]!, { args: params, returns: ffiType(m[1]!) });
  }
  expect(declared.size).toBeGreaterThan(60);
  const name: Record<number, string> = { [FFIType.u32]: "u32", [FFIType.i32]: "i32", [FFIType.u64]: "u64", [FFIType.ptr]: "ptr", [FFIType.cstring]: "cstring" };
  const ours = Object.entries(symbols).map(([fn, sig]) => [fn, { args: sig.args.map((a) => name[a]), returns: name[sig.returns] }] as const);
  expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(declared));
});

test("every enumerated value and constant in the header is in src/ffi.ts with the same number, and nothing is unprefixed", () => {
  const header = HEADER().replace(/\/\*[\s\S]*?\*\//g, "");
  const values = new Map<string, number>();
  for (const m of header.matchAll(/^\s*(RUV_\w+) = (\d+),/gm)) values.set(m[1]!, Number(m[2]));
  for (const m of header.matchAll(/^#define (\w+) (\d+)$/gm)) values.set(m[1]!, Number(m[2]));
  const defined = [...header.matchAll(/^#define (\w+)/gm)].map((m) => m[1]!);
  expect(defined.filter((d) => d !== "RUVECTOR_H" && !d.startsWith("RUV_"))).toEqual([]);
  const typeNames = [...header.matchAll(/^typedef .*?(\w+);$|^} (\w+);$|^enum (\w+)/gm)].map((m) => m[1] ?? m[2] ?? m[3]!);
  expect(typeNames.filter((t) => !t.startsWith("Ruv"))).toEqual([]);
  const snake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
  const ours = new Map<string, number>([["RUV_ABI_VERSION", ABI_VERSION]]);
  for (const [prefix, group] of Object.entries(ABI_CONSTANTS)) {
    for (const [key, value] of Object.entries(group)) ours.set(prefix + snake(key), value);
  }
  expect(Object.fromEntries([...values].sort())).toEqual(Object.fromEntries([...ours].sort()));
});

test("every struct layout in src/structs.ts has the header's sizeof and offsetof", async () => {
  const dir = tempDir();
  const lines = STRUCT_LAYOUTS.flatMap((l) => [
    `printf("${l.name} size %zu\\n", sizeof(${l.name}));`,
    ...Object.keys(l.fields).map((f) => `printf("${l.name}.${f} %zu\\n", offsetof(${l.name}, ${f}));`),
  ]);
  const source = join(dir, "layout.c");
  await Bun.write(source, `#include <stddef.h>\n#include <stdio.h>\n#include "ruvector.h"\nint main(void) {\n${lines.join("\n")}\nreturn 0;\n}\n`);
  const { out, code } = await compileAndRun(["cc", "-std=c11"], source);
  expect(code).toBe(0);
  const expected = STRUCT_LAYOUTS.flatMap((l) => [`${l.name} size ${l.size}`, ...Object.entries(l.fields).map(([f, { offset }]) => `${l.name}.${f} ${offset}`)]);
  expect(out.trim().split("\n")).toEqual(expected);
  const structs = [...HEADER().matchAll(/^} (Ruv\w+);$/gm)].map((m) => m[1]!).sort();
  expect(structs).toEqual(STRUCT_LAYOUTS.map((l) => l.name).sort());
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
  const declarations = HEADER().replace(/\/\*[\s\S]*?\*\//g, "");
  const names = [...declarations.matchAll(/^[a-z_0-9 *]+\b(ruv_\w+)\(/gm)].map((m) => m[1]!);
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
