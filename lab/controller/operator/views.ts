/**
 * The `show` outputs, each from the controller's live state (its AP table,
 * its download counts, how it was started): a function from the context
 * to text, laid out by layouts.ts.
 */
import { type Clock, systemClock } from "../../../agent/core/index.js";
import { type ApRecord, type DownloadRecord, methodLabel } from "../ap-record.js";
import type { LabController } from "../controller.js";
import type { PredownloadStatus, PredownloadView } from "../efficient/index.js";
import type { OobFault, OobServerKind } from "../oob/index.js";
import {
  AP_IMAGE_COLUMNS,
  AP_SUMMARY_COLUMNS,
  AP_UPTIME_COLUMNS,
  IMAGE_SUMMARY_INDENT,
  IMAGE_SUMMARY_LABEL_WIDTH,
  NO_PREDOWNLOAD,
  NO_RETRY,
  PRIMARY_LIST_COLUMNS,
  type Column,
  DEFAULT_LOCATION,
  DOWNLOADS_BY_METHOD_COLUMNS,
  IMAGE_DOWNLOAD_COLUMNS,
  LABEL_WIDTH,
  REGISTERED,
  TITLE_RULE,
  UNKNOWN,
} from "./layouts.js";
import type { Answer } from "../../../agent/console/index.js";
import { downloadLog } from "../download-log.js";

/** What the `show` commands read of the controller: its AP table, counters and site predownloads, never its actions. */
export type ControllerView = Pick<LabController, "name" | "softwareVersion" | "aps" | "stats" | "sockets" | "predownloads" | "primaries">;

/** What the `ap image … site-tag` commands may do to the controller: start a site's predownload, swap and reset its APs. */
export type OperatorActions = Pick<LabController, "predownloadSite" | "swapSite" | "resetSite">;

/** How the controller's HTTPS upgrade method was started (`--upgrade-method https`), for the operator to read. */
export interface HttpsMethodView {
  server: OobServerKind;
  /** The port it listens on (the one it was given, or the kernel's pick for 0). */
  port: number;
  fault?: OobFault;
}

export interface OperatorContext {
  controller: ControllerView;
  /** Absent: the commands only read (the actions answer with an error). */
  actions?: OperatorActions;
  /** Each AP's latest image download by name, kept across its sessions (downloadLog). */
  downloads: () => ReadonlyMap<string, DownloadRecord>;
  /** Absent: the controller upgrades APs over CAPWAP only. */
  https?: HttpsMethodView;
  /** The controller's clock (its records' times are on it): uptimes and transfer times. */
  clock: Pick<Clock, "now">;
}

/** The context the commands read for `controller`; its download log counts from now on, so make it before APs join. */
export function operatorContext(controller: LabController, o: { clock?: Pick<Clock, "now">; https?: HttpsMethodView } = {}): OperatorContext {
  const clock = o.clock ?? systemClock;
  return { controller, actions: controller, clock, downloads: downloadLog(controller, clock), ...(o.https ? { https: o.https } : {}) };
}

const ok = (lines: readonly string[]): Answer => ({ ok: true, text: lines.map((l) => `${l}\n`).join("") });

function row(columns: readonly Column[], cells: readonly string[]): string {
  return cells
    .map((cell, i) => (cell.length < columns[i]!.width ? cell.padEnd(columns[i]!.width) : `${cell} `))
    .join("")
    .trimEnd();
}

/** A header line, a rule as long as it, then one line per row. */
function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  const header = row(columns, columns.map((c) => c.header));
  return [header, "-".repeat(header.length), ...rows.map((r) => row(columns, r))];
}

const fail = (line: string): Answer => ({ ok: false, text: `% Error: ${line}\n` });

const field = (label: string, value: string | number) => `${label.padEnd(LABEL_WIDTH)}: ${value}`;

/** 02:00:00:00:20:01 as IOS XE writes a MAC: 0200.0000.2001. */
export function ciscoMac(mac: string | undefined): string {
  if (mac === undefined) return UNKNOWN;
  const hex = mac.replace(/[^0-9a-f]/gi, "").toLowerCase();
  return hex.length === 12 ? `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8)}` : mac;
}

