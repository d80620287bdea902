/**
 * The WTP's transition table, row by row: { from, input, to, effects },
 * driving the pure function directly (no sockets, no clock). The last test
 * walks the table itself, so a row added there without a row here fails.
 */
import { describe, expect, it } from "vitest";
import { MessageType, ResultCode } from "../../agent/capwap/codec/index.js";
import { EfficientRole, type Element, type Message, PredownloadState, profiles } from "../../agent/capwap/profiles/index.js";
import { type DownloadRun, initialMachine, type MachineSettings, PEER_CLOSED_RESTART_JITTER_MS, tableRows, transition, type WtpContext, type WtpEffect, type WtpInput, type WtpState } from "../../agent/capwap/wtp/index.js";
import { parseApConfig } from "../../agent/config/index.js";
import { randomBetween, seededRandom } from "../../agent/core/index.js";

const config = parseApConfig(
  {
    baseMac: "00:11:22:33:44:55",
    profile: "rfc5415",
    controllers: [{ address: "10.0.0.1" }],
    dtls: { cert: "ap.pem", key: "ap.key", ca: "ca.pem" },
    timers: { discoveryInterval: "200ms", maxDiscoveryInterval: "1s", silentInterval: "2s", echoInterval: "1s", dataChannelKeepAlive: "1s", dataChannelDeadInterval: "3s", waitDtls: "3s", waitJoin: "3s", changeStatePending: "2s", statistics: "5s" },
  },
  "transitions.yaml",
);
const T = config.timers;
const settings: MachineSettings = { config, profile: profiles.rfc5415, canResolve: true, sources: ["capwap"] };
const AC = { address: "10.0.0.1", port: 5246 };
const JOINED = { name: "wlc", address: AC.address, softwareVersion: "17.12.1.5", imageWindow: 8 };
const PREDOWNLOAD = { mode: "predownload" as const, version: "17.13.1.1" };
const PREDOWNLOADING = { ...PREDOWNLOAD, source: "capwap" as const };

/** The context of a WTP that has discovered (and, from Join on, joined) the lab controller. */
function context(state: WtpState, extra: Partial<WtpContext> = {}): WtpContext {
  const base = { ...initialMachine(settings).context, controlPort: 5246, discovery: { seq: 1, round: 0, targets: 1, candidates: [] } };
  const discovered = ["Idle", "Discovery", "Sulking"].includes(state) ? base : { ...base, ac: { endpoint: AC, summary: { name: "wlc", softwareVersion: "17.12.1.5", activeWtps: 0, maxWtps: 100, stations: 0, stationLimit: 0 } } };
  const joined = ["Idle", "Discovery", "Sulking", "DtlsSetup", "Join"].includes(state) ? discovered : { ...discovered, joined: JOINED };
  return { ...joined, ...extra };
}

const message = (type: number, elements: Element[] = [], seq = 1): Message => ({ type, seq, elements });
const log = (text: string, level: "info" | "warn" = "info") => ({ kind: "log", level, text });
const enter = (state: WtpState, previous: WtpState) => [{ kind: "cancelAllTimers" }, { kind: "entered", state, previous }];
const restarting = (reason: string) => [{ kind: "count", stat: "restarts" }, log(`Going to restart CAPWAP (reason : ${reason})...`)];
interface TeardownOptions {
  sulk?: boolean;
  /** The controller said goodbye: only the jitter before rediscovering. */
  atOnce?: boolean;
  abort?: string;
}
/** DTLS Teardown's entry: the restart pause (none when sulking comes next, a jitter after close_notify), the download aborted, the session closed. */
const tearingDown = (previous: WtpState, { sulk = false, atOnce = false, abort }: TeardownOptions = {}) => [
  ...enter("DtlsTeardown", previous),
  sulk ? { kind: "arm", timer: "Restart", ms: 0 } : { kind: "armRandom", timer: "Restart", belowMs: atOnce ? PEER_CLOSED_RESTART_JITTER_MS : T.discoveryIntervalMs },
  ...(abort ? [{ kind: "abortSource", reason: abort }] : []),
  { kind: "closeSession" },
  log("Restarting CAPWAP State Machine."),
];
const teardown = (from: WtpState, reason: string, options: TeardownOptions = {}) => [...restarting(reason), ...tearingDown(from, options)];
const discoveryRound = (seq: number, waitMs: number) => [
  { kind: "discover", seq, targets: [{ address: "10.0.0.1", port: 5246, discoveryType: 1 }] },
  log("Discovery Request sent to 10.0.0.1, discovery type STATIC_CONFIG(1)"),
  { kind: "arm", timer: "DiscoveryInterval", ms: waitMs },
];
/** A message discarded (counted, logged within the rate limit of its source and reason). */
const discard = (constant: string, type: number, stateName: string, source = "10.0.0.1") => [{ kind: "discard", source, reason: `${constant} in ${stateName}`, text: `Discarding msg ${constant}(type ${type}) in CAPWAP state: ${stateName}` }];
const ok = (to: Message) => ({ kind: "respond", to, elements: [{ kind: "ResultCode", resultCode: ResultCode.Success }] });
const reply = (to: Message, resultCode: number) => ({ kind: "respond", to, elements: [{ kind: "ResultCode", resultCode }] });
const predownloadStatus = (state: number) => ({ kind: "request", type: MessageType.WtpEventRequest, elements: [{ kind: "PredownloadStatus", state, version: PREDOWNLOAD.version }] });
const boom: WtpInput = { type: "internalError", error: "boom" };

interface Row {
  name: string;
  from: WtpState;
  context?: Partial<WtpContext>;
  settings?: Partial<MachineSettings>;
  input: WtpInput;
  to: WtpState;
  effects: object[];
  /** What the context holds afterwards (a part of it). */
  after?: Partial<WtpContext>;
}

const resetRequest = message(MessageType.ResetRequest, [{ kind: "ImageIdentifier", vendorId: 0, identifier: "17.13.1.1" }]);
const predownloadOrder = message(MessageType.ConfigurationUpdateRequest, [{ kind: "PredownloadOrder", version: PREDOWNLOAD.version }]);
const imageData = message(MessageType.ImageDataRequest);
const joinResponse = (resultCode: number, window?: number, oobPort?: number) =>
  message(MessageType.JoinResponse, [
    { kind: "ResultCode", resultCode },
    { kind: "AcName", name: "wlc" },
    ...(window === undefined ? [] : [{ kind: "ImageWindow" as const, window }]),
    ...(oobPort === undefined ? [] : [{ kind: "OobImageDownload" as const, port: oobPort }]),
  ]);
/** An AP with the HTTPS source besides CAPWAP: it advertises OOB capability. */
const OOB_SOURCES: Partial<MachineSettings> = { sources: ["capwap", "https"] };
const OOB_JOINED = { ...JOINED, oobPort: 8443 };
const OOB_FALLBACK = "https://10.0.0.1:8443/images/ap1g8: connect ECONNREFUSED 10.0.0.1:8443";
const runEntry = (echoMs: number) => [
  log("AP has joined controller wlc"),
  { kind: "arm", timer: "EchoInterval", ms: echoMs },
  { kind: "arm", timer: "DataChannelKeepAlive", ms: T.dataChannelKeepAliveMs },
  { kind: "arm", timer: "DataChannelDeadInterval", ms: T.dataChannelDeadIntervalMs },
  { kind: "arm", timer: "StatisticsTimer", ms: T.statisticsMs },
];
const keepAlive = [{ kind: "sendKeepAlive" }, { kind: "arm", timer: "DataChannelKeepAlive", ms: T.dataChannelKeepAliveMs }];

