/**
 * Power cut (kill -9), and Ctrl-C, in the middle of an out-of-band HTTPS
 * download (issue 12): a `vap controller --upgrade-method https` and a `vap
 * run` AP with a flash, each a process of its own, with the embedded server
 * and with real nginx. The AP is stopped while its staged /tmp/part.tar
 * grows — after "OOB Image Download: … from" and before "OOB Image Download
 * completed" — with a realistic 70 MB image, so the cut lands mid-transfer
 * however loaded the machine is (timed from the run's own progress, never
 * from the spawn). Powered on offline, the flash boots the old image with
 * both partitions as they were; started again, the AP joins, downloads over
 * HTTPS once more and ends upgraded. A Ctrl-C there stops the download with
 * the AP: nothing is installed after it stopped.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { initPki } from "../../agent/pki/index.js";
import { UpgradeEngine } from "../../agent/upgrade/index.js";
import { buildBundle, imageSizeFor } from "../../images/index.js";
import type { OobServerKind } from "../../lab/controller/oob/index.js";
import { spawnVap, stopVapProcesses, vap } from "../support/cli.js";
import { escaped, freeLoopbackAddress } from "../support/loopback.js";
import { engineSetup, fingerprint, image, NEW, OLD, tempDir, testPki } from "./support.js";

afterEach(stopVapProcesses);

const MAC = "02:00:00:00:00:01";
/** The staged download must have grown past this before the cut: bytes on the way, 1/70 of the image. */
const CUT_AFTER_BYTES = 1024 * 1024;

let bundle: string;
beforeAll(async () => {
  bundle = join(tempDir("oob-cut-bundle"), "bundle");
  await buildBundle({ version: NEW, out: bundle, signer: testPki().signer, classes: ["ap1g8"], size: "realistic" });
}, 120_000);

