import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { requirePeer } from "../support/peers.js";
import { Cleanup, numbered, proxyTo, type Received, sendNumbered, seqOf, sleep, UdpPeer, waitUntil } from "./support.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const peer = async (make: () => Promise<UdpPeer> = () => UdpPeer.open()) => {
  const p = await make();
  return cleanup.add(() => p.close(), p);
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** How many times each sequence number arrived. */
function counts(received: Received[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of received) m.set(seqOf(r), (m.get(seqOf(r)) ?? 0) + 1);
  return m;
}

/** Sequence numbers that arrived after a higher one had. */
function overtaken(received: Received[]): number[] {
  let max = -1;
  const late: number[] = [];
  for (const r of received) {
    const s = seqOf(r);
    if (s < max) late.push(s);
    max = Math.max(max, s);
  }
  return late;
}

describe("UDP relay through an echo server", () => {
  it("takes 2 × delay per round trip", async () => {
    const echo = await peer(UdpPeer.echo);
    const proxy = await proxyTo(cleanup, [{ port: echo.port }], { delayMs: 40 });
    const client = await peer();
    const sent: number[] = [];
    for (let i = 0; i < 30; i++) {
      sent.push(performance.now());
      client.send(numbered(i), proxy.relays[0]!.listen.port);
      await sleep(7);
    }
    expect(await waitUntil(() => client.received.length === 30, 2_000)).toBe(true);
    const rtts = client.received.map((r) => r.at - sent[seqOf(r)]!);
    expect(Math.abs(median(rtts) - 80)).toBeLessThanOrEqual(10);
    // Never early by more than the timer slack (0.5 ms per direction).
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(78);
  });

  it("delivers every datagram exactly once both ways with no impairment, and counts them", async () => {
    const echo = await peer(UdpPeer.echo);
    const proxy = await proxyTo(cleanup, [{ port: echo.port }]);
    const client = await peer();
    // A window of 50 at a time: nothing overflows a socket buffer on the way, so any loss would be the proxy's.
    for (let i = 0; i < 2_000; i++) {
      client.send(numbered(i, 1400), proxy.relays[0]!.listen.port);
      if (i % 50 === 49) expect(await waitUntil(() => client.received.length === i + 1, 2_000)).toBe(true);
    }
    const c = counts(client.received);
    expect(c.size).toBe(2_000);
    expect([...c.values()].every((n) => n === 1)).toBe(true);
    const [stats] = proxy.stats();
    for (const dir of [stats!.toServer, stats!.toClient]) {
      expect(dir).toEqual({ packetsIn: 2_000, bytesIn: 2_800_000, packetsOut: 2_000, bytesOut: 2_800_000, dropped: 0, queueDropped: 0, duplicated: 0, reordered: 0 });
    }
  });

  it("gives each client its own upstream socket, and each reply reaches the client it belongs to", async () => {
    const echo = await peer(UdpPeer.echo);
    const proxy = await proxyTo(cleanup, [{ port: echo.port }], { delayMs: 5 });
    const port = proxy.relays[0]!.listen.port;
    const a = await peer();
    const b = await peer(() => UdpPeer.open("127.0.0.2"));
    for (let i = 0; i < 20; i++) {
      a.send(Buffer.from(`a${i}`), port);
      b.send(Buffer.from(`b${i}`), port);
    }
    expect(await waitUntil(() => a.received.length === 20 && b.received.length === 20)).toBe(true);
    expect(a.received.map((r) => r.data.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`));
    expect(b.received.map((r) => r.data.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`));
    // Replies come from the proxy's listening socket; the server saw two sources, neither of them a client.
    expect(new Set([...a.received, ...b.received].map((r) => r.from))).toEqual(new Set([`127.0.0.1:${port}`]));
    const sources = new Set(echo.received.map((r) => r.from));
    expect(sources.size).toBe(2);
    expect(sources.has(a.endpoint) || sources.has(`127.0.0.2:${b.port}`)).toBe(false);
    expect(proxy.stats()[0]!.clients).toBe(2);
  });

  it("forgets a client mapping after the idle timeout; the next datagram gets a new one", async () => {
    const echo = await peer(UdpPeer.echo);
    const proxy = await proxyTo(cleanup, [{ port: echo.port }], {}, { idleTimeoutMs: 100 });
    const client = await peer();
    client.send(numbered(0), proxy.relays[0]!.listen.port);
    await waitUntil(() => client.received.length === 1);
    expect(proxy.stats()[0]!.clients).toBe(1);
    expect(await waitUntil(() => proxy.stats()[0]!.clients === 0, 2_000)).toBe(true);
    client.send(numbered(1), proxy.relays[0]!.listen.port);
    await waitUntil(() => client.received.length === 2);
    expect(echo.received[1]!.from).not.toBe(echo.received[0]!.from);
  });

  it("relays for socat as the client (a real peer)", async () => {
    const echo = await peer(UdpPeer.echo);
    const proxy = await proxyTo(cleanup, [{ port: echo.port }], { delayMs: 20 });
    const proc = spawn(requirePeer("socat"), ["-t", "0.5", "-", `UDP4:127.0.0.1:${proxy.relays[0]!.listen.port}`]);
    let out = "";
    proc.stdout.on("data", (c: Buffer) => (out += c.toString()));
    proc.stdin.end("hello through the WAN\n");
    const code = await new Promise<number | null>((resolve) => proc.once("exit", resolve));
    expect({ code, out }).toEqual({ code: 0, out: "hello through the WAN\n" });
  });
});

