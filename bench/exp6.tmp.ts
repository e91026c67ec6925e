import { Consistency, LocalBackend, RuLake, RabitqPlusIndex } from "../src/index.ts";
const dim = 128, n = 64;
const v = new Float32Array(n * dim); for (let i = 0; i < v.length; i++) v[i] = Math.sin(i * 0.37);
const lake = RuLake.builder().consistency(Consistency.eventual({ ttlMs: 60_000 })).build();
const b = new LocalBackend("s"); b.putCollection("d", { ids: Array.from({ length: n }, (_, i) => i), vectors: v }); lake.registerBackend(b);
await lake.primeAsync(["s", "d"]);
const times: number[] = [];
for (let i = 0; i < 400; i++) { const t = Bun.nanoseconds(); lake.searchOne(["s", "d"], v.subarray((i % n) * dim, (i % n) * dim + dim), 10); times.push(Math.round((Bun.nanoseconds() - t) / 1000)); }
const idx = RabitqPlusIndex.build(v, { dim });
const t2: number[] = [];
for (let i = 0; i < 400; i++) { const t = Bun.nanoseconds(); idx.search(v.subarray((i % n) * dim, (i % n) * dim + dim), 10); t2.push(Math.round((Bun.nanoseconds() - t) / 1000)); }
console.log("lake", times.slice(0, 15).join(" "), "...", times.slice(100, 105).join(" "), times.slice(395).join(" "));
console.log("bare", t2.slice(0, 15).join(" "), "...", t2.slice(100, 105).join(" "), t2.slice(395).join(" "));
