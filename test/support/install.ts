/**
 * Packs @ruvector/bun and its built platform packages (scripts/pack) and
 * installs them with `bun add` into a fresh project, the way a user's machine
 * would get them — but offline: the registry is an unreachable address, the
 * package cache is empty, the third-party dependencies come from tarballs packed
 * from this repo's node_modules, and PATH holds only `bun` and /usr/bin:/bin (no
 * cargo, rustc or zig). Used by test/package/install.test.ts and bench/install.ts.
 */
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");

/** Third-party runtime dependencies of the core package, packed from node_modules. */
const THIRD_PARTY = ["@noble/curves", "@noble/hashes"];

export interface Installed {
  /** Temporary directory holding everything below; remove it when done. */
  work: string;
  /** The fresh project with @ruvector/bun installed. */
  project: string;
  /** Tarballs of our packages (core first). */
  tarballs: string[];
  /** Environment for processes in the project: offline, no build tools. */
  env: Record<string, string>;
  /** Wall time of `bun add`, in ms. */
  installMs: number;
  /** `bun add` output. */
  output: string;
}

function run(cmd: string[], cwd: string, env: Record<string, string | undefined> = process.env): string {
  const r = Bun.spawnSync(cmd, { cwd, env, stdout: "pipe", stderr: "pipe" });
  const out = r.stdout.toString() + r.stderr.toString();
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}):\n${out}`);
  return out;
}

/** A PATH with `bun` and the base system only. */
export function cleanEnv(home: string): Record<string, string> {
  const bin = join(home, "bin");
  mkdirSync(bin, { recursive: true });
  try {
    symlinkSync(process.execPath, join(bin, "bun"));
  } catch {
    // already there
  }
  return {
    HOME: home,
    PATH: `${bin}:/usr/bin:/bin`,
    TMPDIR: join(home, "tmp"),
    // Nothing may come from the network or a warm cache.
    BUN_CONFIG_REGISTRY: "http://127.0.0.1:9/",
    BUN_INSTALL_CACHE_DIR: join(home, "cache"),
  };
}

export function packAndInstall(): Installed {
  const work = mkdtempSync(join(tmpdir(), "ruvector-dist-"));
  const packs = join(work, "packs");
  const tarballs = run(["bash", join(ROOT, "scripts/pack"), packs], ROOT)
    .split("\n")
    .filter((l) => l.endsWith(".tgz"));
  const third = join(packs, "third-party");
  for (const name of THIRD_PARTY) run([process.execPath, "pm", "pack", "--quiet", "--ignore-scripts", "--destination", third], join(ROOT, "node_modules", name));

  const core = tarballs.find((t) => /^ruvector-bun-\d/.test(basename(t)));
  if (!core) throw new Error(`scripts/pack made no core tarball: ${tarballs.join(", ")}`);
  const platforms = tarballs.filter((t) => t !== core);

  // Overrides point every dependency at its tarball, as a registry would serve it.
  const overrides: Record<string, string> = {};
  for (const t of platforms) overrides[`@ruvector/${basename(t).replace(/^ruvector-/, "").replace(/-\d+\.\d+\.\d+\.tgz$/, "")}`] = t;
  for (const t of readdirSync(third)) overrides[`@noble/${t.replace(/^noble-/, "").replace(/-\d+\.\d+\.\d+\.tgz$/, "")}`] = join(third, t);

  const project = join(work, "app");
  const home = join(work, "home");
  mkdirSync(project);
  mkdirSync(join(home, "tmp"), { recursive: true });
  const env = cleanEnv(home);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module", overrides }, null, 2));
  const t0 = performance.now();
  const output = run([join(home, "bin", "bun"), "add", core], project, env);
  const installMs = performance.now() - t0;
  return { work, project, tarballs: [core, ...platforms], env, installMs, output };
}
