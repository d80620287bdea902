import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DtlsContext, type DtlsError, type DtlsSession } from "../../agent/capwap/dtls/index.js";
import { issueLeaf } from "../../agent/pki/index.js";
import { requirePeer } from "../support/peers.js";
import {
  clientContext,
  connected,
  failure,
  freeUdpPort,
  labPki,
  nextData,
  OpensslPeer,
  pkiFiles,
  serverContext,
  udpClient,
  udpServer,
  withTimeout,
  type LabPki,
} from "./support.js";

/**
 * Interop with the real OpenSSL command-line peers (DESIGN.md "Testing
 * against real peers"): our client against `openssl s_server`, our server
 * against `openssl s_client`, plain DTLS framing (no CAPWAP preamble, which
 * they do not speak), all on 127.0.0.1.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sServer(args: string[]): Promise<{ peer: OpensslPeer; port: number }> {
  const port = await freeUdpPort();
  const peer = new OpensslPeer(["s_server", "-accept", `127.0.0.1:${port}`, "-naccept", "1", ...args]);
  cleanups.push(() => peer.stop());
  await peer.waitFor(/ACCEPT/);
  return { peer, port };
}

async function ourClient(port: number, context: DtlsContext): Promise<DtlsSession> {
  const c = await udpClient(port, { context, framing: "none", retransmitMs: 100 });
  cleanups.push(c.close);
  return c.session;
}

async function ourServer(context: DtlsContext) {
  const s = await udpServer({ context, framing: "none", retransmitMs: 250 });
  cleanups.push(s.close);
  return s;
}

function sClient(port: number, args: string[]): OpensslPeer {
  const peer = new OpensslPeer(["s_client", "-dtls1_2", "-connect", `127.0.0.1:${port}`, ...args]);
  cleanups.push(() => peer.stop());
  return peer;
}

/** Data both ways through s_server: ours -> its stdout, its stdin -> ours. */
async function echoThroughSServer(peer: OpensslPeer, session: DtlsSession): Promise<void> {
  session.send(Buffer.from("Echo Request from AP\n"));
  await peer.waitFor(/Echo Request from AP/);
  const back = nextData(session);
  peer.write("Echo Response from controller\n");
  expect(await back).toBe("Echo Response from controller\n");
}

