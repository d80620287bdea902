/**
 * The WTP's transition table (RFC 5415 §2.3): for each state, the inputs it
 * handles and what they lead to; ENTRY holds each state's entry action. An
 * input a state does not list is ignored, or discarded with a log line when
 * it is a message.
 *
 * Every failure ends in DTLS Teardown with a logged reason ("Going to
 * restart CAPWAP (reason : …)") and a fresh start: a peer's, a timer's, and
 * an internal one (the shell feeds anything thrown while executing effects
 * or in its callbacks back as internalError). An internal error, and a
 * refused join, also sulk for the SilentInterval before rediscovering, so a
 * failure that repeats on every attempt costs one attempt per
 * SilentInterval, never a tight loop.
 */
import { CAPWAP_CONTROL_PORT, DiscoveryType, isSuccess, MessageType, messageTypeConstant, messageTypeName, ResultCode, resultCodeName } from "../codec/index.js";
import { EfficientRole, type Element, findElement, type Message, PredownloadState, PRIMARY_TRIES } from "../profiles/index.js";
import { chooseController } from "./discovery.js";
import { discardLine, STATE_NAMES } from "./console-lines.js";
import { discover, discoveryRound, mayAnswer } from "./discovery-steps.js";
import { oobCapable } from "./description.js";
import type { ImageDownload } from "./image-source.js";
import { arm, go, info, request, respond, stay, warn } from "./steps.js";
import type { DownloadRun, EfficientRun, Entry, JoinedController, MachineSettings, Row, Rows, Step, WtpContext, WtpEffect, WtpInput, WtpState, WtpTimer } from "./machine-types.js";

/**
 * The restart pause after the controller's close_notify: a controller shut
 * down gracefully tells all its APs at once, and a fleet rediscovering in the
 * same millisecond would hit a standby controller with every ClientHello at
 * once; 50 ms spreads them without making the AP wait for anything.
 */
export const PEER_CLOSED_RESTART_JITTER_MS = 50;

/** Start over: log why (Cisco: `Going to restart CAPWAP (reason : …)`), then DTLS Teardown. */
function teardown(c: WtpContext, reason: string, ...before: WtpEffect[]): Step {
  return go("DtlsTeardown", { ...c, restartReason: reason }, ...before, { kind: "count", stat: "restarts" }, info(`Going to restart CAPWAP (reason : ${reason})...`));
}

function discard(c: WtpContext, type: number, state: WtpState, source = c.ac?.endpoint.address ?? "unknown"): Step {
  return stay(c, { kind: "discard", source, reason: `${messageTypeConstant(type)} in ${STATE_NAMES[state]}`, text: discardLine(type, state) });
}

/** An input the state does not list: a message is discarded with a log line, anything else ignored. */
export function unhandled(c: WtpContext, input: WtpInput, state: WtpState): Step {
  return input.type === "request" || input.type === "response" || input.type === "discoveryResponse" ? discard(c, input.message.type, state, input.type === "discoveryResponse" ? input.from.address : undefined) : stay(c);
}

// ---------------------------------------------------------------- discovery

function discoveryRoundOver(s: MachineSettings, c: WtpContext): Step {
  const chosen = chooseController(c.discovery.candidates, s.config.controllers);
  if (chosen) {
    const configured = s.config.controllers.some((a) => a.name === chosen.summary.name);
    const name = chosen.summary.name;
    const line = configured ? `Found Configured MWAR '${name}' (${chosen.from.address})` : `Selected MWAR '${name ?? chosen.from.address}' (${chosen.from.address})`;
    return go("DtlsSetup", { ...c, ac: { endpoint: chosen.from, summary: chosen.summary } }, info(line));
  }
  const round = c.discovery.round + 1;
  if (round >= s.config.timers.maxDiscoveries) {
    return go("Sulking", { ...c, discovery: { ...c.discovery, round } }, info(`No controller answered ${round} discovery rounds; sulking for ${s.config.timers.silentIntervalMs / 1000} s`));
  }
  return discoveryRound(s, c, round);
}

// ---------------------------------------------------------------- session

/**
 * The controller's Image Data window, capped by ours. A window of 0 would
 * leave no block inside it (every one dropped, the transfer never moving):
 * it is taken as 1, stop-and-wait, the window when none is offered.
 */
