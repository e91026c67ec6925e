/**
 * The arm64 single binary: the packed tarballs installed into a fresh project,
 * compiled by the arm64 Bun (npm @oven/bun-linux-aarch64) under qemu-aarch64-static,
 * so the arm64 platform package's library is embedded; the executable runs from
 * another directory with a clean environment. Needs what scripts/setup installs
 * (qemu-user-static, .tools/bun-arm64, .tools/arm64-sysroot).
 */
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packAndInstall, ROOT } from "../support/install.ts";

const BUN_ARM64 = join(ROOT, ".tools", "bun-arm64", "node_modules", "@oven", "bun-linux-aarch64", "bin", "bun");
const SYSROOT = join(ROOT, ".tools", "arm64-sysroot");
const cleanup: string[] = [];

afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

test("bun build --compile by the arm64 Bun embeds the arm64 library; the binary runs under qemu from another directory", () => {
  for (const need of [BUN_ARM64, SYSROOT]) if (!existsSync(need)) throw new Error(`missing ${need}: run scripts/setup`);
  expect(Bun.which("qemu-aarch64-static")).not.toBeNull();
  const installed = packAndInstall();
  cleanup.push(installed.work);
  copyFileSync(join(ROOT, "examples", "compile-app.ts"), join(installed.project, "compile-app.ts"));
  const qemuEnv = { ...installed.env, QEMU_LD_PREFIX: SYSROOT };
  const build = Bun.spawnSync(["qemu-aarch64-static", BUN_ARM64, "build", "--compile", "compile-app.ts", "--outfile", "app-arm64"], {
    cwd: installed.project,
    env: qemuEnv,
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(build.exitCode).toBe(0);

  const elsewhere = mkdtempSync(join(tmpdir(), "ruvector-arm64-binary-"));
  cleanup.push(elsewhere);
  mkdirSync(join(elsewhere, "tmp"));
  copyFileSync(join(installed.project, "app-arm64"), join(elsewhere, "app"));
  Bun.spawnSync(["chmod", "+x", join(elsewhere, "app")]);
  const r = Bun.spawnSync(["qemu-aarch64-static", join(elsewhere, "app")], {
    cwd: elsewhere,
    env: { HOME: elsewhere, PATH: "/usr/bin:/bin", TMPDIR: join(elsewhere, "tmp"), QEMU_LD_PREFIX: SYSROOT },
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
  const out = JSON.parse(r.stdout.toString());
  expect(out).toEqual({ version: "0.1.0", native: "0.1.0", nearest: expect.any(Array), reloaded: expect.any(Array), lake: expect.any(Array) });
  expect([out.nearest[0], out.lake[0]]).toEqual([42, 10_042]);
  // The library it extracted is the arm64 one.
  const [so] = readdirSync(join(elsewhere, "tmp")).filter((f) => f.endsWith(".so"));
  const arm64Lib = join(installed.project, "node_modules", "@ruvector", "bun-linux-arm64-gnu", "libruvector.so");
  expect(statSync(join(elsewhere, "tmp", so!)).size).toBe(statSync(arm64Lib).size);
});
