/**
 * TFTP through `vap wan` (a `tftp:` pair: UDP that follows the server's
 * transfer id) at 100 ms RTT and 1 % loss each way: vap's client from real
 * servers, tftpd-hpa (no windowsize, one block per round trip) and atftpd
 * (windowsize 16), with seeds chosen so the link loses datagrams in both
 * directions (the retransmissions are exercised, not just hoped for); and
 * the tftp-hpa and atftp clients from `vap tftp serve`. Files are small so
 * each case takes seconds.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { fetchTftp, startTftpServer } from "../../../agent/transfer/index.js";
import { startWanProxy, type WanProxy } from "../../../lab/wan/index.js";
import { tempDir } from "../../support/temp.js";
import { content, RecordingSink, runClient, servedDir, sha256, startAtftpd, startTftpdHpa } from "./support.js";

const FILES = { "ap1g8-small": content(60_000, 11), "ap1g8-windowed": content(300_000, 12), ap3g3: content(15_000, 13) };
const WAN = { delayMs: 50, loss: 0.01 };

let dir: string;
const opened: { close(): Promise<void> | void }[] = [];
beforeAll(() => {
  dir = servedDir(FILES);
});
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function throughWan(server: { port: number; stop(): Promise<void> }, seed: number): Promise<WanProxy> {
  opened.push({ close: () => server.stop() });
  const proxy = await startWanProxy({
    relays: [{ protocol: "tftp", listen: { address: "127.0.0.1", port: 0 }, to: { address: "127.0.0.1", port: server.port } }],
    impairment: WAN,
    seed,
  });
  opened.push(proxy);
  return proxy;
}

describe("vap's TFTP client through vap wan (100 ms RTT, 1% loss)", () => {
  it.each([
    ["tftpd-hpa", "ap1g8-small", () => startTftpdHpa(dir), 1, 3],
    ["atftpd", "ap1g8-windowed", () => startAtftpd(dir), 16, 39],
  ] as const)("from %s: %s arrives byte-exact, over lost datagrams both ways", async (_server, name, start, window, seed) => {
    const proxy = await throughWan(await start(), seed);
    const sink = new RecordingSink();
    const result = await fetchTftp({ host: "127.0.0.1", port: proxy.relays[0]!.listen.port, path: name }, sink);
    expect(result.options.windowSize).toBe(window);
    expect(result.bytes).toBe(FILES[name].length);
    expect(sink.sha256).toBe(sha256(FILES[name]));
    const [stats] = proxy.stats();
    expect(stats!.toServer.dropped).toBeGreaterThan(0);
    expect(stats!.toClient.dropped).toBeGreaterThan(0);
  }, 60_000);
});

describe("peer clients from vap tftp serve through vap wan (100 ms RTT, 1% loss)", () => {
  it.each([
    ["tftp-hpa", (port: string, local: string) => runClient("tftp", ["-m", "binary", "127.0.0.1", port, "-c", "get", "ap3g3", local])],
    ["atftp", (port: string, local: string) => runClient("atftp", ["--option", "blksize 1468", "--option", "windowsize 16", "-g", "-r", "ap3g3", "-l", local, "127.0.0.1", port])],
  ] as const)("%s fetches byte-exact", async (_client, get) => {
    const server = await startTftpServer({ root: dir, port: 0 });
    const proxy = await throughWan({ port: server.local.port, stop: () => server.close() }, 5);
    const local = join(tempDir("tftp-wan-got"), "ap3g3");
    const run = await get(String(proxy.relays[0]!.listen.port), local);
    expect(run).toEqual({ code: 0, output: expect.any(String) });
    expect(sha256(readFileSync(local))).toBe(sha256(FILES.ap3g3));
  }, 60_000);
});
