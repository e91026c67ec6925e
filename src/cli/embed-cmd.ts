/** `ruvector embed`: text embeddings with a local model, and `--list` of the model registry. */
import { EmbedError } from "../errors.ts";
import { Embedder, modelInfo, models, type ModelInfo } from "../embed/index.ts";
import type { Texts } from "../formats.ts";
import { JSON_OPTION, type Args, type CommandSpec } from "./args.ts";
import { readTexts, VECTOR_EXTENSIONS, vectorWriter, type VectorFile, type VectorWriter } from "./input.ts";
import { formatMs, printFields, printJson, table } from "./output.ts";
import { printModelList } from "./models-cmd.ts";
import { withProgress } from "./progress.ts";

const DEFAULT_MODEL = "all-MiniLM-L6-v2";
/** Values of each vector shown in the text output. */
const PREVIEW_VALUES = 4;
/** Characters of each text shown in the text output. */
const PREVIEW_CHARS = 60;
const FORMATS = VECTOR_EXTENSIONS.join(", ");

/** `ruvector embed`. */
export const EMBED_COMMAND: CommandSpec = {
  name: "embed",
  usage: "(<text>... | --input <file> | -) [options]",
  summary: "embed texts with a local model; --list shows the models",
  description:
    `Embeds each <text> argument, or each text of --input <file> (- reads stdin, as does a\n` +
    `lone - argument), with a registry text model (default ${DEFAULT_MODEL}, downloaded into\n` +
    `the model cache on first use; RUVECTOR_MODELS_DIR moves the cache).\n\n` +
    `Input files hold one text per line (blank lines are skipped); .jsonl and .ndjson files\n` +
    `hold one object per line, {"text": "…"}, with an optional "id": n on every line.\n` +
    `Put -- before texts that start with a dash.\n\n` +
    `Prints one line per text: its id, dim and the first values of its unit-length vector.\n` +
    `--json prints one document with every vector; --out writes the vectors to a file instead\n` +
    `(${FORMATS}; atomically) for \`ruvector index build\`. Only JSONL output\n` +
    `keeps the ids of JSONL input; the other formats number rows from 0.`,
  positionals: [],
  rest: true,
  options: {
    input: { type: "string", short: "i", value: "FILE", help: "read the texts from FILE (- for stdin) instead of the arguments" },
    model: { type: "string", short: "m", value: "NAME", help: `registry text model (default ${DEFAULT_MODEL}; see --list)` },
    out: { type: "string", short: "o", value: "FILE", help: `write the vectors to FILE (${FORMATS}) instead of printing them` },
    list: { type: "boolean", help: "list the registry's models with their kind, dim and availability" },
    json: JSON_OPTION,
  },
  async run(args) {
    return args.flag("list") ? listModels(args) : embedTexts(args);
  },
};

async function embedTexts(args: Args): Promise<void> {
  const info = textModel(args.string("model") ?? DEFAULT_MODEL);
  const out = args.string("out");
  const writer = out === undefined ? undefined : vectorWriter(out);
  const { texts, ids } = await readInput(args);
  if (ids && writer && !writer.keepsIds) throw args.usage(`the input gives ids, which ${out} cannot hold: write .jsonl to keep them`);

  using embedder = await withProgress(`loading ${info.name}`, () => Embedder.openAsync(info.name));
  const started = performance.now();
  const data = await withProgress(
    `embedding ${texts.length} texts`,
    (progress) => embedder.embedBatchAsync(texts, { onProgress: (p) => progress.update(p.done) }),
    texts.length,
  );
  const embedMs = performance.now() - started;
  const vectors: VectorFile = { data, rows: texts.length, dim: embedder.dim, ids };

  if (writer) await writeVectors(args, info.name, writer, out!, vectors, embedMs);
  else if (args.flag("json")) printJson({ model: info.name, dim: vectors.dim, count: vectors.rows, embeddings: jsonRows(texts, vectors) });
  else process.stdout.write(table([["id", "dim", "vector", "text"], ...textRows(texts, vectors)]));
}

/** The registry entry of a text model; unknown and image models are errors. */
function textModel(name: string): ModelInfo {
  const info = modelInfo(name);
  if (info.kind !== "text") throw new EmbedError(`model "${name}" embeds images, not texts; text models: ${textModelNames().join(", ")}`);
  return info;
}

function textModelNames(): string[] {
  return models()
    .filter((m) => m.kind === "text" && !m.unavailable)
    .map((m) => m.name);
}

/** The texts of the arguments, of --input FILE, or of stdin (--input - or a lone -); exactly one source. */
async function readInput(args: Args): Promise<Texts> {
  const words = args.rest();
  const input = args.string("input");
  if (input !== undefined) {
    if (words.length > 0) throw args.usage("give texts or --input, not both");
    return readTexts(input);
  }
  if (words.length === 0) throw args.usage("give texts to embed, --input <file>, or - to read stdin");
  if (words.length === 1 && words[0] === "-") return readTexts("-");
  return { texts: [...words], ids: undefined };
}

async function writeVectors(args: Args, model: string, writer: VectorWriter, out: string, vectors: VectorFile, embedMs: number): Promise<void> {
  await withProgress(`writing ${out}`, () => writer.write(vectors));
  if (args.flag("json")) printJson({ model, dim: vectors.dim, count: vectors.rows, embedMs, output: out });
  else printFields([["model", model], ["vectors", vectors.rows], ["dim", vectors.dim], ["embed", formatMs(embedMs)], ["saved", out]]);
}

function rowId(vectors: VectorFile, row: number): number {
  return vectors.ids?.[row] ?? row;
}

function jsonRows(texts: readonly string[], vectors: VectorFile): Array<{ id: number; text: string; vector: number[] }> {
  return texts.map((text, r) => ({ id: rowId(vectors, r), text, vector: Array.from(vectors.data.subarray(r * vectors.dim, (r + 1) * vectors.dim)) }));
}

/** Table rows for people: id, dim, the first values and the start of the text (--json and --out keep everything). */
function textRows(texts: readonly string[], vectors: VectorFile): Array<Array<string | number>> {
  return texts.map((text, r) => {
    const head = Array.from(vectors.data.subarray(r * vectors.dim, r * vectors.dim + PREVIEW_VALUES), (x) => x.toFixed(4));
    const more = vectors.dim > PREVIEW_VALUES ? ", …" : "";
    return [rowId(vectors, r), vectors.dim, `[${head.join(", ")}${more}]`, preview(text)];
  });
}

/** `text` on one line, cut to {@link PREVIEW_CHARS} characters. */
function preview(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}

function listModels(args: Args): void {
  if (args.rest().length > 0 || ["input", "model", "out"].some((name) => args.string(name) !== undefined)) {
    throw args.usage("--list takes no texts, --input, --model or --out");
  }
  printModelList(args.flag("json"));
}