function imageWindow(s: MachineSettings, offered: number): { window: number; effects: WtpEffect[] } {
  const effects = offered < 1 ? [warn(`Controller offered an Image Data window of ${offered}; using 1 (stop-and-wait)`)] : [];
  return { window: Math.min(Math.max(1, offered), s.config.maxImageWindow), effects };
}

function joinResponse(s: MachineSettings, c: WtpContext, message: Message): Step {
  const ac = c.ac!;
  const result = findElement(message.elements, "ResultCode")?.resultCode ?? ResultCode.FailureMissingMandatoryElement;
  const heard = info(`Join Response from ${ac.endpoint.address}`);
  if (!isSuccess(result)) {
    // Back off: a controller that refuses us must not see a tight loop of joins.
    const rejected = warn(`AC rejected join request with result code: ${result} (${resultCodeName(result)})`);
    return teardown({ ...c, sulkAfterTeardown: true }, `join refused: ${resultCodeName(result)}`, heard, rejected);
  }
  const summary = s.profile.acSummary(message.elements);
  const settings = s.profile.joinSettings(message.elements);
  const { window, effects } = imageWindow(s, settings.imageWindow);
  const joined: JoinedController = {
    name: summary.name ?? ac.summary.name ?? ac.endpoint.address,
    address: ac.endpoint.address,
    softwareVersion: summary.softwareVersion ?? ac.summary.softwareVersion ?? "0.0.0.0",
    imageWindow: window,
    // An offer this AP did not ask for (it advertised no capability) is not taken.
    ...(settings.oobPort !== undefined && oobCapable(s.config, s.sources) ? { oobPort: settings.oobPort } : {}),
  };
  return go("ImageData", { ...c, joined }, heard, info(`AC accepted join request with result code: ${result}`), ...effects, { kind: "count", stat: "joins" });
}

function compareVersions(s: MachineSettings, c: WtpContext, running: string, backup: string): Step {
  const joined = c.joined!;
  const heard = info(`AP image version ${running} backup ${backup}, Controller ${joined.softwareVersion}`);
  if (joined.softwareVersion === running) return go("Configure", c, heard, info("Version is the same, do not need update."), { kind: "noUpgrade" });
  const mismatch = info("Version does not match.");
  if (!s.sources.includes("capwap")) return go("Configure", c, heard, mismatch, warn(`No image source configured: staying on ${running}`));
  return startDownload(c, "join", joined.softwareVersion, [heard, mismatch, arm("StatisticsTimer", s.config.timers.statisticsMs)]);
}

/**
 * Start downloading `version` from the controller, after `before`: out of
 * band over HTTPS when the controller offered it at join, else (and as the
 * fallback, which then says why) CAPWAP Image Data. A primary's download
 * keeps its role (its request line says so, and it serves the image after).
 */
function startDownload(c: WtpContext, mode: ImageDownload["mode"], version: string, before: WtpEffect[], fallback?: string, primary?: EfficientRun): Step {
  const joined = c.joined!;
  const source = joined.oobPort !== undefined && fallback === undefined ? "https" : "capwap";
  const role = primary ? { efficient: primary } : {};
  const download = { mode, version, controllerAddress: joined.address, window: joined.imageWindow, ...(fallback !== undefined ? { fallback } : {}), ...role };
  return stay({ ...c, download: { mode, version, source, ...role } }, ...before, { kind: "startSource", source, download });
}

/** What stops a download under way: its running source is aborted (one ABORT), a subordinate's back-off cancelled; a server starting needs nothing. */
function stopDownload(download: DownloadRun | undefined, reason: string): WtpEffect[] {
  if (!download || download.waiting === "server") return [];
  return download.waiting === "retry" ? [{ kind: "cancel", timer: "PrimaryRetry" }] : [{ kind: "abortSource", reason }];
}

/** RFC 5415 §4.6.13: the controller's CAPWAP Timers set the echo interval (seconds). */
function applyTimers(c: WtpContext, elements: readonly Element[]): WtpContext {
  const timers = findElement(elements, "CapwapTimers");
  return timers && timers.echoRequest > 0 ? { ...c, echoIntervalMs: timers.echoRequest * 1000 } : c;
}

function sendKeepAlive(s: MachineSettings): WtpEffect[] {
  return [{ kind: "sendKeepAlive" }, arm("DataChannelKeepAlive", s.config.timers.dataChannelKeepAliveMs)];
}

// ---------------------------------------------------------------- run