const SESSION_STATES: WtpState[] = ["DtlsSetup", "Join", "ImageData", "Configure", "DataCheck", "Run", "Reset"];

/** Inputs every session state handles the same way: each restarts CAPWAP; an internal error sulks first; stop leaves for Idle. */
const sessionRows: Row[] = SESSION_STATES.flatMap((from): Row[] => [
  { name: "no answer after MaxRetransmit", from, input: { type: "requestTimeout", request: MessageType.EchoRequest }, to: "DtlsTeardown", effects: teardown(from, "Max retransmission count exceeded for Echo Request"), after: { restartReason: "Max retransmission count exceeded for Echo Request" } },
  { name: "DTLS closed", from, input: { type: "dtlsClosed", reason: "DTLS session closed by peer" }, to: "DtlsTeardown", effects: teardown(from, "DTLS session closed by peer") },
  {
    name: "the controller's close_notify: rediscover after a jitter only",
    from,
    input: { type: "dtlsPeerClosed" },
    to: "DtlsTeardown",
    effects: teardown(from, "DTLS session closed by the controller (close_notify)", { atOnce: true }),
    after: { rediscoverAtOnce: true },
  },
  { name: "operator restart", from, input: { type: "restart", reason: "restart requested" }, to: "DtlsTeardown", effects: teardown(from, "restart requested") },
  { name: "internal error", from, input: boom, to: "DtlsTeardown", effects: teardown(from, "internal error: boom", { sulk: true }), after: { sulkAfterTeardown: true } },
  { name: "operator stop", from, input: { type: "stop" }, to: "Idle", effects: [{ kind: "closeSession" }, { kind: "cancelAllTimers" }] },
]);

// ---------------------------------------------------------------- efficient image upgrade

const PRIMARY_AT = { address: "10.0.5.7", port: 40001 };
const efficientOrder = (role: number, tries = 44, at = role === EfficientRole.Primary ? { address: "0.0.0.0", port: 0 } : PRIMARY_AT) =>
  message(MessageType.ConfigurationUpdateRequest, [
    { kind: "PredownloadOrder", version: PREDOWNLOAD.version },
    { kind: "EfficientUpgrade", role, tries, primaryAddress: at.address, primaryPort: at.port },
  ]);
const primaryOrder = efficientOrder(EfficientRole.Primary);
const subordinateOrder = efficientOrder(EfficientRole.Subordinate);
const EFFICIENT_SOURCES: Partial<MachineSettings> = { sources: ["capwap", "tftp"] };
const AS_PRIMARY = { efficient: { role: "primary" as const } };
const PRIMARY_RUN = { ...PREDOWNLOADING, ...AS_PRIMARY };
const subordinateRun = (attempt: number, tries = 44, extra: Partial<DownloadRun> = {}, lastFailure?: string): DownloadRun => ({
  ...PREDOWNLOAD,
  source: "tftp",
  efficient: { role: "subordinate", primary: PRIMARY_AT, tries, attempt, ...(lastFailure ? { lastFailure } : {}) },
  ...extra,
});
const fromController = (extra: object = {}) => ({ ...PREDOWNLOAD, controllerAddress: "10.0.0.1", window: 8, ...extra });
const tryPrimary = { kind: "startSource", source: "tftp", download: fromController({ efficient: { role: "subordinate", primary: PRIMARY_AT } }) };
const ordered = (order: Message) => [ok(order), log("Predownload of 17.13.1.1 ordered by wlc")];
const B = config.efficientUpgrade.retryBackoffMs;
const swapOrder = message(MessageType.ConfigurationUpdateRequest, [{ kind: "ImageSwap", version: PREDOWNLOAD.version }]);

