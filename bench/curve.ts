/**
 * Recall/QPS curves of a parameter sweep: the Pareto front of the measured points and
 * QPS at a target recall, interpolated between the two front points that bracket it.
 * Nothing is extrapolated: a target above the best measured recall is reported as not reached.
 */

/** One measured operating point of a sweep. */
export interface SweepPoint {
  /** The setting that produced it, e.g. "ef 128" or "nprobe 64, rerank 20". */
  setting: string;
  recall: number;
  qps: number;
}

/** QPS at a target recall, and how it was obtained. */
export type AtRecall =
  /** Interpolated between the front points `below` and `above` (recall below < target ≤ above). */
  | { kind: "interpolated"; qps: number; below: SweepPoint; above: SweepPoint }
  /** Exactly measured, or a lower bound: every front point at or above the target, the fastest is `point`. */
  | { kind: "measured"; qps: number; point: SweepPoint; lowerBound: boolean }
  /** No setting reached the target; `best` is the highest recall measured. */
  | { kind: "unreached"; best: SweepPoint };

/** Points no other point beats on both recall and QPS, by ascending recall (and descending QPS). */
export function paretoFront(points: readonly SweepPoint[]): SweepPoint[] {
  const byRecall = [...points].sort((a, b) => b.recall - a.recall || b.qps - a.qps);
  const front: SweepPoint[] = [];
  for (const p of byRecall) if (front.length === 0 || p.qps > front[front.length - 1]!.qps) front.push(p);
  return front.reverse();
}

/**
 * QPS at `target` recall. Between bracketing front points QPS is interpolated linearly in
 * log(QPS) (QPS falls roughly exponentially as recall nears 1). When the lowest measured
 * recall already meets the target, that point's QPS is a lower bound (the sweep did not go cheaper).
 */
export function qpsAtRecall(points: readonly SweepPoint[], target: number): AtRecall {
  if (points.length === 0) throw new RangeError("qpsAtRecall needs at least one measured point");
  if (!(target > 0 && target <= 1)) throw new RangeError(`target recall ${target} is not in (0, 1]`);
  const front = paretoFront(points);
  const above = front.findIndex((p) => p.recall >= target);
  if (above < 0) return { kind: "unreached", best: front[front.length - 1]! };
  const hi = front[above]!;
  if (hi.recall === target) return { kind: "measured", qps: hi.qps, point: hi, lowerBound: false };
  if (above === 0) return { kind: "measured", qps: hi.qps, point: hi, lowerBound: true };
  const lo = front[above - 1]!;
  const t = (target - lo.recall) / (hi.recall - lo.recall);
  const qps = Math.exp(Math.log(lo.qps) + t * (Math.log(hi.qps) - Math.log(lo.qps)));
  return { kind: "interpolated", qps, below: lo, above: hi };
}

/** Short text for a table cell: "4,210", "≥ 9,800" (lower bound) or "– (max 0.931)". */
export function formatAtRecall(at: AtRecall): string {
  if (at.kind === "unreached") return `– (max ${at.best.recall.toFixed(3)})`;
  const qps = Math.round(at.qps).toLocaleString("en-US");
  return at.kind === "measured" && at.lowerBound ? `≥ ${qps}` : qps;
}

/**
 * `ours / theirs` at the same target as text: "2.31×", "≥ 2.31×" when only ours is a lower bound,
 * "≤ 2.31×" when only theirs is, "~2.31×" when both are, "–" when either side did not reach it.
 */
export function formatRatio(ours: AtRecall, theirs: AtRecall): string {
  if (ours.kind === "unreached" || theirs.kind === "unreached") return "–";
  const bound = (at: AtRecall) => at.kind === "measured" && at.lowerBound;
  const prefix = bound(ours) ? (bound(theirs) ? "~" : "≥ ") : bound(theirs) ? "≤ " : "";
  return `${prefix}${(ours.qps / theirs.qps).toFixed(2)}×`;
}
