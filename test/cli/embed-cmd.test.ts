/**
 * `ruvector embed`, spawned as a real process with the real all-MiniLM-L6-v2: vectors
 * against the in-process Embedder, files for `index build`, stdin, the model list,
 * downloads, errors and help.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Embedder, modelInfo, models } from "../../src/embed/index.ts";
import { parseFvecs, parseJsonl, parseNpy, type Matrix } from "../../src/formats.ts";
import { cosine, MODELS_CACHE, serveDir, tempCache } from "../embed/fixtures.ts";
import { CLI, expectCommandHelp, expectOneLineError, expectUsageError, ruvector as spawnCli, ruvectorJson as spawnCliJson, tempDir, type CliOptions } from "../support/helpers.ts";

const MODEL = "all-MiniLM-L6-v2";
const DIM = 384;
/** The model cache the tests' in-process Embedder uses, so both sides load the same files. */
const CACHE_ENV = { RUVECTOR_MODELS_DIR: MODELS_CACHE };

const ruvector = (args: string[], options: CliOptions = {}) => spawnCli(args, { ...options, env: { ...CACHE_ENV, ...options.env } });
const ruvectorJson = (args: string[], options: CliOptions = {}) => spawnCliJson(args, { ...options, env: { ...CACHE_ENV, ...options.env } });

const TEXTS = [
  "The cat sat on the mat.",
  "A kitten is sleeping on a rug.",
  "Stock markets fell sharply on Monday.",
  "Quantum computers use qubits.",
  "Ünïcödé, emoji 🚀 and CJK: 東京は日本の首都です。",
];
const KITTEN = 1;

const embedder = await Embedder.openAsync(MODEL, { cacheDir: MODELS_CACHE });
afterAll(() => embedder.close());
const expected = TEXTS.map((t) => embedder.embed(t));

/** Every row of `m` agrees with the in-process embedding of the same text. */
function expectRowsMatch(m: Matrix<Float32Array>): void {
  expect({ rows: m.rows, dim: m.dim }).toEqual({ rows: TEXTS.length, dim: DIM });
  expected.forEach((e, i) => expect(cosine(m.data.subarray(i * DIM, (i + 1) * DIM), e)).toBeGreaterThanOrEqual(0.9999));
}

/** A text file with one of TEXTS per line, blank lines and a CRLF mixed in. */
async function textsFile(dir: string): Promise<string> {
  const path = join(dir, "texts.txt");
  await Bun.write(path, `${TEXTS[0]}\n\n${TEXTS.slice(1, 3).join("\r\n")}\r\n   \n${TEXTS.slice(3).join("\n")}\n`);
  return path;
}

describe("embedding texts", () => {
  test("--json: one document with every vector, matching Embedder.embed in-process", async () => {
    const doc = await ruvectorJson(["embed", ...TEXTS]);
    expect(Object.keys(doc)).toEqual(["model", "dim", "count", "embeddings"]);
    expect(doc).toMatchObject({ model: MODEL, dim: DIM, count: TEXTS.length });
    expect(doc.embeddings.map((e: any) => [e.id, e.text, e.vector.length])).toEqual(TEXTS.map((t, i) => [i, t, DIM]));
    doc.embeddings.forEach((e: any, i: number) => expect(cosine(e.vector, expected[i]!)).toBeGreaterThanOrEqual(0.9999));
  });

  test("text output: one line per text with its id, dim and first values", async () => {
    const run = await ruvector(["embed", "--model", MODEL, ...TEXTS.slice(0, 2)]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^id +dim +vector +text$/);
    expect(lines).toHaveLength(3);
    TEXTS.slice(0, 2).forEach((text, i) => {
      const head = Array.from(expected[i]!.subarray(0, 4), (x) => x.toFixed(4)).join(", ");
      expect(lines[i + 1]).toBe(`${i}   ${DIM}  [${head}, …]`.padEnd(lines[0]!.indexOf("text")) + text);
    });
  });

  test("--input: one text per line, blank lines skipped, CRLF accepted; the same vectors as arguments", async () => {
    const doc = await ruvectorJson(["embed", "--input", await textsFile(tempDir())]);
    expect(doc.embeddings.map((e: any) => e.text)).toEqual(TEXTS);
    expectRowsMatch({ data: Float32Array.from(doc.embeddings.flatMap((e: any) => e.vector)), rows: doc.count, dim: doc.dim });
  });

  test("stdin: a lone - or --input - reads one text per line", async () => {
    const stdin = `${TEXTS.join("\n")}\n`;
    const viaDash = await ruvectorJson(["embed", "-"], { stdin });
    expect(viaDash.embeddings.map((e: any) => e.text)).toEqual(TEXTS);
    expect(await ruvectorJson(["embed", "--input", "-"], { stdin })).toEqual(viaDash);
  });

  test("JSONL input: {\"text\"} objects, ids carried to the output", async () => {
    const path = join(tempDir(), "docs.jsonl");
    await Bun.write(path, TEXTS.map((text, i) => JSON.stringify({ id: 1000 + i, text, source: "test" })).join("\n") + "\n");
    const doc = await ruvectorJson(["embed", "-i", path]);
    expect(doc.embeddings.map((e: any) => [e.id, e.text])).toEqual(TEXTS.map((t, i) => [1000 + i, t]));
    const text = await ruvector(["embed", "-i", path]);
    expect(text.stdout.split("\n")[1]).toStartWith("1000  384  [");
  });
});