const EFFICIENT_ROWS: Row[] = [
  {
    name: "efficient, primary: download from the controller (CAPWAP) keeping the role",
    from: "Run",
    settings: EFFICIENT_SOURCES,
    input: { type: "request", message: primaryOrder },
    to: "Run",
    effects: [...ordered(primaryOrder), log("Efficient image upgrade: primary AP for ap1g8 in this site, downloading 17.13.1.1 from the controller"), { kind: "startSource", source: "capwap", download: fromController(AS_PRIMARY) }],
    after: { download: PRIMARY_RUN },
  },
  {
    name: "efficient, primary with HTTPS offered at join: download over HTTPS",
    from: "Run",
    settings: { sources: ["capwap", "https", "tftp"] },
    context: { joined: OOB_JOINED },
    input: { type: "request", message: primaryOrder },
    to: "Run",
    effects: [...ordered(primaryOrder), log("Efficient image upgrade: primary AP for ap1g8 in this site, downloading 17.13.1.1 from the controller"), { kind: "startSource", source: "https", download: fromController(AS_PRIMARY) }],
    after: { download: { ...PRIMARY_RUN, source: "https" } },
  },
  {
    name: "efficient, primary's HTTPS failed: CAPWAP fallback, still the primary",
    from: "Run",
    settings: { sources: ["capwap", "https", "tftp"] },
    context: { joined: OOB_JOINED, download: { ...PRIMARY_RUN, source: "https" } },
    input: { type: "sourceFailed", reason: "timeout", message: "stalled" },
    to: "Run",
    effects: [log("OOB Image Download failed (reason : stalled), falling back to CAPWAP image download", "warn"), { kind: "startSource", source: "capwap", download: fromController({ fallback: "stalled", ...AS_PRIMARY }) }],
    after: { download: PRIMARY_RUN },
  },
  {
    name: "efficient, primary's image installed: serve it before reporting",
    from: "Run",
    context: { download: PRIMARY_RUN },
    input: { type: "sourceFinished", result: { reboot: false, version: "17.13.1.1" } },
    to: "Run",
    effects: [log("Predownload of 17.13.1.1 complete: it stands by in the backup partition"), { kind: "serveImage", version: "17.13.1.1" }],
    after: { download: { ...PRIMARY_RUN, waiting: "server" } },
  },
  {
    name: "efficient, primary serves: Complete with its TFTP endpoint",
    from: "Run",
    context: { download: { ...PRIMARY_RUN, waiting: "server" } },
    input: { type: "imageServed", server: PRIMARY_AT },
    to: "Run",
    effects: [{ kind: "request", type: MessageType.WtpEventRequest, elements: [{ kind: "PredownloadStatus", state: PredownloadState.Complete, version: "17.13.1.1" }, { kind: "PrimaryImageServer", ...PRIMARY_AT }] }],
    after: { download: undefined, imageServer: PRIMARY_AT },
  },
  { name: "efficient, a server report with none starting is ignored", from: "Run", input: { type: "imageServed", server: PRIMARY_AT }, to: "Run", effects: [] },
  {
    name: "efficient, primary cannot serve: Complete without a server, and why",
    from: "Run",
    context: { download: { ...PRIMARY_RUN, waiting: "server" } },
    input: { type: "imageServeFailed", error: "cannot listen on 10.0.5.7:69 (EACCES)" },
    to: "Run",
    effects: [log("Efficient image upgrade: cannot serve ap1g8 to subordinate APs: cannot listen on 10.0.5.7:69 (EACCES)", "warn"), predownloadStatus(PredownloadState.Complete)],
    after: { download: undefined, imageServer: undefined },
  },
  { name: "efficient, a server failure with none starting is ignored", from: "Run", input: { type: "imageServeFailed", error: "late" }, to: "Run", effects: [] },
  {
    name: "a new order while serving: stop serving the old image",
    from: "Run",
    context: { imageServer: PRIMARY_AT },
    input: { type: "request", message: predownloadOrder },
    to: "Run",
    effects: [{ kind: "stopServing" }, ...ordered(predownloadOrder), { kind: "startSource", source: "capwap", download: fromController() }],
    after: { download: PREDOWNLOADING, imageServer: undefined },
  },
  {
    name: "a new order while the server starts: stop it, nothing to abort",
    from: "Run",
    context: { download: { ...PRIMARY_RUN, waiting: "server" } },
    input: { type: "request", message: predownloadOrder },
    to: "Run",
    effects: [{ kind: "stopServing" }, ...ordered(predownloadOrder), { kind: "startSource", source: "capwap", download: fromController() }],
    after: { download: PREDOWNLOADING },
  },
  {
    name: "efficient, subordinate: try the primary over TFTP",
    from: "Run",
    settings: EFFICIENT_SOURCES,
    input: { type: "request", message: subordinateOrder },
    to: "Run",
    effects: [...ordered(subordinateOrder), tryPrimary],
    after: { download: subordinateRun(1) },
  },
  ...[
    { tries: 0, used: 1 },
    { tries: 99, used: 63 },
  ].map(
    ({ tries, used }): Row => ({
      name: `efficient, subordinate ordered ${tries} tries: taken as ${used}`,
      from: "Run",
      settings: EFFICIENT_SOURCES,
      input: { type: "request", message: efficientOrder(EfficientRole.Subordinate, tries) },
      to: "Run",
      effects: [...ordered(efficientOrder(EfficientRole.Subordinate, tries)), log(`Efficient image upgrade: ${tries} tries at the primary is outside 1..63; using ${used}`, "warn"), tryPrimary],
      after: { download: subordinateRun(1, used) },
    }),
  ),
  { name: "efficient, subordinate without a TFTP source: service not provided", from: "Run", input: { type: "request", message: subordinateOrder }, to: "Run", effects: [reply(subordinateOrder, ResultCode.ConfigurationFailureServiceNotProvided)] },
  {
    name: "efficient, subordinate's try failed with tries left: a random back-off",
    from: "Run",
    settings: EFFICIENT_SOURCES,
    context: { download: subordinateRun(3) },
    input: { type: "sourceFailed", reason: "refused", message: "server busy (3 transfers), try later" },
    to: "Run",
    effects: [{ kind: "armBackoff", timer: "PrimaryRetry", minMs: B.min, maxMs: B.max }],
    after: { download: subordinateRun(3, 44, { waiting: "retry" }, "server busy (3 transfers), try later") },
  },
  {
    name: "efficient, the back-off is armed: tell the console and the controller when the next try comes",
    from: "Run",
    context: { download: subordinateRun(3, 44, { waiting: "retry" }, "server busy (3 transfers), try later") },
    input: { type: "backoffArmed", timer: "PrimaryRetry", ms: 2400 },
    to: "Run",
    effects: [
      log("Efficient image upgrade: primary 10.0.5.7:40001 failed (server busy (3 transfers), try later), try 3 of 44, next in 2.4 s", "warn"),
      { kind: "request", type: MessageType.WtpEventRequest, elements: [{ kind: "PredownloadRetry", attempt: 3, tries: 44, nextRetrySeconds: 3, reason: "server busy (3 transfers), try later" }] },
    ],
  },
  { name: "efficient, a back-off report with no retry waiting is ignored", from: "Run", input: { type: "backoffArmed", timer: "PrimaryRetry", ms: 2400 }, to: "Run", effects: [] },
  {
    name: "efficient, the back-off is over: the next try",
    from: "Run",
    context: { download: subordinateRun(3, 44, { waiting: "retry" }, "timeout") },
    input: { type: "timer", timer: "PrimaryRetry" },
    to: "Run",
    effects: [tryPrimary],
    after: { download: subordinateRun(4, 44, {}, "timeout") },
  },
  { name: "efficient, a stale PrimaryRetry is ignored", from: "Run", context: { download: PREDOWNLOADING }, input: { type: "timer", timer: "PrimaryRetry" }, to: "Run", effects: [] },
  {
    name: "efficient, the last try failed: fall back to the controller (CAPWAP, the reason told)",
    from: "Run",
    context: { download: subordinateRun(44) },
    input: { type: "sourceFailed", reason: "timeout", message: "no answer from 10.0.5.7:40001" },
    to: "Run",
    effects: [
      log("Efficient image upgrade: primary 10.0.5.7:40001 failed 44 tries (last: no answer from 10.0.5.7:40001), falling back to the controller", "warn"),
      { kind: "startSource", source: "capwap", download: fromController({ fallback: "primary 10.0.5.7:40001 failed 44 tries (last: no answer from 10.0.5.7:40001)" }) },
    ],
    after: { download: PREDOWNLOADING },
  },
  ...(["sink", "integrity"] as const).map(
    (reason): Row => ({
      name: `efficient, the primary's image fails verification (${reason}): fall back at once, no retry`,
      from: "Run",
      context: { download: subordinateRun(1) },
      input: { type: "sourceFailed", reason, message: "signature does not verify" },
      to: "Run",
      effects: [
        log("Efficient image upgrade: image from primary failed verification: signature does not verify, falling back to the controller", "warn"),
        { kind: "startSource", source: "capwap", download: fromController({ fallback: "image from primary failed verification: signature does not verify" }) },
      ],
      after: { download: PREDOWNLOADING },
    }),
  ),
  {
    name: "efficient, a new order while a subordinate downloads: one ABORT, then the new role",
    from: "Run",
    settings: EFFICIENT_SOURCES,
    context: { download: subordinateRun(2) },
    input: { type: "request", message: primaryOrder },
    to: "Run",
    effects: [
      { kind: "abortSource", reason: "superseded by the order for 17.13.1.1" },
      ...ordered(primaryOrder),
      log("Efficient image upgrade: primary AP for ap1g8 in this site, downloading 17.13.1.1 from the controller"),
      { kind: "startSource", source: "capwap", download: fromController(AS_PRIMARY) },
    ],
    after: { download: PRIMARY_RUN },
  },
  {
    name: "efficient, a new order while a subordinate waits to retry: cancel the back-off, nothing to abort",
    from: "Run",
    settings: EFFICIENT_SOURCES,
    context: { download: subordinateRun(2, 44, { waiting: "retry" }, "timeout") },
    input: { type: "request", message: subordinateOrder },
    to: "Run",
    effects: [{ kind: "cancel", timer: "PrimaryRetry" }, ...ordered(subordinateOrder), tryPrimary],
    after: { download: subordinateRun(1) },
  },
  {
    name: "efficient, stop while a subordinate waits to retry: nothing to abort",
    from: "Run",
    context: { download: subordinateRun(2, 44, { waiting: "retry" }, "timeout") },
    input: { type: "stop" },
    to: "Idle",
    effects: [{ kind: "cancel", timer: "PrimaryRetry" }, { kind: "closeSession" }, { kind: "cancelAllTimers" }],
    after: { download: undefined },
  },
  { name: "Image Swap: ACTIVATE without a reload", from: "Run", input: { type: "request", message: swapOrder }, to: "Run", effects: [log("Image swap to 17.13.1.1 ordered by wlc"), { kind: "swapImage", request: swapOrder, version: "17.13.1.1" }] },
  { name: "Image Swap done: Success", from: "Run", input: { type: "imageSwapped", request: swapOrder }, to: "Run", effects: [ok(swapOrder)] },
  {
    name: "Image Swap failed: a failure Result Code, and why",
    from: "Run",
    input: { type: "imageSwapped", request: swapOrder, error: "no predownloaded 17.13.1.1 stands by (none does)" },
    to: "Run",
    effects: [log("Image swap failed: no predownloaded 17.13.1.1 stands by (none does)", "warn"), reply(swapOrder, ResultCode.ConfigurationFailureServiceNotProvided)],
  },
];

