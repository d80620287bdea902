/**
 * The lab controller's session table, row by row: `{ from, input, to,
 * effects }` over the pure transition function, no sockets, no clock. Every
 * row of SESSION_TABLE must be taken by at least one case here, so a row
 * added without a test fails the last test.
 */
import { describe, expect, it } from "vitest";
import { MessageType, ResultCode } from "../../agent/capwap/codec/index.js";
import { EfficientRole, type Message, PredownloadState, type WtpSummary } from "../../agent/capwap/profiles/index.js";
import { MAX_IMAGE_WINDOW } from "../../agent/config/index.js";
import {
  type Answer,
  type EfficientOrder,
  findRow,
  openingState,
  SESSION_TABLE,
  type SessionContext,
  type SessionEffect,
  type SessionInput,
  type SessionPhase,
  type SessionState,
  type Ticket,
  transition,
} from "../../lab/controller/session-machine.js";

const context: SessionContext = { key: "10.0.1.2:5246", address: "10.0.1.2", idleTimeoutMs: 3_600, vendorId: 4232704 };
const radios = [{ radioId: 1, radioType: 2 }];
const joined = (phase: SessionPhase): SessionState => ({ phase, name: "AP1", radios, window: 8 });
const request = (type: number): Message => ({ type, seq: 7, elements: [] });
const ticket: Ticket = { resolve: () => {}, reject: () => {} };
const wtp: WtpSummary = { name: "AP1", model: "C9120AXI-B", baseMac: "00:11:22:33:44:55", softwareVersion: "17.3.3.26", sessionId: Uint8Array.of(0xab, 0xcd) };

const join = request(MessageType.JoinRequest);
const joinInput = (over: Partial<Extract<SessionInput, { kind: "join-request" }>> = {}): SessionInput => ({ kind: "join-request", request: join, wtp, radios, admission: ResultCode.Success, offeredWindow: 8, ...over });
const image = request(MessageType.ImageDataRequest);
const imageInput = (over: Partial<Extract<SessionInput, { kind: "image-data-request" }>> = {}): SessionInput => ({ kind: "image-data-request", request: image, image: "ap1g8", initiate: true, oobRequest: false, ...over });

const closing = (reason: string, notifyPeer: boolean, name = "AP1"): SessionEffect[] => [
  { kind: "stop-transfer", reason },
  { kind: "cancel-idle" },
  { kind: "close", notifyPeer },
  { kind: "log", level: "info", line: `AP ${name} left: ${reason}` },
  { kind: "leave", reason },
];

interface Case {
  row: string;
  from: SessionState;
  input: SessionInput;
  to: SessionPhase;
  effects: SessionEffect[];
  /** Parts of the new state besides the phase. */
  state?: Partial<SessionState>;
}

/** A request answered in phase `p`, the phase unchanged. */
function answered(p: SessionPhase, row: string, kind: "change-state-event-request" | "echo-request" | "data-transfer-request" | "unknown-request", type: number, answer: Answer, before: SessionEffect[] = []): Case {
  const r = request(type);
  return { row, from: joined(p), input: { kind, request: r }, to: p, effects: [...before, { kind: "respond", request: r, answer }] };
}

/** A predownload order in an efficient site: recorded with the AP's role and site tag, sent with EfficientUpgrade beside it. */
function efficientOrder(efficient: EfficientOrder, role: number, primaryAddress: string, primaryPort: number): Case {
  return {
    row: "command",
    from: joined("Run"),
    input: { kind: "command", command: { kind: "predownload", version: "17.12.1.5", efficient }, ticket },
    to: "Run",
    effects: [
      { kind: "download-queued", version: "17.12.1.5", efficient: { role: efficient.role, siteTag: efficient.siteTag } },
      {
        kind: "send-request",
        type: MessageType.ConfigurationUpdateRequest,
        elements: [
          { kind: "PredownloadOrder", version: "17.12.1.5" },
          { kind: "EfficientUpgrade", role, tries: efficient.tries, primaryAddress, primaryPort },
        ],
        ticket,
      },
    ],
  };
}

const OPEN_PHASES: SessionPhase[] = ["DTLS Setup", "Join", "Configure", "Data Check", "Run"];
const TALKING: SessionPhase[] = ["Join", "Configure", "Data Check", "Run"];

