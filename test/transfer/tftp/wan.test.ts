/**
 * vap's TFTP client through `vap wan` (a `tftp:` pair: UDP that follows the
 * server's transfer id) at 100 ms RTT and 1 % loss each way, from real
 * servers: tftpd-hpa (no windowsize, one block per round trip) and atftpd
 * (windowsize 16). Files are small so each case takes seconds, and seeds are
 * chosen so the link loses datagrams in both directions of every case: the
 * retransmissions are exercised, not just hoped for.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { fetchTftp } from "../../../agent/transfer/index.js";
import { startWanProxy, type WanProxy } from "../../../lab/wan/index.js";
import { content, RecordingSink, type RunningServer, servedDir, sha256, startAtftpd, startTftpdHpa } from "./support.js";

const FILES = { "ap1g8-small": content(60_000, 11), "ap1g8-windowed": content(300_000, 12) };
const WAN = { delayMs: 50, loss: 0.01 };

let dir: string;
const opened: { close(): Promise<void> | void }[] = [];
beforeAll(() => {
  dir = servedDir(FILES);
});
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function throughWan(server: RunningServer, seed: number): Promise<WanProxy> {
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
