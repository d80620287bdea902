/**
 * Out-of-band HTTPS from the command line (issue 12), as an operator runs it:
 * `vap controller --upgrade-method https` with real nginx and a `vap run` AP,
 * each a process of its own; the flags' mistakes and a busy port as one line;
 * `vap lab` with its APs across an emulated WAN; and README's "Download
 * images out of band over HTTPS", read from README.md and run with the built
 * CLI.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UpgradeEngine } from "../../agent/upgrade/index.js";
import { buildBundle } from "../../images/index.js";
import { spawnVap, stopVapProcesses, vap } from "../support/cli.js";
import { escaped, freeLoopbackAddress } from "../support/loopback.js";
import { readmeCommands } from "../support/readme.js";
import { tempDir } from "../support/temp.js";
import { alive, nginxLogs, nginxProcesses } from "../lab/oob/support.js";
import { engineSetup, image, NEW, OLD, testPki } from "../upgrade/support.js";

afterEach(stopVapProcesses);

const MAC = "02:00:00:00:00:01";
const SMALL = 1024 * 1024;

/** The Method column of a `vap lab` summary: the text from the header's "Method" on, for each AP's row. */
function methods(out: string): string[] {
  const header = /^AP Name {2}.*Method$/m.exec(out);
  expect(header, out).not.toBeNull();
  const at = header![0].indexOf("Method");
  return out
    .slice(header!.index)
    .split("\n")
    .filter((l) => /^AP[0-9A-F]{4}\.[0-9A-F]{4}\.[0-9A-F]{4} /.test(l))
    .map((l) => l.slice(at));
}

