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
  CAPWAP_CONTROL_PORT,
  CAPWAP_DATA_PORT,
  CapwapDecodeError,
  decodeControlPacket,
  decodeDataPacket,
  DTLS_PREAMBLE_BYTE,
  encodeControlPacket,
  encodeDataKeepAlive,
  MessageType,
  messageTypeName,
  resultCodeName,
  toHex,
} from "../../agent/capwap/codec/index.js";
import { DtlsServer, type DtlsSession } from "../../agent/capwap/dtls/index.js";
import { type AcInfo, type Element, findElement, type Message, profiles, type VendorProfile } from "../../agent/capwap/profiles/index.js";
import { ConfigError, describeError, RepeatLimiter, silentLog, systemClock, systemRandom } from "../../agent/core/index.js";
import { bindUdp, type DatagramSocket, type Endpoint, endpointKey } from "../../agent/net/index.js";
import type { ApRecord } from "./ap-record.js";
import { ApSession, resultOf, type SessionHost } from "./ap-session.js";
import { type PredownloadView, type PrimaryView, SitePredownloads, siteTagIndex } from "./efficient/index.js";
import { FaultInjector, type FaultPlan } from "./fault-plan.js";
import { Slots } from "./slots.js";
import { CONTROLLER_DEFAULTS, type LabControllerEvents, type LabControllerOptions, type ResolvedOptions } from "./options.js";

/** A controller on an address of its own; listen() binds its two sockets there. */
export interface LabControllerListenOptions extends Omit<LabControllerOptions, "control" | "data"> {
  /** Control channel on 5246, data channel on 5247. */
  address: string;
}