function runRequest(s: MachineSettings, c: WtpContext, message: Message): Step {
  switch (message.type) {
    case MessageType.ConfigurationUpdateRequest: {
      const order = findElement(message.elements, "PredownloadOrder");
      if (order) return predownload(s, c, message, order.version);
      const swap = findElement(message.elements, "ImageSwap");
      if (swap) return stay(c, info(`Image swap to ${swap.version} ordered by ${c.joined!.name}`), { kind: "swapImage", request: message, version: swap.version });
      const name = findElement(message.elements, "WtpName")?.name ?? findElement(message.elements, "CiscoRadName")?.name;
      const renamed = name && name !== c.name ? [info(`AP name changed from ${c.name} to ${name}`)] : [];
      return stay(applyTimers(name ? { ...c, name } : c, message.elements), ...renamed, respond(message, ResultCode.Success));
    }
    case MessageType.ResetRequest: {
      const version = findElement(message.elements, "ImageIdentifier")?.identifier;
      const reboot = { reason: "Reset Request from controller", ...(version ? { version } : {}) };
      return go("Reset", { ...c, reboot }, respond(message, ResultCode.Success), info(`Reset Request from ${c.ac!.endpoint.address}`));
    }
    case MessageType.ImageDataRequest:
      return stay(c, c.download ? { kind: "toSource", message } : respond(message, ResultCode.ImageDataErrorOtherError));
    case MessageType.ClearConfigurationRequest:
    case MessageType.StationConfigurationRequest:
    case MessageType.Ieee80211WlanConfigurationRequest:
      return stay(c, respond(message, ResultCode.Success));
    case MessageType.DataTransferRequest:
      return stay(c, respond(message, ResultCode.DataTransferErrorNoInformation));
    default:
      return stay(c, respond(message, ResultCode.MessageUnexpectedUnrecognizedRequest));
  }
}

/**
 * The controller orders the image of `version` into the backup partition
 * while we stay in Run. With EfficientUpgrade (SPEC.md §3 "Efficient image
 * upgrade") the order names this AP's role in its site: the primary
 * downloads from the controller and serves the image after; a subordinate
 * fetches it from its primary over TFTP. A new order supersedes whatever
 * predownload is under way, and the image served before.
 */
function predownload(s: MachineSettings, c: WtpContext, order: Message, version: string): Step {
  const efficient = findElement(order.elements, "EfficientUpgrade");
  const subordinate = efficient?.role === EfficientRole.Subordinate;
  if (!s.sources.includes("capwap") || (subordinate && !s.sources.includes("tftp"))) return stay(c, respond(order, ResultCode.ConfigurationFailureServiceNotProvided));
  const { download, imageServer, ...rest } = c;
  const before = [
    ...stopDownload(download, `superseded by the order for ${version}`),
    ...(imageServer || download?.waiting === "server" ? [{ kind: "stopServing" } as const] : []),
    respond(order, ResultCode.Success),
    info(`Predownload of ${version} ordered by ${c.joined!.name}`),
  ];
  if (!efficient) return startDownload(rest, "predownload", version, before);
  const className = s.config.identity.classProfile.name;
  if (!subordinate) {
    const line = info(`Efficient image upgrade: primary AP for ${className} in this site, downloading ${version} from the controller`);
    return startDownload(rest, "predownload", version, [...before, line], undefined, { role: "primary" });
  }
  const tries = Math.min(Math.max(efficient.tries, PRIMARY_TRIES.min), PRIMARY_TRIES.max);
  const odd = tries !== efficient.tries ? [warn(`Efficient image upgrade: ${efficient.tries} tries at the primary is outside ${PRIMARY_TRIES.min}..${PRIMARY_TRIES.max}; using ${tries}`)] : [];
  const run: EfficientRun = { role: "subordinate", primary: { address: efficient.primaryAddress, port: efficient.primaryPort }, tries, attempt: 1 };
  return tryPrimary({ ...rest, download: { mode: "predownload", version, source: "tftp", efficient: run } }, run, [...before, ...odd]);
}

const endpoint = (e: { address: string; port: number }): string => `${e.address}:${e.port}`;

type InputOfFailure = Extract<WtpInput, { type: "sourceFailed" }>;