const cases: Case[] = [
  // DTLS
  { row: "dtls-connected", from: openingState(true), input: { kind: "dtls-connected", certificateSubject: "CN=AP1" }, to: "Join", effects: [{ kind: "certificate", subject: "CN=AP1" }, { kind: "phase", phase: "Join" }] },
  { row: "dtls-connected", from: openingState(true), input: { kind: "dtls-connected" }, to: "Join", effects: [{ kind: "phase", phase: "Join" }] },
  ...OPEN_PHASES.map((p): Case => ({ row: "dtls-closed", from: joined(p), input: { kind: "dtls-closed", error: "bad record mac" }, to: "Closed", effects: closing("DTLS: bad record mac", false) })),
  { row: "dtls-closed", from: openingState(true), input: { kind: "dtls-closed" }, to: "Closed", effects: closing("DTLS closed by the AP", false, context.key) },

  // Join
  ...TALKING.map(
    (p): Case => ({
      row: "join-admitted",
      from: { ...joined(p), ...(p === "Join" ? { name: undefined, radios: [], window: 1 } : {}) },
      input: joinInput({ offeredWindow: 12 }),
      to: "Configure",
      state: { name: "AP1", radios, window: 12 },
      effects: [
        { kind: "respond", request: join, answer: { kind: "join", resultCode: ResultCode.Success, radios, window: 12 } },
        { kind: "joined", sessionId: "abcd", wtp, window: 12 },
        { kind: "log", level: "info", line: "AP AP1 (C9120AXI-B, 00:11:22:33:44:55) joined from 10.0.1.2, software 17.3.3.26" },
        ...(p === "Configure" ? [] : [{ kind: "phase", phase: "Configure" } as const]),
      ],
    }),
  ),
  {
    row: "join-admitted",
    from: openingState(false),
    input: joinInput({ offeredWindow: 1000 }),
    to: "Configure",
    state: { window: MAX_IMAGE_WINDOW },
    effects: [
      { kind: "respond", request: join, answer: { kind: "join", resultCode: ResultCode.Success, radios, window: MAX_IMAGE_WINDOW } },
      { kind: "joined", sessionId: "abcd", wtp, window: MAX_IMAGE_WINDOW },
      { kind: "log", level: "info", line: "AP AP1 (C9120AXI-B, 00:11:22:33:44:55) joined from 10.0.1.2, software 17.3.3.26" },
      { kind: "phase", phase: "Configure" },
    ],
  },
  ...TALKING.map(
    (p): Case => ({
      row: "join-refused",
      from: { ...joined(p), radios: [] },
      input: joinInput({ admission: ResultCode.JoinFailureResourceDepletion, offeredWindow: 0 }),
      to: p,
      state: { radios },
      effects: [
        { kind: "respond", request: join, answer: { kind: "join", resultCode: ResultCode.JoinFailureResourceDepletion, radios, window: 1 } },
        { kind: "log", level: "info", line: "Join from 10.0.1.2:5246 refused: Join Failure (Resource Depletion)" },
      ],
    }),
  ),
  {
    row: "join-refused",
    from: openingState(false),
    input: joinInput({ wtp: { ...wtp, sessionId: undefined } as WtpSummary }),
    to: "Join",
    effects: [
      { kind: "respond", request: join, answer: { kind: "join", resultCode: ResultCode.FailureMissingMandatoryElement, radios, window: 8 } },
      { kind: "log", level: "info", line: "Join from 10.0.1.2:5246 refused: Failure - Missing Mandatory Message Element" },
    ],
  },

  // Configure → Data Check → Run
  {
    row: "configuration-status",
    from: joined("Configure"),
    input: { kind: "configuration-status-request", request: request(MessageType.ConfigurationStatusRequest) },
    to: "Data Check",
    effects: [{ kind: "respond", request: request(MessageType.ConfigurationStatusRequest), answer: { kind: "configuration-status", radios } }, { kind: "phase", phase: "Data Check" }],
  },
  ...(["Join", "Data Check", "Run"] as const).map(
    (p): Case => ({
      row: "configuration-status-unexpected",
      from: joined(p),
      input: { kind: "configuration-status-request", request: request(MessageType.ConfigurationStatusRequest) },
      to: p,
      effects: [{ kind: "log", level: "info", line: `Discarding Configuration Status Request from AP1 in phase ${p}` }],
    }),
  ),
  {
    row: "keep-alive-enters-run",
    from: joined("Data Check"),
    input: { kind: "keep-alive" },
    to: "Run",
    effects: [{ kind: "run-since" }, { kind: "phase", phase: "Run" }, { kind: "log", level: "info", line: "AP AP1 (10.0.1.2) is in Run" }, { kind: "announce-run" }],
  },
  // Keep-alives elsewhere only keep the AP alive (the shell noted the time).
  ...(["Join", "Configure", "Run"] as const).map((p): Case => ({ row: "", from: joined(p), input: { kind: "keep-alive" }, to: p, effects: [] })),

  // Requests answered in every phase the AP talks CAPWAP in
  ...TALKING.flatMap((p): Case[] => [
    answered(p, "change-state-event", "change-state-event-request", MessageType.ChangeStateEventRequest, { kind: "empty" }),
    answered(p, "echo", "echo-request", MessageType.EchoRequest, { kind: "echo" }, [{ kind: "count-echo" }]),
    answered(p, "data-transfer", "data-transfer-request", MessageType.DataTransferRequest, { kind: "empty" }),
    answered(p, "unknown-request", "unknown-request", 0x63, { kind: "result-code", resultCode: ResultCode.MessageUnexpectedUnrecognizedRequest }),
  ]),
  ...TALKING.map(
    (p): Case => ({
      row: "wtp-event",
      from: joined(p),
      input: { kind: "wtp-event-request", request: request(MessageType.WtpEventRequest) },
      to: p,
      effects: [{ kind: "respond", request: request(MessageType.WtpEventRequest), answer: { kind: "empty" } }],
    }),
  ),
  ...(
    [
      [PredownloadState.Downloading, "downloading"],
      [PredownloadState.Complete, "complete"],
      [PredownloadState.Failed, "failed"],
    ] as const
  ).map(
    ([state, download]): Case => ({
      row: "wtp-event",
      from: joined("Run"),
      input: { kind: "wtp-event-request", request: request(MessageType.WtpEventRequest), predownload: state },
      to: "Run",
      effects: [
        { kind: "predownload-report", state: download },
        { kind: "respond", request: request(MessageType.WtpEventRequest), answer: { kind: "empty" } },
      ],
    }),
  ),

  // Efficient image upgrade: the primary's endpoint rides with its Complete; a subordinate's failed try is a retry report.
  {
    row: "wtp-event",
    from: joined("Run"),
    input: { kind: "wtp-event-request", request: request(MessageType.WtpEventRequest), predownload: PredownloadState.Complete, imageServer: { address: "10.0.1.2", port: 40001 } },
    to: "Run",
    effects: [
      { kind: "predownload-report", state: "complete", imageServer: { address: "10.0.1.2", port: 40001 } },
      { kind: "respond", request: request(MessageType.WtpEventRequest), answer: { kind: "empty" } },
    ],
  },
  ...TALKING.map(
    (p): Case => ({
      row: "wtp-event-predownload-retry",
      from: joined(p),
      input: { kind: "wtp-event-request", request: request(MessageType.WtpEventRequest), retry: { attempt: 3, tries: 44, nextRetrySeconds: 2, reason: "server busy" } },
      to: p,
      effects: [
        { kind: "predownload-retry", retry: { attempt: 3, tries: 44, nextRetrySeconds: 2, reason: "server busy" } },
        { kind: "respond", request: request(MessageType.WtpEventRequest), answer: { kind: "empty" } },
      ],
    }),
  ),

  // Image Data
  ...TALKING.map((p): Case => ({ row: "image-request", from: joined(p), input: imageInput(), to: p, effects: [{ kind: "start-transfer", request: image, image: "ap1g8", window: 8, span: 8 }] })),
  { row: "image-request", from: joined("Run"), input: imageInput({ acceptedWindow: 5 }), to: "Run", effects: [{ kind: "start-transfer", request: image, image: "ap1g8", window: 5, span: 10 }] },
  { row: "image-request", from: joined("Run"), input: imageInput({ acceptedWindow: 20 }), to: "Run", effects: [{ kind: "start-transfer", request: image, image: "ap1g8", window: 8, span: 16 }] },
  { row: "image-request", from: joined("Run"), input: imageInput({ acceptedWindow: 0 }), to: "Run", effects: [{ kind: "start-transfer", request: image, image: "ap1g8", window: 1, span: 2 }] },
  // Out-of-band HTTPS: offered at join to a capable AP, then an offer per request; CAPWAP after a failed try says why.
  {
    row: "join-admitted",
    from: openingState(false),
    input: joinInput({ oobPort: 8443 }),
    to: "Configure",
    state: { window: 8, oobPort: 8443 },
    effects: [
      { kind: "respond", request: join, answer: { kind: "join", resultCode: ResultCode.Success, radios, window: 8, oobPort: 8443 } },
      { kind: "joined", sessionId: "abcd", wtp, window: 8 },
      { kind: "log", level: "info", line: "AP AP1 (C9120AXI-B, 00:11:22:33:44:55) joined from 10.0.1.2, software 17.3.3.26" },
      { kind: "phase", phase: "Configure" },
    ],
  },
  ...TALKING.map((p): Case => ({ row: "image-request-oob", from: { ...joined(p), oobPort: 8443 }, input: imageInput({ initiate: false, oobRequest: true }), to: p, effects: [{ kind: "offer-oob", request: image, image: "ap1g8" }] })),
  ...TALKING.map(
    (p): Case => ({
      row: "image-request-oob-refused",
      from: joined(p),
      input: imageInput({ initiate: false, oobRequest: true }),
      to: p,
      effects: [
        { kind: "respond", request: image, answer: { kind: "result-code", resultCode: ResultCode.ImageDataErrorOtherError } },
        { kind: "log", level: "warn", line: "AP AP1 asked for an HTTPS image offer it was not given at join" },
      ],
    }),
  ),
  {
    row: "image-request",
    from: { ...joined("Configure"), oobPort: 8443 },
    input: imageInput({ fallback: "HTTP 403" }),
    to: "Configure",
    effects: [{ kind: "start-transfer", request: image, image: "ap1g8", window: 8, span: 8, fallback: "HTTP 403" }],
  },
  ...TALKING.flatMap((p) => [imageInput({ image: undefined }), imageInput({ initiate: false })].map((input) => [p, input] as const)).map(
    ([p, input]): Case => ({
      row: "image-request-incomplete",
      from: joined(p),
      input,
      to: p,
      effects: [{ kind: "respond", request: image, answer: { kind: "result-code", resultCode: ResultCode.FailureMissingMandatoryElement } }],
    }),
  ),
  ...TALKING.map((p): Case => ({ row: "transfer-ended", from: joined(p), input: { kind: "transfer-ended", predownload: false }, to: p, effects: [{ kind: "download-ended", state: "complete" }] })),
  { row: "transfer-ended", from: joined("Run"), input: { kind: "transfer-ended", predownload: true }, to: "Run", effects: [{ kind: "download-ended", state: "downloading" }] },
  {
    row: "transfer-ended",
    from: joined("Closed"),
    input: { kind: "transfer-ended", predownload: true, error: "controller shutting down" },
    to: "Closed",
    effects: [{ kind: "download-ended", state: "failed", error: "controller shutting down" }],
  },

  // Timers
  ...OPEN_PHASES.map((p): Case => ({ row: "idle-deadline-passed", from: joined(p), input: { kind: "idle-deadline", silentMs: 3_600 }, to: "Closed", effects: closing("nothing from the AP (no keep-alive, echo or response)", true) })),
  ...OPEN_PHASES.map((p): Case => ({ row: "idle-deadline-moved", from: joined(p), input: { kind: "idle-deadline", silentMs: 1_000 }, to: p, effects: [{ kind: "arm-idle", ms: 2_600 }] })),
  { row: "idle-deadline-moved", from: joined("Configure"), input: { kind: "idle-deadline", silentMs: 3_599 }, to: "Configure", effects: [{ kind: "arm-idle", ms: 1 }] },
  { row: "", from: joined("Closed"), input: { kind: "idle-deadline", silentMs: 9_999 }, to: "Closed", effects: [] },
  ...TALKING.map(
    (p): Case => ({
      row: "request-unanswered",
      from: joined(p),
      input: { kind: "request-unanswered", type: MessageType.ResetRequest, ticket },
      to: p,
      effects: [{ kind: "refuse", ticket, reason: "AP1: no answer to Reset Request" }],
    }),
  ),

  // Operator commands
  {
    row: "command",
    from: joined("Run"),
    input: { kind: "command", command: { kind: "predownload", version: "17.12.1.5" }, ticket },
    to: "Run",
    effects: [
      { kind: "download-queued", version: "17.12.1.5" },
      { kind: "send-request", type: MessageType.ConfigurationUpdateRequest, elements: [{ kind: "PredownloadOrder", version: "17.12.1.5" }], ticket },
    ],
  },
  efficientOrder({ role: "primary", siteTag: "branch-1", tries: 44 }, EfficientRole.Primary, "0.0.0.0", 0),
  efficientOrder({ role: "subordinate", siteTag: "branch-1", tries: 7, primary: { address: "10.0.1.9", port: 40001 } }, EfficientRole.Subordinate, "10.0.1.9", 40001),
  {
    row: "command",
    from: joined("Run"),
    input: { kind: "command", command: { kind: "swap", version: "17.12.1.5" }, ticket },
    to: "Run",
    effects: [{ kind: "send-request", type: MessageType.ConfigurationUpdateRequest, elements: [{ kind: "ImageSwap", version: "17.12.1.5" }], ticket }],
  },
  // A reset without a version names no image: the AP reloads into what its BOOT names (the swapped image).
  {
    row: "command",
    from: joined("Run"),
    input: { kind: "command", command: { kind: "reset" }, ticket },
    to: "Run",
    effects: [{ kind: "send-request", type: MessageType.ResetRequest, elements: [], ticket }],
  },
  {
    row: "command",
    from: joined("Run"),
    input: { kind: "command", command: { kind: "reset", version: "17.12.1.5" }, ticket },
    to: "Run",
    effects: [{ kind: "send-request", type: MessageType.ResetRequest, elements: [{ kind: "ImageIdentifier", vendorId: 4232704, identifier: "17.12.1.5" }], ticket }],
  },
  {
    row: "command",
    from: joined("Run"),
    input: { kind: "command", command: { kind: "configuration-update", elements: [{ kind: "WtpName", name: "AP-LOBBY-1" }] }, ticket },
    to: "Run",
    effects: [{ kind: "send-request", type: MessageType.ConfigurationUpdateRequest, elements: [{ kind: "WtpName", name: "AP-LOBBY-1" }], ticket }],
  },
  {
    row: "command",
    from: joined("Run"),
    input: { kind: "command", command: { kind: "request", type: 0x63, elements: [] }, ticket },
    to: "Run",
    effects: [{ kind: "send-request", type: 0x63, elements: [], ticket }],
  },
  ...(["DTLS Setup", "Join", "Configure", "Data Check", "Closed"] as const).map(
    (p): Case => ({
      row: "command-not-in-run",
      from: joined(p),
      input: { kind: "command", command: { kind: "reset", version: "17.12.1.5" }, ticket },
      to: p,
      effects: [{ kind: "refuse", ticket, reason: "AP AP1 is not joined" }],
    }),
  ),

  // The controller ends sessions
  ...OPEN_PHASES.map((p): Case => ({ row: "replaced", from: joined(p), input: { kind: "replaced" }, to: "Closed", effects: closing("replaced by a new session", true) })),
  ...OPEN_PHASES.map((p): Case => ({ row: "shutdown", from: joined(p), input: { kind: "shutdown" }, to: "Closed", effects: closing("controller shutting down", true) })),

  // A closed session takes nothing but the end of its transfer (and refuses commands).
  ...(
    [
      { kind: "dtls-closed" },
      { kind: "keep-alive" },
      { kind: "replaced" },
      { kind: "shutdown" },
      joinInput(),
      { kind: "echo-request", request: request(MessageType.EchoRequest) },
      imageInput(),
    ] as SessionInput[]
  ).map((input): Case => ({ row: "", from: joined("Closed"), input, to: "Closed", effects: [] })),
];

