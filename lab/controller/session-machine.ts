/**
 * The controller's side of one AP's CAPWAP session (RFC 5415 §2.3, AC side)
 * as a pure transition table: `(state, input) → { state, effects }`. The
 * inputs are what happens to the session — decoded requests, keep-alives,
 * DTLS events, the idle deadline and unanswered requests (timer expiries),
 * the end of an image transfer, operator commands; the effects are data a
 * thin shell (ap-session.ts) executes — respond, send a request, arm the idle
 * timer, start or stop an image transfer, update the AP table, log, close.
 * Nothing here reads a clock, a socket or a file.
 *
 * The AP's Image Data and Reset states have no phase of their own here: an
 * image transfer runs beside the phase (at join the AP's Configure, later
 * Run), and a Reset is a request the AP answers before it ends the session.
 */
import { MessageType, messageTypeName, ResultCode, resultCodeName, toHex } from "../../agent/capwap/codec/index.js";
import { EfficientRole, type Element, type Message, PredownloadState, type RadioInfo, type WtpSummary } from "../../agent/capwap/profiles/index.js";
import { imageReceiveSpan, MAX_IMAGE_WINDOW } from "../../agent/config/index.js";
import type { Endpoint } from "../../agent/net/index.js";
import type { ApPhase, DownloadState, EfficientRoleName } from "./ap-record.js";

export type SessionPhase = ApPhase | "Closed";

export interface SessionState {
  readonly phase: SessionPhase;
  /** The AP's name, once it joined (log lines name it). */
  readonly name?: string | undefined;
  /** The radios of its latest Join Request: the Configuration Status Response answers for them. */
  readonly radios: readonly RadioInfo[];
  /** The Image Data window offered at join. */
  readonly window: number;
  /** Out-of-band HTTPS was offered at join, on this port: the AP may ask for an HTTPS offer. */
  readonly oobPort?: number | undefined;
}

/** What a session knows from the start and never changes. */
export interface SessionContext {
  /** The AP's control channel, "address:port". */
  readonly key: string;
  readonly address: string;
  /** Silent this long, the AP is gone. */
  readonly idleTimeoutMs: number;
  /** The profile's vendor id (a Reset names the image under it). */
  readonly vendorId: number;
}

/** Settles an operator's request: opaque to the table, carried from command to effect. */
export interface Ticket {
  resolve(response: Message): void;
  reject(error: Error): void;
}

/**
 * A predownload order's efficient part (EfficientUpgrade): the AP's role,
 * the site tag that made it one, the tries a subordinate gives its primary
 * (the flex profile's), and the primary's TFTP endpoint (a subordinate's only).
 */
export interface EfficientOrder {
  readonly role: EfficientRoleName;
  readonly siteTag: string;
  readonly tries: number;
  readonly primary?: Endpoint | undefined;
}

/** A subordinate's failed try at its primary, as its PredownloadRetry says. */
export interface RetryReport {
  readonly attempt: number;
  readonly tries: number;
  readonly nextRetrySeconds: number;
  readonly reason: string;
}

export type OperatorCommand =
  | { kind: "predownload"; version: string; efficient?: EfficientOrder | undefined }
  /** Activate the predownloaded `version` without a reload (ImageSwap). */
  | { kind: "swap"; version: string }
  /** Reset onto `version` (Image Identifier); without one, into what the AP's BOOT names (the swapped image). */
  | { kind: "reset"; version?: string | undefined }
  | { kind: "configuration-update"; elements: Element[] }
  | { kind: "request"; type: number; elements: Element[] };

