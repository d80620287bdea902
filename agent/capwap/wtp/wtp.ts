/**
 * The WTP session (RFC 5415 §2.3): one AP's CAPWAP state machine.
 *
 * States are named as the RFC and Cisco's console name them; every
 * transition is declared in TRANSITIONS, one table from (state, event) to a
 * handler returning the next state. Time comes from the injected Clock,
 * datagrams from injected sockets, so tests drive the machine exactly.
 *
 * Every failure ends in DTLS Teardown with a logged reason ("Going to
 * restart CAPWAP (reason : …)") and a fresh start: a peer's, a timer's, and
 * an internal one — anything thrown by a transition handler, a state's entry
 * action (sending Discovery, Join or Configuration Status, starting the image
 * stage) or the WTP's socket, promise and image-stage callbacks. An internal
 * error (a bug, a message that cannot be encoded) also sulks for the
 * SilentInterval before rediscovering, so a failure that repeats on every
 * attempt costs one attempt per SilentInterval, never a tight loop.
 */
import {
  CapwapDecodeError,
  decodeControlPacket,
  decodeDataPacket,
  DiscoveryType,
  DTLS_PREAMBLE_BYTE,
  encodeControlPacket,
  encodeDataKeepAlive,
  isSuccess,
  MessageType,
  messageTypeConstant,
  messageTypeName,
  RadioType,
  ResultCode,
  resultCodeName,
} from "../codec/index.js";
import type { ApConfig } from "../../config/index.js";
import { describeError, equalBytes, silentLog, systemClock, systemRandom, type Clock, type Log, type Random, type TimerHandle } from "../../core/index.js";
import type { DatagramSocket, Endpoint } from "../../net/index.js";
import { hardwareClasses, type Band } from "../../../platform/classes/index.js";
import { ControlChannel, maxControlPacket } from "../channel/index.js";
import { type DtlsContext, DtlsSession } from "../dtls/index.js";
import { type Element, findElement, type Message, profiles, type RadioInfo, type VendorProfile, type WtpInfo } from "../profiles/index.js";
import { type AcCandidate, chooseController } from "./discovery.js";
import type { ImageStage, ImageStageHost } from "./image-stage.js";

export type WtpState = "Idle" | "Discovery" | "Sulking" | "DtlsSetup" | "Join" | "ImageData" | "Configure" | "DataCheck" | "Run" | "Reset" | "DtlsTeardown";

/** How each state reads on the Cisco console ("CAPWAP State: DTLS Setup"). */
const STATE_NAMES: Record<WtpState, string> = {
  Idle: "Idle",
  Discovery: "Discovery",
  Sulking: "Sulking",
  DtlsSetup: "DTLS Setup",
  Join: "Join",
  ImageData: "Image Data",
  Configure: "Configure",
  DataCheck: "Data Check",
  Run: "Run",
  Reset: "Reset",
  DtlsTeardown: "DTLS Teardown",
};

export type WtpEvent =
  | { type: "start" }
  | { type: "discoveryResponse"; from: Endpoint; message: Message }
  | { type: "discoveryTimer" }
  | { type: "silentTimer" }
  | { type: "restartTimer" }
  | { type: "dtlsConnected" }
  | { type: "waitTimer"; what: string }
  | { type: "response"; request: number; message: Message }
  | { type: "requestTimeout"; request: number }
  | { type: "request"; message: Message }
  | { type: "keepAlive" }
  | { type: "echoTimer" }
  | { type: "keepAliveTimer" }
  | { type: "statisticsTimer" }
  | { type: "imageFinished"; outcome: "reset" | "continue" | Error }
  | { type: "fail"; reason: string };

type EventOf<T extends WtpEvent["type"]> = Extract<WtpEvent, { type: T }>;
type Handler<T extends WtpEvent["type"]> = (w: Wtp, e: EventOf<T>) => WtpState | undefined;
type StateTable = { [S in WtpState]: { [T in WtpEvent["type"]]?: Handler<T> } };

/** Where a plaintext CAPWAP packet went, for captures. */
export type CaptureSink = (timeMs: number, from: Endpoint, to: Endpoint, packet: Uint8Array) => void;

export interface WtpNetwork {
  /** A socket for the control channel (discovery, then DTLS) or the data channel. */
  bind(purpose: "control" | "data"): DatagramSocket | Promise<DatagramSocket>;
  /** DNS A lookup for CISCO-CAPWAP-CONTROLLER.<domain>. */
  resolve?(hostname: string): Promise<string[]>;
  /** The source address used to reach `remote` when the socket is bound to a wildcard. */
  localAddressToward?(remote: string): Promise<string>;
}

export interface WtpOptions {
  config: ApConfig;
  network: WtpNetwork;
  /** The AP's DTLS client context; absent only with `dtls.mode: plaintext`. */
  dtls?: DtlsContext;
  clock?: Clock;
  random?: Random;
  log?: Log;
  imageStage?: ImageStage;
  /** Running and backup versions (the flash's boot record once images are real). */
  versions?: () => { running: string; backup: string };
  capture?: CaptureSink;
  /**
   * The AP reloads: a Reset Request (with the version it names, when it
   * names one: a predownloaded image to swap to) or a newly activated image.
   */
  onReboot?: (reason: string, version?: string) => void;
  onStateChange?: (state: WtpState, previous: WtpState) => void;
}

