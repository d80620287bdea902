import { EventEmitter } from "node:events";
import { ConfigError, UsageError, type TimerHandle } from "../../core/index.js";
import { endpointKey } from "../../net/index.js";
import type { DtlsContext } from "./context.js";
import { addon, type NativeSession } from "./native.js";
import { addDtlsPreamble, stripDtlsPreamble } from "./preamble.js";
import { datagramMtu, DtlsSession, resolveTransport, type DtlsTransportOptions, type Transport } from "./session.js";

export interface DtlsServerOptions extends DtlsTransportOptions {
  /** A server-role context (certificate and/or PSK). */
  context: DtlsContext;
  /** Puts one datagram on the wire towards `address:port`; the socket belongs to the caller. */
  sendDatagram: (datagram: Uint8Array, address: string, port: number) => void;
  /** How often the cookie secret changes; a cookie stays valid for up to two periods. Default 60 s. */
  cookieRotateMs?: number;
}

export interface DtlsServerEvents {
  /** A peer passed the cookie exchange and its handshake started; attach listeners here. */
  session: [session: DtlsSession];
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
 * ClientHellos cost no memory.
 */
export class DtlsServer extends EventEmitter<DtlsServerEvents> {
  #context: DtlsContext;
  #transport: Transport;
  #sendDatagram: (datagram: Uint8Array, address: string, port: number) => void;
  #sessions = new Map<string, DtlsSession>();
  /** A new association handshaking from the address of an established one. */
  #replacements = new Map<string, DtlsSession>();
  #listener: NativeSession;
  #rotateMs: number;
  #rotation: TimerHandle | undefined;
  #closed = false;

  constructor(options: DtlsServerOptions) {
    super();
    if (options.context.role !== "server") throw new UsageError("DtlsServer needs a server DtlsContext");
    this.#context = options.context;
    this.#transport = resolveTransport(options);
    this.#sendDatagram = options.sendDatagram;
    this.#rotateMs = options.cookieRotateMs ?? 60_000;
    if (!(this.#rotateMs > 0)) throw new ConfigError("DTLS cookieRotateMs must be positive");
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
    const result = this.#listener.listen(record, key);
    if (!result.accepted) {
      for (const d of result.out ?? []) this.#sendDatagram(this.#transport.capwap ? addDtlsPreamble(d) : d, address, port);
      return;
    }
    const native = this.#listener;
    this.#listener = this.#newListener();
    const session = new DtlsSession(native, this.#context, this.#transport, (d) => this.#sendDatagram(d, address, port), peer);
    if (current) this.#admitReplacement(key, session);
    else this.#sessions.set(key, session);
    session.once("close", () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
      if (this.#replacements.get(key) === session) this.#replacements.delete(key);
    });
    this.emit("session", session);
    session.apply(result);
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