export type SessionInput =
  | { kind: "dtls-connected"; certificateSubject?: string | undefined }
  | { kind: "dtls-closed"; error?: string | undefined }
  /** A Join Request, with what the shell read from it, how it is admitted, and the HTTPS port to offer (an OOB-capable AP of a controller whose method is HTTPS). */
  | { kind: "join-request"; request: Message; wtp: WtpSummary; radios: RadioInfo[]; admission: number; offeredWindow: number; oobPort?: number | undefined }
  | { kind: "configuration-status-request"; request: Message }
  | { kind: "change-state-event-request"; request: Message }
  | { kind: "echo-request"; request: Message }
  /** A WTP Event Request, with a predownload report (PredownloadStatus, and a primary's PrimaryImageServer) or a subordinate's PredownloadRetry. */
  | { kind: "wtp-event-request"; request: Message; predownload?: number | undefined; imageServer?: Endpoint | undefined; retry?: RetryReport | undefined }
  /**
   * Image Identifier and Initiate Download, and the window the AP accepted
   * (absent from a real Cisco AP); or, instead of Initiate Download, a
   * request for an HTTPS offer; `fallback` when the AP's HTTPS try failed.
   */
  | { kind: "image-data-request"; request: Message; image?: string | undefined; initiate: boolean; oobRequest: boolean; acceptedWindow?: number | undefined; fallback?: string | undefined }
  | { kind: "data-transfer-request"; request: Message }
  | { kind: "unknown-request"; request: Message }
  | { kind: "keep-alive" }
  /** The idle timer fired; the AP was last heard from `silentMs` ago. */
  | { kind: "idle-deadline"; silentMs: number }
  /** A request of ours went unanswered through every retransmission. */
  | { kind: "request-unanswered"; type: number; ticket: Ticket }
  | { kind: "transfer-ended"; predownload: boolean; error?: string | undefined }
  | { kind: "command"; command: OperatorCommand; ticket: Ticket }
  | { kind: "replaced" }
  | { kind: "shutdown" };

export type InputKind = SessionInput["kind"];
type InputOf<K extends InputKind> = Extract<SessionInput, { kind: K }>;

/** What a response says; the shell renders the elements (they need the controller's live AC information). */
export type Answer =
  | { kind: "join"; resultCode: number; radios: readonly RadioInfo[]; window: number; oobPort?: number | undefined }
  | { kind: "configuration-status"; radios: readonly RadioInfo[] }
  | { kind: "echo" }
  | { kind: "empty" }
  | { kind: "result-code"; resultCode: number };

export type SessionEffect =
  | { kind: "respond"; request: Message; answer: Answer }
  | { kind: "send-request"; type: number; elements: Element[]; ticket: Ticket }
  | { kind: "refuse"; ticket: Ticket; reason: string }
  | { kind: "phase"; phase: ApPhase }
  | { kind: "arm-idle"; ms: number }
  | { kind: "cancel-idle" }
  | { kind: "start-transfer"; request: Message; image: string; window: number; span: number; fallback?: string | undefined }
  /** Answer an Image Data Request with the image's size and MD5, its HTTPS URL and a token for this AP and image. */
  | { kind: "offer-oob"; request: Message; image: string }
  | { kind: "stop-transfer"; reason: string }
  | { kind: "certificate"; subject: string }
  | { kind: "joined"; sessionId: string; wtp: WtpSummary; window: number }
  | { kind: "count-echo" }
  | { kind: "run-since" }
  | { kind: "announce-run" }
  | { kind: "download-queued"; version: string; efficient?: { role: EfficientRoleName; siteTag: string } }
  | { kind: "download-ended"; state: DownloadState; error?: string }
  | { kind: "predownload-report"; state: DownloadState; imageServer?: Endpoint }
  | { kind: "predownload-retry"; retry: RetryReport }
  | { kind: "log"; level: "info" | "warn"; line: string }
  | { kind: "close"; notifyPeer: boolean }
  | { kind: "leave"; reason: string };

export interface Transition {
  readonly state: SessionState;
  readonly effects: readonly SessionEffect[];
}

export interface SessionRow<K extends InputKind = InputKind> {
  /** Names the row (tests check every row has one). */
  readonly id: string;
  readonly from: readonly SessionPhase[];
  readonly on: K;
  /** The row applies only when this holds (rows for the same phase and input are tried in order). */
  readonly when?: (state: SessionState, input: InputOf<K>, context: SessionContext) => boolean;
  readonly apply: (state: SessionState, input: InputOf<K>, context: SessionContext) => Transition;
}

const OPEN: readonly SessionPhase[] = ["DTLS Setup", "Join", "Configure", "Data Check", "Run"];
/** Where the AP may talk CAPWAP: its requests are answered in any of them, as before and after joining. */
const TALKING: readonly SessionPhase[] = ["Join", "Configure", "Data Check", "Run"];
const NOT_IN_RUN: readonly SessionPhase[] = ["DTLS Setup", "Join", "Configure", "Data Check", "Closed"];