/** What the session knows about the controller it joined. */
export interface JoinedController {
  name: string;
  address: string;
  softwareVersion: string;
  imageWindow: number;
}

const BROADCAST = "255.255.255.255";
const CISCO_DNS_NAME = "CISCO-CAPWAP-CONTROLLER";

export class Wtp {
  readonly #o: Required<Pick<WtpOptions, "clock" | "random" | "log">> & WtpOptions;
  readonly #profile: VendorProfile;
  #state: WtpState = "Idle";
  #timers = new Map<string, TimerHandle>();
  #control: DatagramSocket | undefined;
  #data: DatagramSocket | undefined;
  #localAddress = "0.0.0.0";
  #discoverySeq = 0;
  #discoveryRound = 0;
  #discoveryTargets = 0;
  #candidates: AcCandidate[] = [];
  #ac: { endpoint: Endpoint; summary: AcCandidate["summary"] } | undefined;
  #dtls: DtlsSession | undefined;
  #channel: ControlChannel | undefined;
  #sessionId: Uint8Array = new Uint8Array(0);
  #joined: JoinedController | undefined;
  #restartReason: string | undefined;
  /** Why the AP enters Reset, and the version a Reset Request named (swap to a predownloaded image). */
  #reboot: { reason: string; version?: string } = { reason: "Reset Request from controller" };
  #sulkAfterTeardown = false;
  #imageActive = false;
  #echoIntervalMs: number;
  #rebootCount = 0;
  #startedAt = 0;
  #name: string;
  /** #dispatch and #guard calls on the stack: a failure inside one is theirs to handle. */
  #depth = 0;
  readonly stats = { joins: 0, restarts: 0, echoes: 0, discarded: 0 };

  constructor(options: WtpOptions) {
    this.#o = { clock: systemClock, random: systemRandom, log: silentLog, ...options };
    this.#profile = profiles[options.config.profile];
    this.#echoIntervalMs = options.config.timers.echoIntervalMs;
    this.#name = options.config.identity.name;
    if (options.config.dtls.mode !== "plaintext" && !options.dtls) throw new Error("Wtp: a DTLS context is required unless dtls.mode is plaintext");
  }

  get state(): WtpState {
    return this.#state;
  }

  get name(): string {
    return this.#name;
  }

  get controller(): JoinedController | undefined {
    return this.#joined;
  }

  /** The control socket's local endpoint (once started). */
  get controlEndpoint(): Endpoint | undefined {
    return this.#control && { address: this.#localAddress, port: this.#control.local.port };
  }

  get restartReason(): string | undefined {
    return this.#restartReason;
  }

