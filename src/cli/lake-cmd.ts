/** `ruvector lake publish|refresh|save|search|stats`: bundles and warm restarts of lake collections. */
import { Consistency } from "../lake/consistency.ts";
import { FsBackend } from "../lake/fs.ts";
import type { CollectionKey, RuLake } from "../lake/lake.ts";
import type { CacheStats } from "../lake/stats.ts";
import { JSON_OPTION, type Args, type CommandSpec } from "./args.ts";
import { hitRows, ID_FILTER_OPTIONS, idFilter, K_OPTION, MAX_K, readQueries } from "./index-cmd.ts";
import { COLLECTION_OPTIONS, collectionKey, FS_COLLECTION_OPTIONS, FS_ROOT_OPTION, keyName, LAKE_SETTINGS_OPTIONS, openFsLake, openLake, primeCollection } from "./lake-open.ts";
import { formatBytes } from "../units.ts";
import { printFields, printJson, table } from "./output.ts";
import { withProgress } from "./progress.ts";

const FS_USAGE = "--fs-root <dir> --backend <id> --collection <name>";
const DIR_OPTION = { type: "string", value: "DIR", help: "the bundle directory (required)" } as const;

/** Runs `work` on the FsBackend lake the arguments name, closing the lake however it ends. */
async function withFsLake<T>(args: Args, work: (lake: RuLake, key: CollectionKey) => Promise<T>): Promise<T> {
  const { lake, key } = openFsLake(args);
  try {
    return await work(lake, key);
  } finally {
    lake.close();
  }
}

const publish: CommandSpec = {
  name: "lake publish",
  usage: `${FS_USAGE} --dir <bundle-dir> [options]`,
  summary: "publish a collection's bundle (table.rulake.json) and print its witness",
  description:
    "Reads the collection's current state from the FsBackend (its file header; nothing is\n" +
    "pulled) and writes <bundle-dir>/table.rulake.json with the SHAKE-256 witness of that\n" +
    "state and the lake settings. Readers compare it with `ruvector lake refresh`.\n" +
    "With --engine auto the collection is pulled first: its size decides its engine.",
  positionals: [],
  options: { ...FS_COLLECTION_OPTIONS, dir: DIR_OPTION, json: JSON_OPTION },
  async run(args) {
    const dir = args.required("dir");
    await withFsLake(args, async (lake, key) => {
      // Under auto the engine depends on the collection's size, known once it is pulled.
      if (args.string("engine") === "auto") await primeCollection(lake, key);
      const witness = await lake.publishBundleAsync(key, dir);
      if (args.flag("json")) printJson({ backend: key[0], collection: key[1], dir, witness });
      else printFields([["collection", keyName(key)], ["witness", witness], ["published", dir]]);
    });
  },
};

const refresh: CommandSpec = {
  name: "lake refresh",
  usage: `${FS_USAGE} --dir <bundle-dir> [options]`,
  summary: "compare a collection's current state with its published bundle",
  description:
    "Primes the collection from the FsBackend, then compares its witness with the one\n" +
    "published in <bundle-dir>/table.rulake.json. Prints up-to-date (they match), invalidated\n" +
    "(the collection changed since it was published) or bundle-missing (nothing published);\n" +
    "all three exit 0. A bundle whose recorded witness does not match its own fields\n" +
    "(tampered or corrupt) is an error: exit 1.",
  positionals: [],
  options: { ...FS_COLLECTION_OPTIONS, dir: DIR_OPTION, json: JSON_OPTION },
  async run(args) {
    const dir = args.required("dir");
    await withFsLake(args, async (lake, key) => {
      await primeCollection(lake, key);
      const witness = lake.cacheWitnessOf(key);
      const result = lake.refreshFromBundleDir(key, dir);
      if (args.flag("json")) printJson({ backend: key[0], collection: key[1], dir, result, witness });
      else printFields([["result", result], ["collection", keyName(key)], ["witness", witness ?? "(none)"]]);
    });
  },
};

