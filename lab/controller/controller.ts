/**
 * The lab controller: a CAPWAP AC (RFC 5415 §2.3 AC side) on the same codec,
 * profiles and DTLS addon as the AP, small enough to read in one sitting. It
 * answers discovery, admits APs over DTLS (verifying their certificates),
 * walks each through Join, Configure and Data Check to Run, answers echoes
 * and keep-alives, and sends Configuration Update and Reset on demand. It
 * keeps a table of APs and tells its owner (tests, `vap lab`) what happens.
 */
import { EventEmitter } from "node:events";
import {
  AcSecurity,
  CapwapDecodeError,
  decodeControlPacket,
  decodeDataPacket,
  DTLS_PREAMBLE_BYTE,
  encodeControlPacket,
  encodeDataKeepAlive,
  isRequest,
  MessageType,
  messageTypeName,
  ResultCode,
  resultCodeName,
  toHex,
} from "../../agent/capwap/codec/index.js";
import { ControlChannel, maxControlPacket } from "../../agent/capwap/channel/index.js";
import type { ImageLibrary } from "./image-library.js";
import { ImageSender } from "./image-sender.js";
import { type DtlsContext, DtlsServer, type DtlsSession } from "../../agent/capwap/dtls/index.js";
import { type AcInfo, type Element, findElement, type Message, PredownloadState, profiles, type ProfileName, type RadioInfo, type VendorProfile, type WtpSummary } from "../../agent/capwap/profiles/index.js";
import { ConfigError, describeError, silentLog, systemClock, type Clock, type Log, type TimerHandle } from "../../agent/core/index.js";
import { bindUdp, type DatagramSocket, type Endpoint, endpointKey } from "../../agent/net/index.js";
import { MAX_IMAGE_WINDOW, RFC5415_TIMERS } from "../../agent/config/index.js";

export type ApPhase = "DTLS Setup" | "Join" | "Configure" | "Data Check" | "Run";

/** One row of `show ap summary`. */
export interface ApRecord {
  /** Control channel peer, "address:port". */
  key: string;
  address: string;
  port: number;
  phase: ApPhase;
  name?: string;
  model?: string;
  serial?: string;
  baseMac?: string;
  softwareVersion?: string;
  /** Certificate subject the AP authenticated with. */
  certificateSubject?: string;
  imageWindow: number;
  joinedAt?: number;
  runSince?: number;
  echoes: number;
  /** The AP's latest image download, if any. */
  download?: DownloadRecord;
}

export type DownloadState = "queued" | "downloading" | "complete" | "failed";

export interface DownloadRecord {
  /** The image name asked for (the AP's class). */
  name: string;
  /** Predownload of this version (ordered in Run), or a download after join. */
  predownload?: string;
  state: DownloadState;
  size: number;
  bytes: number;
  window: number;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
}

export interface LabControllerEvents {
  /** An AP's phase changed. */
  phase: [ap: ApRecord];
  /** An AP reached Run. */
  run: [ap: ApRecord];
  /** An AP's session ended (DTLS closed, timeout, reset). */
  leave: [ap: ApRecord, reason: string];
  /** An AP's image download changed state (join-time or predownload). */
  download: [ap: ApRecord];
}

export interface LabControllerOptions {
  profile: ProfileName;
  control: DatagramSocket;
  data: DatagramSocket;
  /** Server DTLS context; "plaintext" only for debugging with APs that have DTLS off. */
  dtls: DtlsContext | "plaintext";
  name?: string;
  softwareVersion?: string;
  /** Image Data window handed out at join, per AP (seed: the AP profile's "capwap window size"). */
  imageWindow?: (ap: WtpSummary) => number;
  /** Result Code for a Join Request (tests: refuse joins). Default Success. */
  admit?: (ap: WtpSummary) => number;
  /** Echo interval sent to APs in CAPWAP Timers, seconds. */
  echoIntervalSeconds?: number;
  retransmitIntervalMs?: number;
  maxRetransmit?: number;
  clock?: Clock;
  log?: Log;
  /** Plaintext CAPWAP packets in and out, for captures. */
  capture?: (timeMs: number, from: Endpoint, to: Endpoint, packet: Uint8Array) => void;
  /**
   * Fault injection, to test how APs recover: drop the n-th transmission of a
   * response (1-based, counted per request type and per AP, resends from the
   * response cache included; discovery and data keep-alives too) as if lost
   * on the wire.
   */
  dropResponse?: (requestType: number, nth: number) => boolean;
  /** The images to serve, by the name APs ask for (`bundleLibrary(dir)`). */
  images?: ImageLibrary;
  /** Image transfers at once; APs beyond wait their turn. Default 100. */
  maxConcurrentDownloads?: number;
  /** Fault injection: corrupt block `index` of the image going to `ap` (after its checksum). */
  corruptBlock?: (ap: string, index: number) => boolean;
  /** Fault injection: announce a wrong MD5 for the image going to `ap`. */
  corruptMd5?: (ap: string) => boolean;
}

