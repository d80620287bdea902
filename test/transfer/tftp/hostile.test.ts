/**
 * Requests a TFTP server on a shared segment must survive: names that try
 * to leave the directory, writes, garbage options and packets, strangers
 * on a transfer's port, and floods. Nothing outside the directory is ever
 * sent, the server stays up and its memory stays bounded.
 */
import { createSocket, type Socket } from "node:dgram";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../../agent/core/index.js";
import { startTftpServer, type TftpServer } from "../../../agent/transfer/index.js";
import { decodePacket, encodePacket, Opcode, type TftpPacket } from "../../../agent/transfer/tftp/packet.js";
import { mutate } from "../../fuzz/mutate.js";
import { content, runClient, servedDir, sha256, sleep } from "./support.js";

/** A bare UDP socket that sends what it is told and records every reply, decoded. */
class RawPeer {
  readonly replies: { packet: TftpPacket; port: number }[] = [];
  private constructor(readonly socket: Socket) {
    socket.on("message", (m, r) => this.replies.push({ packet: decodePacket(m), port: r.port }));
  }
  static async open(): Promise<RawPeer> {
    const s = createSocket("udp4");
    await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
    return new RawPeer(s);
  }
  send(bytes: Uint8Array, port: number): void {
    this.socket.send(bytes, port, "127.0.0.1");
  }
  request(filename: string, port: number, opcode: Opcode.ReadRequest | Opcode.WriteRequest = Opcode.ReadRequest, options = new Map<string, string>(), mode = "octet"): void {
    this.send(encodePacket({ opcode, filename, mode, options }), port);
  }
  async next(count = 1, ms = 3_000): Promise<void> {
    const until = performance.now() + ms;
    while (this.replies.length < count && performance.now() < until) await sleep(2);
  }
  close(): void {
    this.socket.close();
  }
}

const SECRET_NAME = "outside-secret";
let dir: string;
let server: TftpServer;
const peers: RawPeer[] = [];
const peer = async () => {
  const p = await RawPeer.open();
  peers.push(p);
  return p;
};

beforeAll(() => {
  const outside = servedDir({ [SECRET_NAME]: content(100) });
  dir = servedDir({ ap1g8: content(5000), big: content(2_000_000) });
  symlinkSync("/etc/passwd", join(dir, "passwd-link"));
  symlinkSync(outside, join(dir, "outside-dir"));
  mkdirSync(join(dir, "sub"));
  symlinkSync("../ap1g8", join(dir, "sub", "inside-link"));
});

afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await server?.close();
});

const errorOf = (p: RawPeer) => {
  const r = p.replies[0]?.packet;
  return r?.opcode === Opcode.Error ? `ERROR ${r.code}` : r ? `opcode ${r.opcode}` : "no reply";
};

