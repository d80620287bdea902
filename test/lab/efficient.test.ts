/**
 * Efficient image upgrade end to end (real UDP, DTLS, TFTP between APs,
 * signed images, flash): per site, one primary AP per model fetches the
 * image from the controller across the site's WAN link; the others fetch it
 * from their primary over TFTP, at most three at a time, measured at the
 * primary's server; a primary lost mid-way is replaced; a tampered image on
 * a primary is refused by every subordinate, which then falls back to the
 * controller; every AP ends on the new version, nothing half-written.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Lab, type LabApRow, type LabOptions } from "../../lab/lab/index.js";
import { freeLoopbackAddress } from "../support/loopback.js";

const OLD = "17.9.4.27";
const NEW = "17.12.1.5";
const CLASSES = ["ap1g8", "ap1g7", "ap1g4"] as const;

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

const quiet = () => {};

/** A lab whose APs leave the factory at OLD, its controller at OLD with NEW staged, its sites efficient. */
async function efficientLab(options: Partial<LabOptions> & Pick<LabOptions, "aps" | "sites">): Promise<{ lab: Lab; lines: string[] }> {
  const lines: string[] = [];
  const started = await Lab.start({ profile: "cisco", address: await freeLoopbackAddress(), apVersion: OLD, controllerVersion: OLD, bundleVersion: NEW, console: (l) => lines.push(l), ...options });
  return { lab: started, lines };
}

/** One AP's console lines (several APs prefix their name), without the name and time stamp. */
const apLines = (lines: readonly string[], name: string) => lines.filter((l) => l.startsWith(`${name} `)).map((l) => l.replace(/^\S+ \[\*[^\]]+\] /, ""));

const byGroup = (rows: readonly LabApRow[]) => {
  const groups = new Map<string, LabApRow[]>();
  for (const r of rows) groups.set(`${r.site}/${r.model}`, [...(groups.get(`${r.site}/${r.model}`) ?? []), r]);
  return groups;
};