const save: CommandSpec = {
  name: "lake save",
  usage: `${FS_USAGE} --dir <out> [options]`,
  summary: "prime a collection and save its cached index for a warm restart",
  description:
    "Pulls the collection from the FsBackend, builds its index and saves it with its\n" +
    "original ids and its bundle to <out> (index.rbpx + table.rulake.json). Serve it again\n" +
    "with `ruvector lake search --dir <out>`, no backend needed.",
  positionals: [],
  options: { ...FS_COLLECTION_OPTIONS, dir: { ...DIR_OPTION, help: "where to save (required)" }, json: JSON_OPTION },
  async run(args) {
    const dir = args.required("dir");
    await withFsLake(args, async (lake, key) => {
      await primeCollection(lake, key);
      await withProgress(`saving ${dir}`, () => lake.saveCacheToDirAsync(key, dir));
      const witness = lake.cacheWitnessOf(key);
      const { bytes } = lake.cacheStats();
      if (args.flag("json")) printJson({ backend: key[0], collection: key[1], dir, witness, memoryBytes: bytes });
      else printFields([["collection", keyName(key)], ["witness", witness ?? "(none)"], ["memory", formatBytes(bytes)], ["saved", dir]]);
    });
  },
};

/**
 * A lake with nothing registered and frozen consistency, warmed from the saved directory of `--warm`/`--dir`;
 * without the warm start's throwaway searches, which pay off over a long-running process, not a command's few.
 */
async function warmLake(args: Args, dir: string): Promise<{ lake: RuLake; vectors: number }> {
  const lake = openLake(args, Consistency.frozen());
  try {
    const vectors = await withProgress(`warming from ${dir}`, () => lake.warmFromDirAsync(collectionKey(args), dir, { warmUp: false }));
    return { lake, vectors };
  } catch (err) {
    lake.close();
    throw err;
  }
}

const search: CommandSpec = {
  name: "lake search",
  usage: "--dir <saved> --backend <id> --collection <name> (--query <file> | --vector <list>) [options]",
  summary: "search a collection saved by `lake save`, with no backend",
  description:
    "Warm-starts a lake from <saved> (verifying its witness), with frozen consistency and\n" +
    "no backend registered, and prints the k nearest original ids of each query, best first\n" +
    "(scores are squared L2 distances: lower is closer). --backend and --collection name the\n" +
    "collection as it was saved; --filter-ids or --exclude-ids restrict the hits by id.",
  positionals: [],
  options: {
    dir: { ...DIR_OPTION, help: "directory written by `ruvector lake save` (required)" },
    ...COLLECTION_OPTIONS,
    query: { type: "string", value: "FILE", help: "query vectors (.fvecs, .npy, .jsonl), one search per row" },
    vector: { type: "string", value: "LIST", help: "one query as comma-separated numbers, e.g. -0.5,0.25,1" },
    k: K_OPTION,
    ...ID_FILTER_OPTIONS,
    ...LAKE_SETTINGS_OPTIONS,
    json: JSON_OPTION,
  },
  async run(args) {
    const dir = args.required("dir");
    const key = collectionKey(args);
    const k = args.int("k", { min: 1, max: MAX_K }, 10);
    const filter = idFilter(args);
    const queries = await readQueries(args);
    const { lake } = await warmLake(args, dir);
    try {
      const options = Object.keys(filter).length === 0 ? {} : { filter };
      const results = queries.map((query) => lake.searchOne(key, query, k, options).map(({ id, score }) => ({ id, score })));
      if (args.flag("json")) printJson({ backend: key[0], collection: key[1], k, queries: results.length, results });
      else process.stdout.write(table([["query", "rank", "id", "score"], ...hitRows(results)]));
    } finally {
      lake.close();
    }
  },
};