describe("our DTLS client against openssl s_server", () => {
  const suites: { cipher: string; pki: () => LabPki }[] = [
    { cipher: "AES128-SHA", pki: () => labPki("rsa") },
    { cipher: "ECDHE-RSA-AES128-GCM-SHA256", pki: () => labPki("rsa") },
    { cipher: "ECDHE-ECDSA-AES128-GCM-SHA256", pki: () => labPki("ecdsa") },
  ];
  for (const { cipher, pki: getPki } of suites) {
    it(`${cipher}: mutual X.509 authentication (OpenSSL verifies our certificate), data both ways`, async () => {
      const pki = getPki();
      const f = pkiFiles(pki);
      const { peer, port } = await sServer([
        "-dtls1_2", "-cert", f.cert, "-key", f.key, "-CAfile", f.ca, "-Verify", "1", "-verify_return_error", "-cipher", cipher,
      ]);
      const session = await ourClient(port, clientContext(pki));
      await withTimeout(connected(session), 10_000, "connect");
      expect(session.peer).toMatchObject({ cipher, version: "DTLSv1.2", subject: "CN=vap-controller,O=vap lab" });
      expect(session.peer?.fingerprint256).toBe(new X509Certificate(pki.controller.cert).fingerprint256);
      await echoThroughSServer(peer, session);
      // OpenSSL's own verification of our AP certificate:
      expect(peer.output).toContain(`depth=0 O = vap lab, CN = ${pki.apName}`);
      expect(peer.output).toMatch(/verify return:1/);
      expect(peer.output).not.toMatch(/verify error/);
      expect(peer.output).toContain(`CIPHER is ${cipher}`);
    });
  }

  it("PSK (TLS_PSK_WITH_AES_128_CBC_SHA): identity and key agree with s_server", async () => {
    const key = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    const { peer, port } = await sServer([
      "-dtls1_2", "-nocert", "-psk", key, "-psk_identity", "C9120AXI-020000000001", "-psk_hint", "vap-ac", "-cipher", "PSK-AES128-CBC-SHA",
    ]);
    const ctx = new DtlsContext({ role: "client", psk: { identity: "C9120AXI-020000000001", key: Buffer.from(key, "hex") } });
    const session = await ourClient(port, ctx);
    await withTimeout(connected(session), 10_000, "connect");
    expect(session.peer?.cipherStandardName).toBe("TLS_PSK_WITH_AES_128_CBC_SHA");
    await echoThroughSServer(peer, session);
    expect(peer.output).not.toMatch(/PSK warning/);
  });

  it("a pinned fingerprint: s_server's own certificate passes it (a wrong one is refused below; a pin nothing would check is refused at configuration)", async () => {
    const pki = labPki("ecdsa");
    const f = pkiFiles(pki);
    const { peer, port } = await sServer(["-dtls1_2", "-cert", f.cert, "-key", f.key]);
    const session = await ourClient(port, clientContext(pki, { pinnedFingerprint: new X509Certificate(pki.controller.cert).fingerprint256 }));
    await withTimeout(connected(session), 10_000, "connect");
    await echoThroughSServer(peer, session);
  });

  it("DTLS 1.0 only when configured (older controllers)", async () => {
    const pki = labPki("rsa");
    const f = pkiFiles(pki);
    // OpenSSL 3.0 needs security level 0 for DTLS 1.0's SHA-1/MD5 signatures, on both sides.
    const dtls1 = ["-dtls1", "-cert", f.cert, "-key", f.key, "-cipher", "ALL:@SECLEVEL=0"];
    const refused = await sServer(dtls1);
    const modern = await ourClient(refused.port, clientContext(pki));
    const err = await failure(modern);
    expect(err.code).toBe("DTLS_PROTOCOL");
    expect(err.message).toBe("DTLS failure: unsupported protocol");

    const { peer, port } = await sServer(dtls1);
    const legacy = await ourClient(port, clientContext(pki, { minVersion: "DTLSv1" }));
    await withTimeout(connected(legacy), 10_000, "connect");
    expect(legacy.peer?.version).toBe("DTLSv1");
    await echoThroughSServer(peer, legacy);
  });

  // Issue 10.8: with DTLS 1.0 allowed (AP config dtls.dtls10), the default suites alone reach a DTLS-1.0-only
  // controller, whatever its certificate. The context lowers its own OpenSSL security level to 0 for DTLS 1.0's
  // SHA-1 signatures; s_server, another program, needs @SECLEVEL=0 said on its command line.
  const dtls10Suites: { cipher: string; standard: string; pki: () => LabPki }[] = [
    { cipher: "ECDHE-ECDSA-AES128-SHA", standard: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", pki: () => labPki("ecdsa") },
    { cipher: "ECDHE-RSA-AES128-SHA", standard: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", pki: () => labPki("rsa") },
    { cipher: "AES128-SHA", standard: "TLS_RSA_WITH_AES_128_CBC_SHA", pki: () => labPki("rsa") },
    { cipher: "DHE-RSA-AES128-SHA", standard: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", pki: () => labPki("rsa") },
  ];
  for (const { cipher, standard, pki: getPki } of dtls10Suites) {
    it(`DTLS 1.0 out of the box: ${cipher} against openssl s_server -dtls1, mutual X.509, data both ways`, async () => {
      const pki = getPki();
      const f = pkiFiles(pki);
      const { peer, port } = await sServer([
        "-dtls1", "-cert", f.cert, "-key", f.key, "-CAfile", f.ca, "-Verify", "1", "-verify_return_error", "-cipher", `${cipher}:@SECLEVEL=0`,
      ]);
      const session = await ourClient(port, clientContext(pki, { minVersion: "DTLSv1" }));
      await withTimeout(connected(session), 10_000, "connect");
      expect(session.peer).toMatchObject({ version: "DTLSv1", cipher, cipherStandardName: standard, subject: "CN=vap-controller,O=vap lab" });
      await echoThroughSServer(peer, session);
      expect(peer.output).toContain(`depth=0 O = vap lab, CN = ${pki.apName}`);
      expect(peer.output).not.toMatch(/verify error/);
    });
  }

  describe("refusals: a typed error and no session", () => {
    async function refusedBy(args: string[], context: DtlsContext): Promise<DtlsError> {
      const { port } = await sServer(["-dtls1_2", ...args]);
      const session = await ourClient(port, context);
      const err = await failure(session);
      expect(session.state).toBe("closed");
      expect(session.peer).toBeUndefined();
      return err;
    }

    it("unknown CA", async () => {
      const f = pkiFiles(labPki("rsa"));
      const err = await refusedBy(["-cert", f.cert, "-key", f.key], clientContext(labPki("ecdsa")));
      expect(err.code).toBe("DTLS_PEER_VERIFY");
      expect(err.message).toBe("DTLS peer verification failed: certificate verify failed (unable to get local issuer certificate)");
    });

    it("expired certificate", async () => {
      const pki = labPki("ecdsa");
      const f = pkiFiles(pki);
      const expired = issueLeaf(pki.ca, {
        commonName: "vap-controller",
        role: "controller",
        type: "ecdsa",
        validity: { notBefore: new Date(Date.now() - 30 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) },
      });
      writeFileSync(join(f.dir, "expired.pem"), expired.cert);
      writeFileSync(join(f.dir, "expired.key"), expired.key);
      const err = await refusedBy(["-cert", join(f.dir, "expired.pem"), "-key", join(f.dir, "expired.key")], clientContext(pki));
      expect(err.code).toBe("DTLS_PEER_VERIFY");
      expect(err.message).toBe("DTLS peer verification failed: certificate verify failed (certificate has expired)");
    });

    it("wrong pinned fingerprint", async () => {
      const pki = labPki("ecdsa");
      const f = pkiFiles(pki);
      const err = await refusedBy(
        ["-cert", f.cert, "-key", f.key],
        clientContext(pki, { pinnedFingerprint: new X509Certificate(pki.ap.cert).fingerprint256 }),
      );
      expect(err.code).toBe("DTLS_PEER_VERIFY");
      expect(err.message).toMatch(/\(peer certificate does not match the pinned SHA-256 fingerprint\)$/);
    });

    it("a server that offers only suites we exclude", async () => {
      const f = pkiFiles(labPki("rsa"));
      const err = await refusedBy(["-cert", f.cert, "-key", f.key, "-cipher", "AES256-SHA:CAMELLIA128-SHA"], clientContext(labPki("rsa")));
      expect(err.code).toBe("DTLS_ALERT");
      expect(err.message).toBe("DTLS alert from peer: sslv3 alert handshake failure");
    });

    it("our client without a certificate where s_server requires one", async () => {
      const pki = labPki("ecdsa");
      const f = pkiFiles(pki);
      const err = await refusedBy(
        ["-cert", f.cert, "-key", f.key, "-CAfile", f.ca, "-Verify", "1", "-verify_return_error"],
        new DtlsContext({ role: "client", ca: pki.ca.cert }),
      );
      expect(err.code).toBe("DTLS_ALERT");
      expect(err.message).toBe("DTLS alert from peer: sslv3 alert handshake failure");
    });
  });
});

/**
 * A UDP relay between our client and a real peer that drops datagrams by
 * direction and position, so retransmission is checked against OpenSSL's
 * own timers and retransmission logic, not just against ourselves.
 */
async function lossyRelay(serverPort: number, drop: (dir: "c2s" | "s2c", index: number) => boolean) {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const counts = { c2s: 0, s2c: 0 };
  let client: number | undefined;
  socket.on("message", (msg, rinfo) => {
    const dir = rinfo.port === serverPort ? "s2c" : "c2s";
    if (dir === "c2s") client = rinfo.port;
    const to = dir === "c2s" ? serverPort : client;
    if (drop(dir, counts[dir]++) || to === undefined) return;
    socket.send(msg, to, "127.0.0.1");
  });
  const relay = { port: socket.address().port, counts, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
  cleanups.push(relay.close);
  return relay;
}

describe("our DTLS client against openssl s_server, through a lossy relay", () => {
  it("completes the handshake whichever single datagram is lost, in either direction", async () => {
    const pki = labPki("ecdsa");
    const f = pkiFiles(pki);
    const args = ["-dtls1_2", "-cert", f.cert, "-key", f.key, "-CAfile", f.ca, "-Verify", "1", "-verify_return_error"];
    const run = async (drop: (dir: "c2s" | "s2c", index: number) => boolean) => {
      const { peer, port } = await sServer(args);
      const relay = await lossyRelay(port, drop);
      const session = await ourClient(relay.port, clientContext(pki));
      await withTimeout(connected(session), 15_000, "connect through relay");
      await echoThroughSServer(peer, session);
      return { ...relay.counts };
    };
    const clean = await run(() => false);
    // Handshake datagrams = all but the two carrying the echo.
    const counts = { c2s: clean.c2s - 1, s2c: clean.s2c - 1 };
    const recovered = { c2s: 0, s2c: 0 };
    for (const dir of ["c2s", "s2c"] as const) {
      for (let position = 0; position < counts[dir]; position++) {
        const seen = await run((d, i) => d === dir && i === position);
        expect(seen[dir]).toBeGreaterThan(clean[dir]); // something really was resent
        recovered[dir]++;
      }
    }
    console.log(`loss matrix vs openssl s_server: client->server ${recovered.c2s}/${counts.c2s}, server->client ${recovered.s2c}/${counts.s2c}`);
    expect(recovered).toEqual(counts);
  }, 60_000);
});

describe("our DTLS server against openssl s_client", () => {
  async function echoServer(context: DtlsContext) {
    const srv = await ourServer(context);
    const sessions: DtlsSession[] = [];
    const closes: (DtlsError | undefined)[] = [];
    srv.server.on("session", (s) => {
      sessions.push(s);
      s.on("data", (d) => s.send(Buffer.concat([Buffer.from("echo: "), d])));
      s.on("close", (r) => closes.push(r));
    });
    return { ...srv, sessions, closes };
  }

  it("with a client certificate: both sides verify, data echoes", async () => {
    const pki = labPki("ecdsa");
    const f = pkiFiles(pki);
    const srv = await echoServer(serverContext(pki));
    const client = sClient(srv.port, ["-cert", f.apCert, "-key", f.apKey, "-CAfile", f.ca, "-verify_return_error"]);
    await client.waitFor(/Verify return code: 0 \(ok\)/);
    const session = srv.sessions[0]!;
    await withTimeout(connected(session), 10_000, "connect");
    expect(session.peer?.subject).toBe(`CN=${pki.apName},O=vap lab`);
    client.write("Join Request\n");
    await client.waitFor(/echo: Join Request/);
    expect(client.output).toContain("depth=0 O = vap lab, CN = vap-controller");
  });

  it("PSK: s_client's identity reaches the server", async () => {
    const key = Buffer.from("00112233445566778899aabbccddeeff", "hex");
    const srv = await echoServer(new DtlsContext({ role: "server", psk: { hint: "vap-ac", keys: new Map([["ap-0001", key]]) } }));
    const client = sClient(srv.port, ["-psk", key.toString("hex"), "-psk_identity", "ap-0001", "-cipher", "PSK-AES128-CBC-SHA"]);
    await client.waitFor(/Cipher is PSK-AES128-CBC-SHA/);
    client.write("Join Request\n");
    await client.waitFor(/echo: Join Request/);
    expect(srv.sessions[0]?.peer?.pskIdentity).toBe("ap-0001");
  });

  it("refuses s_client without a certificate: typed error, no session left", async () => {
    const pki = labPki("ecdsa");
    const f = pkiFiles(pki);
    const srv = await echoServer(serverContext(pki));
    const client = sClient(srv.port, ["-CAfile", f.ca]);
    await client.waitFor(/alert|error/i);
    await withTimeout(
      (async () => {
        while (srv.closes.length === 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      10_000,
      "server refusal",
    );
    expect(srv.closes[0]?.code).toBe("DTLS_PEER_VERIFY");
    expect(srv.closes[0]?.message).toBe("DTLS peer verification failed: peer did not return a certificate");
    expect(srv.server.size).toBe(0);
  });
});

describe("our DTLS client against socat's OpenSSL DTLS server", () => {
  it("echoes through socat OPENSSL-DTLS-SERVER ... PIPE with mutual authentication", async () => {
    const pki = labPki("ecdsa");
    const f = pkiFiles(pki);
    const port = await freeUdpPort();
    const socat = spawn(requirePeer("socat"), [
      "-T", "10",
      `OPENSSL-DTLS-SERVER:${port},bind=127.0.0.1,cert=${f.cert},key=${f.key},cafile=${f.ca},verify=1`,
      "PIPE",
    ]);
    cleanups.push(async () => {
      if (socat.exitCode === null) {
        const exited = new Promise((r) => socat.once("exit", r));
        socat.kill();
        await exited;
      }
    });
    // socat says nothing when ready; a ClientHello sent too early is simply retransmitted.
    const session = await ourClient(port, clientContext(pki));
    await withTimeout(connected(session), 10_000, "connect");
    const back = nextData(session);
    session.send(Buffer.from("Echo Request"));
    expect(await back).toBe("Echo Request");
  });
});
