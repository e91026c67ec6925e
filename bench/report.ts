/** Markdown tables of sweep results: QPS at target recalls, ratios against an anchor, the raw curves. */
import { cpus, loadavg } from "node:os";
import { readFileSync } from "node:fs";
import { formatAtRecall, formatRatio, paretoFront, qpsAtRecall } from "./curve.ts";
import { mib, type Curve } from "./sweep.ts";

export const TARGETS = [0.9, 0.95, 0.99] as const;

/** Collects report lines and echoes them to stdout. */
export class Report {
  readonly lines: string[] = [];

  say(line = ""): void {
    console.log(line);
    this.lines.push(line);
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}

/** The CPU model as /proc/cpuinfo names it (os.cpus() where that file is absent). */
export function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (match) return match[1]!.trim();
  } catch {
    // not Linux: fall through
  }
  return cpus()[0]?.model ?? "unknown CPU";
}

/** The 1 / 5 / 15-minute load averages: other work on the machine shows here. */
export function loadAverage(): string {
  return loadavg().map((l) => l.toFixed(2)).join(" / ");
}

/** "date, CPU × cores, Bun version, load average". */
export function machineLine(): string {
  return `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${cpuModel()} × ${cpus().length} cores, Bun ${Bun.version}, load average at start ${loadAverage()}`;
}

function maxRecall(c: Curve): number {
  return Math.max(...c.points.map((p) => p.recall));
}

/** One row per curve: build, memory, QPS at each target recall (curves measured on fewer than `nq` queries say so). */
export function qpsTable(report: Report, curves: readonly Curve[], nq: number): void {
  report.say(`| index | build s | memory | ${TARGETS.map((t) => `QPS @ ${t.toFixed(2)}`).join(" | ")} | best recall |`);
  report.say(`|---|---:|---:|${TARGETS.map(() => "---:|").join("")}---:|`);
  for (const c of curves) {
    const cells = TARGETS.map((t) => formatAtRecall(qpsAtRecall(c.points, t)));
    const label = c.queries < nq ? `${c.label} [${c.queries} queries]` : c.label;
    report.say(`| ${label} | ${c.buildS.toFixed(2)} | ${mib(c.memory.bytes)} (${c.memory.how}) | ${cells.join(" | ")} | ${maxRecall(c).toFixed(3)} |`);
  }
}

/** Every curve against `anchor`: QPS ratio at each target, memory and build-time ratios. */
export function ratioTable(report: Report, curves: readonly Curve[], anchor: Curve): void {
  report.say(`Ratios against ${anchor.label} (> 1× = faster QPS; < 1× = less memory, faster build):\n`);
  report.say(`| index | ${TARGETS.map((t) => `QPS ratio @ ${t.toFixed(2)}`).join(" | ")} | memory ratio | build ratio |`);
  report.say(`|---|${TARGETS.map(() => "---:|").join("")}---:|---:|`);
  for (const c of curves) {
    if (c === anchor) continue;
    const cells = TARGETS.map((t) => formatRatio(qpsAtRecall(c.points, t), qpsAtRecall(anchor.points, t)));
    report.say(`| ${c.label} | ${cells.join(" | ")} | ${(c.memory.bytes / anchor.memory.bytes).toFixed(2)}× | ${(c.buildS / anchor.buildS).toFixed(2)}× |`);
  }
}

/** The measured points of every curve, Pareto-front points in bold. */
export function curveList(report: Report, curves: readonly Curve[]): void {
  for (const c of curves) {
    const front = new Set(paretoFront(c.points));
    const cells = c.points.map((p) => {
      const text = `${p.setting}: ${p.recall.toFixed(3)} / ${Math.round(p.qps).toLocaleString("en-US")}`;
      return front.has(p) ? `**${text}**` : text;
    });
    report.say(`- ${c.label} — ${cells.join(" · ")}`);
  }
}

/** The curve with the highest QPS at `target` among `curves` (undefined when none reaches it). */
export function fastestAt(curves: readonly Curve[], target: number): Curve | undefined {
  let best: { curve: Curve; qps: number } | undefined;
  for (const curve of curves) {
    const at = qpsAtRecall(curve.points, target);
    if (at.kind !== "unreached" && (!best || at.qps > best.qps)) best = { curve, qps: at.qps };
  }
  return best?.curve;
}

/** Issue 11's targets for `ours` (IvfRabitqIndex curves) against `anchor` (hnswlib-node), as measured in this run. */
export function targetLines(report: Report, ours: readonly Curve[], anchor: Curve, rows: number, qpsTargets: Record<number, number>): void {
  report.say("\nAgainst issue 11's targets (same run):\n");
  for (const [recall, want] of Object.entries(qpsTargets).map(([r, w]) => [Number(r), w] as const)) {
    const best = fastestAt(ours, recall);
    const theirs = qpsAtRecall(anchor.points, recall);
    if (!best) {
      report.say(`- QPS @ ${recall.toFixed(2)}: no IvfRabitqIndex setting reached it (target ≥ ${want}× hnswlib-node)`);
      continue;
    }
    const ratio = formatRatio(qpsAtRecall(best.points, recall), theirs);
    report.say(`- QPS @ ${recall.toFixed(2)}: ${ratio} hnswlib-node with ${best.label} (memory ${(best.memory.bytes / anchor.memory.bytes).toFixed(2)}× hnswlib's) — target ≥ ${want}×`);
  }
  const fastestBuild = Math.min(...ours.map((c) => c.buildS));
  report.say(`- build: ${((fastestBuild * 100_000) / rows).toFixed(2)} s per 100k vectors (fastest IvfRabitqIndex configuration; ${(anchor.buildS / fastestBuild).toFixed(1)}× faster than hnswlib-node) — target ≤ 2 s`);
  const smallest = Math.min(...ours.map((c) => c.memory.bytes));
  report.say(`- memory: smallest IvfRabitqIndex ${(smallest / anchor.memory.bytes).toFixed(2)}× hnswlib-node's — target ≤ 0.25×`);
}