const ROWS: Row[] = [
  // ------------------------------------------------------------ Idle
  { name: "start discovers", from: "Idle", context: { controlPort: 0, discovery: { seq: 0, round: 0, targets: 0, candidates: [] } }, input: { type: "start", controlPort: 40000 }, to: "Discovery", effects: [...enter("Discovery", "Idle"), ...discoveryRound(1, 200)], after: { controlPort: 40000 } },
  { name: "stop while stopped", from: "Idle", input: { type: "stop" }, to: "Idle", effects: [{ kind: "closeSession" }] },
  { name: "a failure after stop is only logged", from: "Idle", input: boom, to: "Idle", effects: [log("Ignoring a failure after stop: boom", "warn")] },

  // ------------------------------------------------------------ Discovery
  {
    name: "the only controller asked answers: no need to wait out the interval",
    from: "Discovery",
    input: { type: "discoveryResponse", from: AC, message: message(MessageType.DiscoveryResponse, [{ kind: "AcName", name: "wlc" }]) },
    to: "DtlsSetup",
    effects: [log("Discovery Response from 10.0.0.1"), log("Selected MWAR 'wlc' (10.0.0.1)"), ...enter("DtlsSetup", "Discovery"), { kind: "arm", timer: "WaitDTLS", ms: T.waitDtlsMs }, { kind: "openSession" }],
    after: { ac: { endpoint: AC, summary: expect.objectContaining({ name: "wlc" }) } },
  },
  { name: "a broadcast round waits for more answers", from: "Discovery", context: { discovery: { seq: 1, round: 0, targets: Infinity, candidates: [] } }, input: { type: "discoveryResponse", from: AC, message: message(MessageType.DiscoveryResponse) }, to: "Discovery", effects: [log("Discovery Response from 10.0.0.1")] },
  { name: "an answer to an older round is discarded", from: "Discovery", input: { type: "discoveryResponse", from: AC, message: message(MessageType.DiscoveryResponse, [], 9) }, to: "Discovery", effects: discard("CAPWAP_DISCOVERY_RESPONSE", 2, "Discovery") },
  {
    name: "with only a static list, an answer from an unlisted controller is discarded",
    from: "Discovery",
    input: { type: "discoveryResponse", from: { address: "10.6.6.6", port: 5246 }, message: message(MessageType.DiscoveryResponse, [{ kind: "AcName", name: "evil" }]) },
    to: "Discovery",
    effects: [{ kind: "discard", source: "10.6.6.6", reason: "not a configured controller", text: "Discarding Discovery Response from 10.6.6.6:5246: not a configured controller" }],
  },
  {
    name: "a listed address answering from another port is not the listed controller",
    from: "Discovery",
    input: { type: "discoveryResponse", from: { address: "10.0.0.1", port: 9999 }, message: message(MessageType.DiscoveryResponse) },
    to: "Discovery",
    effects: [{ kind: "discard", source: "10.0.0.1", reason: "not a configured controller", text: "Discarding Discovery Response from 10.0.0.1:9999: not a configured controller" }],
  },
  { name: "DNS answers are asked in the same round", from: "Discovery", input: { type: "dnsAnswer", round: 0, addresses: ["10.0.0.7"] }, to: "Discovery", effects: [{ kind: "discover", seq: 1, targets: [{ address: "10.0.0.7", port: 5246, discoveryType: 3 }] }, log("Discovery Request sent to 10.0.0.7, discovery type DNS(3)")] },
  { name: "a DNS answer for an earlier round is ignored", from: "Discovery", context: { discovery: { seq: 2, round: 1, targets: Infinity, candidates: [] } }, input: { type: "dnsAnswer", round: 0, addresses: ["10.0.0.7"] }, to: "Discovery", effects: [] },
  { name: "DiscoveryInterval without an answer: next round, backing off", from: "Discovery", input: { type: "timer", timer: "DiscoveryInterval" }, to: "Discovery", effects: discoveryRound(2, 400), after: { discovery: { seq: 2, round: 1, targets: 1, candidates: [] } } },
  {
    name: "DiscoveryInterval after the last round: sulk",
    from: "Discovery",
    context: { discovery: { seq: 10, round: T.maxDiscoveries - 1, targets: 1, candidates: [] } },
    input: { type: "timer", timer: "DiscoveryInterval" },
    to: "Sulking",
    effects: [log(`No controller answered ${T.maxDiscoveries} discovery rounds; sulking for 2 s`), ...enter("Sulking", "Discovery"), { kind: "arm", timer: "SilentInterval", ms: T.silentIntervalMs }],
  },
  {
    name: "DiscoveryInterval with answers: the least loaded controller",
    from: "Discovery",
    context: { discovery: { seq: 1, round: 0, targets: Infinity, candidates: [{ from: AC, order: 0, summary: { name: "wlc", activeWtps: 1, maxWtps: 10, stations: 0, stationLimit: 0 } }] } },
    input: { type: "timer", timer: "DiscoveryInterval" },
    to: "DtlsSetup",
    effects: [log("Selected MWAR 'wlc' (10.0.0.1)"), ...enter("DtlsSetup", "Discovery"), { kind: "arm", timer: "WaitDTLS", ms: T.waitDtlsMs }, { kind: "openSession" }],
  },
  { name: "internal error", from: "Discovery", input: boom, to: "DtlsTeardown", effects: teardown("Discovery", "internal error: boom", { sulk: true }) },
  { name: "operator stop", from: "Discovery", input: { type: "stop" }, to: "Idle", effects: [{ kind: "closeSession" }, { kind: "cancelAllTimers" }] },

  // ------------------------------------------------------------ Sulking
  { name: "SilentInterval over: discover again from round 0", from: "Sulking", context: { discovery: { seq: 10, round: 10, targets: 1, candidates: [] } }, input: { type: "timer", timer: "SilentInterval" }, to: "Discovery", effects: [...enter("Discovery", "Sulking"), ...discoveryRound(11, 200)] },
  { name: "internal error", from: "Sulking", input: boom, to: "DtlsTeardown", effects: teardown("Sulking", "internal error: boom", { sulk: true }) },
  { name: "operator stop", from: "Sulking", input: { type: "stop" }, to: "Idle", effects: [{ kind: "closeSession" }, { kind: "cancelAllTimers" }] },

  // ------------------------------------------------------------ DTLS Setup
  {
    name: "DTLS up: send the Join Request",
    from: "DtlsSetup",
    input: { type: "dtlsConnected", peer: { version: "DTLSv1.2", cipher: "AES128-SHA", subject: "CN=wlc" } },
    to: "Join",
    effects: [log("DTLS connection established to 10.0.0.1, DTLSv1.2 AES128-SHA"), ...enter("Join", "DtlsSetup"), { kind: "arm", timer: "WaitJoin", ms: T.waitJoinMs }, { kind: "request", type: MessageType.JoinRequest }, log("Sending Join request to 10.0.0.1 through port 5246")],
  },
  { name: "WaitDTLS expires", from: "DtlsSetup", input: { type: "timer", timer: "WaitDTLS" }, to: "DtlsTeardown", effects: teardown("DtlsSetup", "WaitDTLS expired") },
  { name: "DTLS setup fails", from: "DtlsSetup", input: { type: "dtlsClosed", reason: "DTLS: certificate verify failed" }, to: "DtlsTeardown", effects: teardown("DtlsSetup", "DTLS: certificate verify failed") },

  // ------------------------------------------------------------ Join
  {
    name: "join accepted: compare versions",
    from: "Join",
    input: { type: "response", request: MessageType.JoinRequest, message: joinResponse(ResultCode.Success, 8) },
    to: "ImageData",
    effects: [log("Join Response from 10.0.0.1"), log("AC accepted join request with result code: 0"), { kind: "count", stat: "joins" }, ...enter("ImageData", "Join"), { kind: "readVersions" }],
    after: { joined: JOINED },
  },
  {
    name: "join accepted with a window of 0: taken as 1, logged",
    from: "Join",
    input: { type: "response", request: MessageType.JoinRequest, message: joinResponse(ResultCode.Success, 0) },
    to: "ImageData",
    effects: [log("Join Response from 10.0.0.1"), log("AC accepted join request with result code: 0"), log("Controller offered an Image Data window of 0; using 1 (stop-and-wait)", "warn"), { kind: "count", stat: "joins" }, ...enter("ImageData", "Join"), { kind: "readVersions" }],
    after: { joined: { ...JOINED, imageWindow: 1 } },
  },
  {
    name: "join accepted with a window over ours: capped at maxImageWindow",
    from: "Join",
    input: { type: "response", request: MessageType.JoinRequest, message: joinResponse(ResultCode.Success, 64) },
    to: "ImageData",
    effects: [log("Join Response from 10.0.0.1"), log("AC accepted join request with result code: 0"), { kind: "count", stat: "joins" }, ...enter("ImageData", "Join"), { kind: "readVersions" }],
    after: { joined: { ...JOINED, imageWindow: config.maxImageWindow } },
  },
  {
    name: "join accepted with HTTPS offered to an AP that can: the controller's OOB port is kept",
    from: "Join",
    settings: OOB_SOURCES,
    input: { type: "response", request: MessageType.JoinRequest, message: joinResponse(ResultCode.Success, 8, 8443) },
    to: "ImageData",
    effects: [log("Join Response from 10.0.0.1"), log("AC accepted join request with result code: 0"), { kind: "count", stat: "joins" }, ...enter("ImageData", "Join"), { kind: "readVersions" }],
    after: { joined: OOB_JOINED },
  },
  {
    name: "join accepted with HTTPS offered to an AP without the capability: not taken",
    from: "Join",
    input: { type: "response", request: MessageType.JoinRequest, message: joinResponse(ResultCode.Success, 8, 8443) },
    to: "ImageData",
    effects: [log("Join Response from 10.0.0.1"), log("AC accepted join request with result code: 0"), { kind: "count", stat: "joins" }, ...enter("ImageData", "Join"), { kind: "readVersions" }],
    after: { joined: JOINED },
  },
  {
    name: "join refused: restart, sulking first",
    from: "Join",
    input: { type: "response", request: MessageType.JoinRequest, message: joinResponse(ResultCode.JoinFailureResourceDepletion) },
    to: "DtlsTeardown",
    effects: [
      log("Join Response from 10.0.0.1"),
      log("AC rejected join request with result code: 4 (Join Failure (Resource Depletion))", "warn"),
      ...teardown("Join", "join refused: Join Failure (Resource Depletion)", { sulk: true }),
    ],
    after: { sulkAfterTeardown: true, restartReason: "join refused: Join Failure (Resource Depletion)" },
  },
  { name: "a response to another request is discarded", from: "Join", input: { type: "response", request: MessageType.EchoRequest, message: message(MessageType.EchoResponse) }, to: "Join", effects: discard("CAPWAP_ECHO_RESPONSE", 14, "Join") },
  { name: "WaitJoin expires", from: "Join", input: { type: "timer", timer: "WaitJoin" }, to: "DtlsTeardown", effects: teardown("Join", "WaitJoin expired") },

  // ------------------------------------------------------------ Image Data
  {
    name: "same version: nothing to download",
    from: "ImageData",
    input: { type: "versions", running: "17.12.1.5", backup: "0.0.0.0" },
    to: "Configure",
    effects: [log("AP image version 17.12.1.5 backup 0.0.0.0, Controller 17.12.1.5"), log("Version is the same, do not need update."), { kind: "noUpgrade" }, ...enter("Configure", "ImageData"), { kind: "request", type: MessageType.ConfigurationStatusRequest }],
  },
  {
    name: "another version: start the CAPWAP source",
    from: "ImageData",
    input: { type: "versions", running: "17.9.4.27", backup: "0.0.0.0" },
    to: "ImageData",
    effects: [
      log("AP image version 17.9.4.27 backup 0.0.0.0, Controller 17.12.1.5"),
      log("Version does not match."),
      { kind: "arm", timer: "StatisticsTimer", ms: T.statisticsMs },
      { kind: "startSource", source: "capwap", download: { mode: "join", version: "17.12.1.5", controllerAddress: "10.0.0.1", window: 8 } },
    ],
    after: { download: { mode: "join", version: "17.12.1.5", source: "capwap" } },
  },
  {
    name: "another version, HTTPS offered at join: start the HTTPS source",
    from: "ImageData",
    settings: OOB_SOURCES,
    context: { joined: OOB_JOINED },
    input: { type: "versions", running: "17.9.4.27", backup: "0.0.0.0" },
    to: "ImageData",
    effects: [
      log("AP image version 17.9.4.27 backup 0.0.0.0, Controller 17.12.1.5"),
      log("Version does not match."),
      { kind: "arm", timer: "StatisticsTimer", ms: T.statisticsMs },
      { kind: "startSource", source: "https", download: { mode: "join", version: "17.12.1.5", controllerAddress: "10.0.0.1", window: 8 } },
    ],
    after: { download: { mode: "join", version: "17.12.1.5", source: "https" } },
  },
  {
    name: "the HTTPS download failed: fall back to CAPWAP in the same session, telling the controller why",
    from: "ImageData",
    settings: OOB_SOURCES,
    context: { joined: OOB_JOINED, download: { mode: "join", version: "17.12.1.5", source: "https" } },
    input: { type: "sourceFailed", reason: "network", message: OOB_FALLBACK },
    to: "ImageData",
    effects: [
      log(`OOB Image Download failed (reason : ${OOB_FALLBACK}), falling back to CAPWAP image download`, "warn"),
      { kind: "startSource", source: "capwap", download: { mode: "join", version: "17.12.1.5", controllerAddress: "10.0.0.1", window: 8, fallback: OOB_FALLBACK } },
    ],
    after: { download: { mode: "join", version: "17.12.1.5", source: "capwap" } },
  },
  {
    name: "the CAPWAP fallback failed too: restart CAPWAP with its reason",
    from: "ImageData",
    settings: OOB_SOURCES,
    context: { joined: OOB_JOINED, download: { mode: "join", version: "17.12.1.5", source: "capwap" } },
    input: { type: "sourceFailed", reason: "timeout", message: "image download cannot start" },
    to: "DtlsTeardown",
    effects: teardown("ImageData", "image download cannot start"),
    after: { download: undefined },
  },
  {
    name: "another version and no source: stay on ours",
    from: "ImageData",
    settings: { sources: [] },
    input: { type: "versions", running: "17.9.4.27", backup: "0.0.0.0" },
    to: "Configure",
    effects: [log("AP image version 17.9.4.27 backup 0.0.0.0, Controller 17.12.1.5"), log("Version does not match."), log("No image source configured: staying on 17.9.4.27", "warn"), ...enter("Configure", "ImageData"), { kind: "request", type: MessageType.ConfigurationStatusRequest }],
  },
  { name: "Image Data goes to the source", from: "ImageData", context: { download: { mode: "join", version: "17.12.1.5", source: "capwap" } }, input: { type: "request", message: imageData }, to: "ImageData", effects: [{ kind: "toSource", message: imageData }] },
  { name: "other requests are discarded while downloading", from: "ImageData", input: { type: "request", message: message(MessageType.ResetRequest) }, to: "ImageData", effects: discard("CAPWAP_RESET_REQUEST", 17, "Image Data") },
  { name: "the source found the image", from: "ImageData", context: { download: { mode: "join", version: "17.12.1.5", source: "capwap" } }, input: { type: "sourceStarted" }, to: "ImageData", effects: [] },
  {
    name: "the new image is installed: reload into it",
    from: "ImageData",
    context: { download: { mode: "join", version: "17.12.1.5", source: "capwap" } },
    input: { type: "sourceFinished", result: { reboot: true, version: "17.12.1.5" } },
    to: "Reset",
    effects: [...enter("Reset", "ImageData"), { kind: "closeSession" }, log("Reloading AP (Image upgrade)"), { kind: "arm", timer: "Restart", ms: 0 }, { kind: "reboot", reason: "Image upgrade" }],
    after: { rebootCount: 1, download: undefined },
  },
  { name: "downloaded without a reload: configure", from: "ImageData", context: { download: { mode: "join", version: "17.12.1.5", source: "capwap" } }, input: { type: "sourceFinished", result: { reboot: false } }, to: "Configure", effects: [...enter("Configure", "ImageData"), { kind: "request", type: MessageType.ConfigurationStatusRequest }], after: { download: undefined } },
  {
    name: "the source failed: restart CAPWAP with its reason (nothing left to abort)",
    from: "ImageData",
    context: { download: { mode: "join", version: "17.12.1.5", source: "capwap" } },
    input: { type: "sourceFailed", reason: "timeout", message: "image download cannot start" },
    to: "DtlsTeardown",
    effects: teardown("ImageData", "image download cannot start"),
    after: { download: undefined },
  },
  { name: "StatisticsTimer: our own WTP Event is dropped while downloading", from: "ImageData", input: { type: "timer", timer: "StatisticsTimer" }, to: "ImageData", effects: [...discard("CAPWAP_WTP_EVENT_REQUEST", 9, "Image Data"), { kind: "arm", timer: "StatisticsTimer", ms: T.statisticsMs }] },
  {
    name: "operator stop mid-download (an HTTPS fetch needs no session): the source is aborted",
    from: "ImageData",
    context: { joined: OOB_JOINED, download: { mode: "join", version: "17.12.1.5", source: "https" } },
    settings: OOB_SOURCES,
    input: { type: "stop" },
    to: "Idle",
    effects: [{ kind: "abortSource", reason: "AP stopped" }, { kind: "closeSession" }, { kind: "cancelAllTimers" }],
    after: { download: undefined },
  },
  {
    name: "DTLS closes mid-download: the source is aborted",
    from: "ImageData",
    context: { download: { mode: "join", version: "17.12.1.5", source: "capwap" } },
    input: { type: "dtlsClosed", reason: "DTLS session closed by peer" },
    to: "DtlsTeardown",
    effects: teardown("ImageData", "DTLS session closed by peer", { abort: "DTLS session closed by peer" }),
    after: { download: undefined },
  },

  // ------------------------------------------------------------ Configure
  {
    name: "Configuration Status Response: its CAPWAP Timers set the echo interval",
    from: "Configure",
    input: { type: "response", request: MessageType.ConfigurationStatusRequest, message: message(MessageType.ConfigurationStatusResponse, [{ kind: "CapwapTimers", discovery: 5, echoRequest: 7 }]) },
    to: "DataCheck",
    effects: [...enter("DataCheck", "Configure"), { kind: "arm", timer: "ChangeStatePendingTimer", ms: T.changeStatePendingMs }, { kind: "request", type: MessageType.ChangeStateEventRequest }],
    after: { echoIntervalMs: 7000 },
  },
  { name: "a response to another request is discarded", from: "Configure", input: { type: "response", request: MessageType.EchoRequest, message: message(MessageType.EchoResponse) }, to: "Configure", effects: discard("CAPWAP_ECHO_RESPONSE", 14, "Configure") },

  // ------------------------------------------------------------ Data Check
  {
    name: "Change State Response: keep-alive, and the data channel must answer",
    from: "DataCheck",
    input: { type: "response", request: MessageType.ChangeStateEventRequest, message: message(MessageType.ChangeStateEventResponse) },
    to: "DataCheck",
    effects: [...keepAlive, { kind: "cancel", timer: "ChangeStatePendingTimer" }, { kind: "arm", timer: "DataChannelDeadInterval", ms: T.dataChannelDeadIntervalMs }],
  },
  { name: "a response to another request is discarded", from: "DataCheck", input: { type: "response", request: MessageType.EchoRequest, message: message(MessageType.EchoResponse) }, to: "DataCheck", effects: discard("CAPWAP_ECHO_RESPONSE", 14, "Data Check") },
  { name: "the controller's keep-alive: Run", from: "DataCheck", context: { echoIntervalMs: 7000 }, input: { type: "keepAlive" }, to: "Run", effects: [...enter("Run", "DataCheck"), ...runEntry(7000)] },
  { name: "DataChannelKeepAlive: send another", from: "DataCheck", input: { type: "timer", timer: "DataChannelKeepAlive" }, to: "DataCheck", effects: keepAlive },
  { name: "ChangeStatePendingTimer expires", from: "DataCheck", input: { type: "timer", timer: "ChangeStatePendingTimer" }, to: "DtlsTeardown", effects: teardown("DataCheck", "ChangeStatePendingTimer expired") },
  { name: "DataChannelDeadInterval expires", from: "DataCheck", input: { type: "timer", timer: "DataChannelDeadInterval" }, to: "DtlsTeardown", effects: teardown("DataCheck", "DataChannelDeadInterval expired") },

  // ------------------------------------------------------------ Run
  ...(() => {
    const update = message(MessageType.ConfigurationUpdateRequest, [{ kind: "WtpName", name: "ap-renamed" }, { kind: "CapwapTimers", discovery: 5, echoRequest: 9 }]);
    return [{ name: "Configuration Update: a new name and echo interval", from: "Run", input: { type: "request", message: update }, to: "Run", effects: [log(`AP name changed from ${config.identity.name} to ap-renamed`), ok(update)], after: { name: "ap-renamed", echoIntervalMs: 9000 } } satisfies Row];
  })(),
  {
    name: "Predownload Order: start the CAPWAP source, stay in Run",
    from: "Run",
    input: { type: "request", message: predownloadOrder },
    to: "Run",
    effects: [ok(predownloadOrder), log("Predownload of 17.13.1.1 ordered by wlc"), { kind: "startSource", source: "capwap", download: { ...PREDOWNLOAD, controllerAddress: "10.0.0.1", window: 8 } }],
    after: { download: PREDOWNLOADING },
  },
  {
    name: "Predownload Order, HTTPS offered at join: start the HTTPS source, stay in Run",
    from: "Run",
    settings: OOB_SOURCES,
    context: { joined: OOB_JOINED },
    input: { type: "request", message: predownloadOrder },
    to: "Run",
    effects: [ok(predownloadOrder), log("Predownload of 17.13.1.1 ordered by wlc"), { kind: "startSource", source: "https", download: { ...PREDOWNLOAD, controllerAddress: "10.0.0.1", window: 8 } }],
    after: { download: { ...PREDOWNLOAD, source: "https" } },
  },
  {
    name: "a predownload's HTTPS download failed: fall back to CAPWAP, still in Run",
    from: "Run",
    settings: OOB_SOURCES,
    context: { joined: OOB_JOINED, download: { ...PREDOWNLOAD, source: "https" } },
    input: { type: "sourceFailed", reason: "integrity", message: "ap1g8: MD5 mismatch" },
    to: "Run",
    effects: [
      log("OOB Image Download failed (reason : ap1g8: MD5 mismatch), falling back to CAPWAP image download", "warn"),
      { kind: "startSource", source: "capwap", download: { ...PREDOWNLOAD, controllerAddress: "10.0.0.1", window: 8, fallback: "ap1g8: MD5 mismatch" } },
    ],
    after: { download: PREDOWNLOADING },
  },
  {
    name: "Predownload Order while downloading: the new order supersedes it (one ABORT)",
    from: "Run",
    context: { download: PREDOWNLOADING },
    input: { type: "request", message: predownloadOrder },
    to: "Run",
    effects: [{ kind: "abortSource", reason: "superseded by the order for 17.13.1.1" }, ok(predownloadOrder), log("Predownload of 17.13.1.1 ordered by wlc"), { kind: "startSource", source: "capwap", download: { ...PREDOWNLOAD, controllerAddress: "10.0.0.1", window: 8 } }],
    after: { download: PREDOWNLOADING },
  },
  { name: "Predownload Order without a CAPWAP source: service not provided", from: "Run", settings: { sources: [] }, input: { type: "request", message: predownloadOrder }, to: "Run", effects: [reply(predownloadOrder, ResultCode.ConfigurationFailureServiceNotProvided)] },
  ...EFFICIENT_ROWS,
  {
    name: "Reset Request naming a version: reload to swap to it",
    from: "Run",
    input: { type: "request", message: resetRequest },
    to: "Reset",
    effects: [ok(resetRequest), log("Reset Request from 10.0.0.1"), ...enter("Reset", "Run"), { kind: "closeSession" }, log("Reloading AP (Reset Request from controller)"), { kind: "arm", timer: "Restart", ms: 0 }, { kind: "reboot", reason: "Reset Request from controller", version: "17.13.1.1" }],
    after: { reboot: { reason: "Reset Request from controller", version: "17.13.1.1" }, rebootCount: 1 },
  },
  { name: "Image Data during a predownload goes to the source", from: "Run", context: { download: PREDOWNLOADING }, input: { type: "request", message: imageData }, to: "Run", effects: [{ kind: "toSource", message: imageData }] },
  { name: "Image Data without a download is refused", from: "Run", input: { type: "request", message: imageData }, to: "Run", effects: [reply(imageData, ResultCode.ImageDataErrorOtherError)] },
  ...[MessageType.ClearConfigurationRequest, MessageType.StationConfigurationRequest, MessageType.Ieee80211WlanConfigurationRequest].map(
    (type): Row => ({ name: `request ${type} is acknowledged`, from: "Run", input: { type: "request", message: message(type) }, to: "Run", effects: [ok(message(type))] }),
  ),
  { name: "Data Transfer: no information", from: "Run", input: { type: "request", message: message(MessageType.DataTransferRequest) }, to: "Run", effects: [reply(message(MessageType.DataTransferRequest), ResultCode.DataTransferErrorNoInformation)] },
  { name: "an unknown request: unrecognized", from: "Run", input: { type: "request", message: message(0x63) }, to: "Run", effects: [reply(message(0x63), ResultCode.MessageUnexpectedUnrecognizedRequest)] },
  { name: "Echo Response: count it, arm the next echo", from: "Run", context: { echoIntervalMs: 9000 }, input: { type: "response", request: MessageType.EchoRequest, message: message(MessageType.EchoResponse) }, to: "Run", effects: [{ kind: "count", stat: "echoes" }, { kind: "arm", timer: "EchoInterval", ms: 9000 }] },
  { name: "other responses in Run need nothing", from: "Run", input: { type: "response", request: MessageType.WtpEventRequest, message: message(MessageType.WtpEventResponse) }, to: "Run", effects: [] },
  { name: "EchoInterval: send an Echo Request", from: "Run", input: { type: "timer", timer: "EchoInterval" }, to: "Run", effects: [{ kind: "request", type: MessageType.EchoRequest, elements: [] }] },
  { name: "the controller's keep-alive: the data channel lives", from: "Run", input: { type: "keepAlive" }, to: "Run", effects: [{ kind: "arm", timer: "DataChannelDeadInterval", ms: T.dataChannelDeadIntervalMs }] },
  { name: "DataChannelKeepAlive: send another", from: "Run", input: { type: "timer", timer: "DataChannelKeepAlive" }, to: "Run", effects: keepAlive },
  { name: "DataChannelDeadInterval expires", from: "Run", input: { type: "timer", timer: "DataChannelDeadInterval" }, to: "DtlsTeardown", effects: teardown("Run", "DataChannelDeadInterval expired") },
  { name: "StatisticsTimer: a WTP Event Request", from: "Run", input: { type: "timer", timer: "StatisticsTimer" }, to: "Run", effects: [{ kind: "request", type: MessageType.WtpEventRequest }, { kind: "arm", timer: "StatisticsTimer", ms: T.statisticsMs }] },
  { name: "a predownload's source found the image: report Downloading", from: "Run", context: { download: PREDOWNLOADING }, input: { type: "sourceStarted" }, to: "Run", effects: [predownloadStatus(PredownloadState.Downloading)] },
  ...[
    { what: "a predownload", download: PREDOWNLOADING },
    { what: "a subordinate's predownload from its primary", download: subordinateRun(2) },
  ].map(
    ({ what, download }): Row => ({
      name: `${what} completes: report it, stay in Run`,
      from: "Run",
      context: { download },
      input: { type: "sourceFinished", result: { reboot: false, version: "17.13.1.1" } },
      to: "Run",
      effects: [log("Predownload of 17.13.1.1 complete: it stands by in the backup partition"), predownloadStatus(PredownloadState.Complete)],
      after: { download: undefined },
    }),
  ),
  {
    name: "a predownload fails: report it, stay in Run",
    from: "Run",
    context: { download: PREDOWNLOADING },
    input: { type: "sourceFailed", reason: "integrity", message: "MD5 mismatch" },
    to: "Run",
    effects: [log("Predownload of 17.13.1.1 failed: MD5 mismatch", "warn"), predownloadStatus(PredownloadState.Failed)],
    after: { download: undefined },
  },
  {
    name: "no echo answer mid-predownload: the source is aborted",
    from: "Run",
    context: { download: PREDOWNLOADING },
    input: { type: "requestTimeout", request: MessageType.EchoRequest },
    to: "DtlsTeardown",
    effects: teardown("Run", "Max retransmission count exceeded for Echo Request", { abort: "Max retransmission count exceeded for Echo Request" }),
  },

  // ------------------------------------------------------------ Reset
  { name: "Restart: rediscover", from: "Reset", input: { type: "timer", timer: "Restart" }, to: "Discovery", effects: [...enter("Discovery", "Reset"), ...discoveryRound(2, 200)] },

  // ------------------------------------------------------------ DTLS Teardown
  { name: "Restart: rediscover", from: "DtlsTeardown", input: { type: "timer", timer: "Restart" }, to: "Discovery", effects: [...enter("Discovery", "DtlsTeardown"), ...discoveryRound(2, 200)] },
  { name: "Restart after the controller's close_notify: rediscover", from: "DtlsTeardown", context: { rediscoverAtOnce: true }, input: { type: "timer", timer: "Restart" }, to: "Discovery", effects: [...enter("Discovery", "DtlsTeardown"), ...discoveryRound(2, 200)], after: { rediscoverAtOnce: false } },
  { name: "Restart after an internal error or a refusal: sulk first", from: "DtlsTeardown", context: { sulkAfterTeardown: true }, input: { type: "timer", timer: "Restart" }, to: "Sulking", effects: [...enter("Sulking", "DtlsTeardown"), { kind: "arm", timer: "SilentInterval", ms: T.silentIntervalMs }], after: { sulkAfterTeardown: false } },
  {
    name: "teardown itself failed: close anyway, restart after the SilentInterval",
    from: "DtlsTeardown",
    context: { download: PREDOWNLOADING },
    input: boom,
    to: "DtlsTeardown",
    effects: [log("CAPWAP teardown failed: boom", "warn"), { kind: "arm", timer: "Restart", ms: 0 }, { kind: "closeSession", tolerant: true }],
    after: { sulkAfterTeardown: true, download: undefined },
  },
  { name: "operator stop", from: "DtlsTeardown", input: { type: "stop" }, to: "Idle", effects: [{ kind: "closeSession" }, { kind: "cancelAllTimers" }] },

  // ------------------------------------------------------------ inputs a state does not list
  { name: "a message a state does not expect is discarded", from: "Sulking", input: { type: "request", message: message(MessageType.ConfigurationUpdateRequest) }, to: "Sulking", effects: discard("CAPWAP_CONFIGURATION_UPDATE_REQUEST", 7, "Sulking", "unknown") },
  { name: "operator restart outside a session is ignored", from: "Discovery", input: { type: "restart", reason: "restart requested" }, to: "Discovery", effects: [] },
  { name: "a stale timer is ignored", from: "Join", input: { type: "timer", timer: "EchoInterval" }, to: "Join", effects: [] },

  ...sessionRows,
];

