// G3 — instant install: packs @ruvector/bun and its platform packages, installs
// them with `bun add` into a fresh project (offline, empty cache, no Rust/zig on
// PATH; see test/support/install.ts), and prints the install time against the 10 s
// target and each native library's size against the 8 MB limit.
//   bun bench/install.ts [runs]      (default 3 runs; exits 1 if a target is missed)
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { packAndInstall } from "../test/support/install.ts";

const TARGET_MS = 10_000;
const MAX_LIBRARY_BYTES = 8 * 1024 * 1024;
const runs = Number(process.argv[2] ?? 3);

const times: number[] = [];
let ok = true;
for (let i = 0; i < runs; i++) {
  const installed = packAndInstall();
  times.push(installed.installMs);
  if (i === 0) {
    for (const tarball of installed.tarballs.slice(1)) {
      const key = tarball.split("/").pop()!.replace(/^ruvector-bun-/, "").replace(/-\d+\.\d+\.\d+\.tgz$/, "");
      const lib = join(installed.project, "node_modules", "@ruvector", `bun-${key}`, "libruvector.so");
      const size = statSync(lib).size;
      const pass = size <= MAX_LIBRARY_BYTES;
      ok &&= pass;
      console.log(`library ${key.padEnd(16)} ${(size / 1024 / 1024).toFixed(2)} MB  (limit 8 MB) ${pass ? "ok" : "TOO BIG"}`);
    }
  }
  rmSync(installed.work, { recursive: true, force: true });
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
ok &&= median <= TARGET_MS;
console.log(`bun add (offline, from tarballs): median ${(median / 1000).toFixed(2)} s over ${runs} runs [${times.map((t) => (t / 1000).toFixed(2)).join(", ")}]  (target 10 s) ${median <= TARGET_MS ? "ok" : "SLOW"}`);
process.exitCode = ok ? 0 : 1;