/**
 * What a controller does when its options say nothing: RFC 5415 §4.7's
 * EchoInterval, RetransmitInterval and MaxRetransmit (the AP's defaults too),
 * the name and version it advertises, the window it offers (stop-and-wait,
 * Cisco's default) and how many image transfers run at once.
 */
export const CONTROLLER_DEFAULTS: Required<Pick<LabControllerOptions, "name" | "softwareVersion" | "echoIntervalSeconds" | "retransmitIntervalMs" | "maxRetransmit" | "imageWindow" | "maxConcurrentDownloads">> = {
  name: "vap-lab-wlc",
  softwareVersion: "17.9.4.27",
  echoIntervalSeconds: RFC5415_TIMERS.echoIntervalMs / 1000,
  retransmitIntervalMs: RFC5415_TIMERS.retransmitIntervalMs,
  maxRetransmit: RFC5415_TIMERS.maxRetransmit,
  imageWindow: () => 1,
  maxConcurrentDownloads: 100,
};

/** The options with every default filled in. */
type ResolvedOptions = LabControllerOptions & typeof CONTROLLER_DEFAULTS & { clock: Clock; log: Log };

/** Message type used for data-channel keep-alives in `dropResponse` (not a CAPWAP message type). */
export const KEEP_ALIVE = -1;

/** RFC 5415 §3.1: the AC's control and data ports. */
const CONTROL_PORT = 5246;
const DATA_PORT = 5247;

/** A controller on an address of its own; listen() binds its two sockets there. */
export interface LabControllerListenOptions extends Omit<LabControllerOptions, "control" | "data"> {
  /** Control channel on 5246, data channel on 5247. */
  address: string;
}

/** Binds one of the controller's sockets: Node UDP by default, an in-memory network in tests. */
export type ControllerSocketBinder<S extends DatagramSocket | Promise<DatagramSocket>> = (address: string, port: number) => S;

/** 4 MiB of kernel receive buffer: a thousand APs' discovery and handshake bursts fit without drops. */
const udpSocket: ControllerSocketBinder<Promise<DatagramSocket>> = (address, port) => bindUdp({ address, port, receiveBufferBytes: 4 * 1024 * 1024 });

export class LabController extends EventEmitter<LabControllerEvents> {
  readonly profile: VendorProfile;
  readonly #o: ResolvedOptions;
  readonly #sessions = new Map<string, ApSession>();
  /** Joined sessions by Session ID (hex), for the data channel's keep-alives. */
  readonly #bySessionId = new Map<string, ApSession>();
  /** Sessions in Run, for the Active WTPs every AC Descriptor carries. */
  #running = 0;
  readonly #dtls: DtlsServer | undefined;
  #closed = false;
  /** What each ApSession gets of the controller, built once: sessions use it for every packet. */
  readonly #host: SessionHost;

  /**
   * A controller on sockets of its own, `address`:5246 and :5247, which
   * shutdown() closes. A port that cannot be bound (in use, address not
   * local) is the operator's to fix: a ConfigError naming address:port, and
   * the socket already bound is closed again. With a binder that returns
   * sockets directly (an in-memory network) the controller comes directly too.
   */
  static listen(options: LabControllerListenOptions, bind: ControllerSocketBinder<DatagramSocket>): LabController;
  static listen(options: LabControllerListenOptions, bind?: ControllerSocketBinder<Promise<DatagramSocket>>): Promise<LabController>;
  static listen(options: LabControllerListenOptions, bind: ControllerSocketBinder<DatagramSocket | Promise<DatagramSocket>> = udpSocket): LabController | Promise<LabController> {
    const { address, ...rest } = options;
    const bound: DatagramSocket[] = [];
    const closeBound = () => bound.splice(0).forEach((s) => s.close());
    const failed = (port: number, err: unknown): never => {
      closeBound();
      throw new ConfigError(`lab controller cannot listen on ${endpointKey({ address, port })}: ${describeError(err)}`, { cause: err });
    };
    const open = (port: number, next: () => LabController | Promise<LabController>): LabController | Promise<LabController> => {
      let socket: DatagramSocket | Promise<DatagramSocket>;
      try {
        socket = bind(address, port);
      } catch (err) {
        return failed(port, err);
      }
      const opened = (s: DatagramSocket) => {
        bound.push(s);
        return next();
      };
      return socket instanceof Promise ? socket.then(opened, (err: unknown) => failed(port, err)) : opened(socket);
    };
    return open(CONTROL_PORT, () =>
      open(DATA_PORT, () => {
        try {
          return new LabController({ ...rest, control: bound[0]!, data: bound[1]! });
        } catch (err) {
          closeBound();
          throw err;
        }
      }),
    );
  }

