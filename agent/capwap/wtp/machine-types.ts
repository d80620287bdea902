/** The WTP machine's vocabulary: states, inputs, effects and the session-scoped context. */
import type { ApConfig } from "../../config/index.js";
import type { LogFields } from "../../core/index.js";
import type { Endpoint } from "../../net/index.js";
import type { AcSummary, Element, Message, VendorProfile } from "../profiles/index.js";
import type { AcCandidate } from "./discovery.js";
import type { EfficientRole, ImageDownload, ImageSourceFailure, ImageSourceName, ImageSourceResult } from "./image-source.js";

export type WtpState = "Idle" | "Discovery" | "Sulking" | "DtlsSetup" | "Join" | "ImageData" | "Configure" | "DataCheck" | "Run" | "Reset" | "DtlsTeardown";

/** RFC 5415 §4.7 timers the WTP arms (and Restart: the pause before rediscovering). */
export type WtpTimer =
  | "DiscoveryInterval"
  | "SilentInterval"
  | "WaitDTLS"
  | "WaitJoin"
  | "ChangeStatePendingTimer"
  | "DataChannelDeadInterval"
  | "EchoInterval"
  | "DataChannelKeepAlive"
  | "StatisticsTimer"
  | "Restart"
  /** Efficient image upgrade: a subordinate's back-off before it tries its primary again. */
  | "PrimaryRetry";

export type WtpInput =
  | { type: "start"; controlPort: number }
  /** The operator: leave CAPWAP for good. */
  | { type: "stop" }
  /** The operator: `test capwap restart`. */
  | { type: "restart"; reason: string }
  | { type: "discoveryResponse"; from: Endpoint; message: Message }
  | { type: "dnsAnswer"; round: number; addresses: readonly string[] }
  | { type: "dtlsConnected"; peer: { version: string; cipher: string; subject?: string | undefined } }
  /** The DTLS session could not start, or failed. */
  | { type: "dtlsClosed"; reason: string }
  /** The controller closed the DTLS session with close_notify: it is shutting down or restarting, not failing. */
  | { type: "dtlsPeerClosed" }
  | { type: "request"; message: Message }
  | { type: "response"; request: number; message: Message }
  | { type: "requestTimeout"; request: number }
  /** A Data Channel Keep-Alive with our session id. */
  | { type: "keepAlive" }
  | { type: "versions"; running: string; backup: string }
  | { type: "sourceStarted" }
  | { type: "sourceFinished"; result: ImageSourceResult }
  | { type: "sourceFailed"; reason: ImageSourceFailure; message: string }
  | { type: "timer"; timer: WtpTimer }
  /** The pause the shell drew for an armBackoff. */
  | { type: "backoffArmed"; timer: WtpTimer; ms: number }
  /** A primary's TFTP server serves the predownloaded image here. */
  | { type: "imageServed"; server: Endpoint }
  /** A primary's TFTP server could not start. */
  | { type: "imageServeFailed"; error: string }
  /** An ImageSwap's ACTIVATE ended: `error` when it did not happen. */
  | { type: "imageSwapped"; request: Message; error?: string }
  /** A bug or a message we cannot encode, thrown while executing an effect or in a callback. */
  | { type: "internalError"; error: string };

/** A table key: an input's type, or the timer for an expiry. */
export type InputKey = Exclude<WtpInput["type"], "timer"> | WtpTimer;
export type InputOf<K extends InputKey> = K extends WtpTimer ? Extract<WtpInput, { type: "timer" }> : Extract<WtpInput, { type: K }>;

export interface DiscoveryTarget {
  address: string;
  port: number;
  discoveryType: number;
}

export type WtpStat = "joins" | "restarts" | "echoes" | "discarded";