describe("--out files feed `ruvector index build`", () => {
  const dir = tempDir("ruvector-cli-embed-");
  const query = Array.from(embedder.embed("a small cat naps on a carpet")).join(",");

  /** Builds a flat index over `file`, searches it for the kitten query and returns the hit ids, best first. */
  async function searchBuilt(file: string): Promise<number[]> {
    const index = `${file}.rvx`;
    const built = await ruvectorJson(["index", "build", file, "-o", index, "--variant", "flat"]);
    expect(built).toMatchObject({ n: TEXTS.length, dim: DIM });
    const found = await ruvectorJson(["index", "search", index, "--vector", query, "-k", "2"]);
    return found.results[0].map((hit: any) => hit.id);
  }

  const parsers: Array<[ext: string, parse: (bytes: Uint8Array) => Matrix<Float32Array>]> = [
    ["npy", parseNpy],
    ["fvecs", parseFvecs],
    ["jsonl", parseJsonl],
  ];
  for (const [ext, parse] of parsers) {
    test(`.${ext}: the in-process vectors, and an index built on it finds the kitten`, async () => {
      const out = join(dir, `texts.${ext}`);
      const summary = await ruvectorJson(["embed", "-i", await textsFile(dir), "-o", out]);
      expect(summary).toEqual({ model: MODEL, dim: DIM, count: TEXTS.length, embedMs: expect.any(Number), output: out });
      expectRowsMatch(parse(await Bun.file(out).bytes()));
      expect((await searchBuilt(out))[0]).toBe(KITTEN);
    });
  }

  test("JSONL ids survive into a .jsonl index build; .npy refuses them (usage error)", async () => {
    const input = join(dir, "docs.jsonl");
    await Bun.write(input, TEXTS.map((text, i) => JSON.stringify({ id: 7_000_000_000 + i, text })).join("\n"));
    const out = join(dir, "docs-vectors.jsonl");
    const text = await ruvector(["embed", "-i", input, "-o", out]);
    expect(text).toMatchObject({ code: 0, stderr: "" });
    expect(text.stdout).toMatch(new RegExp(`^vectors +${TEXTS.length}$`, "m"));
    expect(text.stdout).toMatch(/^saved +\S+docs-vectors\.jsonl$/m);
    expect(parseJsonl(await Bun.file(out).bytes()).ids).toEqual(TEXTS.map((_, i) => 7_000_000_000 + i));
    expect((await searchBuilt(out))[0]).toBe(7_000_000_000 + KITTEN);
    expectUsageError(await ruvector(["embed", "-i", input, "-o", join(dir, "docs.npy")]), "the input gives ids, which", "ruvector embed");
    expect(existsSync(join(dir, "docs.npy"))).toBe(false);
  });

  test("writes are atomic: an existing file is replaced whole, no temporary file is left", async () => {
    const out = join(dir, "replace.npy");
    await Bun.write(out, "old contents");
    expect((await ruvector(["embed", "one", "two", "-o", out])).code).toBe(0);
    expect(parseNpy(await Bun.file(out).bytes()).rows).toBe(2);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});

describe("--list", () => {
  test("lists every registry model with kind, dim and availability", async () => {
    const list = await ruvectorJson(["embed", "--list"]);
    expect(list.map((m: any) => [m.name, m.kind, m.dim])).toEqual(models().map((m) => [m.name, m.kind, m.dim]));
    expect(list.find((m: any) => m.name === MODEL)).toMatchObject({ available: true, cached: true, unavailable: null, dir: join(MODELS_CACHE, MODEL) });
    expect(list.find((m: any) => m.name === "bge-small-en-v1.5")).toMatchObject({ available: false, cached: false, unavailable: expect.stringContaining("unavailable") });
    const text = await ruvector(["embed", "--list"]);
    expect(text).toMatchObject({ code: 0, stderr: "" });
    expect(text.stdout).toMatch(/^model +kind +dim +status$/m);
    expect(text.stdout).toMatch(new RegExp(`^${MODEL} +text +384 +cached$`, "m"));
    expect(text.stdout).toMatch(/^bge-small-en-v1\.5 +text +384 +unavailable$/m);
    expect(text.stdout).toMatch(/^mobilenetv2 +image +1280 +(cached|not cached)$/m);
  });

  test("a model missing from the cache is downloaded on first use (RUVECTOR_MODELS_URL), then listed as cached", async () => {
    // A mirror laid out like the model's public source: each cached file at its urlPath.
    const mirror = tempDir("ruvector-mirror-");
    const files = modelInfo(MODEL).files;
    for (const f of files) {
      mkdirSync(dirname(join(mirror, MODEL, f.urlPath)), { recursive: true });
      symlinkSync(join(MODELS_CACHE, MODEL, f.name), join(mirror, MODEL, f.urlPath));
    }
    const server = serveDir(mirror);
    try {
      const env = { RUVECTOR_MODELS_DIR: tempCache(), RUVECTOR_MODELS_URL: server.url };
      const before = await ruvectorJson(["embed", "--list"], { env });
      expect(before.find((m: any) => m.name === MODEL)).toMatchObject({ available: true, cached: false });
      const doc = await ruvectorJson(["embed", TEXTS[KITTEN]!], { env });
      expect(cosine(doc.embeddings[0].vector, expected[KITTEN]!)).toBeGreaterThanOrEqual(0.9999);
      expect(server.hits.sort()).toEqual(files.map((f) => `${MODEL}/${f.urlPath}`).sort());
      const after = await ruvectorJson(["embed", "--list"], { env });
      expect(after.find((m: any) => m.name === MODEL)).toMatchObject({ cached: true });
    } finally {
      server.stop();
    }
  });
});

describe("runtime errors exit 1 with one line", () => {
  const dir = tempDir("ruvector-cli-embed-bad-");
  const files: Record<string, string> = {
    "empty.txt": "",
    "blank.txt": "\n  \n\r\n",
    "empty.jsonl": "\n",
    "notext.jsonl": '{"txt": "x"}\n',
    "mixed.jsonl": '{"id": 1, "text": "a"}\n{"text": "b"}\n',
    "badid.jsonl": '{"id": -1, "text": "a"}\n',
    "cut.jsonl": '{"text": "a"}\n{"text": "b\n',
  };
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  const cases: Array<[name: string, args: string[], message: string | RegExp, options?: CliOptions]> = [
    ["an unknown model", ["embed", "-m", "nope", "x"], /unknown model "nope"; known models: all-MiniLM-L6-v2, /],
    ["an unavailable model", ["embed", "-m", "bge-small-en-v1.5", "x"], "bge-small-en-v1.5 is declared but unavailable"],
    ["an image model", ["embed", "-m", "mobilenetv2", "x"], 'model "mobilenetv2" embeds images, not texts'],
    ["a missing input file", ["embed", "-i", join(dir, "absent.txt")], /cannot read .*absent\.txt: no such file/],
    ["an input directory", ["embed", "-i", dir], /is a directory/],
    ["an empty file", ["embed", "-i", join(dir, "empty.txt")], "empty.txt: no texts"],
    ["a file of blank lines", ["embed", "-i", join(dir, "blank.txt")], "blank.txt: no texts"],
    ["an empty JSONL file", ["embed", "-i", join(dir, "empty.jsonl")], "empty.jsonl: no texts"],
    ["empty stdin", ["embed", "-"], "stdin: no texts", { stdin: "" }],
    ["JSONL without a text field", ["embed", "-i", join(dir, "notext.jsonl")], 'notext.jsonl: line 1: expected an object {"text": "…"}'],
    ["JSONL mixing ids", ["embed", "-i", join(dir, "mixed.jsonl")], 'mixed.jsonl: line 2: lacks an "id", but line 1 has one'],
    ["JSONL with a bad id", ["embed", "-i", join(dir, "badid.jsonl")], 'badid.jsonl: line 1: "id" must be an integer'],
    ["JSONL cut mid-line", ["embed", "-i", join(dir, "cut.jsonl")], "cut.jsonl: line 2: invalid JSON"],
    ["an output directory that does not exist", ["embed", "x", "-o", join(dir, "no", "such", "out.npy")], /cannot write .*out\.npy: no such file or directory/],
    [
      "a model that is not cached and cannot be downloaded",
      ["embed", "x"],
      /cannot download model\.onnx for all-MiniLM-L6-v2 from http:\/\/127\.0\.0\.1:9\//,
      { env: { RUVECTOR_MODELS_DIR: tempCache(), RUVECTOR_MODELS_URL: "http://127.0.0.1:9/" } },
    ],
  ];
  for (const [name, args, message, options] of cases) {
    test(name, async () => expectOneLineError(await ruvector(args, options), message));
  }
});

describe("usage errors exit 2; --help", () => {
  const cases: Array<[args: string[], message: string]> = [
    [["embed"], "give texts to embed, --input <file>, or - to read stdin"],
    [["embed", "a", "--input", "t.txt"], "give texts or --input, not both"],
    [["embed", "a", "--bogus"], "unknown option '--bogus'"],
    [["embed", "a", "--model"], "--model"],
    [["embed", "a", "-o", "vectors.csv"], "cannot tell the format of 'vectors.csv': expected one of .fvecs, .npy, .jsonl, .ndjson"],
    [["embed", "--list", "a"], "--list takes no texts, --input, --model or --out"],
    [["embed", "--list", "-m", MODEL], "--list takes no texts"],
  ];
  for (const [args, message] of cases) {
    test(`ruvector ${args.join(" ")}`, async () => expectUsageError(await ruvector(args), message, "ruvector embed (<text>... | --input <file> | -)"));
  }

  test("embed --help lists its options; ruvector --help lists embed", async () => {
    const help = await expectCommandHelp("embed", ["-i, --input FILE", "-m, --model NAME", "-o, --out FILE", "--list", "--json"]);
    for (const word of [".jsonl", '{"text": "…"}', "stdin", "ruvector index build", MODEL]) expect(help.stdout).toContain(word);
    expect((await ruvector(["--help"])).stdout).toMatch(/^ {2}embed +embed texts with a local model/m);
  });

  test("texts that start with a dash follow --", async () => {
    const run = await ruvector(["embed", "--json", "--", "-5 degrees outside", "--json"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(run.stdout).embeddings.map((e: any) => e.text)).toEqual(["-5 degrees outside", "--json"]);
  });
});

test.skipIf(!Bun.which("script"))("a progress bar shows on a terminal only", async () => {
  const dir = tempDir("ruvector-cli-embed-tty-");
  const input = join(dir, "many.txt");
  await Bun.write(input, Array.from({ length: 600 }, (_, i) => `sentence number ${i} about vector search`).join("\n"));
  const shim = join(dir, "ruvector.sh");
  await Bun.write(shim, `#!/bin/sh\nexport RUVECTOR_MODELS_DIR="${MODELS_CACHE}"\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(shim, 0o755);
  // script(1) gives the child a pseudo-terminal; its stdout and stderr both arrive on ours.
  const proc = Bun.spawn(["script", "-qec", `${shim} embed -i ${input} -o ${join(dir, "many.npy")}`, "/dev/null"], { stdout: "pipe", stderr: "pipe" });
  const [tty, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(code).toBe(0);
  expect(tty).toContain(`\r\x1b[Kloading ${MODEL}`);
  expect(tty).toContain("\r\x1b[Kembedding 600 texts [");
  expect(tty).toMatch(/vectors +600/);
  const piped = await ruvector(["embed", "-i", input, "-o", join(dir, "piped.npy")]);
  expect(piped).toMatchObject({ code: 0, stderr: "" });
  expect(piped.stdout).not.toContain("\x1b");
});
