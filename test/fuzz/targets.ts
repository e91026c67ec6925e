/**
 * The loaders under fuzz: each format's seed inputs (real files made by the
 * library) and how one mutant is fed to its public entry point.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fetchCard, parseCard } from "../../src/a2a/card.ts";
import type { HttpSettings } from "../../src/a2a/http.ts";
import { readSse } from "../../src/a2a/sse.ts";
import { verifyCard } from "../../src/a2a/verify.ts";
import { Consistency, FlatF32Index, FsBackend, LocalBackend, RabitqAsymIndex, RabitqIndex, RabitqPlusIndex, RuLake, type BuildOptions, type VectorIndex } from "../../src/index.ts";
import { randomVectors, tempDir } from "../support/helpers.ts";

/** One format: its seeds and a run of one mutant (which may throw). */
export interface Target {
  name: string;
  seeds: Uint8Array[];
  run(bytes: Uint8Array): unknown | Promise<unknown>;
}

const dim = 16;
const vectors = randomVectors(24, dim, 5);
const ids = Array.from({ length: 24 }, (_, i) => i * 3 + 1);
const encoder = new TextEncoder();

/** The static surface every index class shares, as the fuzzer uses it. */
interface IndexClass {
  build(vectors: Float32Array, options: BuildOptions): VectorIndex;
  load(path: string): VectorIndex;
}

function indexTarget(name: string, Variant: IndexClass, dir: string): Target {
  using index = Variant.build(vectors, { dim, ids, rerankFactor: 4 });
  const seedPath = join(dir, `${name}.seed`);
  index.save(seedPath);
  const path = join(dir, `${name}.idx`);
  const saved = new Uint8Array(readFileSync(seedPath));
  const seeds = [saved];
  if (name.endsWith("RabitqPlusIndex")) {
    // Upstream's own layout (version 1, no trailer, no checksum): mutants reach the header and record checks.
    const body = saved.slice(0, 32 + 24 * (4 + 4 * dim));
    new DataView(body.buffer).setUint32(8, 1, true);
    seeds.push(body);
  }
  return {
    name,
    seeds,
    run(bytes) {
      writeFileSync(path, bytes);
      // The synchronous loader: a costly header must be refused, not run for minutes.
      using loaded = Variant.load(path);
      return loaded.search(vectors.subarray(0, dim), 3);
    },
  };
}

async function fsTargets(dir: string): Promise<Target[]> {
  const root = join(dir, "fs");
  const backend = new FsBackend("cold", root);
  await backend.writeAsync("docs", "docs.ruvec1", { ids, vectors, dim });
  const file = join(root, "docs.ruvec1");
  const sidecar = join(root, ".docs.ruvec1.ruvsum");
  const registry = join(root, "rulake-registry.json");
  const [data, sum, reg] = [file, sidecar, registry].map((p) => new Uint8Array(readFileSync(p)));
  const restore = () => {
    writeFileSync(file, data!);
    writeFileSync(sidecar, sum!);
    writeFileSync(registry, reg!);
  };
  return [
    {
      name: "ruvec1",
      seeds: [data!],
      async run(bytes) {
        restore();
        rmSync(sidecar);
        writeFileSync(file, bytes);
        return (await new FsBackend("cold", root).pullVectors("docs")).ids.length;
      },
    },
    {
      name: "ruvec1 checksum sidecar",
      seeds: [sum!],
      async run(bytes) {
        restore();
        writeFileSync(sidecar, bytes);
        return (await new FsBackend("cold", root).pullVectors("docs")).ids.length;
      },
    },
    {
      name: "FsBackend registry",
      seeds: [reg!],
      run(bytes) {
        restore();
        writeFileSync(registry, bytes);
        return new FsBackend("cold", root).listCollections();
      },
    },
  ];
}

