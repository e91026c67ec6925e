// G1, RAG in 5 lines: embed 3,000 WordNet definitions with all-MiniLM-L6-v2,
// index them in a RabitqPlusIndex, and retrieve the best matches for a question.
// Run `bash scripts/setup` first (ONNX Runtime from npm, verified model files).
import { Embedder, RabitqPlusIndex } from "@ruvector/bun";
import { nounGlosses } from "./wordnet-glosses.ts";

const docs = nounGlosses(3000);
const emb = await Embedder.openAsync("all-MiniLM-L6-v2");
const index = RabitqPlusIndex.build(await emb.embedBatchAsync(docs), { dim: emb.dim, metric: "cosine" });
for (const q of process.argv.length > 2 ? process.argv.slice(2) : ["the star that gives us daylight"])
  console.log(`${q}\n${index.search(emb.embed(q), 3).map((h) => `  ${h.score.toFixed(3)}  ${docs[h.id]}`).join("\n")}`);