describe("efficient image upgrade", () => {
  it("3 sites × 3 models × 4 APs: one primary per model per site, the rest from it by TFTP; each site's WAN carries one image per model", async () => {
    const wanAddress = await freeLoopbackAddress();
    let lines: string[];
    ({ lab, lines } = await efficientLab({ aps: 36, classes: CLASSES, sites: { count: 3, efficient: true }, wan: { address: wanAddress, impairment: { delayMs: 5 }, seed: 1 } }));
    await lab.waitFor((l) => l.allInRun(), 60_000, () => "not all in Run");
    const before = lab.siteWanBytes();
    const records = await lab.predownloadBySite(quiet);
    expect(records.map((r) => r.download?.state)).toEqual(new Array(36).fill("complete"));
    const after = lab.siteWanBytes();

    const rows = lab.rows();
    for (const [group, members] of byGroup(rows)) {
      expect(members, group).toHaveLength(4);
      expect(members.filter((r) => r.role === "Primary"), group).toHaveLength(1);
      expect(members.filter((r) => r.role === "Subordinate"), group).toHaveLength(3);
    }
    for (const r of rows) expect(r.method, r.name).toBe(r.role === "Primary" ? "CAPWAP" : "TFTP from primary");

    // Each primary served only its own class, at most three at a time, as its server counted.
    const primaries = lab.aps.filter((ap) => ap.primaryServer !== undefined);
    expect(primaries).toHaveLength(9);
    for (const ap of primaries) {
      expect(ap.primaryServer!.peakTransfers).toBeGreaterThanOrEqual(1);
      expect(ap.primaryServer!.peakTransfers).toBeLessThanOrEqual(3);
    }
    // A subordinate asked its own model's primary, never another's.
    const endpointClass = new Map(primaries.map((ap) => [`${ap.primaryServer!.local.address}:${ap.primaryServer!.local.port}`, ap.engine!.state.images.part1?.family ?? ap.engine!.state.images.part2?.family]));
    for (const [i, r] of rows.entries()) {
      if (r.role !== "Subordinate") continue;
      const asked = apLines(lines, r.name).find((l) => l.includes("replicaStatus 1"));
      const m = asked?.match(/^Image Data Request sent to (\S+), fileName \[(\w+)\], replicaStatus 1$/);
      expect(m, `${r.name}: ${asked}`).toBeTruthy();
      expect(m![2]).toBe(lab.aps[i]!.engine!.state.images[lab.aps[i]!.engine!.state.active]!.family);
      expect(endpointClass.get(m![1]!)).toBe(m![2]);
    }

    // What crossed each site's WAN toward its APs during the predownload: one image per model, plus protocol overhead.
    const imageBytes = CLASSES.reduce((sum, c) => sum + statSync(join(lab!.dir, "bundle", c)).size, 0);
    for (const [i, site] of after.entries()) {
      const crossed = site.toAps - before[i]!.toAps;
      expect(crossed, site.site).toBeGreaterThanOrEqual(imageBytes);
      expect(crossed, site.site).toBeLessThan(imageBytes * 1.25);
    }

    await lab.activateBySite(NEW, quiet);
    await lab.waitFor((l) => l.allUpgraded(), 60_000, () => "not all upgraded");
    for (const ap of lab.aps) expect(ap.engine!.state).toMatchObject({ running: NEW, backup: OLD });
  }, 240_000);

  it("with HTTPS on, each primary downloads out of band through its own site's WAN link; the subordinates still from it", async () => {
    ({ lab } = await efficientLab({ aps: 6, classes: ["ap1g8"], sites: { count: 2, efficient: true }, https: { port: 0, server: "embedded" }, wan: { address: await freeLoopbackAddress(), impairment: { delayMs: 2 }, seed: 3 } }));
    await lab.waitFor((l) => l.allInRun(), 60_000, () => "not all in Run");
    const before = lab.siteWanBytes();
    const records = await lab.predownloadBySite(quiet);
    expect(records.map((r) => r.download?.state)).toEqual(new Array(6).fill("complete"));
    const rows = lab.rows();
    expect(rows.map((r) => [r.site, r.role, r.method])).toEqual(
      expect.arrayContaining([
        ["site-1", "Primary", "HTTPS"],
        ["site-2", "Primary", "HTTPS"],
      ]),
    );
    expect(rows.filter((r) => r.role === "Subordinate" && r.method === "TFTP from primary")).toHaveLength(4);
    const image = statSync(join(lab.dir, "bundle", "ap1g8")).size;
    for (const [i, site] of lab.siteWanBytes().entries()) {
      const crossed = site.toAps - before[i]!.toAps;
      expect(crossed, site.site).toBeGreaterThanOrEqual(image);
      expect(crossed, site.site).toBeLessThan(image * 1.25);
    }
  }, 120_000);

  it("seven subordinates at one primary: it never serves more than three at once, turns the rest away as busy, and all get the image", async () => {
    let lines: string[];
    ({ lab, lines } = await efficientLab({ aps: 8, classes: ["ap1g8"], sites: { count: 1, efficient: true }, imageSize: 8 * 1024 * 1024 }));
    await lab.waitFor((l) => l.allInRun(), 60_000, () => "not all in Run");
    const records = await lab.predownloadBySite(quiet);
    expect(records.map((r) => r.download?.state)).toEqual(new Array(8).fill("complete"));
    const [primary, ...others] = [...lab.aps].sort((a, b) => Number(b.primaryServer !== undefined) - Number(a.primaryServer !== undefined));
    expect(others.every((ap) => ap.primaryServer === undefined)).toBe(true);
    expect(primary!.primaryServer!.peakTransfers).toBe(3);
    expect(lines.some((l) => /TFTP: refused RRQ ap1g8 .*server busy \(3 transfers\)/.test(l))).toBe(true);
    expect(lab.rows().filter((r) => r.method === "TFTP from primary")).toHaveLength(7);
  }, 120_000);

  it("a primary stopped while it serves: its model gets a new primary, every other AP ends with the image, none half-written", async () => {
    let lines: string[];
    ({ lab, lines } = await efficientLab({ aps: 6, classes: ["ap1g8"], sites: { count: 1, efficient: true }, imageSize: 24 * 1024 * 1024 }));
    await lab.waitFor((l) => l.allInRun(), 60_000, () => "not all in Run");
    const predownload = lab.predownloadBySite(quiet);
    const current = lab;
    await current.waitFor((l) => l.aps.some((ap) => (ap.primaryServer?.activeTransfers ?? 0) > 0), 60_000, () => "no primary serving");
    const first = current.aps.find((ap) => ap.primaryServer !== undefined)!;
    const firstName = first.wtp.name;
    await first.stop();
    const records = await predownload;
    const rest = records.filter((r) => r.name !== firstName);
    expect(rest.map((r) => r.download?.state)).toEqual(new Array(5).fill("complete"));
    const replaced = lines.filter((l) => l.includes(`primary AP ${firstName} for `) && /lost \(its session ended: .*\): AP \S+ elected in its place$/.test(l));
    expect(replaced).toHaveLength(1);
    for (const ap of current.aps.filter((a) => a !== first)) {
      expect(ap.engine!.pending).toEqual({ version: NEW, family: "ap1g8" });
      expect(ap.engine!.state).toMatchObject({ running: OLD, backup: NEW });
      // Nothing staged is left behind: each ABORT and PREDOWNLOAD cleaned /tmp.
      expect(readdirSync(ap.engine!.flash.tmpDir)).toEqual([]);
    }
    await current.activateBySite(NEW, quiet);
    await current.waitFor((l) => l.aps.every((ap) => ap === first || (ap.wtp.state === "Run" && ap.engine?.running === NEW)), 60_000, () => "not all upgraded");
  }, 180_000);

  it("a tampered image on the primary is refused by every subordinate, reported, and fetched from the controller instead", async () => {
    let lines: string[];
    ({ lab, lines } = await efficientLab({ aps: 4, classes: ["ap1g8"], sites: { count: 1, efficient: true } }));
    await lab.waitFor((l) => l.allInRun(), 60_000, () => "not all in Run");
    const current = lab;
    // The primary reports Complete; before its subordinates are ordered, one byte of the image's payload flips.
    current.controller.once("primary-serving", (primary) => {
      const ap = current.aps.find((a) => a.wtp.name === primary.ap)!;
      const served = join(ap.primaryServer!.root, "ap1g8");
      const bytes = readFileSync(served);
      bytes[bytes.length >> 1]! ^= 0xff;
      writeFileSync(served, bytes);
    });
    const records = await lab.predownloadBySite(quiet);
    expect(records.map((r) => r.download?.state)).toEqual(new Array(4).fill("complete"));
    const rows = lab.rows().filter((r) => r.role === "Subordinate");
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r.method, r.name).toMatch(/^CAPWAP \(fallback: image from primary failed verification/);
    // Each subordinate says why, and so does the controller.
    for (const r of rows) expect(apLines(lines, r.name).some((l) => /falling back to the controller/.test(l) && /failed verification/.test(l)), r.name).toBe(true);
    expect(lines.filter((l) => /\] Efficient image upgrade: AP \S+ falls back to the controller for 17\.12\.1\.5: image from primary failed verification: .*hash/.test(l))).toHaveLength(3);
  }, 120_000);
});
