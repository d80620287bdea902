/**
 * What `vap controller` tells its operator: at start what it serves, one
 * line per completed image transfer (and no discard lines for the late
 * acknowledgements a sliding window brings), and on Ctrl-C how many APs it
 * said goodbye to — which the AP hears and rediscovers at once.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { initPki } from "../../agent/pki/index.js";
import { startVap as vap } from "../support/cli.js";
import { freeLoopbackAddress } from "../support/loopback.js";
import { image, NEW, OLD, testPki } from "../upgrade/support.js";
import { tempDir } from "../support/temp.js";

const dir = tempDir("controller-console");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("vap controller's console", () => {
  it("says what it serves, one line per image transfer, no discards on a clean download, and how many APs it told on Ctrl-C", async () => {
    const pkiDir = join(dir, "pki");
    const pki = initPki(pkiDir, { aps: 1, model: "C9120AXI", baseMac: "02:00:00:00:20:01" });
    const ap = pki.aps[0]!;
    const trust = join(dir, "image-ca.pem");
    writeFileSync(trust, testPki().trust);
    const state = join(dir, "ap-state");
    const factory = await image("ap1g7", OLD);
    expect(await vap("flash", "install", factory.path, "--state", state, "--class", "ap1g7", "--trust", trust).done).toBe(0);
    const bundle = join(dir, "bundle");
    mkdirSync(bundle);
    copyFileSync((await image("ap1g7", NEW, 2 * 1024 * 1024)).path, join(bundle, "ap1g7"));
    const address = await freeLoopbackAddress();
    const controller = vap("controller", "--pki", pkiDir, "--address", address, "--bundle", bundle, "--window", "8", "--version", NEW);
    try {
      await controller.until("Serving images from");
      expect(controller.out).toContain(`Lab controller vap-lab-wlc ${NEW} (profile cisco) on ${address}: control port 5246, data port 5247, DTLS, certificates from ${pkiDir}`);
      expect(controller.out).toContain(`Serving images from ${bundle}: ap1g7; window 8, at most 100 transfers at once`);

      const config = join(dir, "ap.yaml");
      writeFileSync(config, ["baseMac: 02:00:00:00:20:01", "class: ap1g7", `controllers: [{ address: ${address} }]`, `dtls: { cert: ${ap.cert}, key: ${ap.key}, ca: ${pki.caCert} }`, `image: { trust: ${trust} }`, ""].join("\n"));
      const run = vap("run", "--config", config, "--state", state);
      try {
        await run.until("Version is the same, do not need update.", 30_000);
        await controller.until("is in Run");
        expect(controller.out).toMatch(/Image transfer of ap1g7 to AP0200\.0000\.2001 complete: \d+ bytes in \d+\.\d\d s, window 8 \(\d+ requests, \d+ retransmitted, \d+ late acks\)/);
        expect(controller.out).not.toContain("Discarding");
        controller.stop();
        expect(await controller.done).toBe(0);
        expect(controller.out).toMatch(/Stopping: 1 AP\(s\) told \(DTLS close_notify\); image downloads by method: CAPWAP 1\n$/);
        await run.until("Going to restart CAPWAP (reason : DTLS session closed by the controller (close_notify))...");
      } finally {
        run.stop();
        expect(await run.done).toBe(0);
      }
    } finally {
      controller.stop();
      await controller.done;
    }
  }, 60_000);
});
