/**
 * The AP console as a newcomer meets it: `vap lab` runs, `vap tftp serve`
 * serves the lab's bundle, and `vap console <AP> --command …` shows the AP's
 * version, runs `archive download-sw /reload tftp://…/ap1g8`, and the AP
 * reloads into the other partition (`show boot` says so) and rejoins.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { spawnVap, stopVapProcesses, vap } from "../support/cli.js";
import { freeLoopbackAddress } from "../support/loopback.js";
import { tempDir } from "../support/temp.js";

afterEach(stopVapProcesses);

const AP = "AP0200.0000.0001";

describe("vap console on a vap lab AP", () => {
  it("show version, archive download-sw /reload from vap tftp serve, then the AP boots the other partition", async () => {
    const dir = tempDir("console-lab");
    const lab = spawnVap(["lab", "--state", join(dir, "lab"), "--address", await freeLoopbackAddress()], { cwd: dir });
    // The AP upgrades at join (the lab's controller runs 17.12.1.5), reloads and reaches Run.
    await lab.until(/AP has joined controller/);

    const version = await vap("console", AP, "--command", "show version");
    expect(version.code, version.err).toBe(0);
    expect(version.out).toMatch(/^Cisco AP Software, \(ap1g8\)/m);
    expect(version.out).toMatch(/^AP Running Image\s+: 17\.12\.1\.5$/m);
    const before = await vap("console", AP, "--command", "show boot");
    const bootBefore = /BOOT path-list:\s+(part\d)/.exec(before.out)?.[1];
    expect(bootBefore, before.out).toBeDefined();

    const tftp = spawnVap(["tftp", "serve", join(dir, "lab", "bundle"), "--address", "127.0.0.1", "--port", "0"], { cwd: dir });
    await tftp.until(/serving .* on 127\.0\.0\.1:\d+/);
    const port = /serving .* on 127\.0\.0\.1:(\d+)/.exec(tftp.out)?.[1];
    expect(port).toBeDefined();

    const archive = await vap("console", AP, "--command", `archive download-sw /reload tftp://127.0.0.1:${port}/ap1g8`);
    expect(archive.code, archive.out + archive.err).toBe(0);
    for (const line of ["Successfully setup AP image.", "Image download completed.", "Archive done."]) expect(archive.out).toContain(line);

    // Back in Run after the reload archive download-sw asked for.
    await lab.until((out) => (out.match(/AP has joined controller/g) ?? []).length >= 2);
    const after = await vap("console", AP, "--command", "show boot");
    const bootAfter = /BOOT path-list:\s+(part\d)/.exec(after.out)?.[1];
    expect(bootAfter, after.out).toBeDefined();
    expect(bootAfter).not.toBe(bootBefore);
    expect(await tftp.interrupt()).toBe(0);
    expect(await lab.interrupt()).toBe(0);
  }, 120_000);
});