describe("UDP impairments, measured at a sink", () => {
  /** Send `count` numbered datagrams one way through a fresh proxy; the sink's view once traffic settles. */
  async function oneWay(impairment: Parameters<typeof proxyTo>[2], count: number, options: { seed?: number; burst?: number; size?: number } = {}) {
    const sink = await peer();
    const proxy = await proxyTo(cleanup, [{ port: sink.port }], impairment, { seed: options.seed ?? 7 });
    const client = await peer();
    const stats = () => proxy.stats()[0]!.toServer;
    // The proxy read all that was sent, and the sink all the proxy sent so far.
    const settled = (sent: number) => stats().packetsIn === sent && sink.received.length === stats().packetsOut;
    await sendNumbered(client, proxy.relays[0]!.listen.port, count, { ...options, settled });
    expect(await waitUntil(() => stats().packetsOut === stats().packetsIn - stats().dropped + stats().duplicated && settled(count))).toBe(true);
    return { received: sink.received, stats: stats() };
  }

  it("loses 5% of datagrams, and the same seed loses the same ones", async () => {
    const n = 2_000;
    const first = await oneWay({ loss: 0.05 }, n, { seed: 1234 });
    const lost = (r: Received[]) => {
      const got = new Set(r.map(seqOf));
      return Array.from({ length: n }, (_, i) => i).filter((i) => !got.has(i));
    };
    const lostFirst = lost(first.received);
    // Binomial(2000, 0.05): mean 100, sd 9.7.
    expect(lostFirst.length).toBeGreaterThan(60);
    expect(lostFirst.length).toBeLessThan(140);
    expect(first.stats.dropped).toBe(lostFirst.length);
    const again = await oneWay({ loss: 0.05 }, n, { seed: 1234 });
    expect(lost(again.received)).toEqual(lostFirst);
    const other = await oneWay({ loss: 0.05 }, n, { seed: 4321 });
    expect(lost(other.received)).not.toEqual(lostFirst);
  });

  it("duplicates datagrams: the copy arrives right behind the original", async () => {
    const { received, stats } = await oneWay({ duplicate: 0.1 }, 1_000);
    const c = counts(received);
    expect(c.size).toBe(1_000);
    const copies = [...c.values()].filter((n) => n === 2).length;
    expect(copies).toBe(stats.duplicated);
    // Binomial(1000, 0.1): mean 100, sd 9.5.
    expect(copies).toBeGreaterThan(60);
    expect(copies).toBeLessThan(140);
    expect(overtaken(received)).toEqual([]);
  });

  it("keeps order under jitter when reordering is off", async () => {
    const { received } = await oneWay({ delayMs: 10, jitterMs: 8 }, 1_000, { burst: 20 });
    expect(received).toHaveLength(1_000);
    expect(overtaken(received)).toEqual([]);
  });

  it("reorders only when asked: a held datagram is overtaken by the ones behind it", async () => {
    const { received, stats } = await oneWay({ delayMs: 10, jitterMs: 2, reorder: 0.05 }, 1_000, { burst: 20 });
    expect(received).toHaveLength(1_000);
    const late = overtaken(received);
    // Binomial(1000, 0.05): mean 50, sd 6.9. Datagrams come in bursts of 20 well inside the 10 ms hold, so every held one is overtaken
    // except, perhaps, the last of a burst.
    expect(stats.reordered).toBeGreaterThan(25);
    expect(stats.reordered).toBeLessThan(80);
    expect(late.length).toBeGreaterThan(stats.reordered / 2);
    expect(late.length).toBeLessThanOrEqual(stats.reordered);
  });
});

