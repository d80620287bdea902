/**
 * `vap wan --link` / startWanLink: two network namespaces of the test's own
 * (random names, a random /30 in 10.200.0.0/16), joined by the layer-3 link,
 * and real programs in them: ping, curl and `vap fetch` from nginx, `vap
 * fetch tftp://` from `vap tftp serve`. TCP crosses at 100 ms RTT and 1 %
 * loss byte-exact while the sender's own stack retransmits what the link
 * dropped. Every namespace and device is gone after each test.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadAddon, spawnGrouped } from "../../agent/core/index.js";
import { startWanLink, type WanLink } from "../../lab/wan/index.js";
import { startVap } from "../support/cli.js";
import { freeUdpPort } from "../support/loopback.js";
import { inNamespace, listeningIn, namespacePair, namespaces, type NamespacePair, tcpRetransmissions } from "../support/netns.js";
import { tempDir } from "../support/temp.js";
import { startNginx } from "../transfer/http/support.js";
import { content, sha256 } from "../transfer/tftp/support.js";
import { Cleanup, sleep } from "./support.js";

const execFileAsync = promisify(execFile);

const VAP = join(import.meta.dirname, "../../dist/cli/vap.js");
const DELAY_MS = 50;

const cleanup = new Cleanup();
const pairs: NamespacePair[] = [];
afterEach(async () => {
  await cleanup.run();
  for (const p of pairs.splice(0)) {
    p.remove();
    expect(namespaces()).not.toContain(p.a);
    expect(namespaces()).not.toContain(p.b);
  }
});

function pair(): NamespacePair {
  const p = namespacePair();
  pairs.push(p);
  return p;
}

async function link(p: NamespacePair, loss: number, seed: number): Promise<WanLink> {
  const l = await startWanLink({ a: { netns: p.a, address: p.cidrA }, b: { netns: p.b, address: p.cidrB }, impairment: { delayMs: DELAY_MS, loss }, seed });
  return cleanup.add(() => l.close(), l);
}

/** Names of the link devices in `ns` (or this namespace). */
async function linkDevices(ns?: string): Promise<string[]> {
  const { stdout } = await execFileAsync("ip", [...(ns === undefined ? [] : ["-n", ns]), "-o", "link"]);
  return [...stdout.matchAll(/\d+: (vapwan\w+)/g)].map((m) => m[1]!);
}

describe("vap wan --link", () => {
  it("joins two namespaces: ping pays 2 × the delay, and the devices go when it stops", async () => {
    const p = pair();
    const wan = startVap("wan", "--link", `${p.a}:${p.cidrA},${p.b}:${p.cidrB}`, "--delay", `${DELAY_MS}ms`, "--seed", "3");
    cleanup.add(() => wan.stop(), null);
    await wan.until(`in namespace ${p.b}`);
    expect(wan.out).toMatch(new RegExp(`^wan: seed 3, delay ${DELAY_MS}ms\\nwan: a (vapwan\\w+) ${p.cidrA} in namespace ${p.a}\\nwan: b (vapwan\\w+) ${p.cidrB} in namespace ${p.b}\\n$`));
    const [deviceA] = await linkDevices(p.a);
    expect(deviceA).toMatch(/^vapwan\w+a$/);
    const ping = await inNamespace(p.a, "ping", ["-c", "5", "-i", "0.2", "-n", p.addressB]);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    const [min, avg] = /= ([\d.]+)\/([\d.]+)\//.exec(ping.stdout)!.slice(1).map(Number) as [number, number];
    // The scheduler may run a delivery up to half a millisecond early each way; never more.
    expect(min).toBeGreaterThanOrEqual(2 * DELAY_MS - 1);
    expect(avg).toBeLessThan(2 * DELAY_MS + 50);
    wan.stop();
    expect(await wan.done).toBe(0);
    expect(wan.out).toMatch(/a -> b: in \d+ .*\n {2}b -> a: in \d+/);
    expect(await linkDevices(p.a)).toEqual([]);
    expect(await linkDevices(p.b)).toEqual([]);
  }, 30_000);
});

describe("TCP across the link at 100 ms RTT and 1% loss", () => {
  const IMAGE = content(2_000_000, 41);

  async function nginxBehindLink(seed: number) {
    const p = pair();
    const l = await link(p, 0.01, seed);
    const nginx = await startNginx({ "ap1g8.bin": IMAGE }, { netns: p.b, address: p.addressB });
    cleanup.add(() => nginx.stop(), null);
    const out = tempDir("tun-tcp");
    return { p, l, nginx, url: `https://${p.addressB}:${nginx.httpsPort}/ap1g8.bin`, out };
  }

  it("curl in one namespace gets nginx's file from the other byte-exact, and nginx's TCP retransmitted what the link dropped", async () => {
    const { p, l, nginx, url, out } = await nginxBehindLink(11);
    expect(await tcpRetransmissions(p.b)).toBe(0);
    const file = join(out, "got.bin");
    const curl = await inNamespace(p.a, "curl", ["--silent", "--show-error", "--fail", "--cacert", nginx.caFile, "-o", file, url]);
    expect(curl.code, curl.stderr).toBe(0);
    expect(sha256(readFileSync(file))).toBe(sha256(IMAGE));
    expect(l.stats().bToA.dropped).toBeGreaterThan(0);
    expect(await tcpRetransmissions(p.b)).toBeGreaterThan(0);
  }, 60_000);

  it("vap fetch https:// in one namespace does the same", async () => {
    const { p, l, nginx, url, out } = await nginxBehindLink(12);
    const file = join(out, "got.bin");
    const fetch = await inNamespace(p.a, process.execPath, [VAP, "fetch", url, file, "--ca", nginx.caFile, "--sha256", sha256(IMAGE)]);
    expect(fetch.code, fetch.stderr).toBe(0);
    expect(fetch.stdout).toContain(`${IMAGE.length} bytes`);
    expect(sha256(readFileSync(file))).toBe(sha256(IMAGE));
    expect(l.stats().bToA.dropped).toBeGreaterThan(0);
    expect(await tcpRetransmissions(p.b)).toBeGreaterThan(0);
  }, 60_000);
});