/** A span as the 9800 writes an up time: "0 days 1 hours 2 minutes 3 seconds". */
export function ciscoDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 86_400)} days ${Math.floor((s % 86_400) / 3600)} hours ${Math.floor((s % 3600) / 60)} minutes ${s % 60} seconds`;
}

/** The APs a 9800 would list: those that sent a Join Request (and so have a name), by name. */
function joinedAps(c: OperatorContext): (ApRecord & { name: string })[] {
  return c.controller
    .aps()
    .filter((a): a is ApRecord & { name: string } => a.name !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}

const state = (ap: ApRecord) => (ap.phase === "Run" ? REGISTERED : ap.phase);

/**
 * `show ap summary`. Placeholders: Radio MAC (the AP does not send its
 * radios' MACs; `-`), Location (Cisco's unconfigured "default location"),
 * Country (no regulatory domain in the lab; `-`).
 */
export function apSummary(c: OperatorContext): Answer {
  const aps = joinedAps(c);
  const rows = aps.map((a) => [a.name, String(a.slots ?? UNKNOWN), a.model ?? UNKNOWN, ciscoMac(a.baseMac), UNKNOWN, DEFAULT_LOCATION, UNKNOWN, a.address, state(a)]);
  return ok([`Number of APs: ${aps.length}`, "", ...table(AP_SUMMARY_COLUMNS, rows)]);
}

/** `show ap uptime`. Placeholders: Radio MAC and AP Up Time (the AP does not report its own uptime at join; `-`). */
export function apUptime(c: OperatorContext): Answer {
  const now = c.clock.now();
  const aps = joinedAps(c);
  const rows = aps.map((a) => [a.name, ciscoMac(a.baseMac), UNKNOWN, UNKNOWN, a.joinedAt === undefined ? UNKNOWN : ciscoDuration(now - a.joinedAt)]);
  return ok([`Number of APs: ${aps.length}`, "", ...table(AP_UPTIME_COLUMNS, rows)]);
}

/**
 * `show ap name <name> config general`: the fields the lab knows, under
 * the 9800's labels. Placeholders: Cisco AP Identifier (a 9800 shows the
 * radio MAC; the lab has the base MAC), Cisco AP Location, Administrative
 * State and AP Mode (the lab has no such settings: Cisco's defaults).
 */
export function apConfigGeneral(c: OperatorContext, name: string): Answer {
  const ap = c.controller.aps().find((a) => a.name === name);
  if (!ap) return fail(`AP ${name} not found`);
  const since = ap.runSince ?? ap.joinedAt;
  return ok([
    `Cisco AP Name   : ${name}`,
    TITLE_RULE,
    "",
    field("Cisco AP Identifier", ciscoMac(ap.baseMac)),
    field("MAC Address", ciscoMac(ap.baseMac)),
    field("IP Address", ap.address),
    field("Capwap Active Window Size", ap.imageWindow),
    field("Cisco AP Location", DEFAULT_LOCATION),
    field("Primary Cisco Controller Name", c.controller.name),
    field("Primary Cisco Controller IP Address", c.controller.sockets.control.local.address),
    field("Administrative State", "Enabled"),
    field("Operation State", state(ap)),
    field("AP Mode", "Local"),
    field("Software Version", ap.softwareVersion ?? UNKNOWN),
    field("Number of Slots", ap.slots ?? UNKNOWN),
    field("AP Model", ap.model ?? UNKNOWN),
    field("AP Serial Number", ap.serial ?? UNKNOWN),
    field("AP CAPWAP Up Time", since === undefined ? UNKNOWN : ciscoDuration(c.clock.now() - since)),
    field("AP Upgrade Out-Of-Band Capability", ap.oobCapable ? "Enabled" : "Disabled"),
  ]);
}

/** The Method column: `CAPWAP (fallback)` for a CAPWAP download after a failed HTTPS try (or failed tries at a primary), whose reason goes in the last column. */
const method = (d: DownloadRecord) => (d.fallback !== undefined ? `${methodLabel({ method: d.method })} (fallback)` : methodLabel({ method: d.method }));

const STATE_WORDS: Record<DownloadRecord["state"], string> = { queued: "Queued", downloading: "Downloading", complete: "Complete", failed: "Failed" };

/** `show wireless stats ap image-download`: each AP's latest download (also of an AP reloading into its image), then the downloads started since the controller came up, by Method. */
export function imageDownloadStats(c: OperatorContext): Answer {
  const now = c.clock.now();
  const rows = [...c.downloads()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, d]) => {
      const seconds = d.startedAt === undefined ? UNKNOWN : (((d.finishedAt ?? now) - d.startedAt) / 1000).toFixed(2);
      return [name, d.name, method(d), STATE_WORDS[d.state], String(d.bytes), String(d.size), String(d.window), seconds, d.fallback ?? d.error ?? ""];
    });
  const counts = [...c.controller.stats.downloads].sort(([a], [b]) => a.localeCompare(b));
  const total = counts.reduce((sum, [, n]) => sum + n, 0);
  return ok([
    `Number of APs with an image download: ${rows.length}`,
    "",
    ...table(IMAGE_DOWNLOAD_COLUMNS, rows),
    "",
    "Image downloads by method",
    ...table(DOWNLOADS_BY_METHOD_COLUMNS, [...counts.map(([m, n]) => [m, String(n)]), ["Total", String(total)]]),
  ]);
}

/** `show ap upgrade method` [inf layout]: whether APs that can are offered HTTPS. */
export function upgradeMethod(c: OperatorContext): Answer {
  return ok([field("AP upgrade method HTTPS", c.https ? "Enabled" : "Disabled")]);
}

/** `show ap file-transfer https summary` [inf layout]: the HTTPS file-transfer server the controller started, if any. */
export function fileTransferHttpsSummary(c: OperatorContext): Answer {
  const h = c.https;
  if (!h) return ok([field("HTTPS file transfer", "Disabled")]);
  return ok([
    field("HTTPS file transfer", "Enabled"),
    field("Port", h.port),
    field("Server", h.server),
    field("State", "Listening"),
    ...(h.fault ? [field("Fault injection (lab)", h.fault)] : []),
  ]);
}

/** An action's refusal (a site tag with no AP, nothing predownloaded) as one error line; otherwise its line. */
function act(c: OperatorContext, action: (actions: OperatorActions) => Promise<unknown>, line: string): Answer {
  if (!c.actions) return fail("this controller takes no actions here");
  try {
    // The controller logs each AP's outcome; the command returns at once, as on a 9800.
    action(c.actions).catch(() => {});
  } catch (err) {
    return fail((err as Error).message);
  }
  return ok([line]);
}

/** `ap image predownload site-tag <site> start` [inf reply: a 9800 prints none]: the site's primaries, when it is efficient. */
export function predownloadSite(c: OperatorContext, site: string): Answer {
  const answer = act(c, (a) => a.predownloadSite(site), "");
  if (!answer.ok) return answer;
  const primaries = c.controller.primaries().filter((p) => p.siteTag === site);
  const aps = [...c.controller.predownloads().values()].filter((p) => p.siteTag === site).length;
  const how = primaries.length > 0 ? `primary ${primaries.map((p) => `${p.ap} (${p.model})`).join(", ")}` : "each AP from the controller";
  return ok([`Predownload started in site tag ${site}: ${aps} AP(s), ${how}`]);
}

/** `ap image swap site-tag <site>` [inf reply]. */
export const swapSite = (c: OperatorContext, site: string): Answer => act(c, (a) => a.swapSite(site), `Image swap sent to the APs of site tag ${site} holding the predownloaded image`);

/** `ap image reset site-tag <site>` [inf reply]. */
export const resetSite = (c: OperatorContext, site: string): Answer => act(c, (a) => a.resetSite(site), `Reset sent to the APs of site tag ${site}`);

/** One AP's predownload as `show ap image` shows it: the site run's view, or a predownload ordered AP by AP. */
interface ImageRow {
  status: PredownloadStatus | typeof NO_PREDOWNLOAD;
  version?: string;
  role?: string;
  siteTag?: string;
  download?: DownloadRecord;
}

const RECORD_STATUS: Record<DownloadRecord["state"], PredownloadStatus> = { queued: "Predownloading", downloading: "Predownloading", complete: "Complete", failed: "Failed" };

/** `site`: the controller's predownloads() map, taken once per command (it is built afresh on each call). */
function imageRow(site: ReadonlyMap<string, PredownloadView>, ap: ApRecord & { name: string }): ImageRow {
  const run = site.get(ap.name);
  if (run) return run;
  const d = ap.download;
  if (d?.predownload === undefined) return { status: NO_PREDOWNLOAD, ...(ap.siteTag ? { siteTag: ap.siteTag } : {}) };
  return { status: RECORD_STATUS[d.state], version: d.predownload, download: d, ...(ap.siteTag ? { siteTag: ap.siteTag } : {}) };
}

/** Next Retry Time [inf: seconds from now]: while a subordinate waits to try its primary again. */
function nextRetry(c: OperatorContext, r: ImageRow): string {
  const retry = r.download?.retry;
  if (!retry || r.status !== "Predownloading" || r.download?.method !== "TFTP") return NO_RETRY;
  return `${Math.max(0, Math.ceil((retry.nextRetryAt - c.clock.now()) / 1000))} s`;
}

const imageColumns = (c: OperatorContext, ap: ApRecord, r: ImageRow) => ({
  primary: ap.softwareVersion ?? UNKNOWN,
  backup: r.status === "Complete" ? r.version! : UNKNOWN,
  version: r.version ?? NO_PREDOWNLOAD,
  next: nextRetry(c, r),
  retries: String(r.download?.retry?.attempt ?? 0),
  method: r.download ? methodLabel(r.download) : UNKNOWN,
});

/**
 * `show ap image`: the 9800's summary (counts by predownload state; Not
 * Supported is always 0, every vap AP predownloads [inf]), then each joined
 * AP's images and predownload. Backup Image is the predownloaded version
 * once Complete (the lab does not know an AP's standby partition before).
 */
export function apImage(c: OperatorContext): Answer {
  const aps = joinedAps(c);
  const site = c.controller.predownloads();
  const rows = aps.map((ap) => ({ ap, r: imageRow(site, ap) }));
  const count = (s: ImageRow["status"]) => rows.filter(({ r }) => r.status === s).length;
  const joinTime = (state: DownloadRecord["state"][]) => aps.filter((a) => a.download && a.download.predownload === undefined && state.includes(a.download.state)).length;
  const summary = (label: string, value: string | number) => `${IMAGE_SUMMARY_INDENT}${label.padEnd(IMAGE_SUMMARY_LABEL_WIDTH)}: ${value}`;
  return ok([
    `${"Total number of APs".padEnd(IMAGE_SUMMARY_INDENT.length + IMAGE_SUMMARY_LABEL_WIDTH)}: ${aps.length}`,
    "",
    "Number of APs",
    summary("Initiated", count("Initiated")),
    summary("Downloading", joinTime(["queued", "downloading"])),
    summary("Predownloading", count("Predownloading")),
    summary("Completed downloading", joinTime(["complete"])),
    summary("Completed predownloading", count("Complete")),
    summary("Not Supported", 0),
    summary("Failed to Predownload", count("Failed")),
    summary("Predownload in progress", count("Initiated") + count("Predownloading") > 0 ? "Yes" : "No"),
    "",
    ...table(
      AP_IMAGE_COLUMNS,
      rows.map(({ ap, r }) => {
        const v = imageColumns(c, ap, r);
        return [ap.name, v.primary, v.backup, r.status, v.version, v.next, v.retries, v.method];
      }),
    ),
  ]);
}

/** `show ap name <name> image` [inf layout: the 9800's words as a key–value page]: one AP's images, predownload, site tag and role. */
export function apNameImage(c: OperatorContext, name: string): Answer {
  const ap = joinedAps(c).find((a) => a.name === name);
  if (!ap) return fail(`AP ${name} not found`);
  const r = imageRow(c.controller.predownloads(), ap);
  const v = imageColumns(c, ap, r);
  const retry = r.download?.retry;
  return ok([
    field("AP Name", name),
    field("Primary Image", v.primary),
    field("Backup Image", v.backup),
    field("Predownload Status", r.status),
    field("Predownload Version", v.version),
    field("Site Tag", r.siteTag ?? UNKNOWN),
    field("Efficient Upgrade Role", r.role ? r.role[0]!.toUpperCase() + r.role.slice(1) : UNKNOWN),
    field("Next Retry Time", v.next),
    field("Retry Count", v.retries),
    ...(retry ? [field("Last Retry Reason", retry.reason)] : []),
    field("Method", v.method),
  ]);
}

/** `show ap primary list` [inf: no public output]: each site's primary per model, where it serves, and how many of its subordinates completed. */
export function apPrimaryList(c: OperatorContext): Answer {
  const primaries = c.controller.primaries();
  const rows = primaries.map((p) => [
    p.ap,
    p.model,
    p.siteTag,
    p.version,
    p.status,
    p.imageServer ? `${p.imageServer.address}:${p.imageServer.port}` : UNKNOWN,
    String(p.subordinates),
    String(p.complete),
  ]);
  return ok([`Number of primary APs: ${primaries.length}`, "", ...table(PRIMARY_LIST_COLUMNS, rows)]);
}
