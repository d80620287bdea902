import { describe, expect, it } from "vitest";
import { addDtlsPreamble, DtlsServer, DtlsSession } from "../../agent/capwap/dtls/index.js";
import { addon } from "../../agent/capwap/dtls/native.js";
import { ManualClock, seededRandom, type Random } from "../../agent/core/index.js";
import { clientContext, labPki, Link, nextData, serverContext } from "./support.js";

/**
 * Hostile input: random bytes, truncated records and replayed records fed to
 * the client and the server, in the handshake and once established. Nothing
 * may throw out of receive(), the process must survive, and an established
 * session must still carry data afterwards (RFC 6347 §4.1.2.7: invalid
 * records are silently discarded).
 */
const CASES = 3000;

function mutations(random: Random, real: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < CASES; i++) {
    const base = real[random.int(real.length)]!;
    switch (i % 4) {
      case 0: // random bytes, sometimes shaped like a DTLS record header
        out.push(random.bytes(1 + random.int(1500)));
        break;
      case 1: {
        const r = random.bytes(13 + random.int(300));
        r.set([20 + random.int(4), 0xfe, random.int(2) ? 0xfd : 0xff, 0, random.int(3)], 0);
        out.push(r);
        break;
      }
      case 2: // a real datagram, truncated
        out.push(base.slice(0, random.int(base.length)));
        break;
      case 3: {
        // a real datagram with a few bytes changed
        const m = base.slice();
        for (let k = 0; k < 1 + random.int(4); k++) m[random.int(m.length)] = random.int(256);
        out.push(m);
        break;
      }
    }
  }
  return out;
}

describe("garbage datagrams", () => {
  it("never crash or throw, and established sessions keep working", async () => {
    const pki = labPki("ecdsa");
    const random = seededRandom(0xdead);

    // A reference handshake provides real datagrams to truncate, mutate and replay.
    const ref = new Link({ context: serverContext(pki), framing: "none" });
    ref.connect({ context: clientContext(pki), framing: "none" });
    const refServer = await ref.handshake();
    refServer.send(Buffer.from("Echo Response"));
    ref.client.send(Buffer.from("Echo Request"));
    await new Promise((r) => setImmediate(r));
    const real = [...ref.sent.c2s, ...ref.sent.s2c];
    const inputs = mutations(random, real);

    // 1. Established: replay every real datagram, then all the garbage, both ways.
    for (const d of [...real, ...inputs]) {
      expect(() => refServer.receive(d)).not.toThrow();
      expect(() => ref.client.receive(d)).not.toThrow();
      expect(() => ref.server.receive(d, "192.0.2.10", 40001)).not.toThrow();
    }
    expect(ref.client.state).toBe("connected");
    expect(refServer.state).toBe("connected");
    const got = nextData(refServer);
    ref.client.send(Buffer.from("still authentic"));
    expect(await got).toBe("still authentic");

    // 2. The server's listener, from many unknown peers, with and without the preamble.
    const listenerOut: Uint8Array[] = [];
    const server = new DtlsServer({ context: serverContext(pki), sendDatagram: (d) => listenerOut.push(d), clock: new ManualClock() });
    const live = addon.liveSessions();
    inputs.forEach((d, i) => {
      expect(() => server.receive(d, "203.0.113.9", 1024 + i)).not.toThrow();
      expect(() => server.receive(addDtlsPreamble(d), "203.0.113.9", 1024 + i)).not.toThrow();
    });
    // Garbage never passes the cookie check, so it never costs an SSL object.
    expect(server.size).toBe(0);
    expect(addon.liveSessions()).toBe(live);
    server.close();

    // 3. Clients in the middle of a handshake: each eats garbage, then may fail, never throws.
    let failedClosed = 0;
    for (let i = 0; i < 50; i++) {
      const c = DtlsSession.connect({ context: clientContext(pki), sendDatagram: () => {}, clock: new ManualClock(), framing: "none" });
      c.on("close", () => failedClosed++);
      for (const d of inputs.slice(i * 60, i * 60 + 60)) expect(() => c.receive(d)).not.toThrow();
      c.close();
    }
    expect(failedClosed).toBe(50);
  });
});
