import { describe, expect, it } from "vitest";
import { seededRandom } from "../../agent/core/index.js";
import { decide, type Decision, type Fate, impairmentOf, LinkModel, type Impairment } from "../../lab/wan/index.js";

const N = 100_000;

/** |observed − p| within 5 standard deviations of a binomial(n, p) proportion: fails by chance about once in 3.5 million runs. */
function expectProportion(count: number, n: number, p: number): void {
  const sd = Math.sqrt((p * (1 - p)) / n);
  expect(Math.abs(count / n - p)).toBeLessThanOrEqual(5 * sd);
}

function decisions(imp: Partial<Impairment>, seed: number, n = N): Decision[] {
  const random = seededRandom(seed);
  const full = impairmentOf(imp);
  return Array.from({ length: n }, () => decide(full, random));
}

const CLEAN: Decision = { lost: false, duplicate: false, reordered: false, jitterMs: 0 };
const sent = (f: Fate) => {
  if (f.kind !== "sent") throw new Error(`expected sent, got ${f.kind}`);
  return f;
};

describe("decide: a datagram's random fate", () => {
  it("loses, duplicates and reorders at the configured probabilities over 100k datagrams", () => {
    const d = decisions({ loss: 0.05, duplicate: 0.01, reorder: 0.02, jitterMs: 5 }, 7);
    expectProportion(d.filter((x) => x.lost).length, N, 0.05);
    expectProportion(d.filter((x) => x.duplicate).length, N, 0.01);
    expectProportion(d.filter((x) => x.reordered).length, N, 0.02);
    // The three draws are independent: both lost and duplicated ≈ 0.05 × 0.01.
    expectProportion(d.filter((x) => x.lost && x.duplicate).length, N, 0.0005);
  });

  it("draws jitter uniformly in [-jitter, +jitter)", () => {
    const j = decisions({ jitterMs: 5 }, 11).map((x) => x.jitterMs);
    expect(Math.min(...j)).toBeGreaterThanOrEqual(-5);
    expect(Math.max(...j)).toBeLessThan(5);
    const mean = j.reduce((a, b) => a + b) / N;
    // Uniform on [-5, 5): sd 5/√3, so the mean's sd is 5/√(3N).
    expect(Math.abs(mean)).toBeLessThan(5 * (5 / Math.sqrt(3 * N)));
    // Each tenth of the range holds a tenth of the draws.
    for (let b = 0; b < 10; b++) expectProportion(j.filter((x) => x >= -5 + b && x < -4 + b).length, N, 0.1);
  });

  it("is reproducible: the same seed gives the same decisions, another seed others", () => {
    const imp = { loss: 0.1, duplicate: 0.1, reorder: 0.1, jitterMs: 3 };
    expect(decisions(imp, 42, 5_000)).toEqual(decisions(imp, 42, 5_000));
    expect(decisions(imp, 43, 5_000)).not.toEqual(decisions(imp, 42, 5_000));
  });

  it("never loses, copies or reorders at probability 0, always at 1", () => {
    expect(decisions({}, 3, 10_000).every((x) => !x.lost && !x.duplicate && !x.reordered && x.jitterMs === 0)).toBe(true);
    expect(decisions({ loss: 1, duplicate: 1, reorder: 1 }, 3, 10_000).every((x) => x.lost && x.duplicate && x.reordered)).toBe(true);
  });
});