/** A subordinate's try `run.attempt` at its primary: the TFTP source, told where the primary serves. */
function tryPrimary(c: WtpContext, run: Extract<EfficientRun, { role: "subordinate" }>, before: WtpEffect[]): Step {
  const { mode, version } = c.download!;
  const joined = c.joined!;
  const download: ImageDownload = { mode, version, controllerAddress: joined.address, window: joined.imageWindow, efficient: { role: "subordinate", primary: run.primary } };
  return stay({ ...c, download: { mode, version, source: "tftp", efficient: run } }, ...before, { kind: "startSource", source: "tftp", download });
}

/**
 * A subordinate's try at its primary failed. The image itself failing
 * verification is not retried (the primary would serve the same bytes):
 * fall back to the controller at once. Any other failure (busy, timeout,
 * unreachable, refused, not found) waits a random back-off while tries are
 * left, then falls back to the controller too (CAPWAP, the reason in
 * OobFallback).
 */
function primaryFailed(s: MachineSettings, c: WtpContext, download: DownloadRun, run: Extract<EfficientRun, { role: "subordinate" }>, i: InputOfFailure): Step {
  const at = endpoint(run.primary);
  if (i.reason === "integrity" || i.reason === "sink") {
    const reason = `image from primary failed verification: ${i.message}`;
    return startDownload(c, download.mode, download.version, [warn(`Efficient image upgrade: ${reason}, falling back to the controller`)], reason);
  }
  if (run.attempt >= run.tries) {
    const reason = `primary ${at} failed ${run.tries} tries (last: ${i.message})`;
    return startDownload(c, download.mode, download.version, [warn(`Efficient image upgrade: ${reason}, falling back to the controller`)], reason);
  }
  const { min, max } = s.config.efficientUpgrade.retryBackoffMs;
  return stay({ ...c, download: { ...download, efficient: { ...run, lastFailure: i.message }, waiting: "retry" } }, { kind: "armBackoff", timer: "PrimaryRetry", minMs: min, maxMs: max });
}

/** The back-off is armed: say when the next try comes, to the console and to the controller (its Retry Count and Next Retry Time). */
const retryArmed: Row<"backoffArmed"> = (_s, c, i) => {
  const run = c.download?.efficient;
  if (i.timer !== "PrimaryRetry" || c.download?.waiting !== "retry" || run?.role !== "subordinate") return stay(c);
  const reason = run.lastFailure ?? "unknown";
  const line = warn(`Efficient image upgrade: primary ${endpoint(run.primary)} failed (${reason}), try ${run.attempt} of ${run.tries}, next in ${(i.ms / 1000).toFixed(1)} s`);
  const retry = request(MessageType.WtpEventRequest, [{ kind: "PredownloadRetry", attempt: run.attempt, tries: run.tries, nextRetrySeconds: Math.ceil(i.ms / 1000), reason }]);
  return stay(c, line, retry);
};

/** The back-off is over: the next try at the primary. */
const retryPrimary: Row<"PrimaryRetry"> = (_s, c) => {
  const run = c.download?.efficient;
  if (c.download?.waiting !== "retry" || run?.role !== "subordinate") return stay(c);
  const next = { ...run, attempt: run.attempt + 1 };
  return tryPrimary(c, next, []);
};

const predownloadStatus = (state: number, version: string, ...more: Element[]): WtpEffect => request(MessageType.WtpEventRequest, [{ kind: "PredownloadStatus", state, version }, ...more]);

/** A primary's server runs: Complete, and where subordinates fetch the image. */
const imageServed: Row<"imageServed"> = (_s, c, i) => {
  const { download, ...rest } = c;
  if (download?.waiting !== "server") return stay(c);
  return stay({ ...rest, imageServer: i.server }, predownloadStatus(PredownloadState.Complete, download.version, { kind: "PrimaryImageServer", address: i.server.address, port: i.server.port }));
};

/** A primary that cannot serve still has its image: Complete without a server (the controller elects another primary). */
const imageServeFailed: Row<"imageServeFailed"> = (s, c, i) => {
  const { download, ...rest } = c;
  if (download?.waiting !== "server") return stay(c);
  const line = warn(`Efficient image upgrade: cannot serve ${s.config.identity.classProfile.name} to subordinate APs: ${i.error}`);
  return stay(rest, line, predownloadStatus(PredownloadState.Complete, download.version));
};

