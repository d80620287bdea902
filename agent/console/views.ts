/**
 * What each `show` prints, laid out as a real AP prints it (the shapes
 * genieparser's `cheetah` parsers and genielibs read: SPEC.md §6), every
 * value from the live AP through its ConsoleHost.
 */
import { freemem, totalmem } from "node:os";
import { readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { WtpState } from "../capwap/wtp/index.js";
import { otherPartition, type PartitionName } from "../../platform/flash/index.js";
import { bootImageLines, bootPathLines, type FlashState } from "../upgrade/index.js";
import type { ConsoleHost } from "./host.js";
import { UNJOINED_PATH_MTU } from "./limits.js";

const lines = (...l: string[]) => l.map((x) => `${x}\n`).join("");

/**
 * [inf] What a virtual AP has no hardware for, in one place: no radio or
 * NSS firmware ("0.0.0.0", the empty version vap prints for an empty
 * partition too), no multigigabit port, no manufacturing part numbers
 * (zeros) — genieparser's ShowVersion requires each line, so each is
 * printed, with a value that says "none" rather than a made-up one.
 */
const NO_HARDWARE = {
  radioFw: "0.0.0.0",
  nssFw: "0.0.0.0",
  multigigabitPorts: 0,
  gigabitPorts: 1,
  partNumber: "00-000000-00",
  pcaAssembly: "000-00000-00",
  topAssemblyPart: "000-000000-00",
  topRevision: "A0",
} as const;

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const p2 = (n: number) => String(n).padStart(2, "0");

/** `Tue Jan 23 19:26:02 UTC 2024` (show version's Last reload time). */
export function unixDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** `*19:26:02.123 UTC Tue Jan 23 2024`: IOS's show clock; `*` as the AP's clock is not NTP-synchronised by the AP itself. */
export function showClock(host: ConsoleHost): string {
  const d = new Date(host.now());
  const ms = String(d.getUTCMilliseconds()).padStart(3, "0");
  return lines(`*${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${ms} UTC ${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${d.getUTCFullYear()}`);
}

/** `0 days, 9 hours, 54 minutes`. */
function uptime(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  return `${Math.floor(minutes / 1440)} days, ${Math.floor((minutes % 1440) / 60)} hours, ${minutes % 60} minutes`;
}

/** What the flash holds, or the configured versions of an AP that manages no images. */
function flashState(host: ConsoleHost): FlashState {
  if (host.engine) return host.engine.state;
  const { running, backup } = host.versions;
  const family = host.identity.classProfile.name;
  return { active: "part1", boot: "part1", running, backup, images: { part1: { version: running, family }, part2: { version: backup, family } }, lastReloadReason: "power on" };
}

/** The CPU line's processor word: what the host runs on. */
function processor(): string {
  return process.arch === "arm64" ? "ARMv8" : process.arch === "arm" ? "ARMv7" : process.arch === "x64" ? "x86_64" : process.arch;
}

async function imageHash(host: ConsoleHost, p: PartitionName): Promise<string> {
  return (await host.engine?.imageHash(p)) ?? "none";
}

export async function showVersion(host: ConsoleHost): Promise<string> {
  const { identity } = host;
  const state = flashState(host);
  const mac = identity.baseMac.toUpperCase();
  return lines(
    `Cisco AP Software, (${identity.classProfile.name}), ${identity.model}, RELEASE SOFTWARE (vap virtual AP)`,
    "",
    `${host.name} uptime is ${uptime(host.now() - host.bootedAt)}`,
    `Last reload time   : ${unixDate(host.bootedAt)}`,
    `Last reload reason : ${state.lastReloadReason}`,
    "",
    `cisco ${identity.model} ${processor()} Processor with ${Math.round(totalmem() / 1024)}/${Math.round(freemem() / 1024)}K bytes of memory.`,
    `Processor board ID ${identity.serial}`,
    ...bootImageLines(state),
    `Primary Boot Image Hash: ${await imageHash(host, state.boot)}`,
    `Backup  Boot Image Hash: ${await imageHash(host, otherPartition(state.boot))}`,
    `${NO_HARDWARE.multigigabitPorts} Multigigabit Ethernet interfaces`,
    `${NO_HARDWARE.gigabitPorts} Gigabit Ethernet interfaces`,
    `${identity.classProfile.radios.length} 802.11 Radios`,
    `Radio FW version : ${NO_HARDWARE.radioFw}`,
    `NSS FW version : ${NO_HARDWARE.nssFw}`,
    "",
    `Base ethernet MAC Address            : ${mac}`,
    `Part Number                          : ${NO_HARDWARE.partNumber}`,
    `PCA Assembly Number                  : ${NO_HARDWARE.pcaAssembly}`,
    `PCB Serial Number                    : ${identity.serial}`,
    `Top Assembly Part Number             : ${NO_HARDWARE.topAssemblyPart}`,
    `Top Assembly Serial Number           : ${identity.serial}`,
    `Top Revision Number                  : ${NO_HARDWARE.topRevision}`,
    `Product/Model Number                 : ${identity.model}`,
  );
}

/** `show boot`: `BOOT path-list:      partN`, as genielibs' execute_archive_download reads it (`show boot | inc BOOT`). */
export function showBoot(host: ConsoleHost): string {
  return lines(...bootPathLines(flashState(host)));
}

/** The WTP states as `OperationState` names them: genielibs waits while it reads IMAGE. */
export function operationState(state: WtpState): string {
  switch (state) {
    case "Run":
      return "UP";
    case "ImageData":
      return "IMAGE";
    case "DtlsSetup":
    case "Join":
    case "Configure":
    case "DataCheck":
      return "JOIN";
    default:
      return "DISCOVERY";
  }
}

const RCB_COLUMN = 35;
const kv = (key: string, value: string | number, indent = "") => `${indent}${key.padEnd(RCB_COLUMN - indent.length)}: ${value}`.trimEnd();

/**
 * `show capwap client rcb`: every line genieparser's ShowCapwapClientRcb
 * schema requires. What vap does not implement says so: no UDP-Lite, no
 * DTLS on the data channel, no MSS adjust, no TrustSec, no BLE or
 * hyperlocation module; flash writes are not counted (0).
 */
export function showCapwapClientRcb(host: ConsoleHost): string {
  const capwap = host.capwap();
  const joined = capwap.controller;
  const state = flashState(host);
  return lines(
    kv("AdminState", "ADMIN_ENABLED"),
    kv("OperationState", operationState(capwap.state)),
    kv("Name", host.name),
    kv("SwVer", state.running),
    kv("HwVer", "1.0.0.0"),
    kv("MwarApMgrIp", joined?.address ?? "0.0.0.0"),
    kv("MwarName", joined?.name ?? ""),
    kv("MwarHwVer", "0.0.0.0"),
    kv("Location", host.identity.location),
    kv("ApMode", "Local"),
    kv("ApSubMode", "Not Configured"),
    kv("CAPWAP Path MTU", capwap.pathMtu ?? UNJOINED_PATH_MTU),
    kv("Software Initiated Reload Reason", state.lastReloadReason),
    "CAPWAP Sliding Window",
    kv("Active Window Size", joined?.imageWindow ?? 0),
    kv("OOB Image Download", host.oobEnabled ? "Enabled" : "Disabled"),
    kv("Efficient Image Upgrade", capwap.efficient),
    kv("CAPWAP UDP-Lite", "Disabled"),
    kv("IP Prefer-mode", joined?.address.includes(":") ? "IPv6" : "IPv4"),
    kv("AP Link DTLS Encryption", "OFF"),
    kv("AP TCP MSS Adjust", "Disabled"),
    kv("AP TCP MSS size", 0),
    kv("LinkAuditing", "disabled"),
    kv("AP Group Name", host.identity.group),
    "CAPWAP Disconnect Reason:",
    `    Controller Last Sent: ${capwap.restartReason ?? "No value set"}`,
    "Cisco Trustsec Config",
    kv("AP Inline Tagging Mode", "Disabled", "  "),
    kv("AP Sgacl Enforcement", "Disabled", "  "),
    kv("AP Override Status", "Disabled", "  "),
    kv("Total Flash Writes Since Boot", 0),
    kv("BLE Module Admin State", "Disabled"),
    kv("Hyperlocation Admin State", "Disabled"),
  );
}

/** `show image integrity`: each partition checked again now, each file Good or Bad, and the image as a whole. */
export async function showImageIntegrity(host: ConsoleHost): Promise<string> {
  if (!host.engine) return lines("% No image storage: this AP manages no images (image.trust is not configured)");
  const out = ["Image integrity (checked again now):"];
  for (const part of await host.engine.integrity()) {
    out.push(part.image ? `${part.partition}: ${part.image.version} : Good` : part.problem ? `${part.partition}: ${part.problem} : Bad` : `${part.partition}: no image`);
    for (const file of part.files) out.push(`${file.name} : ${file.good ? "Good" : "Bad"}`);
  }
  return lines(...out);
}

/** `show flash` / `dir`: the flash's files, as `ls -l` would list them, then its size. */
export async function showFlash(host: ConsoleHost): Promise<string> {
  if (!host.engine) return lines("% No flash: this AP manages no images (image.trust is not configured)");
  const root = host.engine.flash.root;
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const rows: string[] = [];
  let used = 0;
  for (const e of entries.sort((a, b) => join(a.parentPath, a.name).localeCompare(join(b.parentPath, b.name)))) {
    const path = join(e.parentPath, e.name);
    const s = await stat(path).catch(() => undefined);
    if (!s) continue;
    if (s.isFile()) used += s.size;
    const d = new Date(s.mtimeMs);
    const when = `${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
    rows.push(`${s.isDirectory() ? "drwxr-xr-x" : "-rw-r--r--"} ${String(s.size).padStart(12)}  ${when}  ${relative(root, path)}${s.isDirectory() ? "/" : ""}`);
  }
  const total = host.identity.classProfile.flashMiB * 1024 * 1024;
  return lines("Directory of /storage/", "", ...rows, "", `${total} bytes total (${Math.max(0, total - used)} bytes free)`);
}
