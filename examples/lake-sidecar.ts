// A sidecar that keeps a reader's cache honest: the publisher republishes its
// bundle after every write; the reader serves searches from its cache
// (eventual consistency) and polls the bundle directory, dropping its cached
// copy as soon as the published witness moves.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Consistency, LocalBackend, RefreshResult, RuLake } from "@ruvector/bun";

const dim = 8;
const dir = mkdtempSync(join(tmpdir(), "ruvector-sidecar-"));
const publisherBackend = new LocalBackend("publisher");
publisherBackend.putCollection("memories", {
  ids: Array.from({ length: 100 }, (_, i) => i),
  vectors: Float32Array.from({ length: 100 * dim }, (_, k) => (Math.floor(k / dim) + (k % dim)) * 0.1),
});
using publisher = RuLake.builder().build();
publisher.registerBackend(publisherBackend);
await publisher.publishBundleAsync(["publisher", "memories"], dir);

using reader = RuLake.builder().consistency(Consistency.eventual({ ttlMs: 60_000 })).build();
reader.registerBackend(publisherBackend);
const key = ["publisher", "memories"] as const;
const query = new Float32Array(dim).fill(20);

const sidecar = setInterval(async () => {
  const result = reader.refreshFromBundleDir(key, dir);
  if (result === RefreshResult.Invalidated) console.log("sidecar: bundle moved, cached copy dropped");
}, 20);

const search = () => reader.searchOne(key, query, 1)[0]!;
for (let i = 0; i < 10; i++) search();
console.log("before the write, nearest:", search().id, "primes:", reader.cacheStats().primes);

publisherBackend.append("memories", 500, new Float32Array(dim).fill(20));
await publisher.publishBundleAsync(["publisher", "memories"], dir);
await Bun.sleep(100);

for (let i = 0; i < 10; i++) search();
const nearest = search();
console.log("after the write, nearest:", nearest.id, "primes:", reader.cacheStats().primes);
clearInterval(sidecar);
if (nearest.id !== 500 || reader.cacheStats().primes !== 2) throw new Error("the reader did not pick up the new bundle");