export type WtpEffect =
  | { kind: "log"; level: "info" | "warn"; text: string; fields?: LogFields }
  | { kind: "count"; stat: WtpStat }
  /** A packet thrown away: counted, and logged as `text` within the rate limit of (source, reason). */
  | { kind: "discard"; source: string; reason: string; text: string }
  | { kind: "arm"; timer: WtpTimer; ms: number }
  /** Arm after a random pause below `belowMs` (the shell owns randomness). */
  | { kind: "armRandom"; timer: WtpTimer; belowMs: number }
  /** Arm after a random pause in [minMs, maxMs]; the shell reports what it drew (backoffArmed), so the table can say when. */
  | { kind: "armBackoff"; timer: WtpTimer; minMs: number; maxMs: number }
  | { kind: "cancel"; timer: WtpTimer }
  | { kind: "cancelAllTimers" }
  | { kind: "entered"; state: WtpState; previous: WtpState }
  | { kind: "discover"; seq: number; targets: DiscoveryTarget[] }
  | { kind: "resolve"; name: string; round: number }
  /** A new session id and control channel toward the chosen controller; DTLS unless plaintext. */
  | { kind: "openSession" }
  /** `tolerant`: a failure to close is logged, not thrown (teardown already failed once). */
  | { kind: "closeSession"; tolerant?: true }
  /** Without `elements`, the profile builds them from the WTP's own description. */
  | { kind: "request"; type: number; elements?: Element[] }
  | { kind: "respond"; to: Message; elements: Element[] }
  | { kind: "sendKeepAlive" }
  | { kind: "readVersions" }
  | { kind: "noUpgrade" }
  | { kind: "startSource"; source: ImageSourceName; download: ImageDownload }
  | { kind: "abortSource"; reason: string }
  | { kind: "toSource"; message: Message }
  /** Efficient image upgrade, primary: serve the predownloaded image over TFTP (the host's server); imageServed or imageServeFailed comes back. */
  | { kind: "serveImage"; version: string }
  /** A new predownload order: the image served before is no longer the one. */
  | { kind: "stopServing" }
  /** ImageSwap: ACTIVATE the predownloaded `version` without a reload; imageSwapped comes back. */
  | { kind: "swapImage"; request: Message; version: string }
  | { kind: "reboot"; reason: string; version?: string };

/** What the session knows about the controller it joined. */
export interface JoinedController {
  name: string;
  address: string;
  softwareVersion: string;
  imageWindow: number;
  /** The controller offers out-of-band HTTPS download on this port (only ever kept when this AP advertised the capability). */
  oobPort?: number;
}

/** Session-scoped data: everything the table reads and changes besides the state. */
export interface WtpContext {
  /** The control socket's local port (Join's log line names it). */
  controlPort: number;
  name: string;
  echoIntervalMs: number;
  discovery: { seq: number; round: number; targets: number; candidates: readonly AcCandidate[] };
  ac?: { endpoint: Endpoint; summary: AcSummary };
  joined?: JoinedController;
  restartReason?: string;
  /** Why the AP enters Reset, and the version a Reset Request named (swap to a predownloaded image). */
  reboot: { reason: string; version?: string };
  rebootCount: number;
  sulkAfterTeardown: boolean;
  /** The controller said goodbye (close_notify): rediscover after a jitter, not the whole random restart pause. */
  rediscoverAtOnce: boolean;
  /** The image download under way, if any, and which source runs it. */
  download?: DownloadRun;
  /** Efficient image upgrade, primary: where this AP serves its predownloaded image (until a new order). */
  imageServer?: Endpoint;
}

/** A download under way: its source runs, or (waiting) it pauses between steps with no source running. */
export interface DownloadRun {
  mode: ImageDownload["mode"];
  version: string;
  source: ImageSourceName;
  /** Efficient image upgrade: this AP's role; a subordinate counts its tries at the primary. */
  efficient?: EfficientRun;
  /** No source runs: a subordinate waits out its back-off (retry), or a primary's server is starting (server). */
  waiting?: "retry" | "server";
}

export type EfficientRun = { role: "primary" } | (Extract<EfficientRole, { role: "subordinate" }> & { tries: number; attempt: number; lastFailure?: string });

/** What the machine reads but never changes. */
export interface MachineSettings {
  readonly config: ApConfig;
  readonly profile: VendorProfile;
  /** The network can resolve names (DNS discovery). */
  readonly canResolve: boolean;
  readonly sources: readonly ImageSourceName[];
}

export interface Step {
  to?: WtpState;
  context: WtpContext;
  effects: WtpEffect[];
}

export type Row<K extends InputKey> = (settings: MachineSettings, context: WtpContext, input: InputOf<K>, state: WtpState) => Step;
export type Rows = { [K in InputKey]?: Row<K> };
export type Entry = (settings: MachineSettings, context: WtpContext) => Step;