describe("vap controller --upgrade-method https --https-server nginx and a vap run AP", () => {
  it("the AP upgrades over HTTPS from the controller's nginx; no token in any output or log; Ctrl-C stops nginx", async () => {
    const dir = tempDir("oob-controller");
    const address = await freeLoopbackAddress();
    const pki = await vap("pki", "init", join(dir, "pki"), "--aps", "1", "--model", "C9105AXI", "--base-mac", MAC, "--controller-ip", address);
    expect(pki.code, pki.err).toBe(0);
    // The bundle under the controller's working folder, named relative to it, as README's commands do.
    await buildBundle({ version: NEW, out: join(dir, "bundle"), signer: testPki().signer, classes: ["ap1g8"], size: SMALL });
    const setup = engineSetup({ stateDir: join(dir, "state") });
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    writeFileSync(join(dir, "image-ca.pem"), testPki().trust);
    writeFileSync(
      join(dir, "ap.yaml"),
      `baseMac: ${MAC}\nclass: ap1g8\ncontrollers: [{ address: ${address} }]\ndtls: { cert: pki/ap/C9105AXI-020000000001.pem, key: pki/ap/C9105AXI-020000000001.key, ca: pki/ca.pem }\nimage: { trust: image-ca.pem, storage: flash }\nstateDir: state\n`,
    );
    // nginx's work folder goes to the controller's TMPDIR: this test's own, where its processes can be found.
    const nginxParent = tempDir("oob-nginx-parent");

    const controller = spawnVap(["controller", "--pki", "pki", "--bundle", "bundle", "--address", address, "--version", NEW, "--upgrade-method", "https", "--https-server", "nginx", "--https-port", "0"], { cwd: dir, env: { TMPDIR: nginxParent } });
    await controller.until("Serving images from bundle: ap1g8");
    const port = new RegExp(`AP upgrade method HTTPS: nginx file-transfer server on ${escaped(address)}:(\\d+)\\n`).exec(controller.out)?.[1];
    expect(port, controller.out).toBeDefined();
    const nginx = nginxProcesses(nginxParent);
    // The master and its worker.
    expect(nginx.length).toBeGreaterThanOrEqual(2);
    expect(nginx.every(alive)).toBe(true);

    const ap = spawnVap(["run", "--config", "ap.yaml", "--pcap", "ap.pcap"], { cwd: dir });
    await ap.until(new RegExp(`AP image version ${escaped(NEW)} backup ${escaped(OLD)}, Controller ${escaped(NEW)}[\\s\\S]*AP has joined controller`));
    const url = `https://${address}:${port}/images/ap1g8`;
    expect(ap.out).toContain(`Image Data Request sent to ${address}, fileName [ap1g8], method HTTPS`);
    expect(ap.out).toContain(`OOB Image Download: ap1g8 from ${url}, ${SMALL} bytes`);
    expect(ap.out).toContain(`OOB Image Download completed: ${SMALL} bytes in`);
    expect(controller.out).toContain(`Offering image ap1g8 (${SMALL} bytes) to AP0200.0000.0001 over HTTPS: ${url}\n`);
    await controller.until(new RegExp(`OOB HTTPS transfer of ap1g8 to AP ${MAC} \\(127\\.0\\.0\\.1\\): ${SMALL} bytes in [\\d.]+ s, status 200, complete, method HTTPS\\n`));
    expect(controller.out).not.toMatch(/Sending image|fallback/);
    const logs = nginxLogs(nginxParent);
    expect(logs).toContain('"uri":"/images/ap1g8","status":200');

    expect(await ap.interrupt()).toBe(0);
    expect(await controller.interrupt()).toBe(0);
    expect(nginx.filter(alive)).toEqual([]);
    expect(readdirSync(nginxParent)).toEqual([]);

    // The token crossed CAPWAP (the AP's capture holds the plaintext under DTLS): found there, and nowhere a person reads.
    // base64url(payload) "." base64url(32-byte HMAC): exactly 43 characters, whatever bytes the capture has next.
    const token = /[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{43}/.exec(readFileSync(join(dir, "ap.pcap")).toString("latin1"))?.[0];
    expect(token).toBeDefined();
    expect(JSON.parse(Buffer.from(token!.split(".")[0]!, "base64url").toString())).toEqual([1, MAC, "127.0.0.1", "ap1g8", expect.any(Number), expect.any(String)]);
    for (const [what, text] of [["controller", controller.out], ["AP", ap.out], ["nginx's logs", logs]] as const) {
      for (const secret of [token!, token!.split(".")[1]!, "Bearer"]) expect(text, what).not.toContain(secret);
    }
  }, 120_000);
});

describe("Ctrl-C never leaves nginx behind", () => {
  // What a failing test would leave running: nginx's process groups, found by their masters.
  const masters: number[] = [];
  afterEach(() => {
    for (const pid of masters.splice(0)) {
      // Gone, as it should be, or its pid now someone else's.
      if (alive(pid) && readFileSync(`/proc/${pid}/comm`, "utf8") === "nginx\n") process.kill(-pid, "SIGKILL");
    }
  });

  /** `vap controller` serving an empty bundle by nginx, once its output shows `ready`; nginx's pids (master first) and where its folder is. */
  async function nginxController(ready: string) {
    const dir = tempDir("oob-nginx-controller");
    const address = await freeLoopbackAddress();
    expect((await vap("pki", "init", join(dir, "pki"), "--aps", "0", "--controller-ip", address)).code).toBe(0);
    const nginxParent = tempDir("oob-nginx-parent");
    const controller = spawnVap(["controller", "--pki", join(dir, "pki"), "--bundle", tempDir("oob-empty-bundle"), "--address", address, "--upgrade-method", "https", "--https-server", "nginx", "--https-port", "0"], { env: { TMPDIR: nginxParent } });
    await controller.until(ready);
    const nginx = nginxProcesses(nginxParent);
    masters.push(nginx[0]!);
    return { controller, nginx, nginxParent };
  }

  it("vap controller: one that comes while it starts, right after nginx did, ends it cleanly", async () => {
    const { controller, nginx, nginxParent } = await nginxController("AP upgrade method HTTPS: nginx file-transfer server");
    expect(await controller.interrupt(), controller.out).toBe(0);
    expect(nginx.length).toBeGreaterThanOrEqual(2);
    expect(nginx.filter(alive)).toEqual([]);
    expect(readdirSync(nginxParent)).toEqual([]);
  }, 60_000);

  it("vap controller killed (SIGKILL, no handler runs): its nginx stops too, by the parent-death signal setpriv gave it", async () => {
    const { controller, nginx } = await nginxController("Serving images from");
    expect(nginx.length).toBeGreaterThanOrEqual(2);
    controller.child.kill("SIGKILL");
    await controller.exited;
    const deadline = Date.now() + 10_000;
    while (nginx.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(nginx.filter(alive)).toEqual([]);
  }, 60_000);

  it("vap lab --until upgraded: interrupted mid-download, it stops its nginx, removes its folder, prints the summary and exits 1 with the reason", async () => {
    const nginxParent = tempDir("oob-nginx-parent");
    // A stalled server holds the AP in its HTTPS download for the AP's 10 s stall timeout: time enough to interrupt it there.
    const lab = spawnVap(["lab", "--upgrade-method", "https", "--https-server", "nginx", "--https-port", "0", "--oob-fault", "stall", "--address", await freeLoopbackAddress(), "--until", "upgraded"], { env: { TMPDIR: nginxParent } });
    await lab.until("OOB Image Download: ap1g8 from https://");
    const nginx = nginxProcesses(join(nginxParent, readdirSync(nginxParent)[0]!, "https"));
    masters.push(nginx[0]!);
    expect(nginx.length).toBeGreaterThanOrEqual(2);
    expect(await lab.interrupt()).toBe(1);
    expect(lab.out).toMatch(new RegExp(`vap lab: interrupted \\(SIGINT\\): 1 AP\\(s\\) not in Run at ${escaped(NEW)}: AP0200\\.0000\\.0001 in ImageData at ${escaped(OLD)}\\n`));
    expect(lab.out).toMatch(/^AP0200\.0000\.0001 .* ImageData /m);
    expect(nginx.filter(alive)).toEqual([]);
    const left = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => [join(dir, e.name), ...(e.isDirectory() ? left(join(dir, e.name)) : [])]);
    expect(left(nginxParent)).toEqual([]);
  }, 60_000);
});

describe("The HTTPS method's flags: a mistake is one line, exit 2", () => {
  it.each([
    [["controller", "--plaintext", "--https-port", "5"], "vap controller: --https-port applies with --upgrade-method https only\n"],
    [["controller", "--pki", "pki", "--upgrade-method", "https"], "vap controller: --upgrade-method https needs --pki DIR (its certificate) and --bundle DIR (what it serves)\n"],
    [["controller", "--pki", "pki", "--bundle", "bundle", "--upgrade-method", "https", "--oob-fault", "bogus"], 'vap controller: --oob-fault: expected refuse or tls or token or 404 or stall or truncate or corrupt, got "bogus"\n'],
    [["lab", "--https-server", "nginx"], "vap lab: --https-server applies with --upgrade-method https only\n"],
  ])("vap %j", async (argv, err) => {
    expect(await vap(...argv)).toEqual({ code: 2, out: "", err });
  });

  it.each(["embedded", "nginx"])("an HTTPS port in use on the controller's address (%s server): one line naming it, exit 2, nothing left bound", async (server) => {
    const dir = tempDir("oob-busy");
    // What it would serve does not matter here: an empty bundle.
    const bundleDir = tempDir("oob-busy-bundle");
    const address = await freeLoopbackAddress();
    expect((await vap("pki", "init", join(dir, "pki"), "--aps", "0", "--controller-ip", address)).code).toBe(0);
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, address, resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await vap("controller", "--pki", join(dir, "pki"), "--bundle", bundleDir, "--address", address, "--upgrade-method", "https", "--https-server", server, "--https-port", String(port));
      expect(r).toEqual({ code: 2, out: "", err: `vap controller: HTTPS port ${port} is in use (ap file-transfer https port)\n` });
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
    // Nothing was left bound: once the port is free, a controller starts on that address and port.
    const again = spawnVap(["controller", "--pki", join(dir, "pki"), "--bundle", bundleDir, "--address", address, "--upgrade-method", "https", "--https-server", server, "--https-port", String(port)]);
    await again.until("Serving images from");
    expect(again.out).toContain(`file-transfer server on ${address}:${port}\n`);
    expect(await again.interrupt()).toBe(0);
  }, 60_000);
});

describe("vap lab --upgrade-method https across an emulated WAN", () => {
  it("the AP reaches the controller through the WAN relays, downloads over HTTPS through them and upgrades", async () => {
    const [controllerAddress, wanAddress] = [await freeLoopbackAddress(), await freeLoopbackAddress()];
    const lab = await vap("lab", "--upgrade-method", "https", "--https-port", "0", "--address", controllerAddress, "--wan-address", wanAddress, "--wan-delay", "20ms", "--until", "upgraded");
    expect(lab.code, lab.err).toBe(0);
    expect(lab.out).toMatch(new RegExp(`Lab: the APs reach the controller across an emulated WAN on ${escaped(wanAddress)} \\(delay 20ms, seed \\d+\\)\\n`));
    expect(lab.out).toContain(`Discovery Request sent to ${wanAddress}`);
    // The offer names the relay, not the controller: the download crosses the WAN too.
    const url = new RegExp(`https://${escaped(wanAddress)}:\\d+/images/ap1g8`);
    expect(lab.out).toMatch(new RegExp(`Offering image ap1g8 \\(\\d+ bytes\\) to AP0200\\.0000\\.0001 over HTTPS: ${url.source}`));
    expect(lab.out).toMatch(new RegExp(`OOB Image Download: ap1g8 from ${url.source}`));
    expect(methods(lab.out)).toEqual(["HTTPS"]);
    expect(lab.out).toContain(`All 1 AP(s) upgraded to ${NEW} and in Run.`);
  }, 60_000);

  it("--wan-address equal to --address is one line, exit 2", async () => {
    const address = await freeLoopbackAddress();
    expect(await vap("lab", "--upgrade-method", "https", "--address", address, "--wan-address", address, "--wan-delay", "20ms")).toEqual({
      code: 2,
      out: "",
      err: "vap lab: --wan-address must differ from --address: the relays and the controller both bind CAPWAP's ports\n",
    });
  });
});

describe("README's \"Download images out of band over HTTPS\"", () => {
  it("both commands exit 0: every AP over HTTPS, then every AP back on CAPWAP after a refused connection", async () => {
    const lines = readmeCommands("Download images out of band over HTTPS");
    expect(lines).toHaveLength(2);
    const expected = [/^HTTPS$/, /^CAPWAP \(fallback: .*ECONNREFUSED.*\)$/];
    for (const [i, line] of lines.entries()) {
      expect(line).toMatch(/^npx vap lab .*--upgrade-method https/);
      // A free address and any free port instead of 127.0.0.1:8443, so parallel runs never collide.
      const lab = spawnVap([...line.split(/\s+/).slice(2), "--address", await freeLoopbackAddress(), "--https-port", "0"], { cwd: tempDir("oob-readme") });
      const { code } = await lab.exited;
      expect(code, lab.out).toBe(0);
      const column = methods(lab.out);
      expect(column, lab.out).toHaveLength(7);
      for (const method of column) expect(method).toMatch(expected[i]!);
      expect(lab.out).toContain(`All 7 AP(s) upgraded to ${NEW} and in Run.`);
    }
  }, 120_000);
});
