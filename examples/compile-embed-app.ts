// A single-binary semantic search app (Linux x64): `bun build --compile
// examples/compile-embed-app.ts --outfile app` in a project with @ruvector/bun and
// onnxruntime-node installed embeds libruvector and ONNX Runtime, so `./app`
// runs on a machine without node_modules. The embedded ONNX Runtime is copied to
// $TMPDIR once and reused; model files come from the verified model cache
// (RUVECTOR_MODELS_DIR or ~/.cache/ruvector/models), downloaded on first use.
// Prints one JSON line: the best match of each question among a few facts.
import ortLibrary from "onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1" with { type: "file" };
import { Embedder, RabitqPlusIndex } from "@ruvector/bun";

const facts = [
  "The sun is the star at the centre of the solar system.",
  "Cats are small domesticated felines that purr.",
  "A salary is money paid regularly to an employee.",
  "Rivers carry fresh water towards the sea.",
  "A violin is a string instrument played with a bow.",
];
const questions = process.argv.length > 2 ? process.argv.slice(2) : ["which star gives us daylight?", "what do workers get paid?"];

using embedder = await Embedder.openAsync("all-MiniLM-L6-v2", { ortLibrary });
using index = RabitqPlusIndex.build(await embedder.embedBatchAsync(facts), { dim: embedder.dim, metric: "cosine" });
const answers = questions.map((q) => facts[index.search(embedder.embed(q), 1)[0]!.id]);
console.log(JSON.stringify({ dim: embedder.dim, answers }));
