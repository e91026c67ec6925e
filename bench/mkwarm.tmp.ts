import { Consistency, LocalBackend, RuLake } from "../src/index.ts";
import { synthetic } from "./data.ts";
const ds = synthetic(100_000, 128, 200);
const dim = ds.base.dim;
for (const engine of ["plus", "ivf"] as const) {
  const lake = RuLake.builder().consistency(Consistency.fresh()).engine(engine).build();
  const b = new LocalBackend("shard0");
  b.putCollection("docs", { ids: Array.from({ length: ds.base.rows }, (_, i) => i), vectors: ds.base.data });
  lake.registerBackend(b);
  lake.searchOne(["shard0", "docs"], ds.queries.data.subarray(0, dim), 10);
  const dir = `/tmp/warmexp/${engine}`;
  await lake.saveCacheToDirAsync(["shard0", "docs"], dir);
  await Bun.write(`${dir}/queries.f32`, ds.queries.data);
  lake.close();
}
await Bun.write(`/tmp/warmexp/ivf/base.f32`, ds.base.data);
await Bun.write(`/tmp/warmexp/plus/base.f32`, ds.base.data);
