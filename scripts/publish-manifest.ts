/**
 * Writes the package.json that `scripts/pack` publishes: entry points, subpath
 * exports and the bin moved from the sources to the compiled `dist/`, and only
 * the platform packages that were actually packed, so an install asks the
 * registry for nothing that does not exist.
 *   bun scripts/publish-manifest.ts <out-package.json> <packed-platform-package>...
 */
type Exports = string | { [condition: string]: Exports };

const [out, ...packed] = process.argv.slice(2);
if (!out) throw new Error("usage: bun scripts/publish-manifest.ts <out-package.json> [platform-package...]");
const pkg = await Bun.file(new URL("../package.json", import.meta.url)).json();

/** `./src/lake/index.ts` → `./dist/lake/index.js` (or `.d.ts`). */
function compiled(source: string, ext: ".js" | ".d.ts"): string {
  if (!/^\.\/src\/.*\.ts$/.test(source)) throw new Error(`package.json names ${source}, which is not a source under ./src`);
  return source.replace(/^\.\/src\//, "./dist/").replace(/\.ts$/, ext);
}

function compiledExports(value: Exports): Exports {
  if (typeof value === "string") return { types: compiled(value, ".d.ts"), default: compiled(value, ".js") };
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, compiledExports(v)]));
}

const entry = `./${pkg.main.replace(/^\.\//, "")}`;
Object.assign(pkg, {
  main: compiled(entry, ".js"),
  module: compiled(entry, ".js"),
  types: compiled(entry, ".d.ts"),
  exports: compiledExports(pkg.exports),
  bin: Object.fromEntries(Object.entries(pkg.bin as Record<string, string>).map(([name, p]) => [name, compiled(`./${p.replace(/^\.\//, "")}`, ".js")])),
  files: ["dist", "docs", "README.md"],
  optionalDependencies: Object.fromEntries(Object.entries(pkg.optionalDependencies as Record<string, string>).filter(([name]) => packed.includes(name))),
});
for (const key of ["devDependencies", "workspaces", "scripts"]) delete pkg[key];
await Bun.write(out, JSON.stringify(pkg, null, 2) + "\n");
