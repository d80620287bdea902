import { describe, expect, it } from "vitest";
import { addDtlsPreamble, DtlsServer, DtlsSession } from "../../agent/capwap/dtls/index.js";
import { addon } from "../../agent/capwap/dtls/native.js";
import { ManualClock, seededRandom, type Random } from "../../agent/core/index.js";
import { CLIENT_ADDR, clientContext, labPki, Link, nextData, serverContext } from "./support.js";

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

/**
 * Issue 10.1: one forged record of the session's current epoch, with a
 * length field matching its body, must be silently discarded (RFC 6347
 * §4.1.2.7) whatever its length: OpenSSL 3.0 raises a fatal internal_error
 * for AEAD bodies shorter than explicit nonce + tag, so anyone able to spoof
 * the controller's address could disconnect APs with one datagram.
 */
describe("forged records of the current epoch, every body length", () => {
  const BODY_LENGTHS = Array.from({ length: 65 }, (_, n) => n);
  const SUITES = [
    { cipher: "ECDHE-ECDSA-AES128-GCM-SHA256", pki: "ecdsa" },
    { cipher: "AES128-SHA", pki: "rsa" },
  ] as const;
  const APPLICATION_DATA = 23;
  const DTLS12 = [0xfe, 0xfd];

  /** A DTLS 1.2 record header (RFC 6347 §4.1) at epoch 1 with `body` after it, behind the CAPWAP preamble. */
  function forged(sequence: number, body: Uint8Array): Uint8Array {
    const record = new Uint8Array(13 + body.length);
    const view = new DataView(record.buffer);
    record.set([APPLICATION_DATA, ...DTLS12], 0);
    view.setUint16(3, 1);
    view.setUint16(5, Math.floor(sequence / 2 ** 32));
    view.setUint32(7, sequence >>> 0);
    view.setUint16(11, body.length);
    record.set(body, 13);
    return addDtlsPreamble(record);
  }

  for (const suite of SUITES) {
    for (const victim of ["client", "server"] as const) {
      it(`${suite.cipher}: forged to the ${victim}, bodies of 0-64 bytes are discarded, counted, and the session carries data`, async () => {
        const pki = labPki(suite.pki);
        const random = seededRandom(0x10_01);
        const links: Link[] = [];
        async function establish() {
          const link = new Link({ context: serverContext(pki, { ciphers: suite.cipher }) });
          links.push(link);
          link.connect({ context: clientContext(pki, { ciphers: suite.cipher }) });
          const server = await link.handshake();
          expect(server.peer?.cipher).toBe(suite.cipher);
          return { link, server };
        }
        try {
          let { link, server } = await establish();
          const tornDown: number[] = [];
          for (const length of BODY_LENGTHS) {
            const target = victim === "client" ? link.client : server;
            const sentBefore = link.sent[victim === "client" ? "c2s" : "s2c"].length;
            const discardedBefore = target.discardedRecords;
            const datagram = forged(1000 + random.int(2 ** 40), random.bytes(length));
            if (victim === "client") link.client.receive(datagram);
            else link.server.receive(datagram, CLIENT_ADDR.address, CLIENT_ADDR.port);
            if (target.state !== "connected") {
              tornDown.push(length);
              ({ link, server } = await establish());
              continue;
            }
            // Silently: no alert, nothing at all goes back to the forger.
            expect(link.sent[victim === "client" ? "c2s" : "s2c"].length).toBe(sentBefore);
            expect(target.discardedRecords).toBe(discardedBefore + 1);
            const atServer = nextData(server);
            link.client.send(Buffer.from(`after ${length}`));
            expect(await atServer).toBe(`after ${length}`);
            const atClient = nextData(link.client);
            server.send(Buffer.from(`reply ${length}`));
            expect(await atClient).toBe(`reply ${length}`);
          }
          expect(tornDown).toEqual([]);
        } finally {
          for (const l of links) l.server.close();
        }
      });
    }
  }
});