const stay = (state: SessionState, ...effects: SessionEffect[]): Transition => ({ state, effects });
const respond = (request: Message, answer: Answer): SessionEffect => ({ kind: "respond", request, answer });
const EMPTY: Answer = { kind: "empty" };
const label = (state: SessionState, context: SessionContext) => state.name ?? context.key;

/** The phase changes (and says so) unless it is the one already. */
function enter(state: SessionState, phase: ApPhase, before: SessionEffect[], after: SessionEffect[] = []): Transition {
  const effects = state.phase === phase ? [...before, ...after] : [...before, { kind: "phase", phase } as const, ...after];
  return { state: { ...state, phase }, effects };
}

/** The end of a session, whatever ended it: the transfer, the idle timer, the channel and DTLS, then the word. */
function close(state: SessionState, context: SessionContext, reason: string, notifyPeer: boolean): Transition {
  return {
    state: { ...state, phase: "Closed" },
    effects: [
      { kind: "stop-transfer", reason },
      { kind: "cancel-idle" },
      { kind: "close", notifyPeer },
      { kind: "log", level: "info", line: `AP ${label(state, context)} left: ${reason}` },
      { kind: "leave", reason },
    ],
  };
}

const admitted = (input: InputOf<"join-request">) => input.wtp.sessionId !== undefined && input.admission === ResultCode.Success;
const joinResult = (input: InputOf<"join-request">) => (input.wtp.sessionId ? input.admission : ResultCode.FailureMissingMandatoryElement);
const offered = (input: InputOf<"join-request">) => Math.max(1, Math.min(input.offeredWindow, MAX_IMAGE_WINDOW));
/**
 * The blocks the AP takes past the one it misses, so how far past it the
 * sender may go. A vap AP announces the window it accepted (ImageWindow) and
 * buffers imageReceiveSpan of it; a real Cisco AP announces none and how far
 * it buffers is not public [inf]: it gets no block past its window.
 */
const receiveSpan = (window: number, acceptedWindow: number | undefined) => (acceptedWindow === undefined ? window : imageReceiveSpan(window));
const commandRequest = (command: OperatorCommand, context: SessionContext): { type: number; elements: Element[] } => {
  switch (command.kind) {
    case "predownload":
      return { type: MessageType.ConfigurationUpdateRequest, elements: [{ kind: "PredownloadOrder", version: command.version }, ...efficientElements(command.efficient)] };
    case "swap":
      return { type: MessageType.ConfigurationUpdateRequest, elements: [{ kind: "ImageSwap", version: command.version }] };
    case "reset":
      return { type: MessageType.ResetRequest, elements: command.version === undefined ? [] : [{ kind: "ImageIdentifier", vendorId: context.vendorId, identifier: command.version }] };
    case "configuration-update":
      return { type: MessageType.ConfigurationUpdateRequest, elements: command.elements };
    case "request":
      return { type: command.type, elements: command.elements };
  }
};
/** EfficientUpgrade beside the order: a primary's endpoint is 0.0.0.0:0 (it fetches from the controller). */
const efficientElements = (efficient: EfficientOrder | undefined): Element[] =>
  efficient === undefined
    ? []
    : [
        {
          kind: "EfficientUpgrade",
          role: efficient.role === "primary" ? EfficientRole.Primary : EfficientRole.Subordinate,
          tries: efficient.tries,
          primaryAddress: efficient.primary?.address ?? "0.0.0.0",
          primaryPort: efficient.primary?.port ?? 0,
        },
      ];
const queued = (command: OperatorCommand): SessionEffect[] => {
  if (command.kind !== "predownload") return [];
  const { version, efficient } = command;
  return [{ kind: "download-queued", version, ...(efficient ? { efficient: { role: efficient.role, siteTag: efficient.siteTag } } : {}) }];
};
const predownloadStates: Record<number, DownloadState> = { [PredownloadState.Complete]: "complete", [PredownloadState.Failed]: "failed" };

