import { EventEmitter } from "node:events";
import { ConfigError, UsageError, type TimerHandle } from "../../core/index.js";
import { endpointKey } from "../../net/index.js";
import type { DtlsContext } from "./context.js";
import { addon, type NativeSession } from "./native.js";
import { addDtlsPreamble, stripDtlsPreamble } from "./preamble.js";
import { datagramMtu, DtlsSession, resolveTransport, type DtlsTransportOptions, type Transport } from "./session.js";

/**
 * Handshakes past the cookie exchange the server holds at once. Each one
 * costs about 57 KiB (an SSL object, its buffers, the flight kept for
 * retransmission), so the default bounds a flood of cookie-echoing peers
 * that go silent at about 14 MiB, while a controller's APs rejoining at once
 * handshake in turn.
 */
export const DEFAULT_MAX_HANDSHAKES = 256;

/**
 * How long the server keeps a handshake past the cookie exchange. A peer
 * that echoed the cookie answers our flight within a round trip; 10 s still
 * covers its flight being lost three times in a row (retransmitted after 1,
 * 2 and 4 s, RFC 6347 §4.2.4.1). The AP's own deadline stays WaitDTLS's 60 s.
 */
export const DEFAULT_HALF_OPEN_TIMEOUT_MS = 10_000;

export interface DtlsServerOptions extends Omit<DtlsTransportOptions, "handshakeTimeoutMs"> {
  /** A server-role context (certificate and/or PSK). */
  context: DtlsContext;
  /** Puts one datagram on the wire towards `address:port`; the socket belongs to the caller. */
  sendDatagram: (datagram: Uint8Array, address: string, port: number) => void;
  /** How often the cookie secret changes; a cookie stays valid for up to two periods. Default 60 s. */
  cookieRotateMs?: number;
  /**
   * Most handshakes in progress past the cookie exchange (half-open). At
   * the cap, a new one evicts the oldest if that one's peer has left our
   * flight unanswered for a retransmission timeout, or is refused. Default
   * DEFAULT_MAX_HANDSHAKES.
   */
  maxHandshakes?: number;
  /** Deadline of a handshake past the cookie exchange. Default DEFAULT_HALF_OPEN_TIMEOUT_MS. */
  halfOpenTimeoutMs?: number;
}

export interface DtlsServerEvents {
  /** A peer passed the cookie exchange and its handshake started; attach listeners here. */
  session: [session: DtlsSession];
}

/** What the server's handshake limits have done since it started. */
export interface DtlsServerStats {
  /** Handshakes in progress past the cookie exchange now. */
  halfOpen: number;
  /** Half-open handshakes dropped to admit a newer one (maxHandshakes reached, the oldest unanswered). */
  evicted: number;
  /** Valid cookie echoes turned away (maxHandshakes reached, every one answered recently); the peer retries. */
  refused: number;
  /** Half-open handshakes that did not finish within halfOpenTimeoutMs. */
  expired: number;
}

/* RFC 6347 §4.1 record header: type(1) version(2) epoch(2) seq(6) length(2); a handshake body starts with its type. */
function isEpochZero(record: Uint8Array): boolean {
  return record.length >= 13 && record[3] === 0 && record[4] === 0;
}

function isInitialClientHello(record: Uint8Array): boolean {
  return isEpochZero(record) && record.length > 13 && record[0] === 22 && record[13] === 1;
}

/**
 * The controller side: many DTLS sessions on one socket, keyed by the peer's
 * address and port. A ClientHello from an unknown peer goes to one shared
 * stateless listener that runs the cookie exchange (RFC 6347 §4.2.1); a
 * peer gets an SSL object only after echoing a valid cookie, so spoofed
 * ClientHellos cost no memory. Peers that echo the cookie and go silent
 * are bounded in number (maxHandshakes) and in lifetime (halfOpenTimeoutMs).
 *
 * At the cap, a new handshake evicts the oldest half-open one if that
 * one's peer has not answered our flight within the first retransmission
 * timeout (retransmitMs, 1 s by default), and is refused otherwise.
 * Eviction alone would let a join storm (hundreds of genuine APs
 * rebooting at once) evict genuine handshakes still in progress, and an
 * evicted AP only finds out at its 60 s WaitDTLS deadline; a refused one
 * retransmits its ClientHello a second later and gets in once handshakes
 * complete. Refusal alone would let anyone who keeps the cap full of
 * silent peers (25 cookie echoes a second at the defaults) lock every AP
 * out; with eviction of the stale ones, a flood must complete a whole
 * cap's worth of cookie exchanges within every retransmission timeout
 * (256 a second, each costing us a full first flight) before genuine
 * newcomers are turned away, and even then the handshakes already in
 * progress, and the connected sessions, are untouched.
 */
export class DtlsServer extends EventEmitter<DtlsServerEvents> {
  #context: DtlsContext;
  #transport: Transport;
  #sendDatagram: (datagram: Uint8Array, address: string, port: number) => void;
  #sessions = new Map<string, DtlsSession>();
  /** A new association handshaking from the address of an established one. */
  #replacements = new Map<string, DtlsSession>();
  /** Sessions past the cookie exchange, not yet connected, and when they got there; oldest first (a Map keeps insertion order). */
  #halfOpen = new Map<DtlsSession, number>();
  #maxHandshakes: number;
  #evicted = 0;
  #refused = 0;
  #expired = 0;
  #listener: NativeSession;
  #rotateMs: number;
  #rotation: TimerHandle | undefined;
  #closed = false;

