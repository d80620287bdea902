/**
 * Out-of-band HTTPS image download end to end (real UDP, DTLS, TLS, signed
 * images, flash), with both of the controller's servers — the embedded one
 * and real nginx: every AP that advertises the capability downloads over
 * HTTPS; each server fault sends it back to CAPWAP Image Data in the same
 * session, the reason in its log and in the controller's Method column, the
 * new version in its flash, nothing half-written.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Lab, type LabOptions } from "../../lab/lab/index.js";
import type { OobFault } from "../../lab/controller/oob/index.js";
import { freeLoopbackAddress } from "../support/loopback.js";

const OLD = "17.9.4.27";
const NEW = "17.12.1.5";

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

/** What the AP's fallback line and the Method column say for each fault. */
const FAULT_REASONS: Record<OobFault, RegExp> = {
  refuse: /ECONNREFUSED/,
  tls: /TLS certificate not accepted/,
  token: /HTTP 403/,
  "404": /HTTP 404/,
  stall: /UND_ERR_BODY_TIMEOUT/,
  truncate: /truncated: \d+ of \d+ bytes/,
  corrupt: /MD5 mismatch/,
};

/** The lines of one AP of several (a lab of one prefixes no name), without the name and time stamp. */
const apLines = (lines: readonly string[], name?: string) =>
  name === undefined ? lines.map((l) => l.replace(/^\[\*[^\]]+\] /, "")) : lines.filter((l) => l.startsWith(`${name} `)).map((l) => l.replace(/^\S+ \[\*[^\]]+\] /, ""));

/** A lab whose APs leave the factory at OLD and whose controller, at NEW, serves images over HTTPS; its console lines collected. */
async function upgradeLab(options: Partial<LabOptions> & { https: NonNullable<LabOptions["https"]> }): Promise<{ lab: Lab; lines: string[] }> {
  const lines: string[] = [];
  const started = await Lab.start({ aps: 1, profile: "cisco", address: await freeLoopbackAddress(), apVersion: OLD, controllerVersion: NEW, console: (l) => lines.push(l), ...options });
  return { lab: started, lines };
}

describe.each(["embedded", "nginx"] as const)("OOB HTTPS with the %s server", (server) => {
  it("every AP downloads over HTTPS, installs and rejoins on the new version; CAPWAP never carries a block", async () => {
    const { lab: started, lines } = await upgradeLab({ aps: 3, classes: ["ap1g8", "ap1g7", "ap3g3"], https: { port: 0, server } });
    lab = started;
    await lab.waitFor((l) => l.allUpgraded(), 60_000, () => "not all upgraded");
    expect(lab.rows().map((r) => r.method)).toEqual(["HTTPS", "HTTPS", "HTTPS"]);
    expect(lab.controller.downloadsByMethod()).toBe("HTTPS 3");
    for (const ap of lab.aps) expect(ap.engine!.state).toMatchObject({ running: NEW, backup: OLD, lastReloadReason: "Image upgrade" });
    const first = apLines(lines, lab.aps[0]!.wtp.name);
    const order = ["Version does not match.", "upgrade.sh: Script called with args:[PRECHECK]", "OOB Image Download: ap1g8 from https://", "OOB Image Download completed", "upgrade.sh: Script called with args:[PREDOWNLOAD]", "Image signing verify success.", "upgrade.sh: Script called with args:[ACTIVATE]"];
    const at = order.map((o) => first.findIndex((l) => l.startsWith(o)));
    expect(at.every((i) => i >= 0), `${order.filter((_, i) => at[i]! < 0)}`).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(lines.filter((l) => /Sending image|Image transfer of/.test(l))).toEqual([]);
  }, 90_000);

  it.each(Object.keys(FAULT_REASONS) as OobFault[])("fault %s: the AP falls back to CAPWAP in the same session and ends upgraded", async (fault) => {
    // A stalled server costs a second here, not the default ten.
    const { lab: started, lines } = await upgradeLab({ https: { port: 0, server, fault }, apConfig: { oob: { stallTimeout: "1s" } } });
    lab = started;
    await lab.waitFor((l) => l.allUpgraded(), 60_000, () => "not upgraded");
    const [row] = lab.rows();
    expect(row!.method).toMatch(/^CAPWAP \(fallback: .+\)$/);
    expect(row!.method).toMatch(FAULT_REASONS[fault]);
    expect(lab.controller.downloadsByMethod()).toBe("CAPWAP (fallback) 1, HTTPS 1");
    const ap = lab.aps[0]!;
    // One reload, the image's: the fallback needed none.
    expect(ap.reloads).toBe(1);
    expect(ap.engine!.state).toMatchObject({ running: NEW, backup: OLD, lastReloadReason: "Image upgrade" });
    // A lab of one AP: the controller's lines are there too.
    const mine = apLines(lines);
    const failed = mine.findIndex((l) => /^OOB Image Download failed \(reason : .+\), falling back to CAPWAP image download$/.test(l) && FAULT_REASONS[fault].test(l));
    expect(failed, mine.join("\n")).toBeGreaterThanOrEqual(0);
    // The HTTPS try's sink was aborted before CAPWAP began again with a fresh PRECHECK; one ACTIVATE, the CAPWAP image's.
    const after = mine.slice(failed);
    expect(after.findIndex((l) => l.startsWith("Image Data Request sent to") && !l.endsWith("method HTTPS"))).toBeGreaterThan(0);
    expect(mine.filter((l) => l === "upgrade.sh: Script called with args:[ACTIVATE]")).toHaveLength(1);
    // One ABORT for the one failed try, though both its HTTP client and the WTP's starter abort the sink.
    expect(mine.filter((l) => l === "upgrade.sh: Script called with args:[ABORT]")).toHaveLength(1);
    expect(after.some((l) => l === "upgrade.sh: Script called with args:[ACTIVATE]")).toBe(true);
    expect(lines.some((l) => /Sending image ap1g8 .* \(fallback from HTTPS: /.test(l))).toBe(true);
  }, 90_000);

  it("an AP without the capability is never offered HTTPS", async () => {
    const { lab: started, lines } = await upgradeLab({ https: { port: 0, server }, apConfig: { oob: { enabled: false } } });
    lab = started;
    await lab.waitFor((l) => l.allUpgraded(), 60_000, () => "not upgraded");
    expect(lab.rows()[0]!.method).toBe("CAPWAP");
    expect(lab.controller.downloadsByMethod()).toBe("CAPWAP 1");
    expect(lines.filter((l) => /OOB|HTTPS image offer|over HTTPS:/.test(l))).toEqual([]);
  }, 90_000);

  it("a predownload goes over HTTPS too, and stays in Run", async () => {
    lab = await Lab.start({ aps: 2, profile: "cisco", address: await freeLoopbackAddress(), apVersion: OLD, controllerVersion: OLD, bundleVersion: NEW, console: null, https: { port: 0, server } });
    await lab.waitFor((l) => l.allInRun(), 30_000, () => "not in Run");
    const done = await lab.controller.predownload("all", NEW, 2);
    expect(done.map((a) => [a.download?.state, a.download?.method])).toEqual([
      ["complete", "HTTPS"],
      ["complete", "HTTPS"],
    ]);
    for (const ap of lab.aps) {
      expect(ap.wtp.state).toBe("Run");
      expect(ap.engine!.state).toMatchObject({ running: OLD, backup: NEW });
    }
  }, 90_000);
});
