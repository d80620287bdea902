/**
 * A controller shut down gracefully says goodbye: every AP hears DTLS
 * close_notify and starts discovery at once, instead of noticing the silence
 * after its echoes time out (30–48 s) or waiting out a restart pause.
 */
import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { Lab } from "../../lab/lab/index.js";
import { freeLoopbackAddress } from "../support/loopback.js";

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

describe("graceful controller shutdown over real UDP and DTLS", () => {
  it("the AP in Run hears close_notify, logs why and is in Discovery at once", async () => {
    const lines: { at: number; line: string }[] = [];
    const address = await freeLoopbackAddress();
    lab = await Lab.start({ aps: 1, profile: "cisco", address, apVersion: "17.9.4.27", controllerVersion: "17.9.4.27", console: (line) => lines.push({ at: performance.now(), line }) });
    await lab.waitFor((l) => l.allInRun(), 20_000, () => "the AP is not in Run");
    const since = performance.now();
    await lab.controller.shutdown();
    // Generous: a restart pause would be up to the DiscoveryInterval (5 s), a silent controller 30 s or more.
    await lab.waitFor((l) => l.aps[0]!.wtp.state === "Discovery", 2000, (l) => `the AP is in ${l.aps[0]!.wtp.state}`);
    const after = lines.filter((l) => l.at >= since).map((l) => l.line);
    const closed = after.findIndex((l) => l.includes("Going to restart CAPWAP (reason : DTLS session closed by the controller (close_notify))..."));
    const discovery = after.findIndex((l) => l.includes("CAPWAP State: Discovery"));
    expect(closed).toBeGreaterThanOrEqual(0);
    expect(discovery).toBeGreaterThan(closed);
    const toDiscovery = lines.find((l) => l.at >= since && l.line.includes("CAPWAP State: Discovery"))!.at - since;
    console.log(`controller shutdown to AP in Discovery: ${toDiscovery.toFixed(1)} ms`);
  }, 30_000);
});
