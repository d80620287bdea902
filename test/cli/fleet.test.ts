/**
 * `vap fleet` as a load tester runs it: its own process against `vap
 * controller` in another, real UDP and DTLS, certificates from the fleet CA,
 * signed images, Prometheus metrics read with curl.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawnVap, stopVapProcesses, vap, VAP_BIN } from "../support/cli.js";
import { freeLoopbackAddress } from "../support/loopback.js";
import { tempDir } from "../support/temp.js";
import { readmeCommands } from "../support/readme.js";
import type { FleetSummary } from "../../agent/fleet/index.js";

const dir = tempDir("fleet-cli");
const pki = join(dir, "pki");
const keys = join(dir, "keys");
const bundle = join(dir, "bundle");
afterEach(stopVapProcesses);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  for (const argv of [
    ["pki", "init", pki, "--aps", "0"],
    ["image", "keygen", keys],
    ["image", "bundle", "--version", "17.12.1.5", "--out", bundle, "--keys", keys, "--classes", "ap1g8,ap1g7", "--size", "262144"],
  ]) expect((await vap(...argv)).code).toBe(0);
});

/** `vap controller` on a loopback address of its own, with the test's PKI and bundle. */
async function controller(...extra: string[]) {
  const address = await freeLoopbackAddress();
  const c = spawnVap(["controller", "--pki", pki, "--address", address, "--control-socket", join(dir, `${address}.sock`), ...extra]);
  await c.until("Operator commands on");
  return { address, c };
}

/** The fleet's metrics now, by curl; empty while it does not answer. */
function scrape(url: string): string {
  try {
    return execFileSync("curl", ["-sf", url]).toString();
  } catch {
    return "";
  }
}

const summaryOf = (out: string): FleetSummary => JSON.parse(out.trim().split("\n").at(-1)!) as FleetSummary;

