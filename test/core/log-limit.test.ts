import { describe, expect, it } from "vitest";
import { createLog, ManualClock, OTHER_SOURCES, RepeatLimiter, type RepeatLimit } from "../../agent/core/index.js";

const LIMIT: RepeatLimit = { firstLines: 3, summaryIntervalMs: 10_000, maxPairs: 4 };

function setup(limit = LIMIT) {
  const clock = new ManualClock();
  const lines: string[] = [];
  const log = createLog({ clock, level: "debug", console: (l) => lines.push(l.replace(/^\[\*[^\]]+\] /, "")) });
  const limiter = new RepeatLimiter({ log, clock, what: "packets discarded", limit });
  let built = 0;
  const discard = (source: string, reason: string, detail = reason) =>
    limiter.record(source, reason, () => {
      built++;
      return `Discarding packet from ${source}: ${detail}`;
    });
  return { clock, lines, limiter, discard, built: () => built };
}

describe("RepeatLimiter: the first lines of a (source, reason) in full, then a summary per interval", () => {
  it("a flood from one source: three lines, then one summary every interval while it lasts", () => {
    const { clock, lines, discard, built } = setup();
    for (let i = 0; i < 1000; i++) discard("10.0.0.2:5246", "malformed packet", `malformed packet #${i}`);
    expect(lines).toEqual([0, 1, 2].map((i) => `Discarding packet from 10.0.0.2:5246: malformed packet #${i}`));
    // Lines held back are never even built.
    expect(built()).toBe(3);
    clock.advance(10_000);
    expect(lines.slice(3)).toEqual(["1000 packets discarded from 10.0.0.2:5246 in the last 10 s: malformed packet"]);
    // Still flooding: the pair stays quiet, one summary per interval.
    for (let i = 0; i < 500; i++) {
      clock.advance(10);
      discard("10.0.0.2:5246", "malformed packet");
    }
    clock.advance(5_000);
    expect(lines.slice(4)).toEqual(["500 packets discarded from 10.0.0.2:5246 in the last 10 s: malformed packet"]);
  });

  it("keys by source and by reason: each pair gets its own lines and summary", () => {
    const { clock, lines, discard } = setup();
    for (let i = 0; i < 5; i++) {
      discard("a", "malformed packet");
      discard("b", "malformed packet");
      discard("a", "unexpected Join Response");
    }
    expect(lines.filter((l) => l === "Discarding packet from a: malformed packet")).toHaveLength(3);
    expect(lines.filter((l) => l === "Discarding packet from b: malformed packet")).toHaveLength(3);
    expect(lines.filter((l) => l === "Discarding packet from a: unexpected Join Response")).toHaveLength(3);
    clock.advance(10_000);
    expect(lines.slice(9).sort()).toEqual([
      "5 packets discarded from a in the last 10 s: malformed packet",
      "5 packets discarded from a in the last 10 s: unexpected Join Response",
      "5 packets discarded from b in the last 10 s: malformed packet",
    ]);
  });

  it("no summary when every line was shown; a pair quiet for an interval is shown in full again", () => {
    const { clock, lines, discard } = setup();
    discard("a", "malformed packet");
    discard("a", "malformed packet");
    clock.advance(10_000);
    expect(lines).toHaveLength(2);
    clock.advance(60_000);
    expect(lines).toHaveLength(2);
    for (let i = 0; i < 4; i++) discard("a", "malformed packet");
    expect(lines).toHaveLength(5);
    clock.advance(10_000);
    expect(lines.at(-1)).toBe("4 packets discarded from a in the last 10 s: malformed packet");
    // Quiet for a whole interval after that: forgotten, shown in full again.
    clock.advance(20_000);
    discard("a", "malformed packet");
    expect(lines.at(-1)).toBe("Discarding packet from a: malformed packet");
  });

  it("the summary says how long it covers when that is not a whole interval", () => {
    const { clock, lines, discard } = setup();
    discard("a", "malformed packet");
    clock.advance(7_500);
    for (let i = 0; i < 6; i++) discard("b", "malformed packet");
    clock.advance(2_500);
    expect(lines.at(-1)).toBe("6 packets discarded from b in the last 2.5 s: malformed packet");
  });

  it("sources beyond maxPairs count together, so spoofed sources cannot grow the table", () => {
    const { clock, lines, discard } = setup();
    for (let s = 0; s < 1000; s++) for (let i = 0; i < 4; i++) discard(`10.0.${s >> 8}.${s & 255}:5246`, "malformed packet");
    // Four sources in full (three lines each), then the other 996 as one pair: three lines and a count.
    expect(lines).toHaveLength(4 * 3 + 3);
    clock.advance(10_000);
    expect(lines.slice(-5).sort()).toEqual(
      [...[0, 1, 2, 3].map((s) => `4 packets discarded from 10.0.0.${s}:5246 in the last 10 s: malformed packet`), `${996 * 4} packets discarded from ${OTHER_SOURCES} in the last 10 s: malformed packet`].sort(),
    );
  });

  it("flush() gives the summaries due now (a shutdown) and stops the timer", () => {
    const { clock, lines, limiter, discard } = setup();
    for (let i = 0; i < 10; i++) discard("a", "malformed packet");
    clock.advance(1_000);
    limiter.flush();
    expect(lines.at(-1)).toBe("10 packets discarded from a in the last 1 s: malformed packet");
    expect(clock.pending()).toEqual([]);
  });
});
