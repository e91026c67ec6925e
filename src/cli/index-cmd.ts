/** `ruvector index build|search|info|remove`. */
import { IvfRabitqIndex, loadIndexAsync, type FilterSpec, type IvfSearchOptions, type SearchHit, type SearchOptions, type VectorIndex } from "../index/index.ts";
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
    `objects {"id": n, "vector": [...]} to give ids (default ids: row numbers).\n` +
    `--tags FILE gives each vector 64 tag bits for filtered searches: one number per line\n` +
    `(decimal or 0x hex), in the order of the vectors.`,
  positionals: ["input"],
  options: {
    out: { type: "string", short: "o", value: "FILE", help: "where to save the index (required)" },
    tags: { type: "string", value: "FILE", help: "64 tag bits per vector: one number per line (decimal or 0x hex)" },
    ...BUILD_OPTIONS,
    json: JSON_OPTION,
  },
  async run(args) {
    const out = args.required("out");
    const plan = buildPlan(args);
    const vectors = await readVectors(args.positional(0));
    const tagsPath = args.string("tags");
    const tags = tagsPath === undefined ? undefined : await readTags(tagsPath, vectors.rows);
    const { index, buildMs } = await buildIndex(plan, vectors, tags);
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

/** `--filter-ids` and `--exclude-ids`: a search's filter by id (also `lake search`'s). */
export const ID_FILTER_OPTIONS = {
  "filter-ids": { type: "string", value: "LIST", help: "return only these ids, e.g. 3,17,42 (ids not in the index match nothing)" },
  "exclude-ids": { type: "string", value: "LIST", help: "never return these ids" },
} as const;

const search: CommandSpec = {
  name: "index search",
  usage: "<index> (--query <file> | --vector <list>) [options]",
  summary: "search an index with query vectors",
  description:
    "Loads an index of any variant and prints the k nearest ids of each query, best first\n" +
    "(scores are distances: lower is closer). With --docs, each hit also shows its document:\n" +
    "the file the vectors were embedded from (one text per line, or JSONL {\"id\", \"text\"}).\n" +
    "Filters restrict the hits natively during the scan: --filter-ids or --exclude-ids by id,\n" +
    "--tags-any/--tags-all/--tags-none by the 64 tag bits given at build (--tags); all must pass.",
  positionals: ["index"],
  options: {
    query: { type: "string", value: "FILE", help: `query vectors (${FORMATS}), one search per row` },
    vector: { type: "string", value: "LIST", help: "one query as comma-separated numbers, e.g. -0.5,0.25,1" },
    docs: { type: "string", value: "FILE", help: "texts by id (.txt lines or .jsonl {\"id\", \"text\"}): print each hit's document" },
    k: K_OPTION,
    rerank: { type: "string", value: "N", help: "plus: rerank factor for these searches, 1..1024; ivf: candidates reranked from the store (default: the index's)" },
    nprobe: { type: "string", value: "N", help: "ivf: lists probed by these searches (default: the index's)" },
    ...ID_FILTER_OPTIONS,
    "tags-any": { type: "string", value: "MASK", help: "only vectors with at least one of these tag bits (decimal or 0x hex)" },
    "tags-all": { type: "string", value: "MASK", help: "only vectors with all of these tag bits" },
    "tags-none": { type: "string", value: "MASK", help: "only vectors with none of these tag bits" },
    json: JSON_OPTION,
  },
  async run(args) {
    const k = args.int("k", { min: 1, max: MAX_K }, 10);
    const filter = searchFilter(args);
    const rerank = args.int("rerank", { min: 1, max: 1 << 20 }, undefined);
    const nprobe = args.int("nprobe", { min: 1, max: 1 << 24 }, undefined);
    const queries = await readQueries(args);
    const docsPath = args.string("docs");
    const docs = docsPath === undefined ? undefined : await readDocs(docsPath);
    const index = await openIndex(args.positional(0));
    try {
      const options = { ...searchOptions(args, index, rerank, nprobe), ...(filter && { filter }) };
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

/** A `--tags` file: one u64 per line (decimal or 0x hex; blank lines at the end ignored), one per vector. */
async function readTags(path: string, rows: number): Promise<BigUint64Array> {
  const lines = (await Bun.file(path).text()).replace(/\s+$/, "").split("\n");
  if (lines.length === 1 && lines[0] === "") lines.length = 0;
  if (lines.length !== rows) throw new InputError(`${path} has ${lines.length} tag lines for ${rows} vectors (one per vector)`);
  return BigUint64Array.from(lines, (line, i) => {
    const text = line.trim();
    const value = /^(0x[0-9a-f]+|\d+)$/i.test(text) ? BigInt(text) : -1n;
    if (value < 0n || value >= 1n << 64n) throw new InputError(`${path} line ${i + 1}: '${line}' is not a 64-bit tag value (decimal or 0x hex)`);
    return value;
  });
}

/** `--rerank` and `--nprobe` as the options of the loaded index's class. */
function searchOptions(args: Args, index: VectorIndex, rerank: number | undefined, nprobe: number | undefined): SearchOptions | IvfSearchOptions {
  if (index instanceof IvfRabitqIndex) return { rerank, nprobe };
  if (nprobe !== undefined) throw args.usage(`--nprobe applies to ivf indexes only; this one is ${index.constructor.name}`);
  if (rerank !== undefined && rerank > 1024) throw args.usage(`--rerank must be an integer in 1..1024 for ${index.constructor.name}, got '${rerank}'`);
  return { rerankFactor: rerank };
}

/** The filter by id that `--filter-ids` / `--exclude-ids` give (empty when neither is given). */
export function idFilter(args: Args): Pick<FilterSpec, "allow" | "deny"> {
  const allow = args.string("filter-ids");
  const deny = args.string("exclude-ids");
  if (allow !== undefined && deny !== undefined) throw args.usage("give either --filter-ids or --exclude-ids, not both");
  if (allow !== undefined) return { allow: parseIdList(args, allow, "--filter-ids") };
  return deny === undefined ? {} : { deny: parseIdList(args, deny, "--exclude-ids") };
}

/** The filter the `--filter-ids`, `--exclude-ids` and `--tags-*` options give, if any. */
function searchFilter(args: Args): FilterSpec | undefined {
  const filter: FilterSpec = idFilter(args);
  for (const [flag, key] of [["tags-any", "tagsAny"], ["tags-all", "tagsAll"], ["tags-none", "tagsNone"]] as const) {
    const mask = args.string(flag);
    if (mask !== undefined) filter[key] = parseTagMask(args, flag, mask);
  }
  if (filter.tagsAny === 0n) throw args.usage("--tags-any 0 matches no vector: give at least one bit");
  return Object.keys(filter).length === 0 ? undefined : filter;
}

/** A 64-bit tag mask in decimal or 0x hex; anything else is a usage error naming it. */
function parseTagMask(args: Args, flag: string, text: string): bigint {
  const ok = /^(0x[0-9a-f]+|\d+)$/i.test(text.trim());
  const mask = ok ? BigInt(text.trim()) : -1n;
  if (mask < 0n || mask >= 1n << 64n) throw args.usage(`--${flag} must be a 64-bit mask (decimal or 0x hex), got '${text}'`);
  return mask;
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

const remove: CommandSpec = {
  name: "index remove",
  usage: "<index> --ids <list> [-o <out>] [options]",
  summary: "remove vectors by id from an index file",
  description:
    "Loads an index of any variant, removes the vectors of the given ids and saves it\n" +
    "atomically (compacted: the file holds only the vectors left) to <out>, or over <index>.\n" +
    "An id not in the index is an error unless --ignore-missing.",
  positionals: ["index"],
  options: {
    ids: { type: "string", value: "LIST", help: "comma-separated ids to remove, e.g. 3,17,42 (required)" },
    out: { type: "string", short: "o", value: "FILE", help: "where to save the result (default: over <index>)" },
    "ignore-missing": { type: "boolean", help: "skip ids that are not in the index" },
    json: JSON_OPTION,
  },
  async run(args) {
    const ids = parseIdList(args, args.required("ids"), "--ids");
    const path = args.positional(0);
    const out = args.string("out") ?? path;
    const index = await openIndex(path);
    try {
      const removed = index.removeBatch(ids, { ignoreMissing: args.flag("ignore-missing") });
      await withProgress(`saving ${out}`, () => index.saveAsync(out));
      const result = { removed, remaining: index.length, output: out };
      if (args.flag("json")) printJson(result);
      else printFields([["removed", removed], ["remaining", index.length], ["saved", out]]);
    } finally {
      index.close();
    }
  },
};

/** `--ids 3,17,42` as ids; an element that is not an id is a usage error naming it. */
function parseIdList(args: Args, list: string, flag: string): number[] {
  return list.split(",").map((text, i) => {
    const id = Number(text.trim());
    if (text.trim() === "" || !Number.isSafeInteger(id) || id < 0) {
      throw args.usage(`${flag}: element ${i} ('${text}') is not an id (an integer in 0..2^53-1)`);
    }
    return id;
  });
}

/** The `index` command group. */
export const INDEX_COMMANDS: readonly CommandSpec[] = [build, search, info, remove];