  /** Bind sockets and begin discovery. */
  async start(): Promise<void> {
    const { network, config } = this.#o;
    if (config.dtls.mode === "plaintext") {
      this.#o.log.warn("WARNING: DTLS is disabled (dtls.mode: plaintext); the control channel is unencrypted and unauthenticated. Use only against controllers built without DTLS.");
    }
    this.#control = await network.bind("control");
    this.#data = await network.bind("data");
    this.#control.onMessage((d, from) => this.#guard(() => this.#onControlDatagram(d, from)));
    this.#data.onMessage((d, from) => this.#guard(() => this.#onDataDatagram(d, from)));
    this.#localAddress = this.#control.local.address;
    const first = config.controllers[0];
    if (/^0\.0\.0\.0$|^::$/.test(this.#localAddress) && first && network.localAddressToward) {
      this.#localAddress = await network.localAddressToward(first.address);
    }
    this.#startedAt = this.#o.clock.now();
    this.#dispatch({ type: "start" });
  }

  /** Leave CAPWAP for good: close DTLS (the controller hears close_notify), stop timers, close sockets. */
  async stop(): Promise<void> {
    this.#closeSession();
    this.#clearTimers();
    this.#state = "Idle";
    // Let the close_notify datagram leave before its socket closes.
    await new Promise((resolve) => setImmediate(resolve));
    this.#control?.close();
    this.#data?.close();
  }

  /** `test capwap restart` on the console. */
  restart(reason = "restart requested"): void {
    this.#dispatch({ type: "fail", reason });
  }

  // ---------------------------------------------------------------- table

  static readonly #TRANSITIONS: StateTable = {
    Idle: {
      start: () => "Discovery",
    },
    Discovery: {
      discoveryResponse: (w, e) => w.#collectDiscoveryResponse(e.from, e.message),
      discoveryTimer: (w) => w.#discoveryRoundOver(),
    },
    Sulking: {
      silentTimer: () => "Discovery",
    },
    DtlsSetup: {
      dtlsConnected: () => "Join",
      waitTimer: (w, e) => w.#teardown(`${e.what} expired`),
    },
    Join: {
      response: (w, e) => (e.request === MessageType.JoinRequest ? w.#joinResponse(e.message) : w.#discard(e.message.type)),
      waitTimer: (w, e) => w.#teardown(`${e.what} expired`),
    },
    ImageData: {
      request: (w, e) => w.#imageDataStateRequest(e.message),
      imageFinished: (w, e) => w.#imageFinished(e.outcome),
      statisticsTimer: (w) => w.#discardOwnEvent(),
    },
    Configure: {
      response: (w, e) => (e.request === MessageType.ConfigurationStatusRequest ? w.#configurationStatusResponse(e.message) : w.#discard(e.message.type)),
    },
    DataCheck: {
      response: (w, e) => (e.request === MessageType.ChangeStateEventRequest ? w.#changeStateResponse() : w.#discard(e.message.type)),
      keepAlive: () => "Run",
      keepAliveTimer: (w) => w.#sendKeepAlive(),
      waitTimer: (w, e) => w.#teardown(`${e.what} expired`),
    },
    Run: {
      request: (w, e) => w.#runRequest(e.message),
      response: (w, e) => w.#runResponse(e.message),
      echoTimer: (w) => w.#sendEcho(),
      keepAlive: (w) => w.#keepAliveReceived(),
      keepAliveTimer: (w) => w.#sendKeepAlive(),
      waitTimer: (w, e) => w.#teardown(`${e.what} expired`),
      statisticsTimer: (w) => w.#sendWtpEvent(),
      imageFinished: (w, e) => w.#imageFinished(e.outcome),
    },
    Reset: {
      restartTimer: () => "Discovery",
    },
    DtlsTeardown: {
      restartTimer: (w) => {
        const sulk = w.#sulkAfterTeardown;
        w.#sulkAfterTeardown = false;
        return sulk ? "Sulking" : "Discovery";
      },
    },
  };

  /** Events every joined state handles the same way. */
  static readonly #ANY_SESSION: { [T in WtpEvent["type"]]?: Handler<T> } = {
    requestTimeout: (w, e) => w.#teardown(`Max retransmission count exceeded for ${messageTypeName(e.request)}`),
    fail: (w, e) => w.#teardown(e.reason),
  };

  static readonly #ENTER: { [S in WtpState]?: (w: Wtp) => WtpState | undefined } = {
    Discovery: (w) => w.#beginDiscovery(),
    Sulking: (w) => {
      w.#setTimer("silentTimer", w.#o.config.timers.silentIntervalMs, { type: "silentTimer" });
      return undefined;
    },
    DtlsSetup: (w) => w.#beginDtls(),
    Join: (w) => w.#sendJoin(),
    ImageData: (w) => w.#beginImageData(),
    Configure: (w) => w.#sendConfigurationStatus(),
    DataCheck: (w) => w.#sendChangeState(),
    Run: (w) => w.#enterRun(),
    Reset: (w) => w.#reset(),
    DtlsTeardown: (w) => w.#enterTeardown(),
  };

  #dispatch(e: WtpEvent): void {
    const own = Wtp.#TRANSITIONS[this.#state][e.type] as Handler<typeof e.type> | undefined;
    const inSession = this.#state !== "Idle" && this.#state !== "Discovery" && this.#state !== "Sulking" && this.#state !== "DtlsTeardown";
    const shared = inSession ? (Wtp.#ANY_SESSION[e.type] as Handler<typeof e.type> | undefined) : undefined;
    const handler = own ?? shared;
    if (!handler) {
      if (e.type === "request" || e.type === "response" || e.type === "discoveryResponse") this.#discard(e.message.type);
      return;
    }
    this.#depth++;
    try {
      let next: WtpState | undefined;
      try {
        next = handler(this, e);
      } catch (err) {
        next = this.#internalError(err);
      }
      if (next !== undefined && next !== this.#state) this.#enter(next);
    } finally {
      this.#depth--;
    }
  }

  /** Enter `state`, then each state its entry action leads to; a failure on the way restarts CAPWAP. */
  #enter(state: WtpState): void {
    let next: WtpState | undefined = state;
    while (next !== undefined && next !== this.#state) {
      const previous = this.#state;
      this.#clearTimers();
      this.#state = next;
      this.#o.log.info(`CAPWAP State: ${STATE_NAMES[next]}`, { state: next, previous });
      try {
        this.#o.onStateChange?.(next, previous);
        next = Wtp.#ENTER[next]?.(this);
      } catch (err) {
        next = this.#state === "DtlsTeardown" ? this.#teardownFailed(err) : this.#internalError(err);
      }
    }
  }

  /**
   * Run work a socket, timer or promise callback (or the image stage) started,
   * so that nothing it throws escapes there: the failure restarts CAPWAP.
   * Inside a #dispatch the error goes up to it instead.
   */
  #guard(work: () => void): void {
    if (this.#depth > 0) return work();
    this.#depth++;
    try {
      work();
    } catch (err) {
      if (this.#state === "Idle") this.#o.log.warn(`Ignoring a failure after stop: ${describeError(err)}`);
      else this.#enter(this.#internalError(err));
    } finally {
      this.#depth--;
    }
  }

  /** A bug or a message we cannot encode: restart CAPWAP, sulking first so a failure that repeats cannot spin. */
  #internalError(err: unknown): WtpState {
    this.#sulkAfterTeardown = true;
    return this.#teardown(`internal error: ${describeError(err)}`);
  }

  /** DTLS Teardown's own entry failed: the session still closes and CAPWAP still restarts, after the SilentInterval. */
  #teardownFailed(err: unknown): undefined {
    this.#o.log.warn(`CAPWAP teardown failed: ${describeError(err)}`);
    this.#sulkAfterTeardown = true;
    this.#setTimer("restartTimer", 0, { type: "restartTimer" });
    this.#imageActive = false;
    try {
      this.#closeSession();
    } catch (closing) {
      this.#o.log.warn(`CAPWAP session did not close cleanly: ${describeError(closing)}`);
    }
    return undefined;
  }