/** One collection of an FsBackend as its file header describes it. */
interface CollectionInfo {
  collection: string;
  dim: number;
  dataRef: string;
  generation: string;
}

/** The collections of the FsBackend at `root`, read from their headers (nothing is pulled). */
async function listFsCollections(backendId: string, root: string): Promise<CollectionInfo[]> {
  const backend = new FsBackend(backendId, root);
  return Promise.all(
    backend.listCollections().map(async (collection) => {
      const { dim, dataRef, generation } = await backend.currentBundle(collection);
      return { collection, dim, dataRef, generation: String(generation) };
    }),
  );
}

/** Cache counters as `label value` rows. */
function statsFields(stats: CacheStats): Array<[string, string | number]> {
  return [
    ["entries", stats.entries],
    ["memory", formatBytes(stats.bytes)],
    ["warm installs", stats.warmInstalls],
    ["primes", stats.primes],
    ["hits", stats.hits],
    ["misses", stats.misses],
    ["hit rate", stats.hitRate.toFixed(3)],
    ["invalidations", stats.invalidations],
    ["shared hits", stats.sharedHits],
    ["evictions", stats.evictions],
  ];
}

const stats: CommandSpec = {
  name: "lake stats",
  usage: "[--warm <saved> --backend <id> --collection <name>] [--fs-root <dir> --backend <id>] [options]",
  summary: "show a saved collection's cache footprint and an FsBackend's collections",
  description:
    "Primes and searches nothing. With --warm, installs the collection saved in <saved>\n" +
    "(verifying its witness) and reports its vector count, witness, engine and the lake's cache\n" +
    "counters: entries, memory held by cached indexes, warm installs, primes, hits and misses.\n" +
    "With --fs-root, lists the FsBackend's collections with their dim, data ref and\n" +
    "generation, read from the file headers.",
  positionals: [],
  options: {
    warm: { type: "string", value: "DIR", help: "install the collection saved here by `ruvector lake save`" },
    "fs-root": { ...FS_ROOT_OPTION, help: "list the collections of the FsBackend rooted here" },
    backend: { ...COLLECTION_OPTIONS.backend!, help: "the backend's id (with --warm or --fs-root)" },
    collection: { ...COLLECTION_OPTIONS.collection!, help: "the saved collection (with --warm)" },
    ...LAKE_SETTINGS_OPTIONS,
    json: JSON_OPTION,
  },
  async run(args) {
    const warmDir = args.string("warm");
    const root = args.string("fs-root");
    if (warmDir === undefined && root === undefined) throw args.usage("give --warm <saved>, --fs-root <dir>, or both");
    const collections = root === undefined ? undefined : await listFsCollections(args.required("backend"), root);
    const { lake, vectors } = warmDir === undefined ? { lake: openLake(args), vectors: undefined } : await warmLake(args, warmDir);
    try {
      const key = warmDir === undefined ? undefined : collectionKey(args);
      const warmed = key && { backend: key[0], collection: key[1], dir: warmDir, vectors, witness: lake.cacheWitnessOf(key), engine: lake.engineOf(key) };
      const cache = lake.cacheStats();
      if (args.flag("json")) return printJson({ ...(collections && { collections }), ...(warmed && { warmed }), stats: cache });
      if (collections) {
        const rows = collections.map((c) => [c.collection, c.dim, c.generation, c.dataRef]);
        process.stdout.write(table([["collection", "dim", "generation", "data"], ...rows]));
      }
      if (warmed) {
        if (collections) process.stdout.write("\n");
        printFields([["warmed", `${keyName(key!)} from ${warmed.dir}`], ["vectors", vectors!], ["witness", warmed.witness ?? "(none)"], ["engine", warmed.engine ?? "(none)"], ...statsFields(cache)]);
      }
    } finally {
      lake.close();
    }
  },
};

/** The `lake` command group. */
export const LAKE_COMMANDS: readonly CommandSpec[] = [publish, refresh, save, search, stats];