function run(row: Row) {
  const from = { state: row.from, context: context(row.from, row.context) };
  return transition({ ...settings, ...row.settings }, from, row.input);
}

describe("WTP transition table", () => {
  for (const row of ROWS) {
    it(`${row.from} + ${row.input.type === "timer" ? row.input.timer : row.input.type}: ${row.name} → ${row.to}`, () => {
      const result = run(row);
      expect(result.state).toBe(row.to);
      expect(result.effects).toMatchObject(row.effects);
      expect(result.effects).toHaveLength(row.effects.length);
      if (row.after) {
        const { download, ...rest } = row.after;
        const gone = Object.keys(rest).filter((k) => rest[k as keyof typeof rest] === undefined);
        expect(result.context).toMatchObject(Object.fromEntries(Object.entries(rest).filter(([k]) => !gone.includes(k))));
        for (const k of gone) expect(result.context[k as keyof WtpContext]).toBeUndefined();
        if ("download" in row.after) expect(result.context.download).toEqual(download);
      }
    });
  }

  it("the function is pure: the same state and input give the same result, and the old state is untouched", () => {
    for (const row of ROWS) {
      const from = { state: row.from, context: context(row.from, row.context) };
      const before = structuredClone(from);
      const once = transition(settings, from, row.input);
      expect(transition(settings, from, row.input)).toEqual(once);
      expect(from).toEqual(before);
    }
  });

  it("every timer is armed only by an effect: no row's effects arm a timer the shell would not know", () => {
    const armed = ROWS.flatMap((row) => run(row).effects).filter((e): e is Extract<WtpEffect, { kind: "arm" | "armRandom" | "armBackoff" }> => e.kind === "arm" || e.kind === "armRandom" || e.kind === "armBackoff");
    expect(new Set(armed.map((e) => e.timer))).toEqual(new Set(["DiscoveryInterval", "SilentInterval", "WaitDTLS", "WaitJoin", "ChangeStatePendingTimer", "DataChannelDeadInterval", "EchoInterval", "DataChannelKeepAlive", "StatisticsTimer", "Restart", "PrimaryRetry"]));
  });

  it("every row of the table has a row here", () => {
    const key = (input: WtpInput) => (input.type === "timer" ? input.timer : input.type);
    const tested = new Set(ROWS.map((r) => `${r.from} ${key(r.input)}`));
    const untested = tableRows()
      .map((r) => `${r.state} ${r.input}`)
      .filter((r) => !tested.has(r));
    expect(untested).toEqual([]);
  });
});

