import { EventEmitter } from "node:events";
import { ConfigError, systemClock, UsageError, type Clock, type TimerHandle } from "../../core/index.js";
import { DEFAULT_LINK_MTU, type Endpoint, endpointKey, ipUdpOverhead, IPV6_UDP_OVERHEAD } from "../../net/index.js";
import type { DtlsContext } from "./context.js";
import { DtlsError } from "./errors.js";
import type { KeylogSink } from "./keylog.js";
import { addon, NativeState, type NativeResult, type NativeSession } from "./native.js";
import { addDtlsPreamble, stripDtlsPreamble } from "./preamble.js";

/** Timing, MTU and framing, shared by client sessions and a server's sessions. */
export interface DtlsTransportOptions {
  /** Drives the retransmission timer and the handshake deadline. Default: system clock. */
  clock?: Clock;
  /**
   * "capwap" (default): every datagram carries the CAPWAP DTLS preamble
   * (RFC 5415 §4.2) and received datagrams without it are ignored.
   * "none": plain DTLS, for talking to generic DTLS peers.
   */
  framing?: "capwap" | "none";
  /** Handshake deadline. Default 60 s, RFC 5415 §4.7 WaitDTLS. */
  handshakeTimeoutMs?: number;
  /** First retransmission timeout, doubled on each retry up to 60 s. Default 1 s, RFC 6347 §4.2.4.1. */
  retransmitMs?: number;
  /**
   * MTU of the link; DTLS datagrams are sized to fit it with the IP and UDP
   * headers of the peer's address family. Default 1500.
   */
  linkMtu?: number;
}

export interface DtlsClientOptions extends DtlsTransportOptions {
  context: DtlsContext;
  /** The server's IP address, for its family's header size (IPv4 28 bytes, IPv6 48). Default: IPv6's, the larger. */
  peerAddress?: string;
  /** Puts one datagram on the wire; the UDP socket belongs to the caller. */
  sendDatagram: (datagram: Uint8Array) => void;
}

/** The authenticated peer, known once the session is connected. */
export interface DtlsPeerInfo {
  /** "DTLSv1.2" or "DTLSv1". */
  version: string;
  /** Negotiated suite, OpenSSL name (e.g. "AES128-SHA"). */
  cipher: string;
  /** Negotiated suite, IANA name (e.g. "TLS_RSA_WITH_AES_128_CBC_SHA"). */
  cipherStandardName: string;
  /** Verified peer certificate's subject, RFC 2253 (e.g. "CN=C9120AXI-188b45005ee8,O=vap lab"). */
  subject?: string;
  issuer?: string;
  /** SHA-256 of the peer certificate, "AB:CD:…" (the format `pinnedFingerprint` takes). */
  fingerprint256?: string;
  /** PSK identity the client presented (server side, PSK suites). */
  pskIdentity?: string;
}

export type DtlsSessionState = "handshaking" | "connected" | "closed";

export interface DtlsSessionEvents {
  connected: [peer: DtlsPeerInfo];
  data: [payload: Uint8Array];
  /**
   * Emitted only if someone listens (so a failure never throws out of
   * receive()); the same error also arrives with "close".
   */
  error: [err: DtlsError];
  /**
   * Exactly once. `reason` is undefined after a local close(); its code is
   * DTLS_CLOSED when the peer said goodbye (close_notify, or on a server a
   * new association replaced this one), any other code for a failure.
   */
  close: [reason: DtlsError | undefined];
}

/** RFC 5415 §4.2: the CAPWAP DTLS header before each record. */
const CAPWAP_DTLS_PREAMBLE = 4;
/** RFC 6347 §4.1: a record carries at most 2^14 bytes of plaintext. */
const MAX_PLAINTEXT = 16384;

/** @internal Resolved DtlsTransportOptions. */
export interface Transport {
  clock: Clock;
  capwap: boolean;
  handshakeTimeoutMs: number;
  retransmitMs: number;
  linkMtu: number;
}

/** @internal The largest DTLS datagram toward `peerAddress` (what OpenSSL calls the MTU); unknown peer: the IPv6 worst case. */
export function datagramMtu(t: Transport, peerAddress?: string): number {
  const ipUdp = peerAddress === undefined ? IPV6_UDP_OVERHEAD : ipUdpOverhead(peerAddress);
  return t.linkMtu - ipUdp - (t.capwap ? CAPWAP_DTLS_PREAMBLE : 0);
}