describe("vap fleet", () => {
  it("an upgrade storm: 12 APs of two classes join, download within the controller's limit of 3 at once, reload and rejoin; /metrics says so", async () => {
    const { address, c } = await controller("--bundle", bundle, "--version", "17.12.1.5", "--window", "8", "--max-downloads", "3");
    const fleet = spawnVap(["fleet", "--controller", address, "--aps", "12", "--classes", "ap1g8,ap1g7", "--pki", pki, "--image-trust", join(keys, "image-ca.pem"), "--workers", "2", "--ramp", "50/s", "--metrics", "127.0.0.1:0", "--until", "upgraded", "--hold", "4s", "--expect-max-downloads", "3", "--json"]);
    await fleet.until(/metrics on (http:\S+)/);
    const url = /metrics on (http:\S+)/.exec(fleet.out)![1]!;
    // While it holds, every AP is in Run on the new version: the metrics show it.
    await fleet.until(() => /^vap_aps\{state="Run"\} 12$/m.test(scrape(url)) && /^vap_joins_total 12$/m.test(scrape(url)), 60_000);
    const metrics = execFileSync("curl", ["-sf", url]).toString();
    expect(metrics).toMatch(/^vap_aps\{state="Run"\} 12$/m);
    expect(metrics).toMatch(new RegExp(`^vap_image_bytes_total\\{method="capwap"\\} ${12 * 262144}$`, "m"));
    expect(metrics).toMatch(/^vap_image_download_duration_seconds_count\{method="capwap",result="ok"\} 12$/m);
    // Each AP joined, downloaded in ImageData, reloaded and rejoined: two handshakes, one entry into Run.
    expect(metrics).toMatch(/^vap_joins_total 12$/m);
    expect(metrics).toMatch(/^vap_dtls_handshakes_total\{result="ok"\} 24$/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(execFileSync("curl", ["-sf", url.replace("/metrics", "/healthz")]).toString()).toBe("ok\n");

    expect((await fleet.exited).code).toBe(0);
    const s = summaryOf(fleet.out);
    expect(s).toMatchObject({ aps: 12, reached: true, inRun: 12, upgraded: 12, joins: 12, handshakes: { ok: 24, failed: 0 }, restarts: {}, hold: { restarts: 0 } });
    expect(s.downloads.bytesByMethod).toEqual({ capwap: 12 * 262144 });
    expect(s.downloads).toMatchObject({ count: 12, ok: 12, expectedMaxConcurrent: 3, limitRespected: true, failuresByReason: {} });
    expect(s.downloads.peakConcurrent).toBeGreaterThanOrEqual(1);
    expect(s.downloads.peakConcurrent).toBeLessThanOrEqual(3);
    expect(s.downloads.seconds.count).toBe(12);
    // The controller saw each AP in Run once, on the new version, and each leave with close_notify twice: at its reload and when the fleet stopped.
    await c.until((out) => out.split("DTLS peer closed the session (close_notify)").length - 1 === 24, 20_000);
    expect(c.out.split("is in Run").length - 1).toBe(12);
  });

  it("--storage flash: each AP's real partitions in --state DIR/apN, installed from --factory the first time, upgraded like a lab AP's", async () => {
    const factory = join(dir, "factory");
    expect((await vap("image", "bundle", "--version", "17.9.4.27", "--out", factory, "--keys", keys, "--classes", "ap1g8", "--size", "65536")).code).toBe(0);
    const { address } = await controller("--bundle", bundle, "--version", "17.12.1.5", "--window", "8");
    const state = join(dir, "fleet-state");
    const fleet = spawnVap(["fleet", "--controller", address, "--aps", "2", "--pki", pki, "--image-trust", join(keys, "image-ca.pem"), "--storage", "flash", "--state", state, "--factory", factory, "--workers", "1", "--metrics", "off", "--until", "upgraded", "--json"]);
    expect((await fleet.exited).code, fleet.out).toBe(0);
    expect(summaryOf(fleet.out)).toMatchObject({ upgraded: 2, downloads: { ok: 2 } });
    for (const ap of ["ap1", "ap2"]) {
      const shown = await vap("flash", "show", "--state", join(state, ap), "--class", "ap1g8", "--trust", join(keys, "image-ca.pem"));
      expect(shown.out).toMatch(/17\.12\.1\.5/);
      expect(shown.out).toMatch(/17\.9\.4\.27/);
    }
  });

  it("ends at --timeout with exit 1 and says what was not reached, when no controller answers", async () => {
    const address = await freeLoopbackAddress();
    const fleet = spawnVap(["fleet", "--controller", address, "--aps", "3", "--pki", pki, "--until", "run", "--timeout", "3s", "--metrics", "off", "--json"]);
    expect((await fleet.exited).code).toBe(1);
    expect(fleet.out).toContain("vap fleet: --until run not reached after 3 s");
    const s = summaryOf(fleet.out);
    expect(s).toMatchObject({ reached: false, inRun: 0 });
    expect(s.elapsedSeconds).toBeLessThan(10);
  });

  it("a crashed worker is restarted with its APs, and the restarts are counted by reason", async () => {
    const { address } = await controller();
    const fleet = spawnVap(["fleet", "--controller", address, "--aps", "6", "--pki", pki, "--workers", "2", "--ramp", "50/s", "--until", "run", "--timeout", "60s", "--metrics", "off", "--json"], { env: { VAP_FAILPOINTS: "fleet.worker-report#1" } });
    expect((await fleet.exited).code).toBe(0);
    expect(fleet.out).toMatch(/fleet worker 1 exited \(137\): restarting its 3 AP\(s\)/);
    expect(fleet.out).toMatch(/fleet worker 2 exited \(137\): restarting its 3 AP\(s\)/);
    expect(summaryOf(fleet.out)).toMatchObject({ reached: true, inRun: 6, restarts: { "worker crashed": 6 } });
  });

  it("without --until it runs until Ctrl-C, then stops every AP and exits 0; each AP from its own --source-addresses address", async () => {
    const { address, c } = await controller();
    const fleet = spawnVap(["fleet", "--controller", address, "--aps", "4", "--pki", pki, "--workers", "1", "--metrics", "off", "--source-addresses", "127.77.0.0/29"]);
    await c.until((out) => out.split("is in Run").length - 1 === 4, 30_000);
    expect(await fleet.interrupt()).toBe(0);
    expect(fleet.out).toMatch(/Fleet: 4 AP\(s\), 1 worker\(s\), [\d.]+ s; 4 in Run/);
    // Each AP from its own source address, as --source-addresses gave them out.
    for (let i = 1; i <= 4; i++) expect(c.out).toMatch(new RegExp(`AP AP0210\\.0000\\.000${i} \\(C9105AXI-B, 02:10:00:00:00:0${i}\\) joined from 127\\.77\\.0\\.${i}\\b`));
    await c.until((out) => out.split("DTLS peer closed the session (close_notify)").length - 1 === 4, 20_000);
  });

  it("on a terminal the live summary redraws in place (a pty from script(1))", async () => {
    const { address } = await controller();
    const command = [process.execPath, VAP_BIN, "fleet", "--controller", address, "--aps", "3", "--pki", pki, "--workers", "1", "--metrics", "off", "--until", "run", "--hold", "3s"].join(" ");
    const out = execFileSync("script", ["-qfec", command, "/dev/null"], { timeout: 60_000 }).toString();
    const frames = out.split("vap fleet: 3 AP(s)").length - 1;
    expect(frames, out).toBeGreaterThanOrEqual(3);
    // Every frame after the first moves the cursor up over the previous one (4 lines) and clears below.
    expect(out.split("\x1b[4F\x1b[J").length - 1).toBe(frames - 1);
    expect(out).toContain("Run 3");
    expect(out).toMatch(/All 3 in Run after/);
  });

  it("README's fleet section, typed in an empty folder (30 APs, a 3 s hold, a free address and metrics port for the test's sake)", async () => {
    const lines = readmeCommands("Load-test a controller with a fleet");
    expect(lines).toEqual([
      "npx vap pki init pki",
      "npx vap controller --pki pki --address 127.0.0.2",
      "npx vap fleet --controller 127.0.0.2 --aps 10000 --pki pki --until run --hold 10m",
      "curl -s localhost:9464/metrics",
    ]);
    const cwd = tempDir("fleet-readme");
    const address = await freeLoopbackAddress();
    const argv = (line: string) => line.split(/\s+/).slice(2).map((a) => (a === "127.0.0.2" ? address : a === "10000" ? "30" : a === "10m" ? "3s" : a));
    expect((await spawnVap(argv(lines[0]!), { cwd }).exited).code).toBe(0);
    const c = spawnVap([...argv(lines[1]!), "--control-socket", join(cwd, "controller.sock")], { cwd });
    await c.until("Operator commands on");
    const fleet = spawnVap([...argv(lines[2]!), "--metrics", "127.0.0.1:0"], { cwd });
    await fleet.until(/metrics on (http:\S+)/);
    const url = /metrics on (http:\S+)/.exec(fleet.out)![1]!;
    await fleet.until(() => /^vap_aps\{state="Run"\} 30$/m.test(scrape(url)), 60_000);
    expect((await fleet.exited).code).toBe(0);
    expect(fleet.out).toMatch(/All 30 in Run after [\d.]+ s/);
    expect(fleet.out).toMatch(/Held 3 s: 0 restart\(s\)/);
    rmSync(cwd, { recursive: true, force: true });
  });

  it("refuses a bad command line or config with one line and exit 2", async () => {
    const missing = await vap("fleet", "--controller", "127.0.0.1", "--aps", "3", "--pki", join(dir, "nowhere"), "--metrics", "off");
    expect(missing.code).toBe(2);
    expect(missing.err.trim().split("\n")).toHaveLength(1);
    expect(missing.err).toContain("nowhere");
    const bad = await vap("fleet", "--controller", "127.0.0.1", "--aps", "3", "--pki", pki, "--ramp", "fast");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--ramp");
    // A metrics port the operator names and cannot have is a config error, before any AP starts.
    const taken = spawnVap(["fleet", "--controller", "127.0.0.1", "--aps", "1", "--pki", pki, "--metrics", "127.0.0.1:0", "--workers", "1"]);
    await taken.until(/metrics on http:\/\/127\.0\.0\.1:(\d+)/);
    const port = /metrics on http:\/\/127\.0\.0\.1:(\d+)/.exec(taken.out)![1]!;
    const clash = await vap("fleet", "--controller", "127.0.0.1", "--aps", "1", "--pki", pki, "--metrics", `127.0.0.1:${port}`);
    expect(clash.code).toBe(2);
    expect(clash.err).toMatch(new RegExp(`--metrics 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  });
});
