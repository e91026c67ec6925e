/** `ruvector models list|fetch|verify`: the embedding model registry and the local model cache. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { EmbedError } from "../errors.ts";
import { ensureModelFiles, importModelFilesAsync, modelDir, modelInfo, models, verifyModelFilesAsync, type ModelFileStatus, type ModelInfo } from "../embed/index.ts";
import { JSON_OPTION, type CommandSpec } from "./args.ts";
import { InputError } from "./failures.ts";
import { printFields, printJson, table } from "./output.ts";
import { withProgress } from "./progress.ts";

const CACHE_NOTE = "The cache is RUVECTOR_MODELS_DIR, else ~/.cache/ruvector/models; RUVECTOR_MODELS_URL names a mirror.";

/** Availability of a registry model: declared unavailable, files in the local cache, or downloaded on first use. */
function availability(m: ModelInfo): { status: "unavailable" | "cached" | "not cached"; dir: string } {
  const dir = modelDir(m.name);
  if (m.unavailable) return { status: "unavailable", dir };
  return { status: m.files.every((f) => existsSync(join(dir, f.name))) ? "cached" : "not cached", dir };
}

/** Prints the registry with each model's kind, dim and cache status (`models list`, `embed --list`). */
export function printModelList(json: boolean): void {
  const rows = models().map((m) => ({ model: m, ...availability(m) }));
  if (json) {
    printJson(
      rows.map(({ model: m, status, dir }) => ({
        name: m.name,
        kind: m.kind,
        dim: m.dim,
        pooling: m.pooling,
        maxLength: m.maxLength,
        available: status !== "unavailable",
        cached: status === "cached",
        unavailable: m.unavailable,
        dir,
      })),
    );
  } else {
    process.stdout.write(table([["model", "kind", "dim", "status"], ...rows.map(({ model: m, status }) => [m.name, m.kind, m.dim, status])]));
  }
}

const list: CommandSpec = {
  name: "models list",
  usage: "[options]",
  summary: "list the embedding models with their kind, dim and cache status",
  description: `Lists every registry model: kind, dimension, and whether its files are in the\nlocal cache, will be downloaded on first use, or are unavailable. ${CACHE_NOTE}`,
  positionals: [],
  options: { json: JSON_OPTION },
  async run(args) {
    printModelList(args.flag("json"));
  },
};

/** The registry entry of a usable model. */
function usableModel(name: string): ModelInfo {
  const info = modelInfo(name);
  if (info.unavailable) throw new EmbedError(info.unavailable);
  return info;
}

const fetchCommand: CommandSpec = {
  name: "models fetch",
  usage: "<model> [--from DIR|URL] [options]",
  summary: "put a model's files into the cache: download, or copy from a folder",
  description:
    "Puts <model>'s files into the local cache, each verified by its pinned SHA-256 before it\n" +
    "is kept. By default they are downloaded from RUVECTOR_MODELS_URL or the model's public\n" +
    "source. --from URL downloads from a mirror; --from DIR copies from a folder (offline),\n" +
    `which may hold the public layout (onnx/model.onnx) or a cache's (model.onnx). ${CACHE_NOTE}`,
  positionals: ["model"],
  options: {
    from: { type: "string", value: "DIR|URL", help: "a mirror URL (http:// or https://) or a local folder to copy from" },
    json: JSON_OPTION,
  },
  async run(args) {
    const info = usableModel(args.positional(0));
    const from = args.string("from");
    const remote = from === undefined || /^https?:\/\//.test(from);
    if (!remote && !existsSync(from)) throw new InputError(`--from ${from}: no such folder`);
    const dir = await withProgress(`fetching ${info.name}`, (progress) =>
      remote
        ? ensureModelFiles(info, { ...(from ? { baseUrl: from } : {}), onProgress: (p) => p.total && progress.update(Math.floor((100 * p.received) / p.total)) })
        : importModelFilesAsync(info, from),
      100,
    );
    const files = await verifyModelFilesAsync(info);
    if (args.flag("json")) printJson({ model: info.name, dir, files });
    else printFields([["model", info.name], ["dir", dir], ...files.map((f) => [f.file, f.status] as const)]);
  },
};

const verify: CommandSpec = {
  name: "models verify",
  usage: "[<model>] [options]",
  summary: "check the cached model files against their pinned SHA-256",
  description:
    "Hashes the cached files of <model> (default: every model with files in the cache) and\n" +
    "compares them with the pinned SHA-256 values. Exits 1 if a file is missing (for a named\n" +
    `model) or does not match. ${CACHE_NOTE}`,
  positionals: [],
  rest: true,
  options: { json: JSON_OPTION },
  async run(args) {
    const [name, extra] = args.rest();
    if (extra !== undefined) throw args.usage(`unexpected argument '${extra}'`);
    const chosen = name === undefined ? models().filter((m) => !m.unavailable) : [usableModel(name)];
    const checked: Array<{ model: string; files: ModelFileStatus[] }> = [];
    for (const m of chosen) {
      const files = await verifyModelFilesAsync(m);
      if (name !== undefined || files.some((f) => f.status !== "missing")) checked.push({ model: m.name, files });
    }
    if (args.flag("json")) printJson(checked);
    else process.stdout.write(table([["model", "file", "status"], ...checked.flatMap((c) => c.files.map((f) => [c.model, f.file, f.status]))]));
    const bad = checked.flatMap((c) => c.files.filter((f) => f.status === "mismatch" || (name !== undefined && f.status === "missing")).map((f) => `${c.model}/${f.file}: ${f.status}`));
    if (bad.length > 0) throw new EmbedError(`model files failed verification: ${bad.join(", ")}`);
  },
};

/** The `models` command group. */
export const MODELS_COMMANDS: readonly CommandSpec[] = [list, fetchCommand, verify];
