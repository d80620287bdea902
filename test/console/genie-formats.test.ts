/**
 * The line shapes Cisco's public automation reads, checked on a live AP's
 * output: genieparser's `cheetah` parsers (CiscoTestAutomation/genieparser,
 * src/genie/libs/parser/cheetah/show_platform.py `ShowVersion` and
 * show_capwap.py `ShowCapwapClientRcb`: their regexes, copied here as data,
 * Python's (?P<name>…) written (?<name>…)), run as those parsers run them —
 * each output line stripped, the first pattern that matches takes it — and
 * every key their schema requires must come out. genielibs'
 * execute_archive_download reads `show boot | inc BOOT` for `BOOT path-list:` and `partN`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAp } from "../../agent/ap/index.js";
import type { Lab } from "../../lab/lab/index.js";
import { oneApLab, Screen } from "./support.js";

/** ShowVersion.cli's p0 … p1_22, in its order; `keys` are what a match sets (p1_11 sets `<interface>_eth_intf`). */
const SHOW_VERSION: [RegExp, string[]][] = [
  [/^Cisco AP Software.*?/, ["os"]],
  [/^BOOTLDR:\s+U-Boot\s+boot\s+loader\s+Version\s+(?<bootloader_version>\S+)\s+\((?<bootloader_timestamp>.*?)\)$/, ["bootloader_version", "bootloader_timestamp"]],
  [/^.*?\s+uptime\s+is\s+(?<uptime>.*?)$/, ["uptime"]],
  [/^Last\s+reload\s+time\s+:\s+(?<last_reload_time>.*?)$/, ["last_reload_time"]],
  [/^Last\s+reload\s+reason\s+:\s+(?<last_reload_reason>.*?)$/, ["last_reload_reason"]],
  [/^(C|c)isco +(?<chassis>[a-zA-Z0-9\-/+]+) +(?<processor_type>\w+) +(.*?)with +(?<main_mem>[0-9]+)\/[0-9]+[kK]/, ["chassis", "processor_type", "main_mem"]],
  [/^Processor\s+board\s+ID\s+(?<processor_board_id>\S+)$/, ["processor_board_id"]],
  [/^AP\s+Running\s+Image\s+:\s+(?<ap_running_image>\S+)$/, ["ap_running_image"]],
  [/^Primary\s+Boot\s+Image\s+:\s+(?<primary_boot_image>\S+)$/, ["primary_boot_image"]],
  [/^Backup\s+Boot\s+Image\s+:\s+(?<backup_boot_image>\S+)$/, ["backup_boot_image"]],
  [/^Primary\s+Boot\s+Image\s+Hash:\s+(?<primary_boot_image_hash>\S+)$/, ["primary_boot_image_hash"]],
  [/^Backup\s+Boot\s+Image\s+Hash:\s+(?<backup_boot_image_hash>\S+)$/, ["backup_boot_image_hash"]],
  [/^(?<number_of_ports>\d+) (?<interface>.+) Ethernet interfaces$/, ["<interface>_eth_intf"]],
  [/^(?<number_of_ports>\d+) 802.11 Radios$/, ["80211_radios"]],
  [/^Radio\s+Driver\s+version\s+:\s+(?<radio_driver_version>.+)$/, ["radio_driver_version"]],
  [/^Radio\s+FW\s+version\s+:\s+(?<radio_fw_version>.+)$/, ["radio_fw_version"]],
  [/^NSS\s+FW\s+version\s+:\s+(?<nss_fw_version>.+)$/, ["nss_fw_version"]],
  [/^Base\s+ethernet\s+MAC\s+Address\s+:\s+(?<base_ethernet_mac>\S+)$/, ["base_ethernet_mac"]],
  [/^Part\s+Number\s+:\s+(?<part_number>\S+)$/, ["part_number"]],
  [/^PCB\s+Serial\s+Number\s+:\s+(?<pcb_serial_number>\S+)$/, ["pcb_serial_number"]],
  [/^Top\s+Assembly\s+Part\s+Number\s+:\s+(?<top_assembly_part_number>\S+)$/, ["top_assembly_part_number"]],
  [/^Top\s+Assembly\s+Serial\s+Number\s+:\s+(?<top_assembly_serial_number>\S+)$/, ["top_assembly_serial_number"]],
  [/^Top\s+Revision\s+Number\s+:\s+(?<top_revision_number>\S+)$/, ["top_revision_number"]],
  [/^Product\/Model\s+Number\s+:\s+(?<model_number>\S+)\s*$/, ["model_number"]],
];

/** ShowVersionSchema's required keys (Optional ones left out). */
const SHOW_VERSION_REQUIRED = [
  "model_number", "top_assembly_serial_number", "radio_fw_version", "ap_running_image", "primary_boot_image", "backup_boot_image", "chassis", "main_mem", "os",
  "processor_type", "multigigabit_eth_intf", "80211_radios", "nss_fw_version", "primary_boot_image_hash", "backup_boot_image_hash", "base_ethernet_mac",
  "part_number", "pcb_serial_number", "top_assembly_part_number", "top_revision_number", "processor_board_id",
];

