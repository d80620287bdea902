import { describe, expect, it } from "vitest";
import { emptyReport, epochNow, type ShardReport } from "../../agent/fleet/report.js";
import { FleetTotals } from "../../agent/fleet/totals.js";

/** A worker's report made at `at`, with the flows (+t began, −t ended) since its last one. */
const report = (at: number, flows: number[]): ShardReport => ({ ...emptyReport(), at, flows });

describe("the fleet's download concurrency, merged from its workers' flows", () => {
  // What happened, in time: worker 1's AP downloads 5–25; worker 0's APs 10–20, 30–, 35–. At most 2 at once.
  it("waits for a worker slow to send its first report before merging the others' later flows", () => {
    const totals = new FleetTotals(3, 2);
    totals.add(0, report(40, [10, -20, 30, 35]));
    totals.add(1, report(45, [5, -25]));
    totals.flush();
    expect(totals.peakInFlight).toBe(2);
  });

  it("ends a crashed worker's downloads when it is forgotten, so its restart does not count them again", () => {
    const totals = new FleetTotals(2, 2);
    const t = epochNow() - 1000;
    totals.add(0, report(t + 10, [t]));
    totals.add(1, report(t + 10, [t + 1]));
    expect(totals.peakInFlight).toBe(2);
    // Worker 0 crashes mid-download; its restart's AP downloads again, alongside worker 1's (2 at once, never 3).
    totals.forget(0);
    totals.add(0, report(0, []));
    const later = epochNow() + 1;
    totals.add(0, report(later + 10, [later]));
    totals.add(1, report(later + 10, []));
    totals.flush();
    expect(totals.peakInFlight).toBe(2);
  });
});