/** @internal */
export function resolveTransport(o: DtlsTransportOptions): Transport {
  const capwap = (o.framing ?? "capwap") === "capwap";
  const linkMtu = o.linkMtu ?? DEFAULT_LINK_MTU;
  const handshakeTimeoutMs = o.handshakeTimeoutMs ?? 60_000;
  const retransmitMs = o.retransmitMs ?? 1000;
  if (!Number.isInteger(linkMtu) || linkMtu < 576 || linkMtu > 65535) throw new ConfigError(`DTLS linkMtu ${linkMtu} outside 576..65535`);
  if (!(handshakeTimeoutMs > 0)) throw new ConfigError("DTLS handshakeTimeoutMs must be positive");
  if (!Number.isInteger(retransmitMs) || retransmitMs < 1 || retransmitMs > 60_000) throw new ConfigError("DTLS retransmitMs must be 1..60000");
  return {
    clock: o.clock ?? systemClock,
    capwap,
    handshakeTimeoutMs,
    retransmitMs,
    linkMtu,
  };
}

/**
 * One DTLS association over a datagram transport the caller owns: feed it
 * what arrives with receive(), it calls sendDatagram for what must leave.
 * Retransmission follows OpenSSL's DTLS timer, scheduled on the Clock.
 * Garbage, truncated, forged or replayed records are dropped silently (RFC
 * 6347 §4.1.2.7), by OpenSSL's record layer or, where OpenSSL 3.0 would end
 * the session instead, by the addon before it, and never throw out of
 * receive() (see discardedRecords for the ones counted).
 */
export class DtlsSession extends EventEmitter<DtlsSessionEvents> {
  /** The peer's address and port for sessions a DtlsServer made; undefined for clients. */
  readonly endpoint: Endpoint | undefined;
  /** The same as "address:port" (endpointKey), the server's key for the session. */
  readonly remote: string | undefined;
  #native: NativeSession;
  #transport: Transport;
  #sendDatagram: (datagram: Uint8Array) => void;
  #keylog: KeylogSink | undefined;
  #state: DtlsSessionState = "handshaking";
  #peer: DtlsPeerInfo | undefined;
  #maxPayload = 0;
  #discardedRecords = 0;
  #retransmit: TimerHandle | undefined;
  #deadline: TimerHandle | undefined;

