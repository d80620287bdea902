/**
 * The WTP's shell: sockets, DTLS, the control channel, clock timers and the
 * image source, around the pure machine (machine.ts, table.ts). Every socket
 * datagram, timer, DTLS event and source report becomes an input; every
 * effect the machine returns is executed here, in order. Time comes from
 * the injected Clock, datagrams from injected sockets, so tests drive the
 * session exactly.
 *
 * Anything thrown while executing an effect, or in a socket, promise or
 * source callback, goes back to the machine as internalError: the rest of
 * that step's effects are skipped and the table restarts CAPWAP.
 */
import { CAPWAP_DATA_PORT, CapwapDecodeError, decodeControlPacket, decodeDataPacket, DTLS_PREAMBLE_BYTE, encodeControlPacket, encodeDataKeepAlive, MessageType, messageTypeName } from "../codec/index.js";
import { describeError, equalBytes, randomBetween, RepeatLimiter, silentLog, systemClock, systemRandom, type TimerHandle } from "../../core/index.js";
import type { DatagramSocket, Endpoint } from "../../net/index.js";
import { ControlChannel, maxControlPacket } from "../channel/index.js";
import { DtlsSession } from "../dtls/index.js";
import { type Element, findElement, profiles, type RadioInfo, type WtpInfo } from "../profiles/index.js";
import { DESCRIBED_REQUESTS, describeWtp, radiosOf } from "./description.js";
import { DownloadSlot } from "./download-slot.js";
import type { CapwapSession, ImageSourceName } from "./image-source.js";
import { initialMachine, type Machine, transition } from "./machine.js";
import type { DownloadRun, JoinedController, MachineSettings, WtpEffect, WtpInput, WtpState, WtpTimer } from "./machine-types.js";
import type { WtpOptions } from "./options.js";
import { discardLine, STATE_NAMES } from "./console-lines.js";

export class Wtp {
  readonly #o: Required<Pick<WtpOptions, "clock" | "random" | "log">> & WtpOptions;
  readonly #settings: MachineSettings;
  readonly #radios: RadioInfo[];
  #machine: Machine;
  /** Inputs that arrived while effects ran: taken in order once the current step is done. */
  readonly #inputs: WtpInput[] = [];
  #stepping = false;
  readonly #timers = new Map<WtpTimer, TimerHandle>();
  #control: DatagramSocket | undefined;
  #data: DatagramSocket | undefined;
  #localAddress = "0.0.0.0";
  #dtls: DtlsSession | undefined;
  #channel: ControlChannel | undefined;
  #sessionId: Uint8Array = new Uint8Array(0);
  readonly #download: DownloadSlot;
  /** Every packet the AP throws away is counted; its log line is rate-limited per (source, reason): a flood costs a summary. */
  readonly #discards: RepeatLimiter;
  #startedAt = 0;
  /** Echoes: Echo Responses received; keepAlives: the controller's Data Channel Keep-Alives received. */
  readonly stats = { joins: 0, restarts: 0, echoes: 0, keepAlives: 0, discarded: 0 };

  constructor(options: WtpOptions) {
    this.#o = { clock: systemClock, random: systemRandom, log: silentLog, ...options };
    const { config } = options;
    const sources = Object.keys(options.imageSources ?? {}) as ImageSourceName[];
    this.#settings = { config, profile: profiles[config.profile], canResolve: options.network.resolve !== undefined, sources };
    this.#radios = radiosOf(config.identity.classProfile.radios);
    this.#machine = initialMachine(this.#settings);
    this.#download = new DownloadSlot(options.imageSources ?? {}, (input) => this.#dispatch(input));
    this.#discards = new RepeatLimiter({ log: this.#o.log, clock: this.#o.clock, what: "packets discarded" });
    if (config.dtls.mode !== "plaintext" && !options.dtls) throw new Error("Wtp: a DTLS context is required unless dtls.mode is plaintext");
  }