/** ShowCapwapClientRcb.cli's p1 … p29 (schema key: pattern). */
const RCB: Record<string, RegExp> = {
  admin_state: /^AdminState\s+:\s+(?<v>.*)$/,
  operation_state: /^OperationState\s+:\s+(?<v>.*)$/,
  name: /^Name\s+:\s+(?<v>.*)$/,
  swver: /^SwVer\s+:\s+(?<v>.*)$/,
  hwver: /^HwVer\s+:\s+(?<v>.*)$/,
  mwar_ap_mgr_ip: /^MwarApMgrIp\s+:\s+(?<v>.*)$/,
  mwar_name: /^MwarName\s+:\s+(?<v>.*)$/,
  mwar_hw_ver: /^MwarHwVer\s+:\s+(?<v>.*)$/,
  location: /^Location\s+:\s+(?<v>.*)$/,
  ap_mode: /^ApMode\s+:\s+(?<v>.*)$/,
  ap_sub_mode: /^ApSubMode\s+:\s+(?<v>.*)$/,
  capwap_path_mtu: /^CAPWAP\s+Path\s+MTU\s+:\s+(?<v>.*)$/,
  software_initiated_reload_reason: /^Software\s+Initiated\s+Reload\s+Reason\s+:\s+(?<v>.*)$/,
  active_window_size: /^Active\s+Window\s+Size\s+:\s+(?<v>.*)$/,
  oob_image_download: /^OOB\s+Image\s+Download\s+:\s+(?<v>.*)$/,
  capwap_udp_lite: /^CAPWAP\s+UDP-Lite\s+:\s+(?<v>.*)$/,
  ip_prefer_mode: /^IP\s+Prefer-mode\s+:\s+(?<v>.*)$/,
  ap_link_dtls_encryption: /^AP\s+Link\s+DTLS\s+Encryption\s+:\s+(?<v>.*)$/,
  ap_tcp_mss_adjust: /^AP\s+TCP\s+MSS\s+Adjust\s+:\s+(?<v>.*)$/,
  ap_tcp_mss_size: /^AP\s+TCP\s+MSS\s+size\s+:\s+(?<v>.*)$/,
  linkauditing: /^LinkAuditing\s+:\s+(?<v>.*)$/,
  ap_group_name: /^AP\s+Group\s+Name\s+:\s+(?<v>.*)$/,
  controller_last_sent: /^Controller\s+Last\s+Sent:\s+(?<v>.*)$/,
  ap_inline_tagging_mode: /^AP\s+Inline\s+Tagging\s+Mode\s+:\s+(?<v>.*)$/,
  ap_sgacl_enforcement: /^AP\s+Sgacl\s+Enforcement\s+:\s+(?<v>.*)$/,
  ap_override_status: /^AP\s+Override\s+Status\s+:\s+(?<v>.*)$/,
  total_flash_writes_since_boot: /^Total\s+Flash\s+Writes\s+Since\s+Boot\s+:\s+(?<v>.*)$/,
  ble_module_admin_state: /^BLE\s+Module\s+Admin\s+State\s+:\s+(?<v>.*)$/,
  hyperlocation_admin_state: /^Hyperlocation\s+Admin\s+State\s+:\s+(?<v>.*)$/,
};

/** As the parsers loop: each line stripped, the first pattern that matches it. */
function parseVersion(output: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    for (const [pattern, keys] of SHOW_VERSION) {
      const m = pattern.exec(line);
      if (!m) continue;
      for (const key of keys) found[key === "<interface>_eth_intf" ? `${m.groups!.interface!.toLowerCase()}_eth_intf` : key] = m.groups?.[key] ?? m.groups?.number_of_ports ?? line;
      break;
    }
  }
  return found;
}

function parseRcb(output: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    const hit = Object.entries(RCB).find(([, pattern]) => pattern.test(line));
    if (hit) found[hit[0]] = hit[1].exec(line)!.groups!.v!;
  }
  return found;
}

let lab: Lab;
let ap: RunningAp;
const VERSION = "17.9.4.27";

beforeAll(async () => {
  ({ lab, ap } = await oneApLab(VERSION, { imageWindow: 8 }));
}, 60_000);
afterAll(() => lab?.stop());

describe("the formats Cisco's automation parses", () => {
  it("show version: every key genieparser's cheetah ShowVersion schema requires, filled from the AP", async () => {
    const screen = new Screen(ap.console);
    const parsed = parseVersion(await screen.output("show version"));
    expect(SHOW_VERSION_REQUIRED.filter((k) => parsed[k] === undefined)).toEqual([]);
    const state = ap.engine!.state;
    expect(parsed).toMatchObject({
      os: expect.any(String),
      chassis: "C9105AXI-B",
      model_number: "C9105AXI-B",
      ap_running_image: VERSION,
      primary_boot_image: VERSION,
      backup_boot_image: "0.0.0.0",
      base_ethernet_mac: "02:00:00:00:00:01",
      processor_board_id: "FOC00000001",
      "80211_radios": "2",
      multigigabit_eth_intf: "0",
      last_reload_reason: state.lastReloadReason,
    });
    expect(parsed.primary_boot_image_hash).toBe(await ap.engine!.imageHash(state.boot));
    expect(parsed.uptime).toMatch(/^\d+ days, \d+ hours, \d+ minutes$/);
  });

  it("show capwap client rcb: every key ShowCapwapClientRcb's schema requires; the join's window and controller", async () => {
    const screen = new Screen(ap.console);
    const parsed = parseRcb(await screen.output("show capwap client rcb"));
    expect(Object.keys(RCB).filter((k) => parsed[k] === undefined)).toEqual([]);
    expect(parsed).toMatchObject({
      admin_state: "ADMIN_ENABLED",
      operation_state: "UP",
      name: ap.wtp.name,
      swver: VERSION,
      mwar_ap_mgr_ip: ap.wtp.controller!.address,
      mwar_name: ap.wtp.controller!.name,
      active_window_size: "8",
      oob_image_download: "Enabled",
      capwap_path_mtu: String(ap.wtp.pathMtu),
    });
  });

  it("show boot | inc BOOT: genielibs' `BOOT path-list:` then the partition", async () => {
    const screen = new Screen(ap.console);
    expect(await screen.output("show boot | inc BOOT")).toMatch(new RegExp(`^BOOT path-list:\\s+${ap.engine!.state.boot}\\n$`));
  });
});
