// The sweep benchmark's curve arithmetic: Pareto front, QPS at a target recall, ratio text.
import { describe, expect, test } from "bun:test";
import { formatAtRecall, formatRatio, paretoFront, qpsAtRecall, type SweepPoint } from "../../bench/curve.ts";

const p = (setting: string, recall: number, qps: number): SweepPoint => ({ setting, recall, qps });
const curve = [p("ef 16", 0.8, 8000), p("ef 32", 0.9, 4000), p("ef 64", 0.96, 2000), p("ef 128", 0.99, 1000)];

describe("paretoFront", () => {
  test("drops points beaten on both recall and QPS and orders by recall", () => {
    const dominated = p("slow", 0.85, 3000);
    const front = paretoFront([curve[2]!, dominated, curve[0]!, curve[3]!, curve[1]!]);
    expect(front.map((x) => x.setting)).toEqual(["ef 16", "ef 32", "ef 64", "ef 128"]);
  });

  test("of two points with equal recall keeps the faster", () => {
    expect(paretoFront([p("a", 0.9, 100), p("b", 0.9, 200)]).map((x) => x.setting)).toEqual(["b"]);
  });
});

describe("qpsAtRecall", () => {
  test("interpolates log-linearly between the bracketing front points", () => {
    const at = qpsAtRecall(curve, 0.93);
    expect(at.kind).toBe("interpolated");
    if (at.kind !== "interpolated") return;
    expect(at.below.setting).toBe("ef 32");
    expect(at.above.setting).toBe("ef 64");
    expect(at.qps).toBeCloseTo(Math.sqrt(4000 * 2000), 6); // halfway in recall = geometric mean
  });

  test("an exactly measured recall gives that point's QPS", () => {
    expect(qpsAtRecall(curve, 0.9)).toEqual({ kind: "measured", qps: 4000, point: curve[1]!, lowerBound: false });
  });

  test("a target below every measured recall is a lower bound from the cheapest point", () => {
    expect(qpsAtRecall(curve, 0.5)).toEqual({ kind: "measured", qps: 8000, point: curve[0]!, lowerBound: true });
  });

  test("a target above every measured recall is unreached, not extrapolated", () => {
    expect(qpsAtRecall(curve, 0.995)).toEqual({ kind: "unreached", best: curve[3]! });
  });

  test("a dominated point never sets the answer", () => {
    const at = qpsAtRecall([...curve, p("slow", 0.95, 10)], 0.95);
    expect(at.kind).toBe("interpolated");
    expect(at.kind === "interpolated" && at.qps > 2000).toBe(true);
  });

  test("refuses an empty curve and a target outside (0, 1]", () => {
    expect(() => qpsAtRecall([], 0.9)).toThrow("at least one measured point");
    expect(() => qpsAtRecall(curve, 0)).toThrow("target recall 0 is not in (0, 1]");
    expect(() => qpsAtRecall(curve, 1.5)).toThrow("target recall 1.5 is not in (0, 1]");
    expect(() => qpsAtRecall(curve, Number.NaN)).toThrow("target recall NaN");
  });
});

describe("formatting", () => {
  test("cells say measured, lower-bound and unreached apart", () => {
    expect(formatAtRecall(qpsAtRecall(curve, 0.9))).toBe("4,000");
    expect(formatAtRecall(qpsAtRecall(curve, 0.5))).toBe("≥ 8,000");
    expect(formatAtRecall(qpsAtRecall(curve, 0.999))).toBe("– (max 0.990)");
  });

  test("ratios carry the bound of whichever side is one", () => {
    const other = [p("x", 0.92, 1000), p("y", 0.99, 500)];
    expect(formatRatio(qpsAtRecall(curve, 0.99), qpsAtRecall(other, 0.99))).toBe("2.00×");
    expect(formatRatio(qpsAtRecall(curve, 0.5), qpsAtRecall(other, 0.99))).toBe("≥ 16.00×");
    expect(formatRatio(qpsAtRecall(curve, 0.99), qpsAtRecall(other, 0.5))).toBe("≤ 1.00×");
    expect(formatRatio(qpsAtRecall(curve, 0.5), qpsAtRecall(other, 0.5))).toBe("~8.00×");
    expect(formatRatio(qpsAtRecall(curve, 0.995), qpsAtRecall(other, 0.9))).toBe("–");
  });
});