  constructor(options: LabControllerOptions) {
    super();
    this.#o = { ...CONTROLLER_DEFAULTS, clock: systemClock, log: silentLog, ...options };
    this.profile = profiles[options.profile];
    const echoMs = this.#o.echoIntervalSeconds * 1000;
    this.#host = {
      options: this.#o,
      // Silent for 3 echo intervals and a whole retransmission cycle: the AP is gone.
      idleTimeoutMs: 3 * echoMs + this.#o.retransmitIntervalMs * (this.#o.maxRetransmit + 1),
      downloadSlot: () => this.#downloadSlot(),
      acInfo: () => this.#acInfo(),
      capture: (direction, peer, packet) => this.#capture(direction, peer, packet),
      joined: (session, sessionId, previous) => {
        if (previous !== undefined && this.#bySessionId.get(previous) === session) this.#bySessionId.delete(previous);
        this.#bySessionId.set(sessionId, session);
      },
      phaseChanged: (from, to) => {
        if (to === "Run") this.#running++;
        else if (from === "Run") this.#running--;
      },
      forget: (session, sessionId) => {
        if (this.#sessions.get(session.key) === session) this.#sessions.delete(session.key);
        if (sessionId !== undefined && this.#bySessionId.get(sessionId) === session) this.#bySessionId.delete(sessionId);
        if (session.record.phase === "Run") this.#running--;
      },
    };
    if (options.dtls !== "plaintext") {
      this.#dtls = new DtlsServer({
        context: options.dtls,
        clock: this.#o.clock,
        sendDatagram: (d, address, port) => options.control.send(d, { address, port }),
      });
      this.#dtls.on("session", (session) => this.#admit(session));
    } else {
      this.#o.log.warn("WARNING: lab controller without DTLS (plaintext control channel): debugging only");
    }
    options.control.onMessage((d, from) => this.#onControl(d, from));
    options.data.onMessage((d, from) => this.#onData(d, from));
  }

  get name(): string {
    return this.#o.name;
  }

  get softwareVersion(): string {
    return this.#o.softwareVersion;
  }

  /** The controller was upgraded (the version it advertises from now on). */
  set softwareVersion(version: string) {
    this.#o.softwareVersion = version;
  }

  /** The sockets the controller answers on (its owner's to close). */
  get sockets(): { control: DatagramSocket; data: DatagramSocket } {
    return { control: this.#o.control, data: this.#o.data };
  }

  /** How many APs are in Run now (what the AC Descriptor reports as active WTPs). */
  get inRun(): number {
    return this.#running;
  }

  /** The AP table. */
  aps(): ApRecord[] {
    return [...this.#sessions.values()].map((s) => ({ ...s.record }));
  }

  /** Send any request to a joined AP; resolves with its response. */
  request(apName: string, type: number, elements: Element[] = []): Promise<Message> {
    return this.#session(apName).request(type, elements);
  }

  /** Send a Configuration Update Request; resolves with the AP's Result Code. */
  async configurationUpdate(apName: string, elements: Element[]): Promise<number> {
    return resultOf(await this.request(apName, MessageType.ConfigurationUpdateRequest, elements));
  }

  /**
   * Order an AP to reset (RFC 5415 §8.6) — onto `version` when it names the
   * image the AP predownloaded (the swap); resolves with its Result Code.
   */
  async reset(apName: string, version = this.softwareVersion): Promise<number> {
    return resultOf(await this.request(apName, MessageType.ResetRequest, [{ kind: "ImageIdentifier", vendorId: this.profile.vendorId, identifier: version }]));
  }

  /**
   * Order APs in Run to predownload `version` (Cisco's `ap image predownload`):
   * at most `concurrency` at a time, the next ordered as one finishes.
   * Resolves with every AP's final download record.
   */
  predownload(apNames: readonly string[] | "all", version = this.softwareVersion, concurrency = 16): Promise<ApRecord[]> {
    const names = apNames === "all" ? this.aps().flatMap((a) => (a.phase === "Run" && a.name ? [a.name] : [])) : [...apNames];
    const queue = [...names];
    const results = new Map<string, ApRecord>();
    let running = 0;
    return new Promise((resolve) => {
      const settle = (name: string, record: ApRecord) => {
        if (!names.includes(name) || results.has(name)) return;
        results.set(name, record);
        running--;
        pump();
      };
      const failed = (name: string, error: string): ApRecord => ({
        ...(this.aps().find((a) => a.name === name) ?? { key: name, address: "", port: 0, phase: "Run", imageWindow: 1, echoes: 0, name }),
        download: { name, predownload: version, state: "failed", size: 0, bytes: 0, window: 1, error },
      });
      const onDownload = (ap: ApRecord) => {
        if (ap.name && (ap.download?.state === "complete" || ap.download?.state === "failed")) settle(ap.name, ap);
      };
      const onLeave = (ap: ApRecord, reason: string) => ap.name && settle(ap.name, failed(ap.name, `left: ${reason}`));
      const pump = () => {
        while (running < concurrency && queue.length > 0) {
          const name = queue.shift()!;
          running++;
          let session: ApSession;
          try {
            session = this.#session(name);
          } catch (err) {
            settle(name, failed(name, (err as Error).message));
            continue;
          }
          session.order(version).catch((err: unknown) => settle(name, failed(name, (err as Error).message)));
        }
        if (results.size === names.length) {
          this.off("download", onDownload);
          this.off("leave", onLeave);
          resolve(names.map((n) => results.get(n)!));
        }
      };
      this.on("download", onDownload);
      this.on("leave", onLeave);
      pump();
    });
  }

  /** Fault injection: put raw bytes into a joined AP's control channel (inside its DTLS session). */
  inject(apName: string, packet: Uint8Array): void {
    this.#session(apName).inject(packet);
  }

  /** Close every session and stop answering; the sockets stay the caller's. */
  close(): void {
    this.#closed = true;
    for (const s of this.#sessions.values()) s.end("controller shutting down", false);
    this.#sessions.clear();
    this.#dtls?.close();
  }

  /** close(), then close both sockets too: the end of a controller from listen(), which owns them. */
  shutdown(): void {
    this.close();
    this.#o.control.close();
    this.#o.data.close();
  }

  #session(apName: string): ApSession {
    const s = [...this.#sessions.values()].find((x) => x.record.name === apName);
    if (!s || s.record.phase !== "Run") throw new Error(`AP ${apName} is not joined`);
    return s;
  }

  #acInfo(): AcInfo {
    return {
      name: this.name,
      softwareVersion: this.softwareVersion,
      hardwareVersion: "0.0.0.0",
      stations: 0,
      stationLimit: 32_000,
      activeWtps: this.#running,
      maxWtps: 6000,
      security: AcSecurity.X509,
      controlAddress: this.#o.control.local.address,
      unixTime: Math.floor(this.#o.clock.wallNow() / 1000),
      echoIntervalSeconds: this.#o.echoIntervalSeconds,
    };
  }

  #onControl(datagram: Uint8Array, from: Endpoint): void {
    if (this.#closed || datagram.length === 0) return;
    if (datagram[0] === DTLS_PREAMBLE_BYTE) {
      this.#dtls?.receive(datagram, from.address, from.port);
      return;
    }
    const key = endpointKey(from);
    let message: Message | undefined;
    let fragment = false;
    try {
      const packet = decodeControlPacket<Element>(datagram, this.profile.elements);
      fragment = packet.header.f;
      message = packet.message;
    } catch (err) {
      if (!(err instanceof CapwapDecodeError)) throw err;
      this.#o.log.info(`Discarding packet from ${key}: ${err.message}`);
      return;
    }
    if (message && (message.type === MessageType.DiscoveryRequest || message.type === MessageType.PrimaryDiscoveryRequest)) {
      this.#capture("in", from, datagram);
      this.#answerDiscovery(message, from);
      return;
    }
    if (this.#o.dtls === "plaintext") {
      // Debugging mode: the session is plaintext too; a Join Request (or its first fragment) opens it.
      const session = this.#sessions.get(key) ?? (fragment || message?.type === MessageType.JoinRequest ? this.#newSession(key, from, undefined) : undefined);
      if (session) return session.receive(datagram);
    }
    this.#capture("in", from, datagram);
    this.#o.log.info(`Discarding plaintext ${message ? messageTypeName(message.type) : "fragment"} from ${key}`);
  }

  /** Discovery Requests per source endpoint, counted only for a fault plan (`dropResponse`) to judge. */
  readonly #discoveries = new Map<string, number>();

  #answerDiscovery(request: Message, from: Endpoint): void {
    const drop = this.#o.dropResponse;
    if (drop) {
      const key = endpointKey(from);
      const nth = (this.#discoveries.get(key) ?? 0) + 1;
      this.#discoveries.set(key, nth);
      if (drop(request.type, nth)) return;
    }
    const radios = this.profile.radios(request.elements);
    const response = encodeControlPacket({ type: request.type + 1, seq: request.seq, elements: this.profile.discoveryResponse(this.#acInfo(), radios) }, this.profile.elements);
    this.#capture("out", from, response);
    this.#o.control.send(response, from);
  }

  #admit(dtls: DtlsSession): void {
    const session = this.#newSession(dtls.remote!, dtls.endpoint!, dtls);
    dtls.on("connected", (peer) => {
      if (peer.subject) session.record.certificateSubject = peer.subject;
      session.setPhase("Join");
    });
    dtls.on("data", (payload) => session.receive(payload));
    dtls.on("close", (reason) => session.end(reason ? `DTLS: ${reason.message}` : "DTLS closed by the AP", false));
  }

  #newSession(key: string, peer: Endpoint, dtls: DtlsSession | undefined): ApSession {
    this.#sessions.get(key)?.end("replaced by a new session", true);
    const session = new ApSession(this, this.#host, key, peer, dtls);
    this.#sessions.set(key, session);
    return session;
  }

  #onData(datagram: Uint8Array, from: Endpoint): void {
    if (this.#closed) return;
    let elements: Element[];
    try {
      const packet = decodeDataPacket<Element>(datagram, this.profile.elements);
      if (packet.kind !== "keepalive") return;
      elements = packet.elements;
    } catch (err) {
      if (!(err instanceof CapwapDecodeError)) throw err;
      return;
    }
    const sessionId = findElement(elements, "SessionId")?.sessionId;
    const session = sessionId && this.#bySessionId.get(toHex(sessionId));
    // Only from the address the session's control channel runs with: a Session ID alone proves nothing.
    if (!session || session.peer.address !== from.address) return;
    this.#capture("in", from, datagram, this.#o.data.local);
    session.seen();
    if (this.#o.dropResponse && session.dropResponse(KEEP_ALIVE)) return;
    // RFC 5415 §4.4.1: the AC answers a keep-alive with one of its own.
    const reply = encodeDataKeepAlive(elements, this.profile.elements);
    this.#capture("out", from, reply, this.#o.data.local);
    this.#o.data.send(reply, from);
    session.keepAlive();
  }

  #capture(direction: "in" | "out", peer: Endpoint, packet: Uint8Array, local = this.#o.control.local): void {
    const capture = this.#o.capture;
    if (!capture) return;
    const now = this.#o.clock.wallNow();
    if (direction === "in") capture(now, peer, local, packet);
    else capture(now, local, peer, packet);
  }

  readonly #downloads = { running: 0, waiting: [] as (() => void)[] };

  /** A transfer slot: resolves when fewer than maxConcurrentDownloads run; call the result to free it. */
  #downloadSlot(): Promise<() => void> {
    const limit = this.#o.maxConcurrentDownloads;
    const d = this.#downloads;
    const release = () => {
      d.running--;
      d.waiting.shift()?.();
    };
    if (d.running < limit) {
      d.running++;
      return Promise.resolve(release);
    }
    return new Promise((resolve) =>
      d.waiting.push(() => {
        d.running++;
        resolve(release);
      }),
    );
  }
}

/** What an ApSession needs of its controller. */
interface SessionHost {
  readonly options: ResolvedOptions;
  /** An AP silent this long is gone. */
  readonly idleTimeoutMs: number;
  downloadSlot(): Promise<() => void>;
  acInfo(): AcInfo;
  capture(direction: "in" | "out", peer: Endpoint, packet: Uint8Array): void;
  /** The AP joined with this Session ID (hex; `previous` if it had joined before): its keep-alives find the session by it. */
  joined(session: ApSession, sessionId: string, previous: string | undefined): void;
  /** A session moved from one phase to another (the controller counts APs in Run). */
  phaseChanged(from: ApPhase, to: ApPhase): void;
  /** The session ended: out of every table and count. */
  forget(session: ApSession, sessionId: string | undefined): void;
}

/** One AP's session on the controller. */
class ApSession {
  readonly record: ApRecord;
  readonly channel: ControlChannel;
  readonly #host: SessionHost;
  readonly #o: SessionHost["options"];
  #radios: RadioInfo[] = [];
  /** Hex, once joined. */
  #sessionId: string | undefined;
  /** The idle deadline's one timer; it looks at #lastSeen when it fires. */
  #idle: TimerHandle | undefined;
  #lastSeen: number;
  #ended = false;
  #answered = new Map<number, number>();
  /** Ends the transfer running or waiting for a slot: sender cancelled, slot and file released. */
  #abortTransfer: ((error: Error) => void) | undefined;
  /** Requests from the API wait while an image transfer owns the sequence numbers. */
  #transferDone: Promise<void> = Promise.resolve();

  constructor(
    private readonly ac: LabController,
    host: SessionHost,
    readonly key: string,
    readonly peer: Endpoint,
    private readonly dtls: DtlsSession | undefined,
  ) {
    this.#host = host;
    const options = (this.#o = host.options);
    this.record = { key, address: peer.address, port: peer.port, phase: dtls ? "DTLS Setup" : "Join", imageWindow: 1, echoes: 0 };
    this.channel = new ControlChannel({
      profile: ac.profile,
      clock: options.clock,
      maxPacketSize: () => maxControlPacket(peer.address, dtls),
      retransmitIntervalMs: options.retransmitIntervalMs,
      maxRetransmit: options.maxRetransmit,
      transmit: (packet) => this.#transmit(packet),
      // Only a fault plan pays for counting responses.
      ...(options.dropResponse ? { dropResponse: (requestType: number) => this.dropResponse(requestType) } : {}),
      onRequest: (message) => this.#onRequest(message),
      onDiscard: (reason) => options.log.info(`Discarding from ${this.record.name ?? key}: ${reason}`),
      onPacket: (direction, packet) => host.capture(direction, peer, packet),
    });
    this.#lastSeen = options.clock.now();
    this.#armIdle(host.idleTimeoutMs);
  }

  /** A plaintext CAPWAP packet from the AP (decrypted, or as it came in plaintext mode). */
  receive(packet: Uint8Array): void {
    this.seen();
    this.channel.receive(packet);
  }

  /**
   * Any packet from the AP is a sign of life, not only requests and
   * keep-alives: during a join-time image transfer an AP may send nothing
   * but Image Data Responses (vap's own sends no echo before Run). Called
   * per packet, so it only notes the time.
   */
  seen(): void {
    this.#lastSeen = this.#o.clock.now();
  }

  #transmit(packet: Uint8Array): void {
    if (!this.dtls) this.#o.control.send(packet, this.peer);
    else if (this.dtls.state === "connected") this.dtls.send(packet);
  }

  setPhase(phase: ApPhase): void {
    const from = this.record.phase;
    if (from === phase || this.#ended) return;
    this.record.phase = phase;
    this.#host.phaseChanged(from, phase);
    this.ac.emit("phase", { ...this.record });
  }

  /** Image blocks are ordered by sequence number, so other requests wait for the transfer to end (and any that replaced it). */
  async request(type: number, elements: Element[]): Promise<Message> {
    for (let done = this.#transferDone; ; done = this.#transferDone) {
      await done;
      if (done === this.#transferDone) break;
    }
    return new Promise((resolve, reject) =>
      this.channel.request({ type, elements }, resolve, () => reject(new Error(`${this.record.name}: no answer to ${messageTypeName(type)}`))),
    );
  }

  /** Order a predownload of `version`; resolves when the AP accepted the order. */
  async order(version: string): Promise<void> {
    // Recorded first: the AP's Image Data Request may arrive right behind its answer to the order.
    this.#setDownload({ name: this.record.name ?? this.key, predownload: version, state: "queued", size: 0, bytes: 0, window: this.record.imageWindow });
    const response = await this.request(MessageType.ConfigurationUpdateRequest, [{ kind: "PredownloadOrder", version }]);
    const result = resultOf(response);
    if (result !== ResultCode.Success) throw new Error(`${this.record.name} refused the predownload: ${resultCodeName(result)}`);
  }

  inject(packet: Uint8Array): void {
    this.#transmit(packet);
  }

  /** Whether the fault plan (there is one) drops this response (counted per request type). */
  dropResponse(requestType: number): boolean {
    const nth = (this.#answered.get(requestType) ?? 0) + 1;
    this.#answered.set(requestType, nth);
    return this.#o.dropResponse?.(requestType, nth) ?? false;
  }

  keepAlive(): void {
    if (this.record.phase === "Data Check") {
      this.record.runSince = this.#o.clock.now();
      this.setPhase("Run");
      this.#o.log.info(`AP ${this.record.name} (${this.peer.address}) is in Run`);
      this.ac.emit("run", { ...this.record });
    }
  }

  end(reason: string, notifyPeer: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#abortTransfer?.(new Error(reason));
    this.#idle?.cancel();
    this.channel.close();
    if (notifyPeer || this.dtls?.state !== "closed") this.dtls?.close();
    this.#host.forget(this, this.#sessionId);
    this.#o.log.info(`AP ${this.record.name ?? this.key} left: ${reason}`);
    this.ac.emit("leave", { ...this.record }, reason);
  }

  /** The idle deadline: when the timer fires, an AP heard from since gets the rest of its time, not a timer per packet. */
  #armIdle(ms: number): void {
    this.#idle = this.#o.clock.setTimer("ap-timeout", ms, () => {
      const silentMs = this.#o.clock.now() - this.#lastSeen;
      if (silentMs >= this.#host.idleTimeoutMs) this.end("nothing from the AP (no keep-alive, echo or response)", true);
      else this.#armIdle(this.#host.idleTimeoutMs - silentMs);
    });
  }

  #onRequest(message: Message): void {
    const options = this.#o;
    const { acInfo } = this.#host;
    const profile = this.ac.profile;
    const respond = (elements: Element[] = []) => this.channel.respond(message, elements);
    try {
      switch (message.type) {
        case MessageType.JoinRequest:
          return this.#join(message);
        case MessageType.ConfigurationStatusRequest:
          if (this.record.phase !== "Configure") return this.#unexpected(message);
          respond(profile.configurationStatusResponse(acInfo(), this.#radios));
          this.setPhase("Data Check");
          return;
        case MessageType.ChangeStateEventRequest:
          respond();
          return;
        case MessageType.EchoRequest:
          this.record.echoes++;
          respond(profile.echoResponse(acInfo()));
          return;
        case MessageType.WtpEventRequest:
          this.#predownloadReport(message.elements);
          respond();
          return;
        case MessageType.ImageDataRequest:
          void this.#imageRequest(message);
          return;
        case MessageType.DataTransferRequest:
          respond();
          return;
        default:
          if (isRequest(message.type)) respond([{ kind: "ResultCode", resultCode: ResultCode.MessageUnexpectedUnrecognizedRequest }]);
      }
    } catch (err) {
      options.log.warn(`Cannot answer ${messageTypeName(message.type)} from ${this.key}: ${describeError(err)}`);
    }
  }

  #join(message: Message): void {
    const options = this.#o;
    const { acInfo } = this.#host;
    const profile = this.ac.profile;
    const wtp = profile.wtpSummary(message.elements);
    this.#radios = profile.radios(message.elements);
    const result = !wtp.sessionId ? ResultCode.FailureMissingMandatoryElement : (options.admit?.(wtp) ?? ResultCode.Success);
    const window = Math.max(1, Math.min(options.imageWindow(wtp), MAX_IMAGE_WINDOW));
    this.channel.respond(message, profile.joinResponse(acInfo(), result, this.#radios, { imageWindow: window }));
    if (result !== ResultCode.Success) {
      options.log.info(`Join from ${this.key} refused: ${resultCodeName(result)}`);
      return;
    }
    const sessionId = toHex(wtp.sessionId!);
    this.#host.joined(this, sessionId, this.#sessionId);
    this.#sessionId = sessionId;
    Object.assign(this.record, {
      name: wtp.name,
      model: wtp.model,
      serial: wtp.serial,
      baseMac: wtp.baseMac,
      softwareVersion: wtp.softwareVersion,
      imageWindow: window,
      joinedAt: options.clock.now(),
    });
    options.log.info(`AP ${wtp.name} (${wtp.model}, ${wtp.baseMac}) joined from ${this.peer.address}, software ${wtp.softwareVersion}`);
    this.setPhase("Configure");
  }

  /** The AP asks for an image (Image Identifier + Initiate Download): announce it, then send it. */
  async #imageRequest(request: Message): Promise<void> {
    const options = this.#o;
    const { downloadSlot } = this.#host;
    const name = findElement(request.elements, "ImageIdentifier")?.identifier;
    if (!name || !findElement(request.elements, "InitiateDownload")) {
      this.channel.respond(request, [{ kind: "ResultCode", resultCode: ResultCode.FailureMissingMandatoryElement }]);
      return;
    }
    const file = await options.images?.open(name);
    if (!file) {
      options.log.warn(`AP ${this.record.name} asked for image "${name}", which this controller does not have`);
      this.channel.respond(request, [{ kind: "ResultCode", resultCode: ResultCode.ImageDataErrorOtherError }]);
      return;
    }
    if (this.#ended) {
      file.close();
      return;
    }
    const md5 = options.corruptMd5?.(this.record.name ?? this.key) ? Uint8Array.from(file.md5, (b, i) => (i === 0 ? b ^ 0xff : b)) : file.md5;
    const predownload = this.record.download?.predownload;
    this.channel.respond(request, [
      { kind: "ResultCode", resultCode: ResultCode.Success },
      { kind: "ImageInformation", fileSize: file.size, hash: md5 },
    ]);
    // An AP that asks again has given up the transfer it had (RFC 5415 §9.1: one per session): end it first.
    this.#abortTransfer?.(new Error("superseded by a new Image Data Request from the AP"));
    const download: DownloadRecord = { name, state: "queued", size: file.size, bytes: 0, window: this.record.imageWindow, ...(predownload ? { predownload } : {}) };
    this.#setDownload(download);
    let endTransfer!: () => void;
    this.#transferDone = new Promise((resolve) => (endTransfer = resolve));
    let release: (() => void) | undefined;
    let sender: ImageSender | undefined;
    let ended = false;
    const finish = (error?: Error) => {
      if (ended) return;
      ended = true;
      if (this.#abortTransfer === abort) this.#abortTransfer = undefined;
      sender?.cancel();
      release?.();
      file.close();
      endTransfer();
      const d = this.record.download!;
      // A predownload is complete when the AP says so (it may still refuse the image).
      const state = error ? "failed" : predownload ? "downloading" : "complete";
      this.#setDownload({ ...d, state, bytes: error ? d.bytes : file.size, ...(state !== "downloading" ? { finishedAt: options.clock.now() } : {}), ...(error ? { error: error.message } : {}) });
    };
    const abort = (error: Error) => finish(error);
    this.#abortTransfer = abort;
    const slot = await downloadSlot();
    if (ended) return slot(); // ended (session gone, or superseded) while it waited its turn
    release = slot;
    options.log.info(`Sending image ${name} (${file.size} bytes) to ${this.record.name}, window ${this.record.imageWindow}`);
    this.#setDownload({ ...download, state: "downloading", startedAt: options.clock.now() });
    sender = new ImageSender({
      channel: this.channel,
      profile: this.ac.profile,
      file,
      window: this.record.imageWindow,
      clock: options.clock,
      log: options.log,
      maxTimeoutMs: options.retransmitIntervalMs,
      ...(options.corruptBlock ? { corruptBlock: (i: number) => options.corruptBlock!(this.record.name ?? this.key, i) } : {}),
      onProgress: (bytes) => {
        if (this.record.download) this.record.download.bytes = bytes;
      },
      onDone: finish,
    });
    sender.start();
  }

  #predownloadReport(elements: readonly Element[]): void {
    const status = findElement(elements, "PredownloadStatus");
    const d = this.record.download;
    if (!status || !d) return;
    const state: DownloadState = status.state === PredownloadState.Complete ? "complete" : status.state === PredownloadState.Failed ? "failed" : "downloading";
    if (state === d.state) return;
    this.#setDownload({ ...d, state, ...(state !== "downloading" ? { finishedAt: this.#o.clock.now() } : {}) });
  }

  #setDownload(download: DownloadRecord): void {
    this.record.download = download;
    this.ac.emit("download", { ...this.record, download: { ...download } });
  }

  #unexpected(message: Message): void {
    this.#o.log.info(`Discarding ${messageTypeName(message.type)} from ${this.record.name ?? this.key} in phase ${this.record.phase}`);
  }
}

function resultOf(response: Message): number {
  return findElement(response.elements, "ResultCode")?.resultCode ?? ResultCode.Success;
}