async function lakeTargets(dir: string): Promise<Target[]> {
  const hot = new LocalBackend("hot");
  hot.upsert("docs", { ids, vectors, dim });
  const publisher = RuLake.builder().build();
  publisher.registerBackend(hot);
  publisher.searchOne(["hot", "docs"], vectors.subarray(0, dim), 1);
  const warm = join(dir, "warm");
  await publisher.saveCacheToDirAsync(["hot", "docs"], warm);
  const bundle = join(dir, "bundle");
  mkdirSync(bundle, { recursive: true });
  await publisher.publishBundleAsync(["hot", "docs"], bundle);
  publisher.close();
  const [index, sidecar, published] = [join(warm, "index.rbpx"), join(warm, "table.rulake.json"), join(bundle, "table.rulake.json")].map((p) => new Uint8Array(readFileSync(p)));
  const warmDir = join(dir, "warm-mutant");
  mkdirSync(warmDir, { recursive: true });
  const warmFrom = async (indexBytes: Uint8Array, sidecarBytes: Uint8Array) => {
    writeFileSync(join(warmDir, "index.rbpx"), indexBytes);
    writeFileSync(join(warmDir, "table.rulake.json"), sidecarBytes);
    using lake = RuLake.builder().consistency(Consistency.frozen()).build();
    return await lake.warmFromDirAsync(["hot", "docs"], warmDir);
  };
  const refreshLake = RuLake.builder().build();
  refreshLake.registerBackend(hot);
  refreshLake.searchOne(["hot", "docs"], vectors.subarray(0, dim), 1);
  const bundleDir = join(dir, "bundle-mutant");
  mkdirSync(bundleDir, { recursive: true });
  return [
    { name: "warm-restart index.rbpx", seeds: [index!], run: (bytes) => warmFrom(bytes, sidecar!) },
    { name: "warm-restart sidecar", seeds: [sidecar!], run: (bytes) => warmFrom(index!, bytes) },
    {
      name: "bundle sidecar table.rulake.json",
      seeds: [published!],
      run(bytes) {
        writeFileSync(join(bundleDir, "table.rulake.json"), bytes);
        return refreshLake.refreshFromBundleDir(["hot", "docs"], bundleDir);
      },
    },
  ];
}

const A2A_CARD = {
  name: "fuzz agent",
  description: "seed card",
  version: "1.0.0",
  supportedInterfaces: [{ url: "https://agent.example/a2a", protocolBinding: "JSONRPC", protocolVersion: "1.0" }],
  capabilities: { streaming: true, extensions: [{ uri: "https://ruvector.dev/ext/cost", params: { skills: { "rag.query": { usdPerTask: 0.01 } } } }] },
  skills: [{ id: "rag.query", name: "RAG", description: "answers", tags: ["rag"] }],
  signatures: [{ protected: "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0", signature: "AAAA" }],
};
const RVAGENT_CARD = {
  name: "fuzz rvagent",
  version: "0.1.0",
  url: "https://agent.example/rvagent",
  skills: [{ id: "rag.query", name: "RAG", tags: [] }],
  metadata: { ruvector: { skill_costs: { "rag.query": { usd_per_task: 0.01, tokens_per_task: 100 } } } },
  public_key: "00",
  signature: "00",
};

function cardTarget(): Target {
  return {
    name: "A2A agent card",
    seeds: [A2A_CARD, RVAGENT_CARD].map((c) => encoder.encode(JSON.stringify(c))),
    async run(bytes) {
      // The client's path: fetch (here: the mutant as the response body), parse, verify — no network.
      const http = {
        fetch: async () => new Response(bytes, { headers: { "content-type": "application/json" } }),
        timeoutMs: 2000,
        maxResponseBytes: 256 * 1024,
        headers: {},
      } as unknown as HttpSettings;
      const text = new TextDecoder().decode(bytes);
      const card = await fetchCard("https://agent.example", text.includes("public_key") ? "rvagent" : "a2a", http, undefined);
      parseCard(card, "https://agent.example");
      return verifyCard(card, { trustedKeys: {}, jkuAllowList: [], http });
    },
  };
}

function sseTarget(): Target {
  const stream = [
    'event: status\ndata: {"kind":"status-update","taskId":"t1","status":{"state":"working"}}\nid: 1\n\n',
    ": keep-alive\n\ndata: line one\ndata: line two\nid: 2\nretry: 1000\n\n",
    'data: {"kind":"status-update","taskId":"t1","status":{"state":"completed"},"final":true}\r\n\r\n',
  ].join("");
  return {
    name: "A2A SSE stream",
    seeds: [encoder.encode(stream)],
    async run(bytes) {
      let events = 0;
      for await (const _ of readSse(new Response(bytes).body!, { url: "https://agent.example/stream", maxEventBytes: 64 * 1024, idleTimeoutMs: 1000 })) events++;
      return events;
    },
  };
}

/** Every fuzzed format, with its seeds made in a fresh directory. */
export async function targets(): Promise<Target[]> {
  const dir = tempDir("ruvector-fuzz-");
  const variants = { FlatF32Index, RabitqIndex, RabitqPlusIndex, RabitqAsymIndex } as unknown as Record<string, IndexClass>;
  return [
    ...Object.entries(variants).map(([name, Variant]) => indexTarget(`index ${name}`, Variant, dir)),
    ...(await fsTargets(dir)),
    ...(await lakeTargets(dir)),
    cardTarget(),
    sseTarget(),
  ];
}
