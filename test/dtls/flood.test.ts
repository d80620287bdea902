import { createSocket, type Socket } from "node:dgram";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_HALF_OPEN_TIMEOUT_MS,
  DEFAULT_MAX_HANDSHAKES,
  DtlsServer,
  DtlsSession,
  type DtlsContext,
  type DtlsError,
  type DtlsServerStats,
} from "../../agent/capwap/dtls/index.js";
import { addon } from "../../agent/capwap/dtls/native.js";
import { ManualClock } from "../../agent/core/index.js";
import { clientContext, connected, labPki, nextData, serverContext, udpClient, udpServer, withTimeout } from "./support.js";

/**
 * Issue 10.2: peers that echo the cookie and go silent each hold an SSL
 * object on the server (about 57 KiB); without a cap and a short deadline
 * 3,000 of them held about 170 MB for 60 s.
 */

/**
 * One flooding peer over real UDP: a real ClientHello, the cookie echoed
 * from a real client context, and silence once the server has dealt with
 * the echo (admitted it, evicting a stale handshake or not, or refused
 * it). Its socket stays bound until `silentPeers` are closed, so that no
 * later flooder gets the same port from the OS and lands on an earlier
 * handshake.
 */
async function echoCookieAndGoSilent(srv: { server: DtlsServer; port: number }, context: DtlsContext, silentPeers: Socket[]): Promise<void> {
  const socket = createSocket("udp4");
  silentPeers.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const dealtWith = echoesDealtWith(srv.server.stats);
  const client = DtlsSession.connect({ context, sendDatagram: (d) => socket.send(d, srv.port, "127.0.0.1"), clock: new ManualClock() });
  // The HelloVerifyRequest makes the client echo the cookie; what the server sends after that is not fed to it,
  // or it would finish the handshake.
  socket.once("message", (msg) => client.receive(msg));
  try {
    await until(() => echoesDealtWith(srv.server.stats) > dealtWith, "the server dealing with the cookie echo");
  } finally {
    client.close();
  }
}