const describeCase = (c: Case) => `${c.from.phase} + ${c.input.kind} → ${c.to} (${c.row || "no row"})`;

describe("lab controller session table", () => {
  it.each(cases.map((c) => [describeCase(c), c] as const))("%s", (_name, c) => {
    expect(findRow(c.from, c.input, context)?.id ?? "").toBe(c.row);
    const next = transition(c.from, c.input, context);
    expect(next.state.phase).toBe(c.to);
    if (c.state) expect(next.state).toMatchObject(c.state);
    expect(next.effects).toEqual(c.effects);
  });

  it("is pure: the same state and input give the same transition, and the state passed in is left as it was", () => {
    for (const c of cases) {
      const before = structuredClone({ ...c.from, radios: [...c.from.radios] });
      expect(transition(c.from, c.input, context)).toEqual(transition(c.from, c.input, context));
      expect(c.from).toEqual(before);
    }
  });

  it("every row of the table is taken by a case above, and every row names itself once", () => {
    const ids = SESSION_TABLE.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const tested = new Set(cases.map((c) => c.row));
    expect(ids.filter((id) => !tested.has(id))).toEqual([]);
  });

  it("every row's from-phase is covered by a case, so no phase of a row goes untested", () => {
    const taken = new Set(cases.map((c) => `${c.row}@${c.from.phase}`));
    const missing = SESSION_TABLE.flatMap((r) => r.from.filter((p) => !taken.has(`${r.id}@${p}`)).map((p) => `${r.id}@${p}`));
    expect(missing).toEqual([]);
  });
});