  #discard(type: number): undefined {
    this.stats.discarded++;
    this.#o.log.info(`Discarding msg ${messageTypeConstant(type)}(type ${type}) in CAPWAP state: ${STATE_NAMES[this.#state]}`);
    return undefined;
  }

  // ---------------------------------------------------------------- discovery

  #beginDiscovery(): undefined {
    this.#candidates = [];
    this.#discoveryRound = 0;
    this.#sendDiscoveryRound();
    return undefined;
  }

  #sendDiscoveryRound(): void {
    const { config, network } = this.#o;
    const seq = (this.#discoverySeq = (this.#discoverySeq + 1) & 0xff);
    const send = (address: string, port: number, type: number) => {
      const info = { ...this.#wtpInfo(), discoveryType: type };
      const packet = encodeControlPacket({ type: MessageType.DiscoveryRequest, seq, elements: this.#profile.discoveryRequest(info) }, this.#profile.elements);
      this.#sendControl(packet, { address, port });
      this.#o.log.info(`Discovery Request sent to ${address}, discovery type ${DISCOVERY_TYPE_NAMES[type]}(${type})`);
    };
    this.#discoveryTargets = config.controllers.length;
    for (const c of config.controllers) send(c.address, c.port, DiscoveryType.Static);
    if (config.discovery.broadcast) {
      this.#discoveryTargets = Infinity; // nobody knows how many will answer: wait the interval
      send(BROADCAST, 5246, DiscoveryType.Unknown);
    }
    if (config.discovery.dnsDomain && network.resolve) {
      this.#discoveryTargets = Infinity;
      const round = this.#discoveryRound;
      const name = `${CISCO_DNS_NAME}.${config.discovery.dnsDomain}`;
      network.resolve(name).then(
        (addresses) =>
          this.#guard(() => {
            if (this.#state !== "Discovery" || this.#discoveryRound !== round) return;
            for (const a of addresses) send(a, 5246, DiscoveryType.Dns);
          }),
        (err: unknown) => this.#o.log.warn(`Could not resolve ${name}: ${describeError(err)}`),
      );
    }
    // RFC 5415 §4.7: wait DiscoveryInterval, backing off towards MaxDiscoveryInterval.
    const { discoveryIntervalMs, maxDiscoveryIntervalMs } = config.timers;
    const wait = Math.min(discoveryIntervalMs * 2 ** this.#discoveryRound, maxDiscoveryIntervalMs);
    this.#setTimer("discoveryTimer", wait, { type: "discoveryTimer" });
  }

  #collectDiscoveryResponse(from: Endpoint, message: Message): WtpState | undefined {
    if (message.seq !== this.#discoverySeq) return this.#discard(message.type);
    if (this.#candidates.some((c) => c.from.address === from.address && c.from.port === from.port)) return undefined;
    const summary = this.#profile.acSummary(message.elements);
    this.#candidates.push({ from, summary, order: this.#candidates.length });
    this.#o.log.info(`Discovery Response from ${from.address}`, { ac: summary.name, activeWtps: summary.activeWtps });
    // Every controller we asked has answered: no reason to wait out the interval.
    return this.#candidates.length >= this.#discoveryTargets ? this.#discoveryRoundOver() : undefined;
  }

  #discoveryRoundOver(): WtpState | undefined {
    const chosen = chooseController(this.#candidates, this.#o.config.controllers);
    if (chosen) {
      this.#ac = { endpoint: chosen.from, summary: chosen.summary };
      const configured = this.#o.config.controllers.some((c) => c.name === chosen.summary.name);
      this.#o.log.info(configured ? `Found Configured MWAR '${chosen.summary.name}' (${chosen.from.address})` : `Selected MWAR '${chosen.summary.name ?? chosen.from.address}' (${chosen.from.address})`);
      return "DtlsSetup";
    }
    this.#discoveryRound++;
    if (this.#discoveryRound >= this.#o.config.timers.maxDiscoveries) {
      this.#o.log.info(`No controller answered ${this.#discoveryRound} discovery rounds; sulking for ${this.#o.config.timers.silentIntervalMs / 1000} s`);
      return "Sulking";
    }
    this.#sendDiscoveryRound();
    return undefined;
  }

  // ---------------------------------------------------------------- session setup

  #beginDtls(): WtpState | undefined {
    const ac = this.#ac!;
    const { config } = this.#o;
    this.#sessionId = this.#o.random.bytes(this.#profile.sessionIdBytes);
    this.#channel = new ControlChannel(
      {
        profile: this.#profile,
        clock: this.#o.clock,
        maxPacketSize: () => maxControlPacket(ac.endpoint.address, this.#dtls),
        retransmitIntervalMs: config.timers.retransmitIntervalMs,
        maxRetransmit: config.timers.maxRetransmit,
        transmit: (packet) => this.#transmitSession(packet),
        onRequest: (message) => this.#dispatch({ type: "request", message }),
        onDiscard: (reason) => {
          this.stats.discarded++;
          this.#o.log.info(`Discarding packet from ${ac.endpoint.address}: ${reason}`);
        },
        onPacket: (direction, packet) => this.#capture(direction, packet, ac.endpoint),
      },
      this.#o.random.int(256),
    );
    if (config.dtls.mode === "plaintext") return "Join";
    this.#setTimer("waitTimer", config.timers.waitDtlsMs, { type: "waitTimer", what: "WaitDTLS" });
    try {
      const session = DtlsSession.connect({
        context: this.#o.dtls!,
        clock: this.#o.clock,
        handshakeTimeoutMs: config.timers.waitDtlsMs,
        peerAddress: ac.endpoint.address,
        sendDatagram: (d) => this.#control?.send(d, ac.endpoint),
      });
      this.#dtls = session;
      session.on("connected", (peer) => {
        this.#o.log.info(`DTLS connection established to ${ac.endpoint.address}, ${peer.version} ${peer.cipher}`, { peer: peer.subject });
        this.#dispatch({ type: "dtlsConnected" });
      });
      session.on("data", (payload) => this.#channel?.receive(payload));
      session.on("close", (reason) => {
        if (this.#dtls !== session) return;
        this.#dtls = undefined;
        this.#dispatch({ type: "fail", reason: reason ? `DTLS: ${reason.message}` : "DTLS session closed by peer" });
      });
    } catch (err) {
      return this.#teardown(`DTLS setup failed: ${describeError(err)}`);
    }
    return undefined;
  }

  #sendJoin(): undefined {
    const ac = this.#ac!;
    this.#setTimer("waitTimer", this.#o.config.timers.waitJoinMs, { type: "waitTimer", what: "WaitJoin" });
    this.#request(MessageType.JoinRequest, this.#profile.joinRequest(this.#wtpInfo()));
    this.#o.log.info(`Sending Join request to ${ac.endpoint.address} through port ${this.#control!.local.port}`);
    return undefined;
  }

  #joinResponse(message: Message): WtpState | undefined {
    const ac = this.#ac!;
    const result = findElement(message.elements, "ResultCode")?.resultCode ?? ResultCode.FailureMissingMandatoryElement;
    this.#o.log.info(`Join Response from ${ac.endpoint.address}`);
    if (!isSuccess(result)) {
      this.#o.log.warn(`AC rejected join request with result code: ${result} (${resultCodeName(result)})`);
      // Back off: a controller that refuses us must not see a tight loop of joins.
      this.#sulkAfterTeardown = true;
      return this.#teardown(`join refused: ${resultCodeName(result)}`);
    }
    this.#o.log.info(`AC accepted join request with result code: ${result}`);
    const summary = this.#profile.acSummary(message.elements);
    this.#joined = {
      name: summary.name ?? ac.summary.name ?? ac.endpoint.address,
      address: ac.endpoint.address,
      softwareVersion: summary.softwareVersion ?? ac.summary.softwareVersion ?? "0.0.0.0",
      imageWindow: this.#imageWindow(this.#profile.joinSettings(message.elements).imageWindow),
    };
    this.stats.joins++;
    return "ImageData";
  }

  /**
   * The controller's Image Data window, capped by ours. A window of 0 would
   * leave no block inside it (every one dropped, the transfer never moving):
   * it is taken as 1, stop-and-wait, the window when none is offered.
   */
  #imageWindow(offered: number): number {
    if (offered < 1) this.#o.log.warn(`Controller offered an Image Data window of ${offered}; using 1 (stop-and-wait)`);
    return Math.min(Math.max(1, offered), this.#o.config.maxImageWindow);
  }

  #beginImageData(): WtpState | undefined {
    const { running, backup } = this.#versions();
    const controller = this.#joined!.softwareVersion;
    this.#o.log.info(`AP image version ${running} backup ${backup}, Controller ${controller}`);
    if (controller === running) {
      this.#o.log.info("Version is the same, do not need update.");
      this.#o.imageStage?.noUpgrade?.();
      return "Configure";
    }
    this.#o.log.info("Version does not match.");
    const stage = this.#o.imageStage;
    if (!stage) {
      this.#o.log.warn(`No image source configured: staying on ${running}`);
      return "Configure";
    }
    this.#imageActive = true;
    this.#setTimer("statisticsTimer", this.#o.config.timers.statisticsMs, { type: "statisticsTimer" });
    stage.begin(this.#imageHost(), { mode: "join", running, backup, controller, controllerAddress: this.#joined!.address, window: this.#joined!.imageWindow });
    return undefined;
  }

  #imageHost(): ImageStageHost {
    return {
      profile: this.#profile,
      log: this.#o.log,
      request: (message) =>
        new Promise((resolve, reject) => {
          if (!this.#channel) return reject(new Error("CAPWAP session closed"));
          this.#channel.request(message, resolve, () => reject(new Error(`no answer to ${messageTypeName(message.type)}`)));
        }),
      respond: (request, elements) => this.#guard(() => this.#channel?.respond(request, elements)),
      event: (elements) => this.#guard(() => this.#channel && this.#request(MessageType.WtpEventRequest, elements)),
      finish: (outcome) => this.#dispatch({ type: "imageFinished", outcome }),
    };
  }

  #imageDataStateRequest(message: Message): WtpState | undefined {
    if (message.type === MessageType.ImageDataRequest) {
      this.#o.imageStage?.imageDataRequest(message);
      return undefined;
    }
    return this.#discard(message.type);
  }

  #imageFinished(outcome: "reset" | "continue" | Error): WtpState | undefined {
    this.#imageActive = false;
    if (outcome instanceof Error) return this.#teardown(outcome.message);
    if (outcome === "reset") {
      this.#reboot = { reason: "Image upgrade" };
      return "Reset";
    }
    return this.#state === "ImageData" ? "Configure" : undefined;
  }

  /** Seed: the AP's own WTP Event Requests are dropped while it downloads. */
  #discardOwnEvent(): undefined {
    this.#discard(MessageType.WtpEventRequest);
    this.#setTimer("statisticsTimer", this.#o.config.timers.statisticsMs, { type: "statisticsTimer" });
    return undefined;
  }

  #sendConfigurationStatus(): undefined {
    this.#request(MessageType.ConfigurationStatusRequest, this.#profile.configurationStatusRequest(this.#wtpInfo()));
    return undefined;
  }

  #configurationStatusResponse(message: Message): WtpState {
    this.#applyTimers(message.elements);
    return "DataCheck";
  }

  #sendChangeState(): undefined {
    this.#setTimer("waitTimer", this.#o.config.timers.changeStatePendingMs, { type: "waitTimer", what: "ChangeStatePendingTimer" });
    this.#request(MessageType.ChangeStateEventRequest, this.#profile.changeStateEventRequest(this.#wtpInfo()));
    return undefined;
  }

  /** RFC 5415 §2.3.1: after Change State, the data channel must come up (keep-alive both ways). */
  #changeStateResponse(): undefined {
    this.#sendKeepAlive();
    this.#setTimer("waitTimer", this.#o.config.timers.dataChannelDeadIntervalMs, { type: "waitTimer", what: "DataChannelDeadInterval" });
    return undefined;
  }

  // ---------------------------------------------------------------- run

  #enterRun(): undefined {
    const { timers } = this.#o.config;
    this.#o.log.info(`AP has joined controller ${this.#joined!.name}`);
    this.#setTimer("echoTimer", this.#echoIntervalMs, { type: "echoTimer" });
    this.#setTimer("keepAliveTimer", timers.dataChannelKeepAliveMs, { type: "keepAliveTimer" });
    this.#setTimer("waitTimer", timers.dataChannelDeadIntervalMs, { type: "waitTimer", what: "DataChannelDeadInterval" });
    this.#setTimer("statisticsTimer", timers.statisticsMs, { type: "statisticsTimer" });
    return undefined;
  }

  #sendEcho(): undefined {
    this.#request(MessageType.EchoRequest, []);
    return undefined;
  }

  #runResponse(message: Message): undefined {
    if (message.type === MessageType.EchoResponse) {
      this.stats.echoes++;
      this.#setTimer("echoTimer", this.#echoIntervalMs, { type: "echoTimer" });
    }
    return undefined;
  }

  #keepAliveReceived(): undefined {
    this.#setTimer("waitTimer", this.#o.config.timers.dataChannelDeadIntervalMs, { type: "waitTimer", what: "DataChannelDeadInterval" });
    return undefined;
  }

  #sendWtpEvent(): undefined {
    this.#request(MessageType.WtpEventRequest, this.#profile.wtpEventRequest(this.#wtpInfo()));
    this.#setTimer("statisticsTimer", this.#o.config.timers.statisticsMs, { type: "statisticsTimer" });
    return undefined;
  }

  #runRequest(message: Message): WtpState | undefined {
    const ok = [{ kind: "ResultCode" as const, resultCode: ResultCode.Success }];
    switch (message.type) {
      case MessageType.ConfigurationUpdateRequest: {
        const order = findElement(message.elements, "PredownloadOrder");
        if (order) return this.#predownload(message, order.version);
        this.#applyConfigurationUpdate(message.elements);
        this.#channel!.respond(message, ok);
        return undefined;
      }
      case MessageType.ResetRequest:
        this.#channel!.respond(message, ok);
        this.#o.log.info(`Reset Request from ${this.#ac!.endpoint.address}`);
        const version = findElement(message.elements, "ImageIdentifier")?.identifier;
        this.#reboot = { reason: "Reset Request from controller", ...(version ? { version } : {}) };
        return "Reset";
      case MessageType.ImageDataRequest:
        if (this.#imageActive) this.#o.imageStage?.imageDataRequest(message);
        else this.#channel!.respond(message, [{ kind: "ResultCode", resultCode: ResultCode.ImageDataErrorOtherError }]);
        return undefined;
      case MessageType.ClearConfigurationRequest:
      case MessageType.StationConfigurationRequest:
      case MessageType.Ieee80211WlanConfigurationRequest:
        this.#channel!.respond(message, ok);
        return undefined;
      case MessageType.DataTransferRequest:
        this.#channel!.respond(message, [{ kind: "ResultCode", resultCode: ResultCode.DataTransferErrorNoInformation }]);
        return undefined;
      default:
        this.#channel!.respond(message, [{ kind: "ResultCode", resultCode: ResultCode.MessageUnexpectedUnrecognizedRequest }]);
        return undefined;
    }
  }

  /** The controller orders the image of `version` into the backup partition while we stay in Run. */
  #predownload(order: Message, version: string): undefined {
    const stage = this.#o.imageStage;
    if (!stage || this.#imageActive) {
      this.#channel!.respond(order, [{ kind: "ResultCode", resultCode: ResultCode.ConfigurationFailureServiceNotProvided }]);
      return undefined;
    }
    this.#channel!.respond(order, [{ kind: "ResultCode", resultCode: ResultCode.Success }]);
    const { running, backup } = this.#versions();
    this.#o.log.info(`Predownload of ${version} ordered by ${this.#joined!.name}`);
    this.#imageActive = true;
    stage.begin(this.#imageHost(), { mode: "predownload", running, backup, controller: version, controllerAddress: this.#joined!.address, window: this.#joined!.imageWindow });
    return undefined;
  }

  #applyConfigurationUpdate(elements: readonly Element[]): void {
    const name = findElement(elements, "WtpName")?.name ?? findElement(elements, "CiscoRadName")?.name;
    if (name && name !== this.#name) {
      this.#o.log.info(`AP name changed from ${this.#name} to ${name}`);
      this.#name = name;
    }
    this.#applyTimers(elements);
  }

  /** RFC 5415 §4.6.13: the controller's CAPWAP Timers set the echo interval (seconds). */
  #applyTimers(elements: readonly Element[]): void {
    const timers = findElement(elements, "CapwapTimers");
    if (timers && timers.echoRequest > 0) this.#echoIntervalMs = timers.echoRequest * 1000;
  }

  // ---------------------------------------------------------------- reset and teardown

  #reset(): undefined {
    this.#closeSession();
    this.#rebootCount++;
    const { reason, version } = this.#reboot;
    this.#o.log.info(`Reloading AP (${reason})`);
    // Arm the in-place restart first: a host that reloads the AP stops this session, clearing it.
    this.#setTimer("restartTimer", 0, { type: "restartTimer" });
    this.#o.onReboot?.(reason, version);
    return undefined;
  }

  /** Start over: log why (Cisco: `Going to restart CAPWAP (reason : …)`), then DTLS Teardown. */
  #teardown(reason: string): WtpState {
    this.#restartReason = reason;
    this.stats.restarts++;
    this.#o.log.info(`Going to restart CAPWAP (reason : ${reason})...`);
    return "DtlsTeardown";
  }

  #enterTeardown(): undefined {
    // A random pause before rediscovering: fleets must not stampede a recovering controller.
    // Armed first, so that nothing failing below can leave the AP here for good.
    const wait = this.#sulkAfterTeardown ? 0 : this.#o.random.int(Math.max(1, this.#o.config.timers.discoveryIntervalMs));
    this.#setTimer("restartTimer", wait, { type: "restartTimer" });
    const aborting = this.#imageActive;
    this.#imageActive = false;
    try {
      if (aborting) this.#o.imageStage?.abort(this.#restartReason ?? "session closed");
    } finally {
      this.#closeSession();
    }
    this.#o.log.info("Restarting CAPWAP State Machine.");
    return undefined;
  }

  #closeSession(): void {
    this.#channel?.close();
    this.#channel = undefined;
    const dtls = this.#dtls;
    this.#dtls = undefined;
    dtls?.close();
  }

  // ---------------------------------------------------------------- I/O

  #request(type: number, elements: Element[]): void {
    this.#channel!.request(
      { type, elements },
      (message) => this.#dispatch({ type: "response", request: type, message }),
      () => this.#dispatch({ type: "requestTimeout", request: type }),
    );
  }

  #transmitSession(packet: Uint8Array): void {
    const ac = this.#ac!.endpoint;
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

  #onControlDatagram(datagram: Uint8Array, from: Endpoint): void {
    if (datagram.length === 0) return;
    if (datagram[0] === DTLS_PREAMBLE_BYTE) {
      if (this.#dtls && this.#ac && from.address === this.#ac.endpoint.address && from.port === this.#ac.endpoint.port) this.#dtls.receive(datagram);
      return;
    }
    // Plaintext: Discovery Responses always; the whole session only in plaintext mode.
    if (this.#channel && this.#o.config.dtls.mode === "plaintext" && this.#ac && from.address === this.#ac.endpoint.address && from.port === this.#ac.endpoint.port) {
      this.#channel.receive(datagram);
      return;
    }
    this.#capture("in", datagram, from);
    try {
      const { message } = decodeControlPacket<Element>(datagram, this.#profile.elements);
      if (!message) {
        // Outside a plaintext session nothing here is reassembled: a Discovery Response comes whole.
        this.stats.discarded++;
        this.#o.log.info(`Discarding a fragment from ${from.address}`);
      } else if (message.type === MessageType.DiscoveryResponse) this.#dispatch({ type: "discoveryResponse", from, message });
      else this.#discard(message.type);
    } catch (err) {
      if (!(err instanceof CapwapDecodeError)) throw err;
      this.stats.discarded++;
      this.#o.log.info(`Discarding packet from ${from.address}: ${err.message}`);
    }
  }

  #sendKeepAlive(): undefined {
    const ac = this.#ac!.endpoint;
    const to = { address: ac.address, port: 5247 };
    const packet = encodeDataKeepAlive([{ kind: "SessionId", sessionId: this.#sessionId }], this.#profile.elements);
    this.#capture("out", packet, to, this.#data?.local);
    this.#data?.send(packet, to);
    this.#setTimer("keepAliveTimer", this.#o.config.timers.dataChannelKeepAliveMs, { type: "keepAliveTimer" });
    return undefined;
  }

  #onDataDatagram(datagram: Uint8Array, from: Endpoint): void {
    if (!this.#ac || from.address !== this.#ac.endpoint.address) return;
    this.#capture("in", datagram, from, this.#data?.local);
    try {
      const packet = decodeDataPacket<Element>(datagram, this.#profile.elements);
      const session = packet.kind === "keepalive" ? findElement(packet.elements, "SessionId")?.sessionId : undefined;
      if (session && equalBytes(session, this.#sessionId)) this.#dispatch({ type: "keepAlive" });
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

  // ---------------------------------------------------------------- helpers

  #setTimer(name: string, ms: number, event: WtpEvent): void {
    this.#timers.get(name)?.cancel();
    this.#timers.set(
      name,
      this.#o.clock.setTimer(name, ms, () => {
        this.#timers.delete(name);
        this.#dispatch(event);
      }),
    );
  }

  #clearTimers(): void {
    for (const t of this.#timers.values()) t.cancel();
    this.#timers.clear();
  }

  #versions(): { running: string; backup: string } {
    return this.#o.versions?.() ?? this.#o.config.versions;
  }

  #wtpInfo(): WtpInfo {
    const { identity } = this.#o.config;
    const { running, backup } = this.#versions();
    const info: WtpInfo = {
      name: this.#name,
      baseMac: identity.baseMac,
      serial: identity.serial,
      model: identity.model,
      radios: radiosOf(hardwareClasses[identity.hardwareClass].radios),
      softwareVersion: running,
      backupVersion: backup,
      bootVersion: "1.1.2.4",
      hardwareVersion: "1.0.0.0",
      location: identity.location,
      group: identity.group,
      localAddress: this.#localAddress,
      sessionId: this.#sessionId,
      discoveryType: DiscoveryType.Static,
      rebootCount: this.#rebootCount,
      uptimeSeconds: Math.floor((this.#o.clock.now() - this.#startedAt) / 1000),
    };
    if (this.#ac) info.acAddress = this.#ac.endpoint.address;
    const acName = this.#joined?.name ?? this.#ac?.summary.name;
    if (acName) info.acName = acName;
    return info;
  }
}

const DISCOVERY_TYPE_NAMES: Record<number, string> = { 0: "UNKNOWN", 1: "STATIC_CONFIG", 2: "DHCP", 3: "DNS", 4: "AC_REFERRAL" };

/** RFC 5416 §6.25 radio types for a class's bands (a flexible radio does both). */
function radiosOf(bands: readonly Band[]): RadioInfo[] {
  const type: Record<Band, number> = {
    "2.4GHz": RadioType.B | RadioType.G | RadioType.N,
    "5GHz": RadioType.A | RadioType.N,
    dual: RadioType.A | RadioType.B | RadioType.G | RadioType.N,
  };
  return bands.map((band, radioId) => ({ radioId, radioType: type[band] }));
}