/** ImageSwap's ACTIVATE ended: Success, or why not. */
const imageSwapped: Row<"imageSwapped"> = (_s, c, i) => {
  if (i.error === undefined) return stay(c, respond(i.request, ResultCode.Success));
  return stay(c, warn(`Image swap failed: ${i.error}`), respond(i.request, ResultCode.ConfigurationFailureServiceNotProvided));
};

// ---------------------------------------------------------------- rows

/** Every input a session state (DTLS Setup to Reset) handles the same way. */
const SESSION: Rows = {
  requestTimeout: (_s, c, i) => teardown(c, `Max retransmission count exceeded for ${messageTypeName(i.request)}`),
  dtlsClosed: (_s, c, i) => teardown(c, i.reason),
  dtlsPeerClosed: (_s, c) => teardown({ ...c, rediscoverAtOnce: true }, "DTLS session closed by the controller (close_notify)"),
  restart: (_s, c, i) => teardown(c, i.reason),
};

/** A bug or a message we cannot encode: restart CAPWAP, sulking first so a failure that repeats cannot spin. */
const INTERNAL_ERROR: Rows = {
  internalError: (_s, c, i) => teardown({ ...c, sulkAfterTeardown: true }, `internal error: ${i.error}`),
};

/**
 * Leaving for Idle cancels every timer, as entering any state does. A
 * download in progress stops with the AP: an HTTPS fetch needs no session
 * and would otherwise run on, install and activate after the AP stopped.
 */
const STOP: Rows = {
  stop: (_s, { download, ...c }) => go("Idle", c, ...stopDownload(download, "AP stopped"), { kind: "closeSession" }),
};

const waitExpired = (_s: MachineSettings, c: WtpContext, i: { timer: WtpTimer }): Step => teardown(c, `${i.timer} expired`);

/**
 * In Run a predownload's outcome is reported to the controller; the AP
 * stays in Run. A primary first starts serving the image (the report then
 * says where).
 */
const sourceFinished: Row<"sourceFinished"> = (_s, c, i, state) => {
  const { download, ...rest } = c;
  if (download?.mode === "predownload") {
    const complete = info(`Predownload of ${i.result.version ?? download.version} complete: it stands by in the backup partition`);
    if (download.efficient?.role === "primary") return stay({ ...rest, download: { ...download, waiting: "server" } }, complete, { kind: "serveImage", version: download.version });
    return stay(rest, complete, predownloadStatus(PredownloadState.Complete, download.version));
  }
  if (i.result.reboot) return go("Reset", { ...rest, reboot: { reason: "Image upgrade" } });
  return state === "ImageData" ? go("Configure", rest) : stay(rest);
};

const sourceFailed: Row<"sourceFailed"> = (s, c, i) => {
  const { download, ...rest } = c;
  // Any HTTPS failure falls back to CAPWAP Image Data in the same session: the sink was aborted, the partitions are as they were.
  if (download?.source === "https") {
    return startDownload(rest, download.mode, download.version, [warn(`OOB Image Download failed (reason : ${i.message}), falling back to CAPWAP image download`)], i.message, download.efficient);
  }
  if (download?.efficient?.role === "subordinate") return primaryFailed(s, rest, download, download.efficient, i);
  if (download?.mode === "predownload") {
    return stay(rest, warn(`Predownload of ${download.version} failed: ${i.message}`), predownloadStatus(PredownloadState.Failed, download.version));
  }
  return teardown(rest, i.message);
};