  get state(): WtpState {
    return this.#machine.state;
  }

  get name(): string {
    return this.#machine.context.name;
  }

  get controller(): JoinedController | undefined {
    return this.#machine.context.joined;
  }

  /** The control socket's local endpoint (once started). */
  get controlEndpoint(): Endpoint | undefined {
    return this.#control && { address: this.#localAddress, port: this.#control.local.port };
  }

  /** The download under way, if any (the console's efficient upgrade state). */
  get download(): DownloadRun | undefined {
    return this.#machine.context.download;
  }

  /** The largest CAPWAP control packet the session sends as one datagram; undefined before it has a control channel. */
  get pathMtu(): number | undefined {
    const ac = this.#machine.context.ac?.endpoint;
    return this.#channel && ac ? maxControlPacket(ac.address, this.#dtls) : undefined;
  }

  /** The Data Channel Keep-Alive interval, ms. */
  get keepAliveIntervalMs(): number {
    return this.#settings.config.timers.dataChannelKeepAliveMs;
  }

  /** The echo interval in force (the controller's CAPWAP Timers, else the configured one), ms. */
  get echoIntervalMs(): number {
    return this.#machine.context.echoIntervalMs;
  }

  get restartReason(): string | undefined {
    return this.#machine.context.restartReason;
  }

