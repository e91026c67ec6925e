/** `ruvector index build|search|info`. */
import { IvfRabitqIndex, loadIndexAsync, type IvfSearchOptions, type SearchHit, type SearchOptions, type VectorIndex } from "../index/index.ts";
import { JSON_OPTION, type Args, type CommandSpec, type OptionSpec } from "./args.ts";
import { InputError } from "./failures.ts";
import { parseVectorList, readTexts, readVectors, rowsOf, VECTOR_EXTENSIONS } from "./input.ts";
import { formatMs, printFields, printJson, table } from "./output.ts";
import { withProgress } from "./progress.ts";
import { BUILD_OPTIONS, buildIndex, buildPlan, summarize, summaryFields } from "./variants.ts";

/** `-k`, shared with `bench`. */
export const K_OPTION: OptionSpec = { type: "string", short: "k", value: "N", help: "hits per query (default 10)" };
/** Largest k the native side accepts. */
export const MAX_K = 0x7fff_ffff;

const FORMATS = VECTOR_EXTENSIONS.join(", ");

/** Loads an index file of any variant, with a progress line. */
function openIndex(path: string): Promise<VectorIndex> {
  return withProgress(`loading ${path}`, () => loadIndexAsync(path));
}

const build: CommandSpec = {
  name: "index build",
  usage: "<input> -o <out> [options]",
  summary: `build an index from ${FORMATS} vectors`,
  description:
    `Builds an index over every vector in <input> and saves it atomically to <out>.\n` +
    `Formats by extension: ${FORMATS}. JSONL lines are arrays of numbers, or\n` +
    `objects {"id": n, "vector": [...]} to give ids (default ids: row numbers).`,
  positionals: ["input"],
  options: {
    out: { type: "string", short: "o", value: "FILE", help: "where to save the index (required)" },
    ...BUILD_OPTIONS,
    json: JSON_OPTION,
  },
  async run(args) {
    const out = args.required("out");
    const plan = buildPlan(args);
    const vectors = await readVectors(args.positional(0));
    const { index, buildMs } = await buildIndex(plan, vectors);
    try {
      await withProgress(`saving ${out}`, () => index.saveAsync(out));
      const summary = summarize(index);
      if (args.flag("json")) printJson({ ...summary, buildMs, output: out });
      else printFields([...summaryFields(summary), ["build", formatMs(buildMs)], ["saved", out]]);
    } finally {
      index.close();
    }
  },
};

const search: CommandSpec = {
  name: "index search",
  usage: "<index> (--query <file> | --vector <list>) [options]",
  summary: "search an index with query vectors",
  description:
    "Loads an index of any variant and prints the k nearest ids of each query, best first\n" +
    "(scores are distances: lower is closer). With --docs, each hit also shows its document:\n" +
    "the file the vectors were embedded from (one text per line, or JSONL {\"id\", \"text\"}).",
  positionals: ["index"],
  options: {
    query: { type: "string", value: "FILE", help: `query vectors (${FORMATS}), one search per row` },
    vector: { type: "string", value: "LIST", help: "one query as comma-separated numbers, e.g. -0.5,0.25,1" },
    docs: { type: "string", value: "FILE", help: "texts by id (.txt lines or .jsonl {\"id\", \"text\"}): print each hit's document" },
    k: K_OPTION,
    rerank: { type: "string", value: "N", help: "plus: rerank factor for these searches, 1..1024; ivf: candidates reranked from the store (default: the index's)" },
    nprobe: { type: "string", value: "N", help: "ivf: lists probed by these searches (default: the index's)" },
    json: JSON_OPTION,
  },
  async run(args) {
    const k = args.int("k", { min: 1, max: MAX_K }, 10);
    const rerank = args.int("rerank", { min: 1, max: 1 << 20 }, undefined);
    const nprobe = args.int("nprobe", { min: 1, max: 1 << 24 }, undefined);
    const queries = await readQueries(args);
    const docsPath = args.string("docs");
    const docs = docsPath === undefined ? undefined : await readDocs(docsPath);
    const index = await openIndex(args.positional(0));
    try {
      const options = searchOptions(args, index, rerank, nprobe);
      const results = await withProgress(
        "searching",
        (progress) =>
          queries.map((query, i) => {
            const hits = index.search(query, k, options);
            progress.update(i + 1);
            return hits;
          }),
        queries.length,
      );
      const shown = docs ? withDocs(results, docs, docsPath!) : results;
      if (args.flag("json")) printJson({ k, queries: shown.length, results: shown });
      else process.stdout.write(table([["query", "rank", "id", "score", ...(docs ? ["document"] : [])], ...hitRows(shown)]));
    } finally {
      index.close();
    }
  },
};