export const TABLE: { [S in WtpState]: Rows } = {
  Idle: {
    start: (_s, c, i) => go("Discovery", { ...c, controlPort: i.controlPort }),
    stop: STOP.stop,
    internalError: (_s, c, i) => stay(c, warn(`Ignoring a failure after stop: ${i.error}`)),
  },
  Discovery: {
    discoveryResponse: (s, c, { from, message }, state) => {
      if (message.seq !== c.discovery.seq) return discard(c, message.type, state, from.address);
      if (!mayAnswer(s, from)) return stay(c, { kind: "discard", source: from.address, reason: "not a configured controller", text: `Discarding Discovery Response from ${from.address}:${from.port}: not a configured controller` });
      if (c.discovery.candidates.some((a) => a.from.address === from.address && a.from.port === from.port)) return stay(c);
      const summary = s.profile.acSummary(message.elements);
      const candidates = [...c.discovery.candidates, { from, summary, order: c.discovery.candidates.length }];
      const heard = { ...c, discovery: { ...c.discovery, candidates } };
      const line = info(`Discovery Response from ${from.address}`, { ac: summary.name, activeWtps: summary.activeWtps });
      // Every controller we asked has answered: no reason to wait out the interval.
      if (candidates.length < c.discovery.targets) return stay(heard, line);
      const over = discoveryRoundOver(s, heard);
      return { ...over, effects: [line, ...over.effects] };
    },
    dnsAnswer: (_s, c, i) => (i.round === c.discovery.round ? stay(c, ...discover(c.discovery.seq, i.addresses.map((address) => ({ address, port: CAPWAP_CONTROL_PORT, discoveryType: DiscoveryType.Dns })))) : stay(c)),
    DiscoveryInterval: (s, c) => discoveryRoundOver(s, c),
    ...INTERNAL_ERROR,
    ...STOP,
  },
  Sulking: {
    SilentInterval: (_s, c) => go("Discovery", c),
    ...INTERNAL_ERROR,
    ...STOP,
  },
  DtlsSetup: {
    dtlsConnected: (_s, c, { peer }) => go("Join", c, info(`DTLS connection established to ${c.ac!.endpoint.address}, ${peer.version} ${peer.cipher}`, { peer: peer.subject })),
    WaitDTLS: waitExpired,
    ...SESSION,
    ...INTERNAL_ERROR,
    ...STOP,
  },
  Join: {
    response: (s, c, i, state) => (i.request === MessageType.JoinRequest ? joinResponse(s, c, i.message) : discard(c, i.message.type, state)),
    WaitJoin: waitExpired,
    ...SESSION,
    ...INTERNAL_ERROR,
    ...STOP,
  },
  ImageData: {
    versions: (s, c, i) => compareVersions(s, c, i.running, i.backup),
    request: (_s, c, i, state) => (i.message.type === MessageType.ImageDataRequest ? stay(c, { kind: "toSource", message: i.message }) : discard(c, i.message.type, state)),
    sourceStarted: (_s, c) => stay(c),
    sourceFinished,
    sourceFailed,
    // Seed: the AP's own WTP Event Requests are dropped while it downloads.
    StatisticsTimer: (s, c, _i, state) => {
      const dropped = discard(c, MessageType.WtpEventRequest, state);
      return { ...dropped, effects: [...dropped.effects, arm("StatisticsTimer", s.config.timers.statisticsMs)] };
    },
    ...SESSION,
    ...INTERNAL_ERROR,
    ...STOP,
  },
  Configure: {
    response: (_s, c, i, state) => (i.request === MessageType.ConfigurationStatusRequest ? go("DataCheck", applyTimers(c, i.message.elements)) : discard(c, i.message.type, state)),
    ...SESSION,
    ...INTERNAL_ERROR,
    ...STOP,
  },
  DataCheck: {
    // RFC 5415 §2.3.1: after Change State, the data channel must come up (keep-alive both ways).
    response: (s, c, i, state) =>
      i.request === MessageType.ChangeStateEventRequest
        ? stay(c, ...sendKeepAlive(s), { kind: "cancel", timer: "ChangeStatePendingTimer" }, arm("DataChannelDeadInterval", s.config.timers.dataChannelDeadIntervalMs))
        : discard(c, i.message.type, state),
    keepAlive: (_s, c) => go("Run", c),
    DataChannelKeepAlive: (s, c) => stay(c, ...sendKeepAlive(s)),
    ChangeStatePendingTimer: waitExpired,
    DataChannelDeadInterval: waitExpired,
    ...SESSION,
    ...INTERNAL_ERROR,
    ...STOP,
  },
  Run: {
    request: (s, c, i) => runRequest(s, c, i.message),
    response: (_s, c, i) => (i.message.type === MessageType.EchoResponse ? stay(c, { kind: "count", stat: "echoes" }, arm("EchoInterval", c.echoIntervalMs)) : stay(c)),
    EchoInterval: (_s, c) => stay(c, request(MessageType.EchoRequest, [])),
    keepAlive: (s, c) => stay(c, arm("DataChannelDeadInterval", s.config.timers.dataChannelDeadIntervalMs)),
    DataChannelKeepAlive: (s, c) => stay(c, ...sendKeepAlive(s)),
    DataChannelDeadInterval: waitExpired,
    StatisticsTimer: (s, c) => stay(c, request(MessageType.WtpEventRequest), arm("StatisticsTimer", s.config.timers.statisticsMs)),
    sourceStarted: (_s, c) => (c.download?.mode === "predownload" ? stay(c, predownloadStatus(PredownloadState.Downloading, c.download.version)) : stay(c)),
    sourceFinished,
    sourceFailed,
    backoffArmed: retryArmed,
    PrimaryRetry: retryPrimary,
    imageServed,
    imageServeFailed,
    imageSwapped,
    ...SESSION,
    ...INTERNAL_ERROR,
    ...STOP,
  },
  Reset: {
    Restart: (_s, c) => go("Discovery", c),
    ...SESSION,
    ...INTERNAL_ERROR,
    ...STOP,
  },
  DtlsTeardown: {
    Restart: (_s, c) => go(c.sulkAfterTeardown ? "Sulking" : "Discovery", { ...c, sulkAfterTeardown: false, rediscoverAtOnce: false }),
    // DTLS Teardown's own entry failed: the session still closes and CAPWAP still restarts, after the SilentInterval.
    internalError: (_s, { download: _aborted, ...c }, i) =>
      stay({ ...c, sulkAfterTeardown: true }, warn(`CAPWAP teardown failed: ${i.error}`), arm("Restart", 0), { kind: "closeSession", tolerant: true }),
    ...STOP,
  },
};

