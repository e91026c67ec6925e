// Quick start: build a RaBitQ index over 10,000 vectors and query it.
import { RabitqPlusIndex, recommend } from "@ruvector/bun";

const dim = 128;
const vectors = new Float32Array(10_000 * dim).map(() => Math.random() * 2 - 1);

using index = RabitqPlusIndex.build(vectors, { dim, seed: 42, rerankFactor: 20 });
const hits = index.search(vectors.subarray(0, dim), 5);
console.log(Bun.inspect(index));
console.log("nearest to vector 0:", hits);
if (hits[0]?.id !== 0) throw new Error("vector 0 should be its own nearest neighbour");

const async = await index.searchAsync(vectors.subarray(dim, 2 * dim), 5);
console.log("searchAsync:", async.map((h) => h.id));
console.log("for 1M × 768 at recall 0.95:", recommend({ n: 1_000_000, dim: 768, recall: 0.95 }));
