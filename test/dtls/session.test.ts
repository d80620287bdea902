import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  DtlsContext,
  DtlsServer,
  DtlsSession,
  DtlsError,
  signCertificate,
  stripDtlsPreamble,
  type DtlsPeerInfo,
} from "../../agent/capwap/dtls/index.js";
import { addon } from "../../agent/capwap/dtls/native.js";
import { ManualClock, UsageError } from "../../agent/core/index.js";
import { generateKey, issueLeaf, validFor } from "../../agent/pki/index.js";
import {
  CLIENT_ADDR,
  clientContext,
  connected,
  failure,
  labPki,
  Link,
  nextData,
  serverContext,
  udpClient,
  udpServer,
  withTimeout,
} from "./support.js";

describe("DtlsSession: our client against our server", () => {
  for (const type of ["ecdsa", "rsa"] as const) {
    it(`authenticates both ways with ${type} certificates and carries data both ways`, async () => {
      const pki = labPki(type);
      const link = new Link({ context: serverContext(pki) });
      const client = link.connect({ context: clientContext(pki) });
      const peers: DtlsPeerInfo[] = [];
      client.on("connected", (p) => peers.push(p));
      const server = await link.handshake();

      expect(client.peer?.subject).toBe("CN=vap-controller,O=vap lab");
      expect(client.peer?.fingerprint256).toBe(new X509Certificate(pki.controller.cert).fingerprint256);
      expect(server.peer?.subject).toBe(`CN=${pki.apName},O=vap lab`);
      expect(server.peer?.fingerprint256).toBe(new X509Certificate(pki.ap.cert).fingerprint256);
      expect(server.peer?.issuer).toBe("CN=vap lab CA,O=vap lab");
      expect(client.peer?.version).toBe("DTLSv1.2");
      expect(client.peer?.cipher).toBe(type === "rsa" ? "ECDHE-RSA-AES128-GCM-SHA256" : "ECDHE-ECDSA-AES128-GCM-SHA256");
      expect(peers).toEqual([client.peer]);
      expect(server.remote).toBe("192.0.2.10:40001");
      expect(server.endpoint).toEqual({ address: "192.0.2.10", port: 40001 });
      expect(client.maxPayload).toBeGreaterThan(1300);

      const atServer = nextData(server);
      client.send(Buffer.from("Join Request"));
      expect(await atServer).toBe("Join Request");
      const atClient = nextData(client);
      server.send(Buffer.from("Join Response"));
      expect(await atClient).toBe("Join Response");
    });
  }

  // RFC 5415 §2.4.3: TLS_RSA_WITH_AES_128_CBC_SHA MUST, TLS_DHE_RSA_WITH_AES_128_CBC_SHA SHOULD.
  for (const suite of ["TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"]) {
    it(`negotiates ${suite} when the controller insists on it`, async () => {
      const pki = labPki("rsa");
      const link = new Link({ context: serverContext(pki, { ciphers: suite }) });
      link.connect({ context: clientContext(pki) });
      const server = await link.handshake();
      expect(server.peer?.cipherStandardName).toBe(suite);
    });
  }

  // RFC 5415 §2.4.3's mandatory suite, CBC, MAC-then-encrypt: at a 1500-byte link over IPv4, 1500 - 28 (IP, UDP) - 4 (preamble)
  // - 13 (record header) - 16 (explicit IV) leaves 89 whole blocks, 1424 bytes, less the 20-byte MAC and a padding byte: 1403; 16 fewer over IPv6.
  it("sizes records for the peer's address family: IPv4's 28 bytes of IP and UDP, IPv6's 48", async () => {
    const pki = labPki("rsa");
    const ciphers = "TLS_RSA_WITH_AES_128_CBC_SHA";
    const sizes: Record<string, [client: number, server: number]> = {};
    for (const [name, clientAddress, peerAddress] of [
      ["IPv4", CLIENT_ADDR, "192.0.2.1"],
      ["IPv6", { address: "2001:db8::10", port: 40001 }, "2001:db8::1"],
      ["IPv4-mapped", { address: "::ffff:192.0.2.10", port: 40001 }, "::ffff:192.0.2.1"],
      ["unknown", CLIENT_ADDR, undefined],
    ] as const) {
      const link = new Link({ context: serverContext(pki, { ciphers }) }, clientAddress);
      link.connect({ context: clientContext(pki, { ciphers }), ...(peerAddress ? { peerAddress } : {}) });
      const server = await link.handshake();
      sizes[name] = [link.client.maxPayload, server.maxPayload];
      // The session knows its peer as the server was told it, IPv6 included (no "[addr]:port" to parse back).
      expect(server.endpoint).toEqual(clientAddress);
    }
    expect(sizes).toEqual({
      IPv4: [1403, 1403],
      IPv6: [1387, 1387],
      "IPv4-mapped": [1403, 1403],
      // A client that does not say whom it talks to assumes the worst (IPv6); the server always knows.
      unknown: [1387, 1403],
    });
  });

  it("sends its intermediate CA, never the root (RFC 5246 §7.4.2)", async () => {
    const pki = labPki("ecdsa");
    const interKey = generateKey("ecdsa");
    const inter = signCertificate({
      subject: [["CN", "vap lab intermediate"]],
      publicKey: interKey.publicKey,
      issuer: { key: pki.ca.key, cert: pki.ca.cert },
      serial: Uint8Array.of(0x42),
      ...validFor(1),
      extensions: [
        ["basicConstraints", "critical,CA:TRUE"],
        ["keyUsage", "critical,keyCertSign"],
        ["subjectKeyIdentifier", "hash"],
        ["authorityKeyIdentifier", "keyid:always"],
      ],
    });
    const leaf = issueLeaf({ ...interKey, cert: inter }, { commonName: "vap-controller", role: "controller", type: "ecdsa", validity: validFor(1) });
    // Configured the way operators often do: the whole chain, root included.
    const link = new Link({ context: serverContext(pki, { cert: leaf.cert + inter + pki.ca.cert, key: leaf.key }) });
    link.connect({ context: clientContext(pki) }); // trusts the root only
    await link.handshake();
    const wire = Buffer.concat(link.sent.s2c);
    const der = (pem: string) => new X509Certificate(pem).raw;
    expect(wire.indexOf(der(leaf.cert))).toBeGreaterThan(0);
    expect(wire.indexOf(der(inter))).toBeGreaterThan(0);
    expect(wire.indexOf(der(pki.ca.cert))).toBe(-1);
  });

  it("runs on pre-shared keys, and the server learns the identity", async () => {
    const key = Buffer.from("00112233445566778899aabbccddeeff", "hex");
    const link = new Link({ context: new DtlsContext({ role: "server", psk: { hint: "vap-ac", keys: new Map([["ap-0001", key]]) } }) });
    link.connect({ context: new DtlsContext({ role: "client", psk: { identity: "ap-0001", key } }) });
    const server = await link.handshake();
    expect(server.peer).toMatchObject({ pskIdentity: "ap-0001", cipher: "PSK-AES128-GCM-SHA256" });
    expect(server.peer?.subject).toBeUndefined();

    const wrong = new Link({ context: new DtlsContext({ role: "server", psk: { keys: new Map([["ap-0001", key]]) } }) });
    const c = wrong.connect({ context: new DtlsContext({ role: "client", psk: { identity: "ap-9999", key } }) });
    const err = await failure(c);
    expect(err.code).toBe("DTLS_ALERT");
    expect(err.message).toBe("DTLS alert from peer: tlsv1 alert unknown psk identity");
  });

  it("puts the CAPWAP DTLS preamble on every datagram, or none when framing is 'none'", async () => {
    for (const framing of ["capwap", "none"] as const) {
      const pki = labPki("ecdsa");
      const link = new Link({ context: serverContext(pki), framing });
      link.connect({ context: clientContext(pki), framing });
      await link.handshake();
      const all = [...link.sent.c2s, ...link.sent.s2c];
      const withPreamble = all.filter((d) => stripDtlsPreamble(d) !== undefined && d[4] !== undefined && d[4] >= 20 && d[4] <= 23);
      expect(withPreamble.length).toBe(framing === "capwap" ? all.length : 0);
      if (framing === "none") expect(all.every((d) => d[0]! >= 20 && d[0]! <= 23)).toBe(true);
    }
  });

  it("works over real UDP sockets on loopback", async () => {
    const pki = labPki("ecdsa");
    const srv = await udpServer({ context: serverContext(pki) });
    srv.server.on("session", (s) => s.on("data", (d) => s.send(Buffer.concat([Buffer.from("echo: "), d]))));
    const cli = await udpClient(srv.port, { context: clientContext(pki) });
    try {
      await connected(cli.session);
      const reply = nextData(cli.session);
      cli.session.send(Buffer.from("Echo Request"));
      expect(await reply).toBe("echo: Echo Request");
      expect(srv.server.size).toBe(1);
    } finally {
      await cli.close();
      await srv.close();
    }
  });

  it("closes with close_notify: the peer sees DTLS_CLOSED, the closer sees no reason", async () => {
    const pki = labPki("ecdsa");
    const link = new Link({ context: serverContext(pki) });
    const client = link.connect({ context: clientContext(pki) });
    const server = await link.handshake();
    const serverClosed = new Promise<DtlsError | undefined>((r) => server.once("close", r));
    const clientClosed = new Promise<DtlsError | undefined>((r) => client.once("close", r));
    client.close();
    expect(await clientClosed).toBeUndefined();
    const reason = await serverClosed;
    expect(reason?.code).toBe("DTLS_CLOSED");
    expect(reason?.message).toBe("DTLS peer closed the session (close_notify)");
    expect(link.server.size).toBe(0);
    expect(() => client.send(Buffer.from("x"))).toThrow(DtlsError);
  });

  it("refuses to start a client that cannot offer any suite", () => {
    const pki = labPki("ecdsa");
    const context = new DtlsContext({ role: "client", ca: pki.ca.cert, ciphers: "PSK-AES128-CBC-SHA" }); // PSK suite, no PSK
    const live = addon.liveSessions();
    expect(() => DtlsSession.connect({ context, sendDatagram: () => {}, clock: new ManualClock() })).toThrow(
      /DTLS client cannot start: no ciphers available/,
    );
    expect(addon.liveSessions()).toBe(live);
  });

  it("refuses send() before the handshake is done", () => {
    const pki = labPki("ecdsa");
    const s = DtlsSession.connect({ context: clientContext(pki), sendDatagram: () => {}, clock: new ManualClock() });
    expect(() => s.send(Buffer.from("early"))).toThrow(UsageError);
    s.close();
  });
});

