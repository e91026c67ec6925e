// Warm restart with witness checking: a publisher primes a collection and saves
// its cache; a reader in another process (here: a second lake with no backend)
// verifies the bundle's SHAKE-256 witness, installs the index and serves the
// same results with the original ids — no pull, no rebuild.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Consistency, LocalBackend, RuLake, WitnessMismatch } from "@ruvector/bun";

const dim = 128;
const n = 20_000;
const vectors = new Float32Array(n * dim).map(() => Math.random() * 2 - 1);
const ids = Array.from({ length: n }, (_, i) => 1_000_000_000 + i);
const dir = mkdtempSync(join(tmpdir(), "ruvector-warm-"));

const warehouse = new LocalBackend("prod-warehouse");
warehouse.putCollection("memories", { ids, vectors });
using publisher = RuLake.builder().rerankFactor(20).rotationSeed(42).build();
publisher.registerBackend(warehouse);
const query = vectors.subarray(5 * dim, 6 * dim);
const before = publisher.searchOne(["prod-warehouse", "memories"], query, 5);
await publisher.saveCacheToDirAsync(["prod-warehouse", "memories"], dir);
console.log(`published ${publisher.cacheWitnessOf(["prod-warehouse", "memories"])} to ${dir}`);

using reader = RuLake.builder().consistency(Consistency.frozen()).build();
let t = performance.now();
const installed = await reader.warmFromDirAsync(["prod-warehouse", "memories"], dir);
console.log(`warm install of ${installed} vectors: ${(performance.now() - t).toFixed(1)} ms, primed: ${reader.isPrimed(["prod-warehouse", "memories"])}`);
t = performance.now();
const after = reader.searchOne(["prod-warehouse", "memories"], query, 5);
console.log(`first query after restart: ${(performance.now() - t).toFixed(2)} ms →`, after.map((h) => h.id));
if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error("warm restart changed the results");
console.log("stats:", reader.cacheStats());

const sidecar = join(dir, "table.rulake.json");
await Bun.write(sidecar, (await Bun.file(sidecar).text()).replace('"dim": 128', '"dim": 256'));
try {
  using third = RuLake.builder().build();
  await third.warmFromDirAsync(["prod-warehouse", "memories"], dir);
  throw new Error("a tampered bundle was accepted");
} catch (e) {
  if (!(e instanceof WitnessMismatch)) throw e;
  console.log("tampered bundle rejected:", e.message.slice(0, 80), "…");
}
