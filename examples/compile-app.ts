// A single-binary app: `bun build --compile examples/compile-app.ts --outfile app`
// in a project that has @ruvector/bun installed embeds the platform package's
// libruvector, so `./app` runs on a machine without node_modules.
// It builds a RaBitQ index, saves it, loads it back and searches both, then serves
// the same vectors from a ruLake collection; prints one JSON line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend, RabitqPlusIndex, RuLake, loadIndexAsync, nativeVersion, version } from "@ruvector/bun";

const dim = 32;
const n = 2_000;
const vectors = new Float32Array(n * dim);
for (let i = 0; i < vectors.length; i++) vectors[i] = Math.sin(i * 0.37) + Math.cos(i * 0.011);
const query = vectors.subarray(42 * dim, 43 * dim);

const dir = mkdtempSync(join(tmpdir(), "ruvector-app-"));
try {
  using index = RabitqPlusIndex.build(vectors, { dim, seed: 7, rerankFactor: 20 });
  const hits = index.search(query, 3);
  await index.saveAsync(join(dir, "app.rbpx"));
  using loaded = await loadIndexAsync(join(dir, "app.rbpx"));
  const again = loaded.search(query, 3);

  const shard = new LocalBackend("app-shard");
  shard.putCollection("docs", { ids: Array.from({ length: n }, (_, i) => 10_000 + i), vectors });
  using lake = RuLake.builder().rerankFactor(20).build();
  lake.registerBackend(shard);
  const lakeHits = lake.searchOne(["app-shard", "docs"], query, 3);

  if (hits[0]?.id !== 42 || again[0]?.id !== 42 || lakeHits[0]?.id !== 10_042) {
    throw new Error(`vector 42 should be its own nearest neighbour: ${JSON.stringify({ hits, again, lakeHits })}`);
  }
  console.log(
    JSON.stringify({
      version,
      native: nativeVersion(),
      nearest: hits.map((h) => h.id),
      reloaded: again.map((h) => h.id),
      lake: lakeHits.map((h) => h.id),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