describe("DtlsSession: refusals end with a typed error and no session", () => {
  async function refused(link: Link): Promise<{ client: DtlsError; server?: DtlsError }> {
    let serverErr: DtlsError | undefined;
    link.server.on("session", (s) => s.on("close", (r) => (serverErr = r)));
    const client = await failure(link.client);
    await new Promise((r) => setTimeout(r, 20));
    expect(link.server.size).toBe(0);
    return serverErr ? { client, server: serverErr } : { client };
  }

  it("a controller certificate from an unknown CA", async () => {
    const link = new Link({ context: serverContext(labPki("rsa")) });
    link.connect({ context: clientContext(labPki("ecdsa")) });
    const { client, server } = await refused(link);
    expect(client.code).toBe("DTLS_PEER_VERIFY");
    expect(client.message).toBe("DTLS peer verification failed: certificate verify failed (unable to get local issuer certificate)");
    expect(server?.code).toBe("DTLS_ALERT");
    expect(server?.alert).toBe("unknown CA");
  });

  it("an expired controller certificate", async () => {
    const pki = labPki("ecdsa");
    const expired = issueLeaf(pki.ca, {
      commonName: "vap-controller",
      role: "controller",
      type: "ecdsa",
      validity: { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) },
    });
    const link = new Link({ context: serverContext(pki, { cert: expired.cert, key: expired.key }) });
    link.connect({ context: clientContext(pki) });
    const { client } = await refused(link);
    expect(client.code).toBe("DTLS_PEER_VERIFY");
    expect(client.message).toMatch(/\(certificate has expired\)$/);
  });

  it("a controller certificate that does not match the pinned fingerprint", async () => {
    const pki = labPki("ecdsa");
    const other = issueLeaf(pki.ca, { commonName: "vap-controller", role: "controller", type: "ecdsa", validity: validFor(1) });
    const link = new Link({ context: serverContext(pki) });
    link.connect({ context: clientContext(pki, { pinnedFingerprint: new X509Certificate(other.cert).fingerprint256 }) });
    const { client } = await refused(link);
    expect(client.code).toBe("DTLS_PEER_VERIFY");
    expect(client.message).toMatch(/does not match the pinned SHA-256 fingerprint/);

    const good = new Link({ context: serverContext(pki) });
    good.connect({ context: clientContext(pki, { pinnedFingerprint: new X509Certificate(pki.controller.cert).fingerprint256.toLowerCase() }) });
    await good.handshake();
  });

  it("an AP without a certificate when the controller requires one", async () => {
    const pki = labPki("ecdsa");
    const link = new Link({ context: serverContext(pki) });
    link.connect({ context: new DtlsContext({ role: "client", ca: pki.ca.cert }) });
    const { client, server } = await refused(link);
    expect(server?.code).toBe("DTLS_PEER_VERIFY");
    expect(server?.message).toBe("DTLS peer verification failed: peer did not return a certificate");
    expect(client.code).toBe("DTLS_ALERT");
  });

  it("a server offering only suites the client excludes", async () => {
    const pki = labPki("rsa");
    const link = new Link({ context: serverContext(pki, { ciphers: "AES256-SHA" }) });
    link.connect({ context: clientContext(pki) });
    const { client, server } = await refused(link);
    expect(client.message).toBe("DTLS alert from peer: sslv3 alert handshake failure");
    expect(server?.message).toBe("DTLS failure: no shared cipher");
  });
});