/** Every transition of a session, in order of precedence. */
export const SESSION_TABLE: readonly SessionRow[] = [
  row({ id: "dtls-connected", from: ["DTLS Setup"], on: "dtls-connected", apply: (s, i) => enter(s, "Join", i.certificateSubject ? [{ kind: "certificate", subject: i.certificateSubject }] : []) }),
  row({ id: "dtls-closed", from: OPEN, on: "dtls-closed", apply: (s, i, c) => close(s, c, i.error ? `DTLS: ${i.error}` : "DTLS closed by the AP", false) }),
  row({
    id: "join-refused",
    from: TALKING,
    on: "join-request",
    when: (_s, i) => !admitted(i),
    apply: (s, i, c) =>
      stay(
        { ...s, radios: i.radios },
        respond(i.request, { kind: "join", resultCode: joinResult(i), radios: i.radios, window: offered(i) }),
        { kind: "log", level: "info", line: `Join from ${c.key} refused: ${resultCodeName(joinResult(i))}` },
      ),
  }),
  row({
    id: "join-admitted",
    from: TALKING,
    on: "join-request",
    apply: (s, i, c) => {
      const { wtp } = i;
      const window = offered(i);
      return enter({ ...s, name: wtp.name, radios: i.radios, window, oobPort: i.oobPort }, "Configure", [
        respond(i.request, { kind: "join", resultCode: ResultCode.Success, radios: i.radios, window, oobPort: i.oobPort }),
        { kind: "joined", sessionId: toHex(wtp.sessionId!), wtp, window },
        { kind: "log", level: "info", line: `AP ${wtp.name} (${wtp.model}, ${wtp.baseMac}) joined from ${c.address}, software ${wtp.softwareVersion}` },
      ]);
    },
  }),
  row({ id: "configuration-status", from: ["Configure"], on: "configuration-status-request", apply: (s, i) => enter(s, "Data Check", [respond(i.request, { kind: "configuration-status", radios: s.radios })]) }),
  row({
    id: "configuration-status-unexpected",
    from: ["Join", "Data Check", "Run"],
    on: "configuration-status-request",
    apply: (s, i, c) => stay(s, { kind: "log", level: "info", line: `Discarding ${messageTypeName(i.request.type)} from ${label(s, c)} in phase ${s.phase}` }),
  }),
  row({ id: "change-state-event", from: TALKING, on: "change-state-event-request", apply: (s, i) => stay(s, respond(i.request, EMPTY)) }),
  row({ id: "echo", from: TALKING, on: "echo-request", apply: (s, i) => stay(s, { kind: "count-echo" }, respond(i.request, { kind: "echo" })) }),
  row({ id: "wtp-event-predownload-retry", from: TALKING, on: "wtp-event-request", when: (_s, i) => i.retry !== undefined, apply: (s, i) => stay(s, { kind: "predownload-retry", retry: i.retry! }, respond(i.request, EMPTY)) }),
  row({
    id: "wtp-event",
    from: TALKING,
    on: "wtp-event-request",
    apply: (s, i) =>
      stay(
        s,
        ...(i.predownload === undefined
          ? []
          : [{ kind: "predownload-report", state: predownloadStates[i.predownload] ?? "downloading", ...(i.imageServer ? { imageServer: i.imageServer } : {}) } as const]),
        respond(i.request, EMPTY),
      ),
  }),
  row({
    id: "image-request-oob",
    from: TALKING,
    on: "image-data-request",
    when: (s, i) => i.oobRequest && i.image !== undefined && s.oobPort !== undefined,
    apply: (s, i) => stay(s, { kind: "offer-oob", request: i.request, image: i.image! }),
  }),
  // HTTPS is offered only to an AP told so at join (it advertised the capability, the method is HTTPS): others hear no.
  row({
    id: "image-request-oob-refused",
    from: TALKING,
    on: "image-data-request",
    when: (_s, i) => i.oobRequest,
    apply: (s, i, c) =>
      stay(
        s,
        respond(i.request, { kind: "result-code", resultCode: ResultCode.ImageDataErrorOtherError }),
        { kind: "log", level: "warn", line: `AP ${label(s, c)} asked for an HTTPS image offer it was not given at join` },
      ),
  }),
  row({
    id: "image-request-incomplete",
    from: TALKING,
    on: "image-data-request",
    when: (_s, i) => !i.image || !i.initiate,
    apply: (s, i) => stay(s, respond(i.request, { kind: "result-code", resultCode: ResultCode.FailureMissingMandatoryElement })),
  }),
  row({
    id: "image-request",
    from: TALKING,
    on: "image-data-request",
    // The window in flight is what both ends allow: the offer, or less if the AP accepted less.
    apply: (s, i) => {
      const window = Math.max(1, Math.min(s.window, i.acceptedWindow ?? s.window));
      return stay(s, { kind: "start-transfer", request: i.request, image: i.image!, window, span: receiveSpan(window, i.acceptedWindow), fallback: i.fallback });
    },
  }),
  row({ id: "data-transfer", from: TALKING, on: "data-transfer-request", apply: (s, i) => stay(s, respond(i.request, EMPTY)) }),
  row({ id: "unknown-request", from: TALKING, on: "unknown-request", apply: (s, i) => stay(s, respond(i.request, { kind: "result-code", resultCode: ResultCode.MessageUnexpectedUnrecognizedRequest })) }),
  row({
    id: "keep-alive-enters-run",
    from: ["Data Check"],
    on: "keep-alive",
    apply: (s, _i, c) => enter(s, "Run", [{ kind: "run-since" }], [{ kind: "log", level: "info", line: `AP ${s.name} (${c.address}) is in Run` }, { kind: "announce-run" }]),
  }),
  row({ id: "idle-deadline-passed", from: OPEN, on: "idle-deadline", when: (_s, i, c) => i.silentMs >= c.idleTimeoutMs, apply: (s, _i, c) => close(s, c, "nothing from the AP (no keep-alive, echo or response)", true) }),
  // An AP heard from since the timer was armed gets the rest of its time: one timer, re-armed, not one per packet.
  row({ id: "idle-deadline-moved", from: OPEN, on: "idle-deadline", apply: (s, i, c) => stay(s, { kind: "arm-idle", ms: c.idleTimeoutMs - i.silentMs }) }),
  // Requests go out in Run; a rejoin may move the phase while one waits.
  row({ id: "request-unanswered", from: TALKING, on: "request-unanswered", apply: (s, i) => stay(s, { kind: "refuse", ticket: i.ticket, reason: `${s.name}: no answer to ${messageTypeName(i.type)}` }) }),
  // A transfer stopped by the session's end reports too (after the session closed).
  row({
    id: "transfer-ended",
    from: [...TALKING, "Closed"],
    on: "transfer-ended",
    // A predownload is complete when the AP says so (it may still refuse the image).
    apply: (s, i) => stay(s, { kind: "download-ended", state: i.error !== undefined ? "failed" : i.predownload ? "downloading" : "complete", ...(i.error !== undefined ? { error: i.error } : {}) }),
  }),
  row({
    id: "command",
    from: ["Run"],
    on: "command",
    apply: (s, { command, ticket }, c) =>
      stay(
        s,
        // A predownload is recorded first: the AP's Image Data Request may arrive right behind its answer to the order.
        ...queued(command),
        { kind: "send-request", ...commandRequest(command, c), ticket },
      ),
  }),
  row({ id: "command-not-in-run", from: NOT_IN_RUN, on: "command", apply: (s, i, c) => stay(s, { kind: "refuse", ticket: i.ticket, reason: `AP ${label(s, c)} is not joined` }) }),
  row({ id: "replaced", from: OPEN, on: "replaced", apply: (s, _i, c) => close(s, c, "replaced by a new session", true) }),
  row({ id: "shutdown", from: OPEN, on: "shutdown", apply: (s, _i, c) => close(s, c, "controller shutting down", true) }),
];

/** A row, typed by its input. */
function row<K extends InputKind>(r: SessionRow<K>): SessionRow {
  return r as unknown as SessionRow;
}

const rowsByInput = new Map<InputKind, SessionRow[]>();
for (const r of SESSION_TABLE) rowsByInput.set(r.on, [...(rowsByInput.get(r.on) ?? []), r]);

/** The row that takes `input` in `state`, if any: an input no row takes changes nothing. */
export function findRow(state: SessionState, input: SessionInput, context: SessionContext): SessionRow | undefined {
  return rowsByInput.get(input.kind)?.find((r) => r.from.includes(state.phase) && (!r.when || r.when(state, input, context)));
}

export function transition(state: SessionState, input: SessionInput, context: SessionContext): Transition {
  const r = findRow(state, input, context);
  return r ? r.apply(state, input, context) : { state, effects: [] };
}

/** A session opens in DTLS Setup, or straight in Join when the controller runs without DTLS. */
export function openingState(dtls: boolean): SessionState & { readonly phase: ApPhase } {
  return { phase: dtls ? "DTLS Setup" : "Join", radios: [], window: 1 };
}
