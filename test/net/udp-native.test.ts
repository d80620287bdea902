import { spawnSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bindNativeUdp, type Endpoint, type NativeDatagramSocket } from "../../agent/net/index.js";
import { tempDir } from "../support/temp.js";

/** Let the event loop turn a few times: datagrams in flight on loopback arrive, closed handles finish closing. */
const settle = () => new Promise((r) => setTimeout(r, 50));

const opened: NativeDatagramSocket[] = [];
async function bind(options: Parameters<typeof bindNativeUdp>[0] = {}): Promise<NativeDatagramSocket> {
  const s = await bindNativeUdp(options);
  opened.push(s);
  return s;
}
afterEach(async () => {
  for (const s of opened.splice(0)) s.close();
  await settle(); // closed handles finish closing before the next test counts descriptors
});

interface Received {
  data: Uint8Array;
  from: Endpoint;
}
function collect(s: NativeDatagramSocket): Received[] {
  const got: Received[] = [];
  s.onMessage((data, from) => got.push({ data, from }));
  return got;
}
async function until(done: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}
const datagram = (n: number, length: number) => new Uint8Array(length).fill(n & 0xff);
const openDescriptors = () => readdirSync("/proc/self/fd").length;

describe("native UDP socket", () => {
  it("sends a tick's datagrams as one batch and delivers them in order, each kept valid after its handler returns", async () => {
    const a = await bind();
    const b = await bind({ receiveBufferBytes: 4 << 20 }); // the burst arrives whole before b reads
    const got = collect(b);
    for (let i = 0; i < 200; i++) a.send(datagram(i, 1 + ((i * 37) % 1500)), b.local);
    await until(() => got.length === 200);
    expect(got.length).toBe(200);
    got.forEach(({ data, from }, i) => {
      expect(from).toEqual(a.local);
      expect(data).toEqual(datagram(i, 1 + ((i * 37) % 1500)));
    });
  });

  it("sends a head and a body as one datagram, among whole ones, in order", async () => {
    const a = await bind();
    const b = await bind();
    const got = collect(b);
    const body = datagram(9, 3000);
    a.sendParts(Uint8Array.of(0, 3, 0, 1), body.subarray(0, 1468), b.local);
    a.send(datagram(2, 10), b.local);
    a.sendParts(datagram(5, 600), datagram(6, 2), b.local); // a head too big to stage
    a.send(datagram(3, 2000), b.local);
    await until(() => got.length === 4);
    expect(got.map((r) => r.data)).toEqual([Uint8Array.of(0, 3, 0, 1, ...body.subarray(0, 1468)), datagram(2, 10), Uint8Array.of(...datagram(5, 600), 6, 6), datagram(3, 2000)]);
  });

  it("delivers a datagram of the largest UDP size whole, and drops (counts) one above maxDatagram", async () => {
    const a = await bind();
    const b = await bind();
    const small = await bind({ maxDatagram: 100 });
    const got = collect(b);
    const gotSmall = collect(small);
    a.send(datagram(7, 65507), b.local);
    a.send(datagram(1, 200), small.local);
    a.send(datagram(2, 50), small.local);
    await until(() => got.length === 1 && gotSmall.length === 1);
    await settle();
    expect(got.map((r) => r.data)).toEqual([datagram(7, 65507)]);
    expect(gotSmall.map((r) => r.data)).toEqual([datagram(2, 50)]);
    expect(small.stats().receivesTruncated).toBe(1);
  });

  it("with reuseReceiveMemory, hands each batch over in the socket's own memory: the same bytes, in order, truncated ones dropped", async () => {
    const a = await bind();
    const b = await bind({ reuseReceiveMemory: true, maxDatagram: 100, batch: 8, receiveBufferBytes: 4 << 20 });
    const copies: Uint8Array[] = [];
    const memory = new Set<ArrayBufferLike>();
    b.onMessage((data) => {
      copies.push(Uint8Array.from(data)); // valid only until the handler returns
      memory.add(data.buffer);
    });
    // Bursts of 20, every seventh datagram too long for a slot: the ones after it in a batch move down into its place.
    const lengths = Array.from({ length: 200 }, (_, i) => (i % 7 === 3 ? 150 : 1 + ((i * 37) % 100)));
    for (let i = 0; i < 200; i++) {
      a.send(datagram(i, lengths[i]!), b.local);
      if (i % 20 === 19) await settle();
    }
    const expected = lengths.flatMap((length, i) => (length > 100 ? [] : [datagram(i, length)]));
    await until(() => copies.length === expected.length);
    await settle();
    expect(copies).toEqual(expected);
    expect(b.stats().receivesTruncated).toBe(200 - expected.length);
    expect(memory.size).toBe(1);
  });

  it("tells each datagram's source in a batch from several peers", async () => {
    const b = await bind();
    const one = await bind({ address: "127.0.0.1" });
    const two = await bind({ address: "127.0.0.2" });
    const got = collect(b);
    for (let i = 0; i < 10; i++) (i % 2 ? two : one).send(datagram(i, 10), b.local);
    await until(() => got.length === 10);
    expect(got.map((r) => r.from).sort((x, y) => x.address.localeCompare(y.address))).toEqual([...Array(5).fill(one.local), ...Array(5).fill(two.local)]);
    for (const { data, from } of got) expect(from).toEqual(data[0]! % 2 ? two.local : one.local);
  });

  it("speaks IPv6, and reaches IPv4 peers from a dual-stack socket as IPv4-mapped addresses", async () => {
    const a = await bind({ address: "::1" });
    const b = await bind({ address: "::1" });
    const dual = await bind({ address: "::" });
    const v4 = await bind({ address: "127.0.0.1" });
    const got = collect(b);
    const gotV4 = collect(v4);
    const gotDual = collect(dual);
    a.send(datagram(1, 1000), b.local);
    dual.send(datagram(2, 10), v4.local);
    await until(() => got.length === 1 && gotV4.length === 1);
    v4.send(datagram(3, 10), gotV4[0]!.from);
    await until(() => gotDual.length === 1);
    expect(a.local.address).toBe("::1");
    expect(got).toEqual([{ data: datagram(1, 1000), from: a.local }]);
    expect(gotV4[0]!.from).toEqual({ address: "127.0.0.1", port: dual.local.port });
    expect(gotDual).toEqual([{ data: datagram(3, 10), from: { address: "::ffff:127.0.0.1", port: v4.local.port } }]);
  });

  it("needs receiveBufferBytes for a burst larger than the default receive buffer: without it the kernel drops most of a 4 MB window", async () => {
    const a = await bind();
    const plain = await bind();
    const sized = await bind({ receiveBufferBytes: 8 << 20 });
    const gotPlain = collect(plain);
    const gotSized = collect(sized);
    // One tick's sends leave synchronously in one sendmmsg, before this thread can read: the receive buffer alone holds the burst.
    for (let i = 0; i < 64; i++) a.send(datagram(i, 65468), plain.local);
    await Promise.resolve();
    for (let i = 0; i < 64; i++) a.send(datagram(i, 65468), sized.local);
    await until(() => gotSized.length === 64);
    await settle();
    expect(gotSized.length).toBe(64);
    expect(gotPlain.length).toBeLessThan(16);
  });

  it("closed while datagrams are queued or being delivered: no more handler calls, descriptors released", async () => {
    const before = openDescriptors();
    const a = await bind();
    const b = await bind();
    const c = await bind();
    let calls = 0;
    b.onMessage(() => {
      calls++;
      b.close();
    });
    for (let i = 0; i < 50; i++) a.send(datagram(i, 100), b.local);
    for (let i = 0; i < 50; i++) a.send(datagram(i, 100), c.local);
    await Promise.resolve(); // the sends have left; c has not read them yet
    c.close();
    await settle();
    expect(calls).toBe(1);
    a.close();
    await settle();
    expect(openDescriptors()).toBe(before);
  });

  it("an armed reply leaves on its exact trigger from its peer, before the handler hears that datagram as answered; once", async () => {
    const server = await bind();
    const peer = await bind();
    const stranger = await bind();
    const heard: [number[], boolean][] = [];
    server.onMessage((data, _from, answered) => heard.push([[...data], answered]));
    const got = collect(peer);
    // Queued before arming: leaves first.
    server.send(Uint8Array.of(9), peer.local);
    server.arm({ trigger: Uint8Array.of(0, 4, 0, 7), to: peer.local, datagrams: [[Uint8Array.of(0, 3, 0, 8), datagram(8, 100)], [Uint8Array.of(0, 3, 0, 9), datagram(9, 50)]] });
    // Each alone, so each is the first of its batch: other bytes, the trigger from elsewhere, longer than the trigger.
    for (const [from, bytes] of [[peer, [0, 4, 0, 6]], [stranger, [0, 4, 0, 7]], [peer, [0, 4, 0, 7, 0]]] as const) {
      from.send(Uint8Array.from(bytes), server.local);
      await settle();
    }
    expect(got.map((g) => [...g.data])).toEqual([[9]]);
    peer.send(Uint8Array.of(0, 4, 0, 7), server.local);
    await until(() => got.length === 3);
    await settle();
    peer.send(Uint8Array.of(0, 4, 0, 7), server.local); // fired already
    await settle();
    expect(got.map((g) => [...g.data.subarray(0, 4), g.data.length])).toEqual([[9, 1], [0, 3, 0, 8, 104], [0, 3, 0, 9, 54]]);
    expect(got[1]!.data.subarray(4)).toEqual(datagram(8, 100));
    expect(heard.map(([bytes, answered]) => `${bytes.join(".")} ${answered}`)).toEqual(["0.4.0.6 false", "0.4.0.7 false", "0.4.0.7.0 false", "0.4.0.7 true", "0.4.0.7 false"]);
  });

  it("an armed reply fires only as the first datagram of a batch, and not once disarmed; arming again replaces it", async () => {
    const server = await bind();
    const peer = await bind();
    const answers: boolean[] = [];
    server.onMessage((_data, _from, answered) => answers.push(answered));
    const got = collect(peer);
    const reply = (n: number) => ({ trigger: Uint8Array.of(0, 4, 0, 1), to: peer.local, datagrams: [[Uint8Array.of(n), new Uint8Array(0)]] as const });
    server.arm(reply(1));
    // Sent in one tick, they reach the server in one batch: the trigger comes second, after a datagram that could change the answer.
    peer.send(Uint8Array.of(0, 4, 0, 0), server.local);
    peer.send(Uint8Array.of(0, 4, 0, 1), server.local);
    await until(() => answers.length === 2);
    await settle();
    expect(got).toEqual([]);
    server.disarm();
    peer.send(Uint8Array.of(0, 4, 0, 1), server.local);
    await until(() => answers.length === 3);
    server.arm(reply(1));
    server.arm(reply(2));
    peer.send(Uint8Array.of(0, 4, 0, 1), server.local);
    await until(() => got.length === 1);
    expect(got.map((g) => [...g.data])).toEqual([[2]]);
    expect(answers).toEqual([false, false, false, true]);
  });

  it("close sends what this tick queued first", async () => {
    const a = await bind();
    const b = await bind();
    const got = collect(b);
    a.send(datagram(1, 10), b.local);
    a.sendParts(Uint8Array.of(2), datagram(3, 5), b.local);
    a.close();
    await until(() => got.length === 2);
    expect(got.map((r) => r.data)).toEqual([datagram(1, 10), Uint8Array.of(2, 3, 3, 3, 3, 3)]);
  });

  it("a closed socket's send is a no-op", async () => {
    const a = await bind();
    const b = await bind();
    const got = collect(b);
    a.close();
    a.close();
    expect(() => a.send(datagram(1, 10), b.local)).not.toThrow();
    await settle();
    expect(got).toEqual([]);
  });

  it("runs many sockets at once and releases every descriptor", async () => {
    const before = openDescriptors();
    const sink = await bind({ receiveBufferBytes: 1 << 20 }); // 300 small datagrams arrive before it reads
    const got = collect(sink);
    const many = await Promise.all(Array.from({ length: 300 }, () => bindNativeUdp()));
    many.forEach((s, i) => s.send(datagram(i, 20), sink.local));
    await until(() => got.length === 300);
    expect(new Set(got.map((r) => r.from.port)).size).toBe(300);
    for (const s of many) s.close();
    sink.close();
    await settle();
    expect(openDescriptors()).toBe(before);
  });

  it("fails in one line naming what was wrong: a bad address, a port in use, a destination of the wrong kind", async () => {
    await expect(bindNativeUdp({ address: "nonsense" })).rejects.toThrow(/^bind nonsense:0: not an IP address and port$/);
    const a = await bind({ address: "::1" });
    const clash = await bindNativeUdp({ address: "::1", port: a.local.port }).catch((e: NodeJS.ErrnoException) => e);
    expect((clash as NodeJS.ErrnoException).code).toBe("EADDRINUSE");
    expect((clash as Error).message).toBe(`bind [::1]:${a.local.port}: EADDRINUSE (address already in use)`);
    const v4 = await bind();
    expect(() => v4.send(datagram(1, 1), { address: "::1", port: 9 })).toThrow(/^cannot send to "::1": not an IPv4 address$/);
    expect(() => v4.send(datagram(1, 1), { address: "tftp.example", port: 69 })).toThrow(/^cannot send to "tftp.example": not an IPv4 address$/);
    expect(() => v4.send(datagram(1, 1), { address: "127.0.0.1", port: 70000 })).toThrow(/^cannot send to port 70000: not 1 to 65535$/);
  });

  it("waits for writable when the kernel refuses a send (EAGAIN behind a slow qdisc, tiny SO_SNDBUF): every datagram arrives, in order", () => {
    // Loopback frees a datagram's send-buffer charge at once; a token bucket on lo (in a network namespace of its own) holds it back.
    // The child runs the built socket (dist/, as the CLI tests run dist/cli/vap.js; \`npm test\` builds first).
    const script = join(tempDir("udp-eagain"), "burst.mjs");
    writeFileSync(
      script,
      `import { bindNativeUdp } from ${JSON.stringify(resolve(import.meta.dirname, "../../dist/agent/net/index.js"))};
const a = await bindNativeUdp({ sendBufferBytes: 1 });
const b = await bindNativeUdp({ receiveBufferBytes: 16 << 20 });
let n = 0, inOrder = true;
b.onMessage((d) => { if (d.length !== 1400 || d[0] !== (n & 255) || d[1399] !== (n & 255)) inOrder = false; n++; });
// Odd ones as a head and a body, so what waits is the two joined.
for (let i = 0; i < 3000; i++) {
  if (i % 2) a.sendParts(new Uint8Array(4).fill(i & 255), new Uint8Array(1396).fill(i & 255), b.local);
  else a.send(new Uint8Array(1400).fill(i & 255), b.local);
}
const until = Date.now() + 10000;
while (n < 3000 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
console.log(JSON.stringify({ received: n, inOrder, ...a.stats() }));
a.close(); b.close();
`,
    );
    const r = spawnSync("unshare", ["-n", "sh", "-c", `ip link set lo up && tc qdisc add dev lo root tbf rate 200mbit burst 32kb latency 2s && exec ${process.execPath} ${script}`], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.stderr).toBe("");
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ received: 3000, inOrder: true, sendsDropped: 0 });
    expect(result.sentLater).toBeGreaterThan(0);
  });
});