describe("hostile requests to vap's TFTP server", () => {
  it.each([
    ["../etc/passwd", "ERROR 2"],
    ["/etc/passwd", "ERROR 2"],
    ["sub/../../etc/passwd", "ERROR 2"],
    ["..\\etc\\passwd", "ERROR 2"],
    ["passwd-link", "ERROR 2"],
    [`outside-dir/${SECRET_NAME}`, "ERROR 2"],
    [".", "ERROR 2"],
    ["sub", "ERROR 1"],
    ["no-such-file", "ERROR 1"],
  ])("RRQ %s is answered %s and nothing is sent", async (name, answer) => {
    server = await startTftpServer({ root: dir, port: 0 });
    const p = await peer();
    p.request(name, server.local.port);
    await p.next();
    await sleep(50);
    expect(p.replies.map((r) => errorOf({ replies: [r] } as RawPeer))).toEqual([answer]);
  });

  it("a symlink that stays inside the directory is served", async () => {
    server = await startTftpServer({ root: dir, port: 0 });
    const p = await peer();
    p.request("sub/inside-link", server.local.port);
    await p.next();
    expect(p.replies[0]!.packet.opcode).toBe(Opcode.Data);
  });

  it("the tftp-hpa client cannot fetch ../etc/passwd nor put a file", async () => {
    server = await startTftpServer({ root: dir, port: 0 });
    const port = String(server.local.port);
    const local = join(servedDir({}), "got");
    const traversal = await runClient("tftp", ["-m", "binary", "127.0.0.1", port, "-c", "get", "../etc/passwd", local]);
    expect(traversal.output).toMatch(/Error code 2: Access violation/);
    const put = await runClient("tftp", ["-m", "binary", "127.0.0.1", port, "-c", "put", join(dir, "ap1g8"), "new-file"]);
    expect(put.output).toMatch(/Error code 2: read-only server/);
  });

  it("WRQ gets ERROR 2; netascii and mail get ERROR 4", async () => {
    server = await startTftpServer({ root: dir, port: 0 });
    const [w, n, m] = [await peer(), await peer(), await peer()];
    w.request("ap1g8", server.local.port, Opcode.WriteRequest);
    n.request("ap1g8", server.local.port, Opcode.ReadRequest, new Map(), "netascii");
    m.request("ap1g8", server.local.port, Opcode.ReadRequest, new Map(), "mail");
    await Promise.all([w.next(), n.next(), m.next()]);
    expect([errorOf(w), errorOf(n), errorOf(m)]).toEqual(["ERROR 2", "ERROR 4", "ERROR 4"]);
  });

  it("garbage option values are ignored (no OACK, RFC 1350 defaults); a repeated option is refused with ERROR 8", async () => {
    server = await startTftpServer({ root: dir, port: 0 });
    const garbage = await peer();
    const options = new Map([["blksize", "abc"], ["windowsize", "0"], ["timeout", "999"], ["tsize", "-5"], ["x".repeat(300), "y".repeat(1000)]]);
    garbage.request("ap1g8", server.local.port, Opcode.ReadRequest, options);
    await garbage.next();
    const first = garbage.replies[0]!.packet;
    expect(first.opcode === Opcode.Data && first.block === 1 && first.data.length === 512).toBe(true);
    const twice = await peer();
    twice.send(Buffer.from("\0\x01ap1g8\0octet\0tsize\x000\0TSIZE\x000\0", "latin1"), server.local.port);
    await twice.next();
    expect(errorOf(twice)).toBe("ERROR 8");
  });

  it("2,000 malformed datagrams get ERRORs or silence; the server then serves a file as before", async () => {
    server = await startTftpServer({ root: dir, port: 0 });
    const random = seededRandom(11);
    const p = await peer();
    const valid = encodePacket({ opcode: Opcode.ReadRequest, filename: "ap1g8", mode: "octet", options: new Map([["blksize", "512"]]) });
    for (let i = 0; i < 2_000; i++) {
      p.send(i % 2 ? mutate(valid, [], random) : random.bytes(random.int(64)), server.local.port);
      if (i % 100 === 0) await sleep(1);
    }
    await sleep(300);
    // A mutation may still be a valid RRQ for ap1g8 (a transfer starts, fine); never for anything else.
    const served = p.replies.filter((r) => r.packet.opcode !== Opcode.Error);
    expect(served.every((r) => r.packet.opcode === Opcode.Data || r.packet.opcode === Opcode.OptionAck)).toBe(true);
    const run = await runClient("curl", ["-sS", "-o", "/dev/null", "-w", "%{size_download}", `tftp://127.0.0.1:${server.local.port}/ap1g8`]);
    expect(run.output).toBe("5000");
  });

  it("a stranger on a transfer's port gets ERROR 5 and the transfer completes untouched", async () => {
    server = await startTftpServer({ root: dir, port: 0 });
    const client = await peer();
    const stranger = await peer();
    client.request("ap1g8", server.local.port);
    const received: Uint8Array[] = [];
    for (let block = 1; ; block++) {
      await client.next(block);
      const { packet, port } = client.replies[block - 1]!;
      if (packet.opcode !== Opcode.Data) throw new Error(`expected DATA ${block}, got opcode ${packet.opcode}`);
      received.push(packet.data);
      if (block === 3) {
        // The stranger ACKs, and sends an ERROR (which must neither be answered nor end the transfer).
        stranger.send(encodePacket({ opcode: Opcode.Ack, block: 3 }), port);
        stranger.send(encodePacket({ opcode: Opcode.Error, code: 0, message: "go away" }), port);
        await stranger.next();
        expect(stranger.replies.map((r) => [errorOf({ replies: [r] } as RawPeer), r.port])).toEqual([["ERROR 5", port]]);
      }
      client.send(encodePacket({ opcode: Opcode.Ack, block }), port);
      if (packet.data.length < 512) break;
    }
    expect(sha256(Buffer.concat(received))).toBe(sha256(content(5000)));
  });

  it("--max-transfers 3: a fourth concurrent request is refused busy, and a slot frees when a transfer ends", async () => {
    server = await startTftpServer({ root: dir, port: 0, maxTransfers: 3 });
    const clients = [await peer(), await peer(), await peer(), await peer()];
    for (const c of clients.slice(0, 3)) c.request("big", server.local.port);
    await Promise.all(clients.slice(0, 3).map((c) => c.next()));
    clients[3]!.request("big", server.local.port);
    await clients[3]!.next();
    expect(clients.map((c) => (c.replies[0]?.packet.opcode === Opcode.Data ? "DATA" : errorOf(c)))).toEqual(["DATA", "DATA", "DATA", "ERROR 0"]);
    expect(server.activeTransfers).toBe(3);
    expect(server.peakTransfers).toBe(3);
    // The first client gives up on its transfer: its slot is free again.
    clients[0]!.send(encodePacket({ opcode: Opcode.Error, code: 0, message: "bye" }), clients[0]!.replies[0]!.port);
    await sleep(50);
    expect(server.activeTransfers).toBe(2);
    expect(server.peakTransfers).toBe(3);
  });

  it("close() ends running transfers: each peer gets ERROR 0, nothing stays open", async () => {
    server = await startTftpServer({ root: dir, port: 0 });
    const client = await peer();
    client.request("big", server.local.port);
    await client.next();
    await server.close();
    await client.next(2);
    expect(errorOf({ replies: [client.replies[1]!] } as RawPeer)).toBe("ERROR 0");
    expect(server.activeTransfers).toBe(0);
  });

  it("10,000 hostile RRQs and WRQs from 200 source ports: none served, the server stays up, memory bounded", async () => {
    server = await startTftpServer({ root: dir, port: 0 });
    const names = ["../etc/passwd", "/etc/passwd", "passwd-link", `outside-dir/${SECRET_NAME}`, "missing", "sub/../../../etc/shadow"];
    const sources = await Promise.all(Array.from({ length: 200 }, () => RawPeer.open()));
    peers.push(...sources);
    const before = process.memoryUsage();
    let sent = 0;
    let peakHeap = before.heapUsed;
    for (let round = 0; round < 50; round++) {
      for (const [i, s] of sources.entries()) {
        s.request(names[(round + i) % names.length]!, server.local.port, (round + i) % 7 === 0 ? Opcode.WriteRequest : Opcode.ReadRequest);
        sent++;
      }
      // A round of 200 at once, then the answers: the test shares the server's event loop and socket buffers.
      await sources.at(-1)!.next(round + 1, 1_000);
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
    await sleep(200);
    const replies = sources.flatMap((s) => s.replies);
    const served = replies.filter((r) => r.packet.opcode !== Opcode.Error);
    const after = process.memoryUsage();
    const mb = (n: number) => (n / 1e6).toFixed(1);
    console.log(
      `tftp flood: ${sent} requests, ${replies.length} ERROR replies, ${served.length} served, active after ${server.activeTransfers}; ` +
        `heap ${mb(before.heapUsed)} -> peak ${mb(peakHeap)} -> ${mb(after.heapUsed)} MB, rss ${mb(before.rss)} -> ${mb(after.rss)} MB`,
    );
    expect(sent).toBe(10_000);
    expect(served).toEqual([]);
    // UDP on loopback may still drop a few of a burst.
    expect(replies.length).toBeGreaterThan(9_500);
    expect(server.activeTransfers).toBe(0);
    expect((peakHeap - before.heapUsed) / 1e6).toBeLessThan(30);
    const stillServing = await runClient("curl", ["-sS", "-o", "/dev/null", "-w", "%{size_download}", `tftp://127.0.0.1:${server.local.port}/ap1g8`]);
    expect(stillServing.output).toBe("5000");
  });
});