/** Sulking comes next: no pause; a controller that said goodbye: a jitter; a failure: up to a DiscoveryInterval. */
function restartPause(s: MachineSettings, c: WtpContext): WtpEffect {
  if (c.sulkAfterTeardown) return arm("Restart", 0);
  const interval = s.config.timers.discoveryIntervalMs;
  return { kind: "armRandom", timer: "Restart", belowMs: Math.max(1, c.rediscoverAtOnce ? Math.min(PEER_CLOSED_RESTART_JITTER_MS, interval) : interval) };
}

export const ENTRY: { [S in WtpState]?: Entry } = {
  Discovery: (s, c) => discoveryRound(s, c, 0),
  Sulking: (s, c) => stay(c, arm("SilentInterval", s.config.timers.silentIntervalMs)),
  DtlsSetup: (s, c) => (s.config.dtls.mode === "plaintext" ? go("Join", c, { kind: "openSession" }) : stay(c, arm("WaitDTLS", s.config.timers.waitDtlsMs), { kind: "openSession" })),
  Join: (s, c) =>
    stay(c, arm("WaitJoin", s.config.timers.waitJoinMs), request(MessageType.JoinRequest), info(`Sending Join request to ${c.ac!.endpoint.address} through port ${c.controlPort}`)),
  // The running version lives in the flash, outside the machine: the shell answers with a versions input.
  ImageData: (_s, c) => stay(c, { kind: "readVersions" }),
  Configure: (_s, c) => stay(c, request(MessageType.ConfigurationStatusRequest)),
  DataCheck: (s, c) => stay(c, arm("ChangeStatePendingTimer", s.config.timers.changeStatePendingMs), request(MessageType.ChangeStateEventRequest)),
  Run: (s, c) => {
    const { timers } = s.config;
    return stay(
      c,
      info(`AP has joined controller ${c.joined!.name}`),
      arm("EchoInterval", c.echoIntervalMs),
      arm("DataChannelKeepAlive", timers.dataChannelKeepAliveMs),
      arm("DataChannelDeadInterval", timers.dataChannelDeadIntervalMs),
      arm("StatisticsTimer", timers.statisticsMs),
    );
  },
  // Arm the in-place restart before the reboot callback: a host that reloads the AP stops this session, clearing it.
  Reset: (_s, c) =>
    stay({ ...c, rebootCount: c.rebootCount + 1 }, { kind: "closeSession" }, info(`Reloading AP (${c.reboot.reason})`), arm("Restart", 0), {
      kind: "reboot",
      reason: c.reboot.reason,
      ...(c.reboot.version ? { version: c.reboot.version } : {}),
    }),
  DtlsTeardown: (s, { download, ...c }) =>
    stay(
      c,
      // A random pause before rediscovering: fleets must not stampede a recovering controller.
      // Armed first, so that nothing failing below can leave the AP here for good.
      restartPause(s, c),
      ...stopDownload(download, c.restartReason ?? "session closed"),
      { kind: "closeSession" },
      info("Restarting CAPWAP State Machine."),
    ),
};