/** Every valid cookie echo ends up admitted (half-open, later evicted or expired) or refused. */
function echoesDealtWith(s: DtlsServerStats): number {
  return s.halfOpen + s.evicted + s.refused + s.expired;
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function closeAll(sockets: Socket[]): Promise<void> {
  await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
}

async function roundTrip(ap: DtlsSession, controller: DtlsSession, text: string): Promise<void> {
  const atController = nextData(controller);
  ap.send(Buffer.from(text));
  expect(await atController).toBe(text);
  const atAp = nextData(ap);
  controller.send(Buffer.from(text));
  expect(await atAp).toBe(text);
}

/** The server's first retransmission timeout: a half-open handshake unanswered for this long may be evicted. */
const RETRANSMIT_MS = 1000;

describe("DtlsServer under a flood of half-open handshakes", () => {
  it(`holds at most ${DEFAULT_MAX_HANDSHAKES} (the default), evicting the oldest unanswered ones, while a connected AP keeps working`, async () => {
    const pki = labPki("ecdsa");
    const clock = new ManualClock();
    const srv = await udpServer({ context: serverContext(pki), clock });
    const ap = await udpClient(srv.port, { context: clientContext(pki) });
    const evictions: DtlsError[] = [];
    const silentPeers: Socket[] = [];
    try {
      const controllerSide = new Promise<DtlsSession>((resolve) => srv.server.once("session", resolve));
      await withTimeout(connected(ap.session), 10_000, "AP connect");
      const controller = await controllerSide;
      srv.server.on("session", (s) => s.on("close", (reason) => reason?.code === "DTLS_HANDSHAKE_EVICTED" && evictions.push(reason)));
      const sslBefore = addon.liveSessions();

      const flood = 2 * DEFAULT_MAX_HANDSHAKES + 100;
      const flooder = clientContext(pki);
      for (let i = 0; i < flood; i++) {
        await echoCookieAndGoSilent(srv, flooder, silentPeers);
        // Each cap's worth of silent peers has left the server's flight unanswered for a retransmission timeout
        // by the time the next arrives.
        if (i % DEFAULT_MAX_HANDSHAKES === DEFAULT_MAX_HANDSHAKES - 1) clock.advance(RETRANSMIT_MS);
        if (i % 100 === 99) await roundTrip(ap.session, controller, `during the flood, after ${i + 1}`);
      }

      expect(srv.server.stats).toEqual({ halfOpen: DEFAULT_MAX_HANDSHAKES, evicted: flood - DEFAULT_MAX_HANDSHAKES, refused: 0, expired: 0 });
      expect(srv.server.size).toBe(1 + DEFAULT_MAX_HANDSHAKES);
      // The flooders' own SSL objects are closed: what is left is the server's, bounded by the cap.
      expect(addon.liveSessions() - sslBefore).toBe(DEFAULT_MAX_HANDSHAKES);
      expect(evictions).toHaveLength(flood - DEFAULT_MAX_HANDSHAKES);
      expect(evictions[0]!.message).toBe(
        `DTLS handshake evicted: the server holds at most ${DEFAULT_MAX_HANDSHAKES} handshakes in progress and this peer's was the oldest, unanswered`,
      );
      expect(controller.state).toBe("connected");
      expect(srv.server.session(controller.endpoint!.address, controller.endpoint!.port)).toBe(controller);
      await roundTrip(ap.session, controller, "after the flood");
    } finally {
      await closeAll(silentPeers);
      await ap.close();
      await srv.close();
    }
  });

  it("at the cap, refuses newcomers while every handshake is younger than a retransmission timeout; the AP's retransmission gets in", async () => {
    const pki = labPki("ecdsa");
    const clock = new ManualClock();
    const srv = await udpServer({ context: serverContext(pki), clock, maxHandshakes: 8 });
    const flooder = clientContext(pki);
    const silentPeers: Socket[] = [];
    try {
      for (let i = 0; i < 9; i++) await echoCookieAndGoSilent(srv, flooder, silentPeers);
      expect(srv.server.stats).toEqual({ halfOpen: 8, evicted: 0, refused: 1, expired: 0 });
      expect(srv.server.size).toBe(8);

      // A genuine AP in a join storm: refused, so it retransmits its ClientHello (after 50 ms here) ...
      const ap = await udpClient(srv.port, { context: clientContext(pki), retransmitMs: 50 });
      try {
        await until(() => srv.server.stats.refused === 2, "the AP's refusal");
        // ... and by then the oldest flooder has left the server's flight unanswered for a retransmission timeout.
        clock.advance(RETRANSMIT_MS);
        await withTimeout(connected(ap.session), 10_000, "AP connect at the cap");
        // A slow poll may let one more retransmission be refused before the clock moves.
        const { refused, ...rest } = srv.server.stats;
        expect(rest).toEqual({ halfOpen: 7, evicted: 1, expired: 0 });
        expect(refused).toBeGreaterThanOrEqual(2);
      } finally {
        await ap.close();
      }
    } finally {
      await closeAll(silentPeers);
      await srv.close();
    }
  });

  it(`ends a half-open handshake after ${DEFAULT_HALF_OPEN_TIMEOUT_MS} ms (the default), long before WaitDTLS's 60 s`, async () => {
    const pki = labPki("ecdsa");
    const clock = new ManualClock();
    const toClient: Uint8Array[] = [];
    const server = new DtlsServer({ context: serverContext(pki), sendDatagram: (d) => toClient.push(d), clock });
    const toServer: Uint8Array[] = [];
    const client = DtlsSession.connect({ context: clientContext(pki), sendDatagram: (d) => toServer.push(d), clock: new ManualClock() });
    try {
      server.receive(toServer[0]!, "198.51.100.3", 4000);
      client.receive(toClient[0]!);
      server.receive(toServer[1]!, "198.51.100.3", 4000); // cookie echoed; then silence
      expect(server.stats).toEqual({ halfOpen: 1, evicted: 0, refused: 0, expired: 0 });
      const closed = new Promise<DtlsError | undefined>((r) => server.session("198.51.100.3", 4000)!.once("close", r));
      clock.advance(DEFAULT_HALF_OPEN_TIMEOUT_MS - 1);
      expect(server.stats.halfOpen).toBe(1);
      clock.advance(1);
      expect(server.stats).toEqual({ halfOpen: 0, evicted: 0, refused: 0, expired: 1 });
      expect(server.size).toBe(0);
      expect((await closed)?.code).toBe("DTLS_HANDSHAKE_TIMEOUT");
    } finally {
      client.close();
      server.close();
    }
  });

  it("refuses a maxHandshakes that is not a positive integer", () => {
    const context = serverContext(labPki("ecdsa"));
    for (const maxHandshakes of [0, -1, 1.5]) {
      expect(() => new DtlsServer({ context, sendDatagram: () => {}, clock: new ManualClock(), maxHandshakes })).toThrow(
        "DTLS maxHandshakes must be a positive integer",
      );
    }
  });
});