describe("DtlsSession timers", () => {
  it("gives up with DTLS_HANDSHAKE_TIMEOUT at the deadline, on the injected clock", () => {
    const clock = new ManualClock();
    const pki = labPki("ecdsa");
    const sent: Uint8Array[] = [];
    const s = DtlsSession.connect({ context: clientContext(pki), sendDatagram: (d) => sent.push(d), clock, handshakeTimeoutMs: 30_000 });
    const errors: DtlsError[] = [];
    const closes: (DtlsError | undefined)[] = [];
    s.on("error", (e) => errors.push(e));
    s.on("close", (r) => closes.push(r));
    expect(clock.pending()).toEqual(["dtls-retransmit", "dtls-handshake-deadline"]);
    clock.advance(29_999);
    expect(s.state).toBe("handshaking");
    clock.advance(1);
    expect(s.state).toBe("closed");
    expect(errors.map((e) => e.code)).toEqual(["DTLS_HANDSHAKE_TIMEOUT"]);
    expect(closes[0]?.message).toBe("DTLS handshake did not complete within 30000 ms");
    expect(clock.pending()).toEqual([]);
    expect(sent.length).toBeGreaterThanOrEqual(1);
  });

  it("retransmits the ClientHello on OpenSSL's timer, doubling it each time (RFC 6347 §4.2.4.1)", async () => {
    const pki = labPki("ecdsa");
    const sent: number[] = [];
    let done!: () => void;
    const fourth = new Promise<void>((resolve) => (done = resolve));
    const s = DtlsSession.connect({
      context: clientContext(pki),
      sendDatagram: () => sent.push(performance.now()) === 4 && done(),
      retransmitMs: 20,
    });
    await withTimeout(fourth, 5000, "three retransmissions");
    s.close();
    // 20 + 40 + 80 ms: without the doubling, three retries would take 60 ms.
    expect(sent[3]! - sent[0]!).toBeGreaterThanOrEqual(130);
  });
});

