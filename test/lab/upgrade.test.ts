import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { showImageLines } from "../../agent/upgrade/index.js";
import { classNames } from "../../platform/classes/index.js";
import { Lab } from "../../lab/lab/index.js";
import { freeLoopbackAddress } from "../support/loopback.js";

const OLD = "17.9.4.27";
const NEW = "17.12.1.5";

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

describe("the lab upgrades its APs end to end (real UDP, DTLS, signed images, flash)", () => {
  it("20 APs of every class download over CAPWAP, install, reload and rejoin on the new version", async () => {
    const lines: string[] = [];
    const address = await freeLoopbackAddress();
    lab = await Lab.start({ aps: 20, profile: "cisco", address, classes: classNames, apVersion: OLD, controllerVersion: NEW, imageWindow: 8, console: (l) => lines.push(l) });
    await lab.waitFor((l) => l.allUpgraded(), 90_000, () => "not all upgraded");
    expect(new Set(lab.rows().map((r) => r.hardwareClass))).toEqual(new Set(classNames));
    for (const ap of lab.aps) {
      expect(ap.reloads).toBe(1);
      expect(ap.engine!.state).toMatchObject({ active: "part1", boot: "part1", running: NEW, backup: OLD, lastReloadReason: "Image upgrade" });
    }
    // The controller sees each AP report the new version after its reload.
    expect(lab.controller.aps().map((a) => a.softwareVersion)).toEqual(new Array(20).fill(NEW));
    expect(showImageLines(lab.aps[0]!.engine!.state)).toEqual([
      `AP Running Image     : ${NEW}`,
      `Primary Boot Image   : ${NEW}`,
      `Backup Boot Image    : ${OLD}`,
      "Last reload reason   : Image upgrade",
      "BOOT path-list:      part1",
    ]);
    const first = lines.filter((l) => l.startsWith("AP0200.0000.0001 ")).map((l) => l.replace(/^\S+ \[\*[^\]]+\] /, ""));
    const order = ["Version does not match.", "upgrade.sh: Script called with args:[PRECHECK]", `Image Data Request sent to ${address}, fileName [ap1g4]`, "Last block stored", "Image transfer completed from WLC, last 1", "upgrade.sh: Script called with args:[PREDOWNLOAD]", "Image signing verify success.", "upgrade.sh: Script called with args:[ACTIVATE]", "activate part1, set BOOT to part1", "CAPWAP State: Reset", "Last reload reason: Image upgrade", "Version is the same, do not need update.", "upgrade.sh: Script called with args:[NO_UPGRADE]", "AP has joined controller vap-lab-wlc"];
    const at = order.map((o) => first.indexOf(o));
    expect(at.every((i) => i >= 0), `${order.filter((_, i) => at[i]! < 0)}`).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  }, 120_000);

  it("rfc5415 profile, sink storage: the same upgrade with hashes only", async () => {
    lab = await Lab.start({ aps: 3, profile: "rfc5415", address: await freeLoopbackAddress(), apVersion: OLD, controllerVersion: NEW, storage: "sink", console: null });
    await lab.waitFor((l) => l.allUpgraded(), 60_000, () => "not all upgraded");
    for (const ap of lab.aps) expect(ap.engine!.state).toMatchObject({ running: NEW, backup: OLD });
    // Credentials and flashes in memory: no file per AP (the lab's own CA and bundle only).
    expect(readdirSync(join(lab.dir, "pki", "ap"))).toEqual([]);
    expect(existsSync(join(lab.dir, "aps"))).toBe(false);
    for (const ap of lab.aps) expect(ap.engine!.flash.root).toBe("(volatile flash in memory)");
  }, 90_000);

  it("predownload in Run, then the controller upgrades and resets the APs onto the image they hold", async () => {
    lab = await Lab.start({ aps: 5, profile: "cisco", address: await freeLoopbackAddress(), apVersion: OLD, controllerVersion: OLD, bundleVersion: NEW, console: null });
    await lab.waitFor((l) => l.allInRun(), 30_000, () => "not in Run");
    const done = await lab.controller.predownload("all", NEW, 2);
    expect(done.map((a) => a.download?.state)).toEqual(new Array(5).fill("complete"));
    for (const ap of lab.aps) {
      expect(ap.wtp.state).toBe("Run");
      expect(ap.reloads).toBe(0);
      expect(ap.engine!.pending).toEqual({ version: NEW, family: "ap1g8" });
      expect(ap.engine!.state).toMatchObject({ running: OLD, backup: NEW, boot: "part2" });
    }
    lab.controller.softwareVersion = NEW;
    for (const ap of lab.aps) await lab.controller.reset(ap.wtp.name, NEW);
    await lab.waitFor((l) => l.allUpgraded(), 30_000, () => "not all upgraded");
    for (const ap of lab.aps) {
      expect(ap.engine!.state).toMatchObject({ running: NEW, backup: OLD, lastReloadReason: `Reset Request: swap to ${NEW}` });
      expect(ap.reloads).toBe(1);
    }
    // No second download: the swap used the predownloaded image.
    expect(lab.controller.aps().every((a) => a.download === undefined)).toBe(true);
  }, 90_000);

  it("a reload that finds nothing to boot ends the AP with the reason, not a crash", async () => {
    const lines: string[] = [];
    lab = await Lab.start({ aps: 1, profile: "cisco", address: await freeLoopbackAddress(), apVersion: OLD, controllerVersion: OLD, console: (l) => lines.push(l) });
    await lab.waitFor((l) => l.allInRun(), 30_000, () => "not in Run");
    const ap = lab.aps[0]!;
    for (const p of ["part1", "part2"] as const) rmSync(ap.engine!.flash.partitionDir(p), { recursive: true, force: true });
    await lab.controller.reset(ap.wtp.name);
    const reason = await ap.failed;
    expect(reason.message).toMatch(/^no bootable image: part2: .*; part1: /);
    expect(lines.some((l) => / Reload failed: no bootable image: /.test(l))).toBe(true);
    expect(ap.wtp.state).toBe("Idle");
  }, 60_000);
});