  /** Bind sockets and begin discovery. */
  async start(): Promise<void> {
    const { network, config } = this.#o;
    if (config.dtls.mode === "plaintext") {
      this.#o.log.warn("WARNING: DTLS is disabled (dtls.mode: plaintext); the control channel is unencrypted and unauthenticated. Use only against controllers built without DTLS.");
    }
    const control = (this.#control = await network.bind("control"));
    this.#data = await network.bind("data");
    control.onMessage((d, from) => this.#guard(() => this.#onControlDatagram(d, from)));
    this.#data.onMessage((d, from) => this.#guard(() => this.#onDataDatagram(d, from)));
    this.#localAddress = control.local.address;
    const first = config.controllers[0];
    if (/^0\.0\.0\.0$|^::$/.test(this.#localAddress) && first && network.localAddressToward) {
      this.#localAddress = await network.localAddressToward(first.address);
    }
    this.#startedAt = this.#o.clock.now();
    this.#dispatch({ type: "start", controlPort: control.local.port });
  }

  /** Leave CAPWAP for good: close DTLS (the controller hears close_notify), stop timers, close sockets. */
  async stop(): Promise<void> {
    this.#dispatch({ type: "stop" });
    this.#discards.flush();
    // Let the close_notify datagram leave before its socket closes.
    await new Promise((resolve) => setImmediate(resolve));
    this.#control?.close();
    this.#data?.close();
  }

  /** `test capwap restart` on the console. */
  restart(reason = "restart requested"): void {
    this.#dispatch({ type: "restart", reason });
  }

  // ---------------------------------------------------------------- machine

  #dispatch(input: WtpInput): void {
    this.#inputs.push(input);
    if (this.#stepping) return;
    this.#stepping = true;
    try {
      for (let next = this.#inputs.shift(); next; next = this.#inputs.shift()) this.#step(next);
    } finally {
      this.#stepping = false;
    }
  }

  #step(input: WtpInput): void {
    const { effects, ...machine } = transition(this.#settings, this.#machine, input);
    this.#machine = machine;
    try {
      for (const effect of effects) this.#execute(effect);
    } catch (err) {
      this.#inputs.unshift({ type: "internalError", error: describeError(err) });
    }
  }

  /** Run a socket, promise or source callback so that nothing it throws escapes there: the machine hears of it. */
  #guard(work: () => void): void {
    try {
      work();
    } catch (err) {
      if (this.#stepping) throw err; // inside a step: the step hands it to the machine
      this.#dispatch({ type: "internalError", error: describeError(err) });
    }
  }

  #execute(e: WtpEffect): void {
    const { log } = this.#o;
    switch (e.kind) {
      case "log":
        return e.fields ? log[e.level](e.text, e.fields) : log[e.level](e.text);
      case "count":
        this.stats[e.stat]++;
        return;
      case "discard":
        return this.#discard(e.source, e.reason, () => e.text);
      case "arm":
        return this.#arm(e.timer, e.ms);
      case "armRandom":
        return this.#arm(e.timer, this.#o.random.int(e.belowMs));
      case "armBackoff": {
        const ms = randomBetween(this.#o.random, e.minMs, e.maxMs);
        this.#arm(e.timer, ms);
        return this.#dispatch({ type: "backoffArmed", timer: e.timer, ms });
      }
      case "cancel":
        this.#timers.get(e.timer)?.cancel();
        this.#timers.delete(e.timer);
        return;
      case "cancelAllTimers":
        for (const t of this.#timers.values()) t.cancel();
        this.#timers.clear();
        return;
      case "entered":
        log.info(`CAPWAP State: ${STATE_NAMES[e.state]}`, { state: e.state, previous: e.previous });
        return this.#o.onStateChange?.(e.state, e.previous);
      case "discover":
        for (const t of e.targets) {
          const elements = this.#settings.profile.discoveryRequest({ ...this.#wtpInfo(), discoveryType: t.discoveryType });
          this.#sendControl(encodeControlPacket({ type: MessageType.DiscoveryRequest, seq: e.seq, elements }, this.#settings.profile.elements), t);
        }
        return;
      case "resolve":
        this.#o.network.resolve!(e.name).then(
          (addresses) => this.#dispatch({ type: "dnsAnswer", round: e.round, addresses }),
          (err: unknown) => log.warn(`Could not resolve ${e.name}: ${describeError(err)}`),
        );
        return;
      case "openSession":
        return this.#openSession();
      case "closeSession":
        if (!e.tolerant) return this.#closeSession();
        try {
          this.#closeSession();
        } catch (closing) {
          log.warn(`CAPWAP session did not close cleanly: ${describeError(closing)}`);
        }
        return;
      case "request":
        return this.#request(e.type, e.elements ?? DESCRIBED_REQUESTS[e.type]!(this.#settings.profile, this.#wtpInfo()));
      case "respond":
        return this.#channel!.respond(e.to, e.elements);
      case "sendKeepAlive":
        return this.#sendKeepAlive();
      case "readVersions":
        return this.#dispatch({ type: "versions", ...this.#versions() });
      case "noUpgrade":
        return this.#o.onNoUpgrade?.();
      case "startSource":
        return this.#download.start(e.source, e.download, this.#capwapSession());
      case "abortSource":
        return this.#download.abort(e.reason);
      case "toSource":
        return this.#download.imageData(e.message);
      case "reboot":
        return this.#o.onReboot?.(e.reason, e.version);
      case "serveImage":
        return this.#settle(this.#o.serveImage?.(e.version, this.#localAddress) ?? Promise.reject(new Error("this AP serves no images")), (server) => ({ type: "imageServed", server }), (error) => ({ type: "imageServeFailed", error }));
      case "stopServing":
        return this.#o.stopServing?.();
      case "swapImage":
        return this.#settle(this.#o.swap?.(e.version) ?? Promise.reject(new Error("this AP manages no images")), () => ({ type: "imageSwapped", request: e.request }), (error) => ({ type: "imageSwapped", request: e.request, error }));
    }
  }

  /** A host's asynchronous work (serving an image, a swap): its outcome comes back to the machine as an input. */
  #settle<T>(work: Promise<T>, done: (value: T) => WtpInput, failed: (error: string) => WtpInput): void {
    work.then(
      (value) => this.#dispatch(done(value)),
      (err: unknown) => this.#dispatch(failed(describeError(err))),
    );
  }

  #arm(timer: WtpTimer, ms: number): void {
    this.#timers.get(timer)?.cancel();
    this.#timers.set(
      timer,
      this.#o.clock.setTimer(timer, ms, () => {
        this.#timers.delete(timer);
        this.#dispatch({ type: "timer", timer });
      }),
    );
  }

  // ---------------------------------------------------------------- session

  #openSession(): void {
    const ac = this.#machine.context.ac!.endpoint;
    const { config } = this.#o;
    this.#sessionId = this.#o.random.bytes(this.#settings.profile.sessionIdBytes);
    this.#channel = new ControlChannel(
      {
        profile: this.#settings.profile,
        clock: this.#o.clock,
        maxPacketSize: () => maxControlPacket(ac.address, this.#dtls),
        retransmitIntervalMs: config.timers.retransmitIntervalMs,
        maxRetransmit: config.timers.maxRetransmit,
        transmit: (packet) => this.#transmitSession(packet, ac),
        onRequest: (message) => this.#dispatch({ type: "request", message }),
        onDiscard: () => this.stats.discarded++,
        diagnostics: { log: this.#o.log, peer: ac.address },
        onPacket: (direction, packet) => this.#capture(direction, packet, ac),
      },
      this.#o.random.int(256),
    );
    if (config.dtls.mode === "plaintext") return;
    try {
      const session = DtlsSession.connect({
        context: this.#o.dtls!,
        clock: this.#o.clock,
        handshakeTimeoutMs: config.timers.waitDtlsMs,
        peerAddress: ac.address,
        sendDatagram: (d) => this.#control?.send(d, ac),
      });
      this.#dtls = session;
      session.on("connected", ({ version, cipher, subject }) => this.#dispatch({ type: "dtlsConnected", peer: { version, cipher, subject } }));
      session.on("data", (payload) => this.#channel?.receive(payload));
      session.on("close", (reason) => {
        if (this.#dtls !== session) return;
        this.#dtls = undefined;
        // A client session ends with DTLS_CLOSED only on the controller's close_notify: a goodbye, not a failure.
        if (reason?.code === "DTLS_CLOSED") this.#dispatch({ type: "dtlsPeerClosed" });
        else this.#dispatch({ type: "dtlsClosed", reason: reason ? `DTLS: ${reason.message}` : "DTLS session closed" });
      });
    } catch (err) {
      this.#dispatch({ type: "dtlsClosed", reason: `DTLS setup failed: ${describeError(err)}` });
    }
  }

  #closeSession(): void {
    this.#channel?.close();
    this.#channel = undefined;
    const dtls = this.#dtls;
    this.#dtls = undefined;
    dtls?.close();
  }

  #request(type: number, elements: Element[]): void {
    this.#channel!.request(
      { type, elements },
      (message) => this.#dispatch({ type: "response", request: type, message }),
      () => this.#dispatch({ type: "requestTimeout", request: type }),
    );
  }

  /** The session as lent to an image source that downloads through it. */
  #capwapSession(): Omit<CapwapSession, "onImageData"> {
    return {
      profile: this.#settings.profile,
      log: this.#o.log,
      request: (message) =>
        new Promise((resolve, reject) => {
          if (!this.#channel) return reject(new Error("CAPWAP session closed"));
          this.#channel.request(message, resolve, () => reject(new Error(`no answer to ${messageTypeName(message.type)}`)));
        }),
      respond: (request, elements) => this.#guard(() => this.#channel?.respond(request, elements)),
    };
  }

  // ---------------------------------------------------------------- datagrams

  #transmitSession(packet: Uint8Array, ac: Endpoint): void {
    if (this.#dtls) {
      if (this.#dtls.state === "connected") this.#dtls.send(packet);
      return;
    }
    if (this.#o.config.dtls.mode === "plaintext") this.#control?.send(packet, ac);
  }

  #sendControl(packet: Uint8Array, to: Endpoint): void {
    this.#capture("out", packet, to);
    this.#control?.send(packet, to);
  }

  #fromController(from: Endpoint, port?: number): boolean {
    const ac = this.#machine.context.ac?.endpoint;
    return ac !== undefined && from.address === ac.address && (port === undefined || from.port === port);
  }

  #onControlDatagram(datagram: Uint8Array, from: Endpoint): void {
    if (datagram.length === 0) return;
    const acPort = this.#machine.context.ac?.endpoint.port;
    if (datagram[0] === DTLS_PREAMBLE_BYTE) {
      if (this.#dtls && this.#fromController(from, acPort)) this.#dtls.receive(datagram);
      return;
    }
    // Plaintext: Discovery Responses always; the whole session only in plaintext mode.
    if (this.#channel && this.#o.config.dtls.mode === "plaintext" && this.#fromController(from, acPort)) {
      this.#channel.receive(datagram);
      return;
    }
    this.#capture("in", datagram, from);
    try {
      const { message } = decodeControlPacket<Element>(datagram, this.#settings.profile.elements);
      // Outside a plaintext session nothing here is reassembled: a Discovery Response comes whole.
      if (!message) this.#discard(from.address, "fragment", () => `Discarding a fragment from ${from.address}`);
      else if (message.type === MessageType.DiscoveryResponse) this.#dispatch({ type: "discoveryResponse", from, message });
      else this.#discard(from.address, `type ${message.type} in ${this.#machine.state}`, () => discardLine(message.type, this.#machine.state));
    } catch (err) {
      if (!(err instanceof CapwapDecodeError)) throw err;
      this.#discard(from.address, "malformed packet", () => `Discarding packet from ${from.address}: ${err.message}`);
    }
  }

  #discard(source: string, reason: string, line: () => string): void {
    this.stats.discarded++;
    this.#discards.record(source, reason, line);
  }

  #sendKeepAlive(): void {
    const to = { address: this.#machine.context.ac!.endpoint.address, port: CAPWAP_DATA_PORT };
    const packet = encodeDataKeepAlive([{ kind: "SessionId", sessionId: this.#sessionId }], this.#settings.profile.elements);
    this.#capture("out", packet, to, this.#data?.local);
    this.#data?.send(packet, to);
  }

  #onDataDatagram(datagram: Uint8Array, from: Endpoint): void {
    if (!this.#fromController(from)) return;
    this.#capture("in", datagram, from, this.#data?.local);
    try {
      const packet = decodeDataPacket<Element>(datagram, this.#settings.profile.elements);
      const session = packet.kind === "keepalive" ? findElement(packet.elements, "SessionId")?.sessionId : undefined;
      if (session && equalBytes(session, this.#sessionId)) {
        this.stats.keepAlives++;
        this.#dispatch({ type: "keepAlive" });
      }
    } catch (err) {
      if (!(err instanceof CapwapDecodeError)) throw err;
      this.stats.discarded++;
    }
  }

  #capture(direction: "in" | "out", packet: Uint8Array, peer: Endpoint, local = this.#control?.local): void {
    if (!this.#o.capture || !local) return;
    const self = { address: this.#localAddress, port: local.port };
    const now = this.#o.clock.wallNow();
    if (direction === "out") this.#o.capture(now, self, peer, packet);
    else this.#o.capture(now, peer, self, packet);
  }

  // ---------------------------------------------------------------- description

  #versions(): { running: string; backup: string } {
    return this.#o.versions?.() ?? this.#o.config.versions;
  }

  #wtpInfo(): WtpInfo {
    const { running, backup } = this.#versions();
    const uptimeSeconds = Math.floor((this.#o.clock.now() - this.#startedAt) / 1000);
    return describeWtp(this.#o.config, this.#radios, this.#machine.context, { running, backup, localAddress: this.#localAddress, sessionId: this.#sessionId, uptimeSeconds }, this.#settings.sources);
  }
}