  /** @internal Use DtlsSession.connect() or DtlsServer. */
  constructor(
    native: NativeSession,
    context: DtlsContext,
    transport: Transport,
    sendDatagram: (datagram: Uint8Array) => void,
    endpoint?: Endpoint,
  ) {
    super();
    this.#native = native;
    this.#transport = transport;
    this.#sendDatagram = sendDatagram;
    this.#keylog = context.keylog;
    this.endpoint = endpoint;
    this.remote = endpoint && endpointKey(endpoint);
    this.#deadline = transport.clock.setTimer("dtls-handshake-deadline", transport.handshakeTimeoutMs, () => {
      this.#deadline = undefined;
      this.#end(new DtlsError("DTLS_HANDSHAKE_TIMEOUT", `DTLS handshake did not complete within ${transport.handshakeTimeoutMs} ms`));
    });
  }

  /** Start a client handshake (the AP side); the ClientHello leaves before this returns. */
  static connect(options: DtlsClientOptions): DtlsSession {
    if (options.context.role !== "client") throw new UsageError("DtlsSession.connect needs a client DtlsContext");
    const transport = resolveTransport(options);
    const native = new addon.Session(options.context.native, { mtu: datagramMtu(transport, options.peerAddress), retransmitMs: transport.retransmitMs });
    const session = new DtlsSession(native, options.context, transport, options.sendDatagram);
    const first = native.start();
    if (first.state === NativeState.Failed) {
      // Nothing has reached a peer yet: a failure here is our configuration.
      session.#cancelTimers();
      native.close();
      throw new ConfigError(`DTLS client cannot start: ${first.error?.reason ?? "unknown"}`);
    }
    session.apply(first);
    return session;
  }

  get state(): DtlsSessionState {
    return this.#state;
  }

  /** The authenticated peer; set from "connected" on, kept after close. */
  get peer(): DtlsPeerInfo | undefined {
    return this.#peer;
  }

  /**
   * Largest payload send() fits in one datagram: OpenSSL's data MTU for the
   * negotiated suite, from the link MTU less the peer family's IP and UDP
   * headers and the preamble (0 until connected).
   */
  get maxPayload(): number {
    return this.#maxPayload;
  }

  /**
   * Received records silently discarded (RFC 6347 §4.1.2.7): protected
   * records too short for the negotiated suite, and, once connected,
   * application-data records OpenSSL could not authenticate (forged,
   * corrupted, replayed or outside the replay window). A count that climbs
   * on a quiet session means someone is sending forged records.
   */
  get discardedRecords(): number {
    return this.#discardedRecords;
  }

  /** A datagram from the peer (with the CAPWAP preamble when framing is "capwap"). */
  receive(datagram: Uint8Array): void {
    const record = this.#transport.capwap ? stripDtlsPreamble(datagram) : datagram;
    if (record && record.length > 0) this.receiveRecord(record);
  }

  /** @internal A datagram whose CAPWAP preamble is already off (the DtlsServer strips it once for every session it offers it to). */
  receiveRecord(record: Uint8Array): void {
    if (this.#state === "closed") return;
    this.apply(this.#native.feed(record));
  }

  /** Send application data (one DTLS record). */
  send(data: Uint8Array): void {
    if (this.#state === "closed") throw new DtlsError("DTLS_CLOSED", "DTLS session is closed");
    if (this.#state !== "connected") throw new UsageError("DTLS send() before the handshake completed");
    if (data.length > MAX_PLAINTEXT) throw new UsageError(`DTLS record payload ${data.length} > ${MAX_PLAINTEXT} bytes`);
    this.apply(this.#native.write(data));
  }

  /** Close: a close_notify alert if connected, then the SSL object is freed. */
  close(): void {
    this.#end(undefined);
  }

  /** @internal Act on what the addon did: transmit, emit, re-arm timers. */
  apply(r: NativeResult): void {
    if (this.#state === "closed") return;
    if (r.discarded) this.#discardedRecords += r.discarded;
    if (r.keylog && this.#keylog) for (const line of r.keylog) this.#keylog(line);
    if (r.out) for (const datagram of r.out) this.#transmit(datagram);
    if (r.state === NativeState.Connected && this.#state === "handshaking") this.#connected();
    if (r.data) {
      for (const payload of r.data) {
        if (this.#state !== "connected") break;
        this.emit("data", payload);
      }
    }
    // A listener may have closed the session while we emitted.
    if (this.#isClosed()) return;
    if (r.state === NativeState.PeerClosed) {
      this.#end(new DtlsError("DTLS_CLOSED", "DTLS peer closed the session (close_notify)"));
    } else if (r.state === NativeState.Failed) {
      this.#end(DtlsError.fromNative(r.error ?? { kind: "protocol", reason: "unknown failure" }));
    } else {
      this.#armRetransmit(r.timer);
    }
  }

  /** @internal Close because the peer started a new association (RFC 6347 §4.2.8). */
  replaced(): void {
    this.#end(new DtlsError("DTLS_CLOSED", "DTLS peer started a new handshake; old session dropped"), false);
  }

  /** @internal Close a handshake the server dropped to admit a newer one (its cap on half-open handshakes). */
  evicted(maxHandshakes: number): void {
    this.#end(
      new DtlsError("DTLS_HANDSHAKE_EVICTED", `DTLS handshake evicted: the server holds at most ${maxHandshakes} handshakes in progress and this peer's was the oldest, unanswered`),
      false,
    );
  }

  #isClosed(): boolean {
    return this.#state === "closed";
  }

  #transmit(datagram: Uint8Array): void {
    this.#sendDatagram(this.#transport.capwap ? addDtlsPreamble(datagram) : datagram);
  }

  #connected(): void {
    this.#state = "connected";
    this.#cancelTimers();
    // The addon reports a peer whenever its state is Connected.
    const { dataMtu, ...peer } = this.#native.peer()!;
    this.#maxPayload = dataMtu;
    this.#peer = peer;
    this.emit("connected", peer);
  }

  /*
   * OpenSSL owns the retransmission schedule and checks expiry against wall
   * time; the Clock only decides when to ask it. If asked early (a
   * ManualClock running ahead of real time), OpenSSL declines and reports
   * the time left, and the timer is simply re-armed.
   */
  #armRetransmit(ms: number): void {
    this.#retransmit?.cancel();
    this.#retransmit = undefined;
    if (this.#state !== "handshaking" || ms < 0) return;
    this.#retransmit = this.#transport.clock.setTimer("dtls-retransmit", ms, () => {
      this.#retransmit = undefined;
      if (this.#state === "handshaking") this.apply(this.#native.timeout());
    });
  }

  #cancelTimers(): void {
    this.#retransmit?.cancel();
    this.#deadline?.cancel();
    this.#retransmit = this.#deadline = undefined;
  }

  #end(reason: DtlsError | undefined, notifyPeer = true): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#cancelTimers();
    const last = this.#native.close();
    if (notifyPeer && last.out) for (const datagram of last.out) this.#transmit(datagram);
    if (reason && reason.code !== "DTLS_CLOSED" && this.listenerCount("error") > 0) this.emit("error", reason);
    this.emit("close", reason);
  }
}