/** Polls `ready` every few milliseconds (a cut must land while the transfer runs, not 50 ms later). */
async function when(ready: () => boolean, what: () => string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!ready()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what()} (waited ${timeoutMs} ms)`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** An AP at OLD with a flash, its config, and a controller offering NEW over HTTPS from `server`, each in its own process. */
async function oobSetup(server: OobServerKind) {
  const dir = tempDir("oob-cut");
  const address = await freeLoopbackAddress();
  const pki = initPki(join(dir, "pki"), { aps: 1, model: "C9105AXI", baseMac: MAC, controllerAddresses: [address] });
  const setup = engineSetup({ stateDir: join(dir, "state") });
  await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
  const flash = join(setup.options.stateDir, "flash");
  const trust = join(dir, "image-ca.pem");
  writeFileSync(trust, testPki().trust);
  const config = join(dir, "ap.yaml");
  const ap = pki.aps[0]!;
  writeFileSync(config, `baseMac: ${MAC}\nclass: ap1g8\ncontrollers: [{ address: ${address} }]\ndtls: { cert: ${ap.cert}, key: ${ap.key}, ca: ${pki.caCert} }\nimage: { trust: ${trust}, storage: flash }\nstateDir: ${setup.options.stateDir}\n`);
  const controller = spawnVap(["controller", "--pki", join(dir, "pki"), "--bundle", bundle, "--address", address, "--version", NEW, "--upgrade-method", "https", "--https-port", "0", "--https-server", server]);
  await controller.until(`Serving images from ${bundle}: ap1g8`);
  expect(controller.out).toMatch(new RegExp(`AP upgrade method HTTPS: ${server} file-transfer server on ${escaped(address)}:\\d+\\n`));
  const staged = join(flash, "tmp", "part.tar");
  return {
    setup,
    flash,
    trust,
    config,
    controller,
    address,
    factory: fingerprint(join(flash, "part2")),
    /** `vap run` started, resolved once it said where it downloads from and its staged file holds a first MiB. */
    async downloading() {
      const run = spawnVap(["run", "--config", config]);
      await run.until("OOB Image Download: ap1g8 from https://");
      await when(
        () => (existsSync(staged) ? statSync(staged).size : 0) >= CUT_AFTER_BYTES || run.child.exitCode !== null,
        () => `the staged image did not grow; AP output:\n${run.out}`,
      );
      return run;
    },
    /** How far the staged file got. */
    stagedBytes: () => statSync(staged).size,
  };
}

/** Powered on offline after a stop: the old image boots from the untouched partition, the other holds nothing, /tmp starts empty. */
async function bootsTheFactoryImage(o: Awaited<ReturnType<typeof oobSetup>>): Promise<void> {
  const engine = await o.setup.boot();
  try {
    expect(engine.state).toMatchObject({ active: "part2", boot: "part2", running: OLD, backup: "0.0.0.0" });
    expect(engine.state.images.part1).toBeUndefined();
    expect(engine.state.fellBack).toBeUndefined();
    expect(fingerprint(join(o.flash, "part2"))).toBe(o.factory);
    expect(readdirSync(join(o.flash, "tmp"))).toEqual([]);
  } finally {
    await engine.close();
  }
}

const incomplete = new RegExp(`OOB HTTPS transfer of ap1g8 to AP ${MAC} \\(127\\.0\\.0\\.1\\): \\d+ bytes in [\\d.]+ s, status 200, incomplete, method HTTPS`);

describe.each(["embedded", "nginx"] as OobServerKind[])("mid-OOB with the %s server", (server) => {
  it("power cut (kill -9) while the image streams in: boots the old image, partitions as they were; the next start downloads over HTTPS again and ends upgraded", async () => {
    const o = await oobSetup(server);
    const size = imageSizeFor("realistic", "ap1g8");
    const first = await o.downloading();
    first.child.kill("SIGKILL");
    expect((await first.exited).signal, first.out).toBe("SIGKILL");
    expect(first.out).toContain(`OOB Image Download: ap1g8 from https://${o.address}:`);
    expect(first.out).not.toContain("OOB Image Download completed");
    expect(first.out).not.toContain("args:[PREDOWNLOAD]");
    const cutAt = o.stagedBytes();
    expect(cutAt).toBeGreaterThanOrEqual(CUT_AFTER_BYTES);
    expect(cutAt).toBeLessThan(size);
    // The server saw the transfer break off.
    await o.controller.until(incomplete);
    await bootsTheFactoryImage(o);

    // Started again: it joins, is offered HTTPS again, downloads the whole image, installs it and rejoins at the new version.
    const second = spawnVap(["run", "--config", o.config]);
    await second.until(new RegExp(`AP image version ${escaped(NEW)} backup ${escaped(OLD)}, Controller ${escaped(NEW)}[\\s\\S]*AP has joined controller`), 120_000);
    const order = ["Version does not match.", "Image Data Request sent to", "OOB Image Download: ap1g8 from https://", "OOB Image Download completed", "args:[PREDOWNLOAD]", "Image signing verify success.", "activate part1, set BOOT to part1"];
    const at = order.map((line) => second.out.indexOf(line));
    expect(at.every((i) => i >= 0), order.filter((_, i) => at[i]! < 0).join(", ")).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(second.out).toContain(`OOB Image Download completed: ${size} bytes in`);
    expect(second.out).not.toContain("OOB Image Download failed");
    await o.controller.until(new RegExp(`OOB HTTPS transfer of ap1g8 to AP ${MAC} \\(127\\.0\\.0\\.1\\): ${size} bytes in [\\d.]+ s, status 200, complete, method HTTPS`));
    // Offered twice, over HTTPS both times; CAPWAP never carried the image.
    expect(o.controller.out.match(/Offering image ap1g8 \(\d+ bytes\) to AP0200\.0000\.0001 over HTTPS/g)).toHaveLength(2);
    expect(o.controller.out).not.toMatch(/Sending image ap1g8/);
    expect(await second.interrupt()).toBe(0);
    expect(await o.controller.interrupt()).toBe(0);

    const show = await vap("flash", "show", "--state", o.setup.options.stateDir, "--class", "ap1g8", "--trust", o.trust);
    expect(show.code, show.err).toBe(0);
    expect(show.out).toMatch(new RegExp(`AP Running Image\\s+: ${escaped(NEW)}\\n`));
    expect(show.out).toMatch(new RegExp(`Backup Boot Image\\s+: ${escaped(OLD)}\\n`));
    expect(show.out).toMatch(/BOOT path-list:\s+part1\n/);
    expect(show.out).toMatch(/Last reload reason\s+: Image upgrade\n/);
  }, 180_000);

  it("Ctrl-C while the image streams in: the download stops with the AP (one ABORT, nothing installed), it exits 0, BOOT unchanged", async () => {
    const o = await oobSetup(server);
    const run = await o.downloading();
    expect(await run.interrupt()).toBe(0);
    expect(run.out).not.toContain("OOB Image Download completed");
    expect(run.out).not.toContain("args:[PREDOWNLOAD]");
    expect(run.out.match(/upgrade\.sh: Script called with args:\[ABORT\]/g)).toHaveLength(1);
    await o.controller.until(incomplete);
    await bootsTheFactoryImage(o);
    expect(await o.controller.interrupt()).toBe(0);
  }, 120_000);
});
