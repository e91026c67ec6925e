/** What every `ruvector lake` command shares: its options, the lake it builds and the collection it names. */
import { Consistency } from "../lake/consistency.ts";
import { FsBackend } from "../lake/fs.ts";
import type { LakeEngine } from "../lake/engine.ts";
import { RuLake, type CollectionKey } from "../lake/lake.ts";
import type { Args, OptionSpec } from "./args.ts";
import { withProgress } from "./progress.ts";

/** `--backend` and `--collection`: the collection a command works on. */
export const COLLECTION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  backend: { type: "string", value: "ID", help: "the backend's id, part of the collection's key (required)" },
  collection: { type: "string", value: "NAME", help: "the collection (required)" },
};

/** `--fs-root`: where an FsBackend keeps its `ruvec1` files and registry. */
export const FS_ROOT_OPTION: OptionSpec = {
  type: "string",
  value: "DIR",
  help: "root of the FsBackend: ruvec1 files and rulake-registry.json (required)",
};

/** `--rerank`, `--seed`, `--engine` and `--target-recall`: lake settings that are part of every witness, so publisher and readers must agree. */
export const LAKE_SETTINGS_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  rerank: { type: "string", value: "N", help: "rerank factor of the lake, 1..1024 (default 20; part of the witness)" },
  seed: { type: "string", value: "N", help: "rotation seed of the lake (default 42; part of the witness)" },
  engine: { type: "string", value: "NAME", help: "index collections are cached as: plus, ivf or auto (default plus; part of the witness)" },
  "target-recall": { type: "string", value: "R", help: "recall@10 the IVF engine calibrates for, in (0, 1] (default 0.95; part of the witness)" },
};

const ENGINES: readonly LakeEngine[] = ["plus", "ivf", "auto"];

/** The options of a command that reads a collection from an FsBackend. */
export const FS_COLLECTION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  "fs-root": FS_ROOT_OPTION,
  ...COLLECTION_OPTIONS,
  ...LAKE_SETTINGS_OPTIONS,
};

/** The `[backend, collection]` key that `--backend` and `--collection` name. */
export function collectionKey(args: Args): CollectionKey {
  return [args.required("backend"), args.required("collection")];
}

/** A lake with the `--rerank`/`--seed`/`--engine`/`--target-recall` settings and the given consistency (default fresh). */
export function openLake(args: Args, consistency: Consistency = Consistency.fresh()): RuLake {
  return RuLake.builder()
    .rerankFactor(args.int("rerank", { min: 1, max: 1024 }, 20))
    .rotationSeed(args.uint64("seed") ?? 42n)
    .engine(args.choice("engine", ENGINES, "plus"))
    .targetRecall(args.fraction("target-recall") ?? 0.95)
    .consistency(consistency)
    .build();
}

/** A lake over the FsBackend of `--fs-root`, registered under `--backend`. */
export function openFsLake(args: Args): { lake: RuLake; key: CollectionKey } {
  const key = collectionKey(args);
  const root = args.required("fs-root");
  const lake = openLake(args);
  try {
    lake.registerBackend(new FsBackend(key[0], root));
  } catch (err) {
    lake.close();
    throw err;
  }
  return { lake, key };
}

/** Pulls the collection from its backend and builds its cached index, with a progress line. */
export function primeCollection(lake: RuLake, key: CollectionKey): Promise<void> {
  return withProgress(`priming ${key.join("/")}`, () => lake.primeAsync(key));
}

/** `backend/collection`, as the lake's per-collection stats name it. */
export function keyName(key: CollectionKey): string {
  return key.join("/");
}
