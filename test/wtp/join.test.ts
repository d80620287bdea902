import { afterEach, describe, expect, it } from "vitest";
import { SimLab } from "../support/sim-lab.js";

let lab: SimLab | undefined;
afterEach(() => lab?.stop());

describe("an AP joins the lab controller (simulated network, real DTLS)", () => {
  it.each(["cisco", "rfc5415"] as const)("%s: one AP reaches Run through every RFC state", async (profile) => {
    const lines: string[] = [];
    lab = new SimLab({ profile, lines });
    await lab.start();
    expect(await lab.runUntil(() => lab!.allInRun(), 10_000)).toBe(true);
    const states = lines.filter((l) => l.includes("CAPWAP State:")).map((l) => l.replace(/^.*CAPWAP State: /, ""));
    expect(states).toEqual(["Discovery", "DTLS Setup", "Join", "Image Data", "Configure", "Data Check", "Run"]);
    const [ap] = lab.controller.aps();
    expect(ap).toMatchObject({ name: "AP0011.2233.0000", model: "C9105AXI-B", baseMac: "00:11:22:33:00:00", softwareVersion: "17.9.4.27", phase: "Run" });
    expect(ap!.certificateSubject).toContain("CN=C9120AXI-001122334455");
    expect(lab.wtps[0]!.controller).toMatchObject({ name: "vap-lab-wlc", softwareVersion: "17.9.4.27" });
  });

  it("stays in Run: echoes and keep-alives keep flowing", async () => {
    lab = new SimLab();
    await lab.start();
    await lab.runUntil(() => lab!.allInRun());
    await lab.run(10_000);
    expect(lab.wtps[0]!.state).toBe("Run");
    expect(lab.wtps[0]!.stats.echoes).toBeGreaterThanOrEqual(8);
    expect(lab.controller.aps()[0]!.echoes).toBeGreaterThanOrEqual(8);
  });
});

describe("many APs (simulated network)", () => {
  it.each(["cisco", "rfc5415"] as const)("%s: 200 APs join and reach Run", async (profile) => {
    lab = new SimLab({ profile, aps: 200 });
    await lab.start();
    expect(await lab.runUntil(() => lab!.allInRun(), 30_000)).toBe(true);
    const aps = lab.controller.aps();
    expect(new Set(aps.map((a) => a.name)).size).toBe(200);
    expect(aps.every((a) => a.phase === "Run")).toBe(true);
  });
});