describe("TFTP across the link", () => {
  it("vap fetch tftp:// gets a file from vap tftp serve, its new transfer port and all, through lost datagrams", async () => {
    const p = pair();
    const l = await link(p, 0.05, 21);
    const dir = tempDir("tun-tftp");
    const image = content(150_000, 42);
    writeFileSync(join(dir, "ap3g3.bin"), image);
    const port = await freeUdpPort();
    const server = spawnGrouped("ip", ["netns", "exec", p.b, process.execPath, VAP, "tftp", "serve", dir, "--address", p.addressB, "--port", String(port)]);
    cleanup.add(() => server.stop(), null);
    const started = Date.now();
    while (!(await listeningIn(p.b, "udp", port)) && server.process.exitCode === null && Date.now() - started < 10_000) await sleep(20);
    expect(await listeningIn(p.b, "udp", port), server.stderr()).toBe(true);
    const file = join(tempDir("tun-tftp-got"), "ap3g3.bin");
    const fetch = await inNamespace(p.a, process.execPath, [VAP, "fetch", `tftp://${p.addressB}:${port}/ap3g3.bin`, file]);
    expect(fetch.code, fetch.stderr).toBe(0);
    expect(sha256(readFileSync(file))).toBe(sha256(image));
    const s = l.stats();
    expect(s.aToB.dropped + s.bToA.dropped).toBeGreaterThan(0);
  }, 60_000);
});

describe("bad input", () => {
  it("a namespace that does not exist: one line, and no device is made", async () => {
    const p = pair();
    const missing = `vapt-missing-${p.a.slice(5)}`;
    const failed = startWanLink({ a: { netns: missing, address: p.cidrA }, b: { netns: p.b, address: p.cidrB }, seed: 1 });
    await expect(failed).rejects.toThrow(ConfigError);
    await expect(failed).rejects.toThrow(new RegExp(`^link end a: network namespace "${missing}" does not exist \\(see ip netns list\\)$`));
    // Checked before any device is made (this namespace's devices are not compared: a parallel test file may add one).
    expect(await linkDevices(p.b)).toEqual([]);
  });

  it("ip refusing a step after the devices were made: one line naming the command, and both devices are gone", async () => {
    const p = pair();
    // A file where `ip netns` keeps namespaces that is no namespace: moving a device there fails.
    const fake = `vapt-fake-${p.a.slice(5)}`;
    writeFileSync(`/run/netns/${fake}`, "");
    cleanup.add(() => rmSync(`/run/netns/${fake}`, { force: true }), null);
    const failed = startWanLink({ a: { netns: p.a, address: p.cidrA }, b: { netns: fake, address: p.cidrB }, seed: 1 });
    const error = await failed.then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    const made = new RegExp(`^ip link set (vapwan\\w+)b netns ${fake}: .+$`).exec(error?.message ?? "");
    expect(made, error?.message).not.toBeNull();
    // Device a was moved into its namespace and addressed before b failed; both are gone.
    const ours = (names: string[]) => names.filter((n) => n.startsWith(made![1]!));
    expect(ours(await linkDevices())).toEqual([]);
    expect(ours(await linkDevices(p.a))).toEqual([]);
  });

  it("the TUN addon's own refusals are one line naming the call and the errno", () => {
    const { Tun } = loadAddon<{ Tun: new (name: string, onPackets: () => void) => unknown }>("vap_tun");
    // lo exists and is no TUN device: the kernel refuses to attach to it.
    expect(() => new Tun("lo", () => {})).toThrow(/^TUNSETIFF lo: E[A-Z]+ \([^\n]+\)$/);
    expect(() => new Tun("x".repeat(16), () => {})).toThrow("Tun: a device name is 1 to 15 characters");
  });

  it("addresses that are not ADDRESS/PREFIX, or not a pair: one line, before anything is made", async () => {
    const p = pair();
    await expect(startWanLink({ a: { netns: p.a, address: "10.200.0.1" }, b: { netns: p.b, address: p.cidrB }, seed: 1 })).rejects.toThrow(
      'link end a: expected ADDRESS/PREFIX like 10.77.0.1/30, got "10.200.0.1"',
    );
    await expect(startWanLink({ a: { netns: p.a, address: p.cidrA }, b: { netns: p.b, address: p.cidrA }, seed: 1 })).rejects.toThrow(
      "link ends: expected two different addresses of one family",
    );
    expect(await linkDevices(p.a)).toEqual([]);
  });
});