/** An AP's answer to a site-wide command: its Result Code, or why it gave none. */
export type SiteResult = { ap: string; resultCode: number; error?: never } | { ap: string; error: string; resultCode?: never };

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
  readonly #faults: FaultInjector | undefined;
  readonly #downloads: Slots;
  /** Packets dropped at the socket are logged within the rate limit of (source, reason): a flood costs a summary. */
  readonly #discards: RepeatLimiter;
  /** Every packet thrown away, at the socket or in a session's control channel. */
  /** Every packet thrown away; the image downloads started, by Method (`HTTPS`, `CAPWAP`, `CAPWAP (fallback)`). */
  readonly stats = { discarded: 0, downloads: new Map<string, number>() };
  /** Site-tag predownloads: primaries, orders, the limit on outstanding ones. */
  readonly #sites: SitePredownloads;

  /**
   * A controller on sockets of its own, `address`:5246 and :5247, which
   * shutdown() closes. A port that cannot be bound (in use, address not
   * local) is the operator's to fix: a ConfigError naming address:port, and
   * the socket already bound is closed again. With a binder that returns
   * sockets directly (an in-memory network) the controller comes directly too.
   */
  static listen(options: LabControllerListenOptions, bind: ControllerSocketBinder<DatagramSocket>, faults?: FaultPlan): LabController;
  static listen(options: LabControllerListenOptions, bind?: ControllerSocketBinder<Promise<DatagramSocket>>, faults?: FaultPlan): Promise<LabController>;
  static listen(options: LabControllerListenOptions, bind: ControllerSocketBinder<DatagramSocket | Promise<DatagramSocket>> = udpSocket, faults?: FaultPlan): LabController | Promise<LabController> {
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
    return open(CAPWAP_CONTROL_PORT, () =>
      open(CAPWAP_DATA_PORT, () => {
        try {
          return new LabController({ ...rest, control: bound[0]!, data: bound[1]! }, faults);
        } catch (err) {
          closeBound();
          throw err;
        }
      }),
    );
  }

  /** `faults`: a fault plan (lab and tests only) that loses responses, refuses joins or corrupts images. */
  constructor(options: LabControllerOptions, faults?: FaultPlan) {
    super();
    this.#o = { ...CONTROLLER_DEFAULTS, clock: systemClock, log: silentLog, ...options };
    this.#faults = faults && new FaultInjector(faults);
    this.profile = profiles[options.profile];
    this.#downloads = new Slots(this.#o.maxConcurrentDownloads);
    this.#discards = new RepeatLimiter({ log: this.#o.log, clock: this.#o.clock, what: "packets discarded" });
    const siteTags = this.#o.siteTags ?? [];
    const siteTagOf = siteTagIndex(siteTags);
    this.#sites = new SitePredownloads({
      port: { order: (ap, version, efficient) => this.#session(ap).order(version, efficient) },
      random: this.#o.random ?? systemRandom,
      log: this.#o.log,
      maxPredownloads: this.#o.maxPredownloads,
      siteTag: (name) => siteTags.find((t) => t.name === name),
      elected: (election) => this.emit("primary", election),
      serving: (primary) => this.emit("primary-serving", primary),
    });
    this.on("download", (ap) => this.#sites.downloadChanged(ap));
    this.on("leave", (ap, reason) => this.#sites.left(ap, reason));
    const echoMs = this.#o.echoIntervalSeconds * 1000;
    this.#host = {
      options: this.#o,
      profile: this.profile,
      events: this,
      faults: this.#faults,
      // Silent for 3 echo intervals and a whole retransmission cycle: the AP is gone.
      idleTimeoutMs: 3 * echoMs + this.#o.retransmitIntervalMs * (this.#o.maxRetransmit + 1),
      downloadSlot: () => this.#downloads.acquire(),
      acInfo: () => this.#acInfo(),
      capture: (direction, peer, packet) => this.#capture(direction, peer, packet),
      discarded: () => this.stats.discarded++,
      downloadStarted: (method) => this.stats.downloads.set(method, (this.stats.downloads.get(method) ?? 0) + 1),
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
      siteTagOf,
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

  /** The image downloads started so far by Method, for the operator: "HTTPS 6, CAPWAP (fallback) 1", or "none". */
  downloadsByMethod(): string {
    const counts = [...this.stats.downloads].sort(([a], [b]) => a.localeCompare(b));
    return counts.length === 0 ? "none" : counts.map(([method, n]) => `${method} ${n}`).join(", ");
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
    return this.#session(apName).command({ kind: "request", type, elements });
  }

  /** Send a Configuration Update Request; resolves with the AP's Result Code. */
  async configurationUpdate(apName: string, elements: Element[]): Promise<number> {
    return resultOf(await this.#session(apName).command({ kind: "configuration-update", elements }));
  }

  /**
   * Order an AP to reset (RFC 5415 §8.6) — onto `version` when it names the
   * image the AP predownloaded (the swap); resolves with its Result Code.
   */
  async reset(apName: string, version = this.softwareVersion): Promise<number> {
    return resultOf(await this.#session(apName).command({ kind: "reset", version }));
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

  /** What `ap image predownload` sends: the image the controller has staged (its own version unless told otherwise). */
  get predownloadVersion(): string {
    return this.#o.predownloadVersion ?? this.softwareVersion;
  }

  /**
   * `ap image predownload site-tag S start`: predownload to every AP of
   * site tag S in Run — efficiently (a primary per model, the rest from it)
   * when S's flex profile says so, otherwise each from the controller —
   * at most maxPredownloads outstanding across the controller. Resolves
   * with each AP's final record once each is Complete or Failed. Throws at
   * once (before any order) when S has no AP in Run or already predownloads.
   */
  predownloadSite(siteTag: string, version = this.predownloadVersion): Promise<ApRecord[]> {
    return this.#sites.start(siteTag, this.#inRun(siteTag), version);
  }

  /**
   * `ap image swap site-tag S`: each AP of S in Run holding the image S
   * predownloaded is told to activate it (ImageSwap), without a reload.
   * Resolves with each AP's Result Code; throws at once when S never predownloaded.
   */
  swapSite(siteTag: string): Promise<SiteResult[]> {
    const version = this.#sites.versionOf(siteTag);
    if (version === undefined) throw new Error(`site tag ${siteTag} has predownloaded nothing`);
    const status = this.#sites.status();
    const holding = this.#inRun(siteTag).filter((a) => status.get(a.name!)?.status === "Complete" && status.get(a.name!)?.version === version);
    return this.#each(holding, "swap", (s) => s.command({ kind: "swap", version }));
  }

  /**
   * `ap image reset site-tag S`: each AP of S in Run is reset without an
   * Image Identifier, into what its BOOT names (the swapped image).
   * Resolves with each AP's Result Code; throws at once when S has no AP in Run.
   */
  resetSite(siteTag: string): Promise<SiteResult[]> {
    const aps = this.#inRun(siteTag);
    if (aps.length === 0) throw new Error(`site tag ${siteTag} has no AP in Run`);
    return this.#each(aps, "reset", (s) => s.command({ kind: "reset" }));
  }

  /** Each AP's predownload in its site's latest `ap image predownload site-tag` run, by name. */
  predownloads(): ReadonlyMap<string, PredownloadView> {
    return this.#sites.status();
  }

  /** Each site's primary per model, in its latest run. */
  primaries(): PrimaryView[] {
    return this.#sites.primaries();
  }

  /** The site's APs in Run. */
  #inRun(siteTag: string): (ApRecord & { name: string })[] {
    return this.aps().filter((a): a is ApRecord & { name: string } => a.phase === "Run" && a.name !== undefined && a.siteTag === siteTag);
  }

  /** One command to each AP, its answer (or why there was none) logged; resolves with every AP's Result Code. */
  #each(aps: readonly (ApRecord & { name: string })[], what: string, send: (s: ApSession) => Promise<Message>): Promise<SiteResult[]> {
    return Promise.all(
      aps.map(async ({ name }): Promise<SiteResult> => {
        try {
          const resultCode = resultOf(await send(this.#session(name)));
          this.#o.log.info(`AP ${name} answered the ${what}: ${resultCodeName(resultCode)}`);
          return { ap: name, resultCode };
        } catch (err) {
          this.#o.log.warn(`AP ${name} did not take the ${what}: ${describeError(err)}`);
          return { ap: name, error: describeError(err) };
        }
      }),
    );
  }

  /** Fault injection: put raw bytes into a joined AP's control channel (inside its DTLS session). */
  inject(apName: string, packet: Uint8Array): void {
    this.#session(apName).inject(packet);
  }

  /**
   * Close every session, telling each AP (DTLS close_notify, so it
   * rediscovers at once), and stop answering; the sockets stay the caller's.
   * Returns how many APs were told (none in plaintext mode: there is no goodbye to send).
   */
  close(): number {
    this.#closed = true;
    const told = this.#dtls ? this.#sessions.size : 0;
    for (const s of this.#sessions.values()) s.end("shutdown");
    this.#sessions.clear();
    this.#dtls?.close();
    this.#discards.flush();
    return told;
  }

  /**
   * close(), then close both sockets too, once the goodbyes have left: the
   * end of a controller from listen(), which owns them. Resolves with how
   * many APs were told.
   */
  async shutdown(): Promise<number> {
    const told = this.close();
    // Node puts a datagram on the wire a tick after send(): closing the socket now would drop the close_notify alerts.
    await new Promise((resolve) => setImmediate(resolve));
    this.#o.control.close();
    this.#o.data.close();
    return told;
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
      this.#discard(from.address, "malformed packet", () => `Discarding packet from ${key}: ${err.message}`);
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
    const what = `plaintext ${message ? messageTypeName(message.type) : "fragment"}`;
    this.#discard(from.address, what, () => `Discarding ${what} from ${key}`);
  }

  #discard(source: string, reason: string, line: () => string): void {
    this.stats.discarded++;
    this.#discards.record(source, reason, line);
  }

  #answerDiscovery(request: Message, from: Endpoint): void {
    if (this.#faults?.dropDiscoveryResponse(request.type, from)) return;
    const radios = this.profile.radios(request.elements);
    const response = encodeControlPacket({ type: request.type + 1, seq: request.seq, elements: this.profile.discoveryResponse(this.#acInfo(), radios) }, this.profile.elements);
    this.#capture("out", from, response);
    this.#o.control.send(response, from);
  }

  #admit(dtls: DtlsSession): void {
    const session = this.#newSession(dtls.remote!, dtls.endpoint!, dtls);
    dtls.on("connected", (peer) => session.dtlsConnected(peer.subject));
    dtls.on("data", (payload) => session.receive(payload));
    dtls.on("close", (reason) => session.dtlsClosed(reason));
  }

  #newSession(key: string, peer: Endpoint, dtls: DtlsSession | undefined): ApSession {
    this.#sessions.get(key)?.end("replaced");
    const session = new ApSession(this.#host, key, peer, dtls);
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
    if (session.keepAliveAnswerLost()) return;
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
}