/** `--rerank` and `--nprobe` as the options of the loaded index's class. */
function searchOptions(args: Args, index: VectorIndex, rerank: number | undefined, nprobe: number | undefined): SearchOptions | IvfSearchOptions {
  if (index instanceof IvfRabitqIndex) return { rerank, nprobe };
  if (nprobe !== undefined) throw args.usage(`--nprobe applies to ivf indexes only; this one is ${index.constructor.name}`);
  if (rerank !== undefined && rerank > 1024) throw args.usage(`--rerank must be an integer in 1..1024 for ${index.constructor.name}, got '${rerank}'`);
  return { rerankFactor: rerank };
}

/** The query rows of `--query FILE` or `--vector LIST` (exactly one must be given). */
export async function readQueries(args: Args): Promise<Float32Array[]> {
  const file = args.string("query");
  const list = args.string("vector");
  if (list !== undefined) {
    if (file !== undefined) throw args.usage("give either --query or --vector, not both");
    return [parseVectorList(list)];
  }
  if (file === undefined) throw args.usage("give --query <file> or --vector <list>");
  return rowsOf(await readVectors(file));
}

/** A hit with the text of its document (`index search --docs`). */
type DocumentHit = SearchHit & { document?: string };

/** Documents by id: the ids a JSONL file gives, else line numbers from 0. */
async function readDocs(path: string): Promise<Map<number, string>> {
  const { texts, ids } = await readTexts(path);
  return new Map(texts.map((text, i) => [ids ? ids[i]! : i, text]));
}

function withDocs(results: SearchHit[][], docs: Map<number, string>, path: string): DocumentHit[][] {
  return results.map((hits) =>
    hits.map((hit) => {
      const document = docs.get(hit.id);
      if (document === undefined) throw new InputError(`${path} has no document for id ${hit.id} (it holds ${docs.size} documents)`);
      return { ...hit, document };
    }),
  );
}

/** Table rows for people; scores cut to 6 significant digits (--json keeps them exact). */
export function hitRows(results: DocumentHit[][]): Array<Array<string | number>> {
  return results.flatMap((hits, q) =>
    hits.map((hit, rank) => [q, rank + 1, hit.id, Number(hit.score.toPrecision(6)), ...(hit.document === undefined ? [] : [oneLineText(hit.document)])]),
  );
}

/** A document on one table line: line breaks folded, long texts cut with an ellipsis. */
function oneLineText(text: string, max = 100): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const info: CommandSpec = {
  name: "index info",
  usage: "<index> [options]",
  summary: "show an index file's variant, size and parameters",
  description: "Loads an index of any variant and prints its variant, vector count, dim, metric,\nseed, rerank factor and memory.",
  positionals: ["index"],
  options: { json: JSON_OPTION },
  async run(args) {
    const index = await openIndex(args.positional(0));
    try {
      const summary = summarize(index);
      if (args.flag("json")) printJson(summary);
      else printFields(summaryFields(summary));
    } finally {
      index.close();
    }
  },
};

/** The `index` command group. */
export const INDEX_COMMANDS: readonly CommandSpec[] = [build, search, info];