describe("DtlsServer", () => {
  it("serves many concurrent peers, each on its own session keyed by address:port", async () => {
    const pki = labPki("ecdsa");
    const clientCtx = clientContext(pki);
    const queue: (() => void)[] = [];
    const server = new DtlsServer({
      context: serverContext(pki),
      sendDatagram: (d, _address, port) => queue.push(() => clients[port - 30000]!.receive(d)),
    });
    server.on("session", (s) => s.on("data", (d) => s.send(Buffer.concat([Buffer.from(`${s.remote} `), d]))));
    const clients = Array.from({ length: 40 }, (_, i) =>
      DtlsSession.connect({ context: clientCtx, sendDatagram: (d) => queue.push(() => server.receive(d, "198.51.100.7", 30000 + i)) }),
    );
    const replies = clients.map((c, i) => {
      c.once("connected", () => c.send(Buffer.from(`ap${i}`)));
      return new Promise<string>((resolve) => c.once("data", (d) => resolve(Buffer.from(d).toString())));
    });
    // Deliver in an interleaved order: every handshake is in flight at once.
    for (let n = 0; queue.length > 0; n++) queue.splice(n % queue.length, 1)[0]!();
    expect(await Promise.all(replies)).toEqual(clients.map((_, i) => `198.51.100.7:${30000 + i} ap${i}`));
    expect(server.size).toBe(40);
    server.close();
  });

  it("allocates no SSL object before a valid cookie, and answers with HelloVerifyRequest", () => {
    const pki = labPki("ecdsa");
    const replies: Uint8Array[] = [];
    const server = new DtlsServer({ context: serverContext(pki), sendDatagram: (d) => replies.push(d), clock: new ManualClock() });
    const hellos: Uint8Array[] = [];
    const client = DtlsSession.connect({ context: clientContext(pki), sendDatagram: (d) => hellos.push(d), clock: new ManualClock() });
    const before = addon.liveSessions();
    for (let port = 1024; port < 1124; port++) server.receive(hellos[0]!, "198.51.100.1", port);
    expect(addon.liveSessions()).toBe(before);
    expect(server.size).toBe(0);
    expect(replies).toHaveLength(100);
    // HelloVerifyRequest: handshake record, handshake type 3 (RFC 6347 §4.2.1).
    expect(replies.every((r) => r[4] === 22 && r[17] === 3)).toBe(true);
    client.close();
    server.close();
  });

  it("rotates the cookie secret: a cookie survives one rotation, not two", () => {
    const pki = labPki("ecdsa");
    const clock = new ManualClock();
    const toClient: Uint8Array[] = [];
    const server = new DtlsServer({ context: serverContext(pki), sendDatagram: (d) => toClient.push(d), clock, cookieRotateMs: 1000 });
    /** The second ClientHello of a fresh client from `port`: it echoes a cookie made now. */
    const helloWithCookie = (port: number): Uint8Array => {
      const toServer: Uint8Array[] = [];
      const client = DtlsSession.connect({ context: clientContext(pki), sendDatagram: (d) => toServer.push(d), clock: new ManualClock() });
      server.receive(toServer[0]!, "198.51.100.2", port);
      client.receive(toClient.pop()!);
      client.close();
      return toServer[1]!;
    };
    const early = helloWithCookie(5001);
    clock.advance(1000);
    server.receive(early, "198.51.100.2", 5001);
    expect(server.size).toBe(1);

    const stale = helloWithCookie(5002);
    clock.advance(2000);
    server.receive(stale, "198.51.100.2", 5002);
    expect(server.size).toBe(1);
    expect(toClient.at(-1)?.[17]).toBe(3); // a fresh HelloVerifyRequest instead
    server.close();
  });

  it("replaces an established session when the same address starts a new handshake (RFC 6347 §4.2.8)", async () => {
    const pki = labPki("ecdsa");
    const link = new Link({ context: serverContext(pki) });
    link.connect({ context: clientContext(pki) });
    const first = await link.handshake();
    const firstClosed = new Promise<DtlsError | undefined>((r) => first.once("close", r));
    link.connect({ context: clientContext(pki) }); // the AP rebooted, same address:port
    const second = await link.handshake();
    expect((await firstClosed)?.code).toBe("DTLS_CLOSED");
    expect(second).not.toBe(first);
    expect(link.server.size).toBe(1);
    expect(link.server.session("192.0.2.10", 40001)).toBe(second);
  });

  it("keeps an established session when its cookie-bearing ClientHello is replayed", async () => {
    const pki = labPki("ecdsa");
    const link = new Link({ context: serverContext(pki) });
    link.connect({ context: clientContext(pki) });
    const established = await link.handshake();
    link.server.receive(link.sent.c2s[1]!, CLIENT_ADDR.address, CLIENT_ADDR.port); // valid cookie, same address
    expect(link.server.size).toBe(2); // the replay handshakes beside the real session
    const got = nextData(established);
    link.client.send(Buffer.from("Echo Request"));
    expect(await got).toBe("Echo Request");
    expect(established.state).toBe("connected");
    expect(link.server.session(CLIENT_ADDR.address, CLIENT_ADDR.port)).toBe(established);
  });

  it("sends close_notify to every session on close()", async () => {
    const pki = labPki("ecdsa");
    const link = new Link({ context: serverContext(pki) });
    const client = link.connect({ context: clientContext(pki) });
    await link.handshake();
    const closed = new Promise<DtlsError | undefined>((r) => client.once("close", r));
    link.server.close();
    expect((await closed)?.code).toBe("DTLS_CLOSED");
    expect(link.server.size).toBe(0);
  });
});