describe("LinkModel: departures of one direction", () => {
  it("adds the one-way delay, so a round trip over two directions takes 2 × delay", () => {
    const imp = impairmentOf({ delayMs: 50 });
    const up = new LinkModel(imp);
    const down = new LinkModel(imp);
    const there = sent(up.offer(100, 1_000, CLEAN)).at;
    expect(there).toBe(1_050);
    expect(sent(down.offer(100, there, CLEAN)).at - 1_000).toBe(100);
  });

  it("keeps jittered departures within delay ± jitter when datagrams are far apart", () => {
    const imp = impairmentOf({ delayMs: 20, jitterMs: 5 });
    const link = new LinkModel(imp);
    const random = seededRandom(5);
    const errors = Array.from({ length: 10_000 }, (_, i) => {
      const d = decide(imp, random);
      return sent(link.offer(100, i * 100, d)).at - i * 100 - (20 + d.jitterMs);
    });
    expect(Math.max(...errors.map(Math.abs))).toBeLessThan(1e-9);
  });

  it("never reorders without `reorder`, however large the jitter against the spacing", () => {
    const imp = impairmentOf({ delayMs: 10, jitterMs: 8, loss: 0.05, duplicate: 0.05 });
    const link = new LinkModel(imp);
    const random = seededRandom(9);
    const departures: number[] = [];
    for (let i = 0; i < N; i++) {
      const f = link.offer(200, i * 0.1, decide(imp, random));
      if (f.kind === "sent") departures.push(f.at, ...(f.copyAt === undefined ? [] : [f.copyAt]));
    }
    expect(departures.length).toBeGreaterThan(N * 0.9);
    expect(departures.findIndex((t, i) => i > 0 && t < departures[i - 1]!)).toBe(-1);
  });

  it("holds back reordered datagrams so later ones overtake them, and only those", () => {
    const imp = impairmentOf({ delayMs: 10, jitterMs: 2, reorder: 0.03 });
    const link = new LinkModel(imp);
    const random = seededRandom(13);
    const out: { seq: number; at: number; held: boolean }[] = [];
    for (let i = 0; i < N; i++) {
      const f = sent(link.offer(200, i * 0.5, decide(imp, random)));
      out.push({ seq: i, at: f.at, held: f.held });
    }
    expectProportion(out.filter((o) => o.held).length, N, 0.03);
    // Delivered in departure order (ties in offer order, as the scheduler does).
    const delivered = [...out].sort((a, b) => a.at - b.at || a.seq - b.seq);
    let maxSeq = -1;
    const late = new Set<number>();
    for (const o of delivered) {
      if (o.seq < maxSeq) late.add(o.seq);
      maxSeq = Math.max(maxSeq, o.seq);
    }
    // Every held datagram is overtaken (datagrams every 0.5 ms, held 10 ms), and nothing else arrives late.
    expect([...late].sort((a, b) => a - b)).toEqual(out.filter((o) => o.held).map((o) => o.seq));
  });

  it("serializes at the link rate: departures bytes × 8 / rate apart, then the delay", () => {
    const link = new LinkModel(impairmentOf({ delayMs: 30, rateBps: 10e6 }));
    // 1000 bytes at 10 Mbit/s: 0.8 ms each. A burst of 100 arriving together.
    const at = Array.from({ length: 100 }, () => sent(link.offer(1000, 0, CLEAN)).at);
    at.forEach((t, i) => expect(t).toBeCloseTo((i + 1) * 0.8 + 30, 9));
    // An idle link starts serializing at arrival.
    expect(sent(link.offer(500, 1_000, CLEAN)).at).toBeCloseTo(1_000 + 0.4 + 30, 9);
  });

  it("tail-drops datagrams beyond the queue bound and takes them again once it drains", () => {
    // 1250 bytes at 1 Mbit/s: 10 ms each; a 1 s queue holds 100 of them.
    const link = new LinkModel(impairmentOf({ rateBps: 1e6, queueMs: 1000 }));
    const fates = Array.from({ length: 150 }, () => link.offer(1250, 0, CLEAN).kind);
    expect(fates.filter((k) => k === "sent")).toHaveLength(100);
    expect(fates.slice(100).every((k) => k === "overflow")).toBe(true);
    expect(link.offer(1250, 500, CLEAN).kind).toBe("sent");
    // An empty queue takes even a datagram longer than the bound.
    const slow = new LinkModel(impairmentOf({ rateBps: 8_000, queueMs: 1000 }));
    expect(sent(slow.offer(1400, 0, CLEAN)).at).toBeCloseTo(1400, 9);
  });

  it("sends a duplicate right behind the original: one serialization time later", () => {
    const dup = { ...CLEAN, duplicate: true };
    expect(sent(new LinkModel(impairmentOf({ delayMs: 5 })).offer(100, 0, dup))).toMatchObject({ at: 5, copyAt: 5 });
    const link = new LinkModel(impairmentOf({ delayMs: 5, rateBps: 8e6 }));
    expect(sent(link.offer(1000, 0, dup))).toMatchObject({ at: 6, copyAt: 7 });
    // The copy used the link: the next datagram waits for it.
    expect(sent(link.offer(1000, 0, CLEAN)).at).toBe(8);
  });

  it("loses a datagram before the queue: a lost one takes no link time", () => {
    const link = new LinkModel(impairmentOf({ rateBps: 8e6 }));
    expect(link.offer(1000, 0, { ...CLEAN, lost: true }).kind).toBe("lost");
    expect(sent(link.offer(1000, 0, CLEAN)).at).toBe(1);
  });

  it("carries stream data in order at the link rate and never drops it", () => {
    const link = new LinkModel(impairmentOf({ delayMs: 20, rateBps: 1e6, queueMs: 100 }));
    // 400 segments of 1250 bytes: 4 s of data against a 100 ms queue bound.
    const at = Array.from({ length: 400 }, () => link.stream(1250, 0));
    at.forEach((t, i) => expect(t).toBeCloseTo((i + 1) * 10 + 20, 9));
    // A zero-byte marker (FIN) departs behind all of it.
    expect(link.stream(0, 0)).toBeCloseTo(4_020, 9);
  });
});