describe("UDP rate limit", () => {
  it("spreads a burst of N bytes over N × 8 / rate", async () => {
    const sink = await peer();
    // 100 × 1000 bytes at 2 Mbit/s: 400 ms of serialization.
    const proxy = await proxyTo(cleanup, [{ port: sink.port }], { rateBps: 2e6 });
    const client = await peer();
    const started = performance.now();
    await sendNumbered(client, proxy.relays[0]!.listen.port, 100, { size: 1000, burst: 20 });
    expect(await waitUntil(() => sink.received.length === 100, 3_000)).toBe(true);
    const elapsed = sink.received.at(-1)!.at - started;
    expect(elapsed).toBeGreaterThanOrEqual(400 * 0.95);
    expect(elapsed).toBeLessThan(400 + 100);
  });

  it("shares the link between relays (CAPWAP control and data on one WAN link)", async () => {
    const control = await peer();
    const data = await peer();
    const proxy = await proxyTo(cleanup, [{ port: control.port }, { port: data.port }], { rateBps: 2e6 });
    const client = await peer();
    const started = performance.now();
    // 50 kB to each relay: 100 kB on one 2 Mbit/s link is 400 ms, not 200.
    for (let i = 0; i < 50; i++) {
      client.send(numbered(i, 1000), proxy.relays[0]!.listen.port);
      client.send(numbered(i, 1000), proxy.relays[1]!.listen.port);
      if (i % 10 === 9) await sleep(0);
    }
    expect(await waitUntil(() => control.received.length === 50 && data.received.length === 50, 3_000)).toBe(true);
    const elapsed = Math.max(control.received.at(-1)!.at, data.received.at(-1)!.at) - started;
    expect(elapsed).toBeGreaterThanOrEqual(400 * 0.95);
    expect(elapsed).toBeLessThan(400 + 100);
    expect(proxy.stats().map((r) => r.toServer.bytesOut)).toEqual([50_000, 50_000]);
  });

  it("tail-drops what exceeds the queue bound", async () => {
    // 1 Mbit/s with a 100 ms queue: about 13 datagrams of 1000 bytes fit; 60 are sent at once.
    const sink = await peer();
    const proxy = await proxyTo(cleanup, [{ port: sink.port }], { rateBps: 1e6, queueMs: 100 });
    const client = await peer();
    await sendNumbered(client, proxy.relays[0]!.listen.port, 60, { size: 1000, burst: 60 });
    await sleep(300);
    const stats = proxy.stats()[0]!.toServer;
    expect(stats.queueDropped).toBeGreaterThan(30);
    expect(sink.received.length).toBe(60 - stats.queueDropped);
  });
});

describe("tftp: pairs follow the server's transfer id", () => {
  const rrq = (file: string) => Buffer.from(`\0\x01${file}\0octet\0`, "latin1");
  const data = (block: number) => Buffer.from([0, 3, 0, block, 0xab]);
  const ack = (block: number) => Buffer.from([0, 4, 0, block]);

  /** A server port, and two transfer ids it answers from; the client behind a relay `protocol`. */
  async function setup(protocol: "tftp" | "udp") {
    const [server, tid1, tid2, client] = [await peer(), await peer(), await peer(), await peer()];
    const proxy = await proxyTo(cleanup, [{ protocol, port: server.port }], { delayMs: 5 });
    const relayPort = proxy.relays[0]!.listen.port;
    client.send(rrq("ap1g8"), relayPort);
    expect(await waitUntil(() => server.received.length === 1)).toBe(true);
    const upstream = Number(server.received[0]!.from.split(":")[1]);
    return { server, tid1, tid2, client, relayPort, upstream };
  }

  it("sends the client's later datagrams to the port the first delivered reply came from, refuses other ports, and starts over on a new request", async () => {
    const { server, tid1, tid2, client, relayPort, upstream } = await setup("tftp");
    tid1.send(data(1), upstream);
    expect(await waitUntil(() => client.received.length === 1)).toBe(true);
    // The client sees the relay's port, as for any UDP pair.
    expect(client.received[0]!.from).toBe(`127.0.0.1:${relayPort}`);
    client.send(ack(1), relayPort);
    expect(await waitUntil(() => tid1.received.length === 1)).toBe(true);
    expect(tid1.received[0]!.data).toEqual(ack(1));

    // A second transfer the server started (for a retransmitted RRQ) is refused; the same RRQ again keeps the transfer.
    tid2.send(data(1), upstream);
    client.send(rrq("ap1g8"), relayPort);
    expect(await waitUntil(() => server.received.length === 2)).toBe(true);
    tid1.send(data(2), upstream);
    expect(await waitUntil(() => client.received.length === 2)).toBe(true);
    await sleep(30);
    expect(client.received.map((r) => r.data)).toEqual([data(1), data(2)]);
    client.send(ack(2), relayPort);
    expect(await waitUntil(() => tid1.received.length === 2)).toBe(true);

    // Another request is another transfer: its replies come from the new port, and the client follows it.
    client.send(rrq("ap3g3"), relayPort);
    expect(await waitUntil(() => server.received.length === 3)).toBe(true);
    tid2.send(data(1), upstream);
    expect(await waitUntil(() => client.received.length === 3)).toBe(true);
    client.send(ack(1), relayPort);
    expect(await waitUntil(() => tid2.received.length === 1)).toBe(true);
    expect(tid2.received[0]!.data).toEqual(ack(1));
    expect(tid1.received).toHaveLength(2);
  });

  it("a plain UDP pair keeps sending to the server's port (the contrast)", async () => {
    const { server, tid1, client, relayPort, upstream } = await setup("udp");
    tid1.send(data(1), upstream);
    expect(await waitUntil(() => client.received.length === 1)).toBe(true);
    client.send(ack(1), relayPort);
    expect(await waitUntil(() => server.received.length === 2)).toBe(true);
    expect(tid1.received).toHaveLength(0);
  });
});
