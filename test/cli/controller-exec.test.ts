/**
 * `vap controller exec` against a running `vap controller` with the HTTPS
 * upgrade method, every party its own process: after an AP (`vap run`)
 * upgraded over HTTPS, the operator sees it in the controller's own words;
 * a wrong command is IOS's error and exit 1; after Ctrl-C the socket is gone
 * and exec says no controller listens.
 */
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { initPki } from "../../agent/pki/index.js";
import { spawnVap, VAP_BIN, vap } from "../support/cli.js";
import { freeLoopbackAddress } from "../support/loopback.js";
import { tempDir } from "../support/temp.js";
import { image, NEW, OLD, testPki } from "../upgrade/support.js";

const dir = tempDir("controller-exec");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function exec(socket: string, command: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VAP_BIN, "controller", "exec", "--control-socket", socket, command], { timeout: 30_000 }, (error, out, err) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

describe("vap controller exec", () => {
  it("shows an AP that upgraded over HTTPS with Method HTTPS and its OOB capability; IOS errors exit 1; the socket goes with the controller", async () => {
    const address = await freeLoopbackAddress();
    const pkiDir = join(dir, "pki");
    const pki = initPki(pkiDir, { aps: 1, model: "C9120AXI", baseMac: "02:00:00:00:30:01", controllerAddresses: [address] });
    const ap = pki.aps[0]!;
    const trust = join(dir, "image-ca.pem");
    writeFileSync(trust, testPki().trust);
    const state = join(dir, "ap-state");
    expect((await vap("flash", "install", (await image("ap1g7", OLD)).path, "--state", state, "--class", "ap1g7", "--trust", trust)).code).toBe(0);
    const bundle = join(dir, "bundle");
    mkdirSync(bundle);
    copyFileSync((await image("ap1g7", NEW, 512 * 1024)).path, join(bundle, "ap1g7"));
    const socket = join(dir, "wlc.sock");

    const controller = spawnVap(["controller", "--pki", pkiDir, "--address", address, "--bundle", bundle, "--version", NEW, "--upgrade-method", "https", "--https-port", "0", "--control-socket", socket]);
    try {
      await controller.until(`Operator commands on ${socket}`);
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      const config = join(dir, "ap.yaml");
      writeFileSync(config, ["baseMac: 02:00:00:00:30:01", "class: ap1g7", `controllers: [{ address: ${address} }]`, `dtls: { cert: ${ap.cert}, key: ${ap.key}, ca: ${pki.caCert} }`, `image: { trust: ${trust} }`, ""].join("\n"));
      const run = spawnVap(["run", "--config", config, "--state", state]);
      try {
        await run.until("Version is the same, do not need update.", 45_000);
        await controller.until("is in Run");
        const name = "AP0200.0000.3001";
        const stats = await exec(socket, "show wireless stats ap image-download");
        expect(stats.code).toBe(0);
        expect(stats.out).toMatch(new RegExp(`^${name.replace(/\./g, "\\.")} +ap1g7 +HTTPS +Complete `, "m"));
        expect(stats.out).toMatch(/^HTTPS +1$/m);
        const general = await exec(socket, `sh ap name ${name} config general`);
        expect(general.code).toBe(0);
        expect(general.out).toContain(`Software Version                                : ${NEW}\n`);
        expect(general.out).toContain("AP Upgrade Out-Of-Band Capability               : Enabled\n");
      } finally {
        expect(await run.interrupt()).toBe(0);
      }
      const method = await exec(socket, "sh ap upg meth");
      expect([method.code, method.out]).toEqual([0, "AP upgrade method HTTPS                         : Enabled\n"]);

      const wrong = await exec(socket, "sh ap sumry");
      expect([wrong.code, wrong.out, wrong.err]).toEqual([1, "sh ap sumry\n      ^\n% Invalid input detected at '^' marker.\n", ""]);
    } finally {
      expect(await controller.interrupt()).toBe(0);
    }
    expect(existsSync(socket)).toBe(false);
    const none = await exec(socket, "show ap summary");
    expect([none.code, none.out, none.err]).toEqual([1, "", `vap controller exec: no controller listening on ${socket} (ENOENT)\n`]);
  }, 90_000);
});
