import { IvfRabitqIndex } from "../src/index.ts";
import { synthetic } from "./data.ts";
const ds = synthetic(100_000, 128, 200);
const dim = 128;
const tags = new BigUint64Array(ds.base.rows); for (let i = 0; i < tags.length; i++) tags[i] = BigInt((i * 2654435761) >>> 28);
const idx = IvfRabitqIndex.build(ds.base.data, { dim, seed: 42, tags, nprobe: 8 });
const q = (i: number) => ds.queries.data.subarray((i % 200) * dim, (i % 200) * dim + dim);
const run = (opts?: object) => { for (let i = 0; i < 200; i++) idx.search(q(i), 10, opts as any); const t = Bun.nanoseconds(); for (let i = 0; i < 2000; i++) idx.search(q(i), 10, opts as any); return (Bun.nanoseconds() - t) / 2000 / 1000; };
const res: string[] = [];
for (let r = 0; r < 3; r++) { const a = run(); const b = run({ filter: { tagsNone: 1n } }); res.push(`plain ${a.toFixed(1)} tagged ${b.toFixed(1)} diff ${(b - a).toFixed(1)} µs`); }
console.log(res.join("\n"));
