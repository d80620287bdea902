import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { requirePeer } from "../support/peers.js";
import { Cleanup, proxyTo, socat } from "./support.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A socat whose TCP listener hands each connection's stream to `command` (one connection, then socat exits). */
async function socatServer(command: string) {
  const peer = await socat(["TCP-LISTEN:0,bind=127.0.0.1,reuseaddr", `SYSTEM:${command}`]);
  return cleanup.add(() => peer.stop(), peer);
}

interface Exchange {
  data: Buffer;
  /** ms from connect to the first byte back, and to the end of the reply stream. */
  firstByteMs: number;
  endMs: number;
  error?: NodeJS.ErrnoException;
}

/** Connect, write `payload`, half-close, and collect everything until the peer ends or resets. */
function exchange(port: number, payload: Buffer): Promise<Exchange> {
  return new Promise((resolve) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    let firstByteMs = NaN;
    const s = connect(port, "127.0.0.1", () => s.end(payload));
    s.on("data", (c: Buffer) => {
      if (chunks.length === 0) firstByteMs = performance.now() - started;
      chunks.push(c);
    });
    const done = (error?: NodeJS.ErrnoException) => resolve({ data: Buffer.concat(chunks), firstByteMs, endMs: performance.now() - started, ...(error ? { error } : {}) });
    s.on("end", () => done());
    s.on("error", done);
  });
}

/** A Node TCP server whose connections are handed to `onSocket` (for resets, which socat cannot send). */
async function nodeServer(onSocket: (s: Socket) => void): Promise<number> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return cleanup.add(() => new Promise<void>((resolve) => server.close(() => resolve())), (server.address() as { port: number }).port);
}

describe("TCP relay", () => {
  it("carries bytes intact and in order both ways, with the delay, and relays the half-close (socat echo)", async () => {
    const echo = await socatServer("cat");
    // Loss, duplication, reordering and jitter are for datagrams: a byte stream gets the delay only.
    const proxy = await proxyTo(cleanup, [{ protocol: "tcp", port: echo.port }], { delayMs: 30, jitterMs: 20, loss: 0.3, duplicate: 0.3, reorder: 0.3 });
    const s = connect(proxy.relays[0]!.listen.port, "127.0.0.1").setNoDelay(true);
    const received: Buffer[] = [];
    let length = 0;
    s.on("data", (c: Buffer) => {
      received.push(c);
      length += c.length;
    });
    const ended = new Promise<void>((resolve, reject) => {
      s.on("end", resolve);
      s.on("error", reject);
    });
    // Line by line first: the first wakes socat's `cat` (its start-up time is not the link's), the others time the round trip.
    const rtts: number[] = [];
    for (let i = 0; i < 8; i++) {
      const sent = performance.now();
      s.write(`line ${i}\n`);
      await expect.poll(() => length, { interval: 1 }).toBe(7 * (i + 1));
      rtts.push(performance.now() - sent);
    }
    const timed = rtts.slice(1).sort((a, b) => a - b);
    expect(timed[0]).toBeGreaterThanOrEqual(60 - 1);
    expect(Math.abs(timed[3]! - 60)).toBeLessThanOrEqual(10);
    const payload = randomBytes(1 << 20);
    s.end(payload);
    await ended;
    const all = Buffer.concat(received);
    expect(all.subarray(0, 56).toString()).toBe(Array.from({ length: 8 }, (_, i) => `line ${i}\n`).join(""));
    expect(all.subarray(56).equals(payload)).toBe(true);
    const [stats] = proxy.stats();
    expect([stats!.toServer.bytesIn, stats!.toServer.bytesOut, stats!.toClient.bytesOut]).toEqual(Array(3).fill(56 + (1 << 20)));
  });

  it("caps throughput at the rate (socat counting bytes with wc)", async () => {
    const counter = await socatServer("wc -c");
    // 8 Mbit/s is 1 MB/s: 500 kB take 500 ms, plus a round trip of 2 × 10 ms.
    const proxy = await proxyTo(cleanup, [{ protocol: "tcp", port: counter.port }], { delayMs: 10, rateBps: 8e6 });
    const r = await exchange(proxy.relays[0]!.listen.port, randomBytes(500_000));
    expect(r.data.toString().trim()).toBe("500000");
    expect(r.endMs).toBeGreaterThanOrEqual(500 * 0.95);
    expect(r.endMs).toBeLessThan(520 + 250);
  });

  it("paces an HTTP download at the rate (curl against a Node HTTP server)", async () => {
    const body = randomBytes(300_000);
    const server = createHttpServer((_req, res) => res.end(body));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanup.add(() => new Promise<void>((resolve) => server.close(() => resolve())), null);
    const proxy = await proxyTo(cleanup, [{ protocol: "tcp", port: (server.address() as { port: number }).port }], { delayMs: 5, rateBps: 4e6 });
    const out = await new Promise<string>((resolve, reject) =>
      execFile(requirePeer("curl"), ["-s", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}", `http://127.0.0.1:${proxy.relays[0]!.listen.port}/`], (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    const [size, bytesPerSecond] = out.split(" ").map(Number);
    expect(size).toBe(300_000);
    // 4 Mbit/s is 500 kB/s; curl's figure includes the request round trip, so it can only be lower.
    expect(bytesPerSecond).toBeLessThanOrEqual(500_000 * 1.02);
    expect(bytesPerSecond).toBeGreaterThan(500_000 * 0.6);
  });

  it("resets the client when the server resets", async () => {
    const port = await nodeServer((s) => s.once("data", () => s.resetAndDestroy()));
    const proxy = await proxyTo(cleanup, [{ protocol: "tcp", port }], { delayMs: 10 });
    const r = await exchange(proxy.relays[0]!.listen.port, Buffer.from("hello"));
    expect(r.error?.code).toBe("ECONNRESET");
  });

  it("resets the server when the client resets", async () => {
    let saw: (what: string) => void;
    const serverSaw = new Promise<string>((resolve) => (saw = resolve));
    const port = await nodeServer((s) => {
      s.on("error", (e: NodeJS.ErrnoException) => saw(e.code ?? "error"));
      s.on("end", () => saw("end"));
    });
    const proxy = await proxyTo(cleanup, [{ protocol: "tcp", port }], { delayMs: 10 });
    const client = connect(proxy.relays[0]!.listen.port, "127.0.0.1");
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    client.write("partial request");
    await new Promise((resolve) => setTimeout(resolve, 40));
    client.resetAndDestroy();
    expect(await serverSaw).toBe("ECONNRESET");
  });

  it("resets the client when the server refuses the connection", async () => {
    // A port that was just free: nothing listens there now.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const proxy = await proxyTo(cleanup, [{ protocol: "tcp", port }], { delayMs: 10 });
    const r = await exchange(proxy.relays[0]!.listen.port, Buffer.from("hello"));
    expect(r.error?.code).toBe("ECONNRESET");
    await expect.poll(() => proxy.stats()[0]!.clients).toBe(0);
  });

  it("closes both sockets after both half-closes, and counts the connection", async () => {
    const echo = await socatServer("cat");
    const proxy = await proxyTo(cleanup, [{ protocol: "tcp", port: echo.port }], { delayMs: 5 });
    const r = await exchange(proxy.relays[0]!.listen.port, Buffer.from("one line\n"));
    expect(r.data.toString()).toBe("one line\n");
    await expect.poll(() => proxy.stats()[0]!.clients).toBe(0);
    await echo.exited();
  });
});