  constructor(options: DtlsServerOptions) {
    super();
    if (options.context.role !== "server") throw new UsageError("DtlsServer needs a server DtlsContext");
    this.#context = options.context;
    const halfOpenTimeoutMs = options.halfOpenTimeoutMs ?? DEFAULT_HALF_OPEN_TIMEOUT_MS;
    if (!(halfOpenTimeoutMs > 0)) throw new ConfigError("DTLS halfOpenTimeoutMs must be positive");
    this.#transport = resolveTransport({ ...options, handshakeTimeoutMs: halfOpenTimeoutMs });
    this.#sendDatagram = options.sendDatagram;
    this.#rotateMs = options.cookieRotateMs ?? 60_000;
    if (!(this.#rotateMs > 0)) throw new ConfigError("DTLS cookieRotateMs must be positive");
    this.#maxHandshakes = options.maxHandshakes ?? DEFAULT_MAX_HANDSHAKES;
    if (!Number.isInteger(this.#maxHandshakes) || this.#maxHandshakes < 1) throw new ConfigError("DTLS maxHandshakes must be a positive integer");
    this.#listener = this.#newListener();
    this.#scheduleRotation();
  }

  /** A datagram from `address:port` (with the CAPWAP preamble when framing is "capwap"). */
  receive(datagram: Uint8Array, address: string, port: number): void {
    if (this.#closed) return;
    const record = this.#transport.capwap ? stripDtlsPreamble(datagram) : datagram;
    if (!record || record.length === 0) return;
    const peer = { address, port };
    const key = endpointKey(peer);
    const current = this.#sessions.get(key);
    const replacement = this.#replacements.get(key);
    if (replacement) {
      // Two associations share the address while the new one handshakes.
      // Epoch 0 can only be the new handshake; later epochs go to both and
      // each silently drops the records it cannot authenticate (OpenSSL
      // buffers at most 100 early records, for at most the handshake deadline).
      replacement.receiveRecord(record);
      if (!isEpochZero(record)) current?.receiveRecord(record);
      return;
    }
    if (current && !(current.state === "connected" && isInitialClientHello(record))) {
      current.receiveRecord(record);
      return;
    }
    // The peer's session is this listener from here on if the cookie is good: size its datagrams for the peer's family.
    this.#listener.setMtu(datagramMtu(this.#transport, address));
    const stale = this.#staleHandshakeToEvict();
    const admit = this.#halfOpen.size < this.#maxHandshakes || stale !== undefined;
    const result = this.#listener.listen(record, key, admit);
    if (!result.accepted) {
      for (const d of result.out ?? []) this.#sendDatagram(this.#transport.capwap ? addDtlsPreamble(d) : d, address, port);
      return;
    }
    const native = this.#listener;
    this.#listener = this.#newListener();
    if (!admit) {
      this.#refused++;
      native.close();
      return;
    }
    if (stale) this.#evict(stale);
    const session = new DtlsSession(native, this.#context, this.#transport, (d) => this.#sendDatagram(d, address, port), peer);
    this.#admitHalfOpen(session);
    if (current) this.#admitReplacement(key, session);
    else this.#sessions.set(key, session);
    session.once("close", () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
      if (this.#replacements.get(key) === session) this.#replacements.delete(key);
    });
    this.emit("session", session);
    session.apply(result);
  }

  /** At the cap: the oldest half-open handshake, if its peer has let a retransmission timeout pass. */
  #staleHandshakeToEvict(): DtlsSession | undefined {
    if (this.#halfOpen.size < this.#maxHandshakes) return undefined;
    const [oldest, since] = this.#halfOpen.entries().next().value!;
    return this.#transport.clock.now() - since >= this.#transport.retransmitMs ? oldest : undefined;
  }

  #evict(session: DtlsSession): void {
    this.#halfOpen.delete(session);
    this.#evicted++;
    session.evicted(this.#maxHandshakes);
  }

  #admitHalfOpen(session: DtlsSession): void {
    this.#halfOpen.set(session, this.#transport.clock.now());
    session.once("connected", () => this.#halfOpen.delete(session));
    session.once("close", (reason) => {
      if (this.#halfOpen.delete(session) && reason?.code === "DTLS_HANDSHAKE_TIMEOUT") this.#expired++;
    });
  }

  /*
   * RFC 6347 §4.2.8: a fresh ClientHello on an established association may
   * be a restarted peer, or a replay. The new handshake runs beside the old
   * association, which is abandoned only when the new one completes (a
   * verified Finished); a replayed ClientHello can thus never tear down a
   * working session.
   */
  #admitReplacement(key: string, session: DtlsSession): void {
    this.#replacements.set(key, session);
    session.once("connected", () => {
      this.#replacements.delete(key);
      const old = this.#sessions.get(key);
      this.#sessions.set(key, session);
      old?.replaced();
    });
  }

  /** The session with `address:port`, if any. */
  session(address: string, port: number): DtlsSession | undefined {
    return this.#sessions.get(endpointKey({ address, port }));
  }

  /** Sessions handshaking or connected. */
  get size(): number {
    return this.#sessions.size + this.#replacements.size;
  }

  get stats(): DtlsServerStats {
    return { halfOpen: this.#halfOpen.size, evicted: this.#evicted, refused: this.#refused, expired: this.#expired };
  }

  /** Close every session (close_notify to the connected ones) and stop. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rotation?.cancel();
    for (const s of [...this.#sessions.values(), ...this.#replacements.values()]) s.close();
    this.#listener.close();
  }

  #newListener(): NativeSession {
    return new addon.Session(this.#context.native, { mtu: datagramMtu(this.#transport), retransmitMs: this.#transport.retransmitMs });
  }

  #scheduleRotation(): void {
    this.#rotation = this.#transport.clock.setTimer("dtls-cookie-rotate", this.#rotateMs, () => {
      this.#context.native.rotateCookieSecret();
      this.#scheduleRotation();
    });
  }
}
