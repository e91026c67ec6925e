import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/helpers.ts";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, string> };

/** The modules `bun build` puts into a bundle of `entry`, as repo-relative paths. */
async function bundledModules(entry: string): Promise<string[]> {
  const result = await Bun.build({ entrypoints: [join(ROOT, entry)], target: "bun", external: ["@noble/*", "bun:*", "@ruvector/*", "onnxruntime-node"] });
  expect(result.success).toBe(true);
  const text = await result.outputs[0]!.text();
  return [...text.matchAll(/^\/\/ (src\/[^\n]+\.ts)$/gm)].map((m) => m[1]!);
}

test("the package exports the whole API and one entry point per area", () => {
  expect(pkg.exports).toEqual({
    ".": "./src/index.ts",
    "./index": "./src/index/index.ts",
    "./lake": "./src/lake/index.ts",
    "./embed": "./src/embed/index.ts",
    "./a2a": "./src/a2a/index.ts",
  });
});

test("each area's entry point exports its classes", async () => {
  const [index, lake, embed, a2a] = await Promise.all(["./index", "./lake", "./embed", "./a2a"].map((k) => import(join(ROOT, pkg.exports[k]!))));
  expect(typeof index.RabitqPlusIndex.build).toBe("function");
  expect(typeof lake.RuLake.builder).toBe("function");
  expect(typeof embed.Embedder.openAsync).toBe("function");
  expect(typeof a2a.A2aClient.connect).toBe("function");
});

test("an A2A-only import bundles no native loader, index, lake or embedding code", async () => {
  const modules = await bundledModules(pkg.exports["./a2a"]!);
  expect(modules.length).toBeGreaterThan(5);
  // errors.ts and options.ts (option-key checks) are shared and import nothing else.
  const shared = ["src/errors.ts", "src/options.ts"];
  expect(modules.filter((m) => !m.startsWith("src/a2a/") && !shared.includes(m))).toEqual([]);
  const whole = await bundledModules(pkg.exports["."]!);
  expect(whole).toContain("src/ffi.ts");
});