describe("efficient image upgrade: a subordinate's tries and back-off follow the order and the config", () => {
  const backoff = { min: 250, max: 750 };
  const efficient: MachineSettings = { ...settings, sources: ["capwap", "tftp"], config: { ...config, efficientUpgrade: { tftpPort: 0, retryBackoffMs: backoff } } };

  for (const tries of [1, 44, 63]) {
    it(`${tries} tries: ${tries - 1} retries at the primary, each after a back-off in [min, max], then the controller`, () => {
      let machine: { state: WtpState; context: WtpContext } = { state: "Run", context: context("Run") };
      const all: WtpEffect[] = [];
      const step = (input: WtpInput): WtpEffect[] => {
        const { effects, ...next } = transition(efficient, machine, input);
        machine = next;
        all.push(...effects);
        return effects;
      };
      const random = seededRandom(tries);
      step({ type: "request", message: efficientOrder(EfficientRole.Subordinate, tries) });
      for (let attempt = 1; attempt <= tries; attempt++) {
        expect(machine.context.download).toMatchObject({ source: "tftp", efficient: { attempt, tries } });
        const failed = step({ type: "sourceFailed", reason: "refused", message: "server busy" });
        if (attempt === tries) break;
        expect(failed).toEqual([{ kind: "armBackoff", timer: "PrimaryRetry", minMs: backoff.min, maxMs: backoff.max }]);
        // What the shell does with armBackoff: draw in [min, max], arm, report.
        step({ type: "backoffArmed", timer: "PrimaryRetry", ms: randomBetween(random, backoff.min, backoff.max) });
        step({ type: "timer", timer: "PrimaryRetry" });
      }
      const starts = all.filter((e): e is Extract<WtpEffect, { kind: "startSource" }> => e.kind === "startSource");
      expect(starts.filter((e) => e.source === "tftp")).toHaveLength(tries);
      expect(starts).toHaveLength(tries + 1);
      expect(starts.at(-1)).toMatchObject({ source: "capwap", download: { fallback: `primary 10.0.5.7:40001 failed ${tries} tries (last: server busy)` } });
      const retries = all.flatMap((e) => (e.kind === "request" ? (e.elements ?? []) : [])).filter((e) => e.kind === "PredownloadRetry");
      expect(retries.map((r) => r.kind === "PredownloadRetry" && r.attempt)).toEqual(Array.from({ length: tries - 1 }, (_, i) => i + 1));
      for (const r of retries) expect(r).toMatchObject({ tries, nextRetrySeconds: 1, reason: "server busy" });
      expect(machine.context.download).toEqual(PREDOWNLOADING);
    });
  }

  it("the shell's draw covers [min, max], both ends included, and nothing outside", () => {
    const random = seededRandom(13);
    const drawn = new Set(Array.from({ length: 2000 }, () => randomBetween(random, 3, 9)));
    expect([...drawn].sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });
});
