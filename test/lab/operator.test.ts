/**
 * The controller's operator commands (lab/controller/operator): IOS's
 * abbreviations and error texts, and each `show` laid out from a real
 * controller's live state — a simulated lab (in-memory network, real DTLS,
 * a ManualClock) of two APs that joined and downloaded their image: one
 * plainly over CAPWAP, one, OOB-capable, over CAPWAP after its HTTPS try
 * failed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageSourceStarter } from "../../agent/capwap/wtp/index.js";
import { capwapImageSource } from "../../agent/transfer/index.js";
import type { ApRecord } from "../../lab/controller/index.js";
import { IOS_MESSAGES, type OperatorContext, operatorCommand, operatorContext } from "../../lab/controller/operator/index.js";
import { memoryLibrary, MemorySink } from "../support/memory-images.js";
import { SimLab } from "../support/sim-lab.js";

const IMAGE = new Uint8Array(5 * 1377 + 100).fill(7);
const REFUSED = "connect ECONNREFUSED 10.0.0.1:8443";

/** An HTTPS source whose server refuses: the AP falls back to CAPWAP, telling the controller why. */
const refusedHttps: ImageSourceStarter = {
  start(_download, host) {
    queueMicrotask(() => host.failed("refused", REFUSED));
    return { abort: () => {} };
  },
};

let lab: SimLab;
let context: OperatorContext;
let plain: ApRecord & { name: string };
let fallback: ApRecord & { name: string };
const run = (line: string, indent?: number) => operatorCommand(line, context, indent === undefined ? {} : { indent });

beforeAll(async () => {
  const sinks: (MemorySink | undefined)[] = [];
  lab = new SimLab({
    aps: 2,
    controller: {
      images: memoryLibrary({ ap1g8: IMAGE }),
      softwareVersion: "17.12.1.5",
      imageWindow: () => 4,
      oob: { port: 8443, offer: () => ({ url: "https://10.0.0.1:8443/images/ap1g8", token: "t" }) },
    },
    wtp: (i, sim) => {
      const capwap = capwapImageSource({ imageName: "ap1g8", sink: () => (sinks[i] = new MemorySink()), clock: sim.clock, startTimeoutMs: 3_000, inactivityMs: 3_000 });
      return { imageSources: i === 0 ? { capwap } : { capwap, https: refusedHttps } };
    },
  });
  context = operatorContext(lab.controller, { clock: lab.clock });
  await lab.start();
  expect(await lab.runUntil(() => sinks.filter((s) => s?.finished).length === 2 && lab.allInRun(), 30_000)).toBe(true);
  const aps = lab.controller.aps() as (ApRecord & { name: string })[];
  [plain, fallback] = [aps.find((a) => a.name === lab.wtps[0]!.name)!, aps.find((a) => a.name === lab.wtps[1]!.name)!];
});
afterAll(() => lab.stop());

describe("the command line, as IOS reads it", () => {
  it("takes any unambiguous abbreviation, in any case, with any spacing", () => {
    const full = run("show ap summary");
    expect(full.ok).toBe(true);
    for (const line of ["sh ap sum", "s a s", "SHOW AP SUMMARY", "  show   ap\tsummary  "]) expect(run(line), line).toEqual(full);
  });

  it("puts the caret under the first word that fits nowhere, repeating the line unless it is on screen after a prompt", () => {
    expect(run("show ap summry")).toEqual({ ok: false, text: `show ap summry\n        ^\n${IOS_MESSAGES.invalid}\n` });
    expect(run("shw ap summary")).toEqual({ ok: false, text: `shw ap summary\n^\n${IOS_MESSAGES.invalid}\n` });
    expect(run("sh  ap  summery")).toEqual({ ok: false, text: `sh  ap  summery\n        ^\n${IOS_MESSAGES.invalid}\n` });
    expect(run("show ap summary extra")).toEqual({ ok: false, text: `show ap summary extra\n                ^\n${IOS_MESSAGES.invalid}\n` });
    // Interactive: the line is already on screen after "vap-lab-wlc#" (12 columns).
    expect(run("sh ap sx", 12)).toEqual({ ok: false, text: `${" ".repeat(18)}^\n${IOS_MESSAGES.invalid}\n` });
    expect(IOS_MESSAGES.invalid).toBe("% Invalid input detected at '^' marker.");
  });

  it("says which line is ambiguous, and that a command is incomplete, as IOS prints them", () => {
    expect(run("sh ap up")).toEqual({ ok: false, text: '% Ambiguous command:  "sh ap up"\n' });
    expect(run("sh ap u method ")).toEqual({ ok: false, text: '% Ambiguous command:  "sh ap u method"\n' });
    for (const line of ["show", "sh ap", "show ap name AP1", "show ap name AP1 config", "sh wireless stats ap"]) {
      expect(run(line), line).toEqual({ ok: false, text: "% Incomplete command.\n" });
    }
    expect(run("")).toEqual({ ok: true, text: "" });
    expect(run("   ")).toEqual({ ok: true, text: "" });
  });

  it("? lists what may follow (with <cr> where the command may end), or the keywords a partial word starts", () => {
    expect(run("?")).toEqual({ ok: true, text: "  show  Show running system information\n  ap    AP image predownload, swap and reset\n  help  Description of the interactive help system\n" });
    expect(run("sh ap ?").text).toBe(
      [
        "  summary        Summary of all connected Access Points",
        "  name           Show AP info by name",
        "  uptime         Show AP and association up time",
        "  upgrade        AP upgrade",
        "  file-transfer  AP file transfer",
        "  image          AP image information",
        "  primary        Efficient upgrade primary APs",
        "",
      ].join("\n"),
    );
    expect(run("show ap name ?").text).toBe("  WORD  Enter the name of the AP\n");
    expect(run("show ap summary ?").text).toBe("  <cr>  <cr>\n");
    expect(run("sh ap u?")).toEqual({ ok: true, text: "uptime  upgrade\n" });
    expect(run("sh ap x?")).toEqual({ ok: false, text: `${IOS_MESSAGES.unrecognized}\n` });
    expect(run("sh ax ?").ok).toBe(false);
  });

  it("help lists every command", () => {
    expect(run("help").text.split("\n").slice(1)).toEqual([
      "  show ap summary",
      "  show ap name WORD config general",
      "  show ap name WORD image",
      "  show ap uptime",
      "  show ap upgrade method",
      "  show ap file-transfer https summary",
      "  show ap image",
      "  show ap primary list",
      "  show wireless stats ap image-download",
      "  ap image predownload site-tag WORD start",
      "  ap image swap site-tag WORD",
      "  ap image reset site-tag WORD",
      "  help",
      "",
    ]);
  });
});

describe("each show, from the controller's live state", () => {
  it("show ap summary: a 9800's header and columns, one row per joined AP", () => {
    const { ok, text } = run("show ap summary");
    expect(ok).toBe(true);
    const lines = text.split("\n");
    const header = "AP Name                            Slots    AP Model             Ethernet MAC    Radio MAC       Location                          Country     IP Address                                 State";
    expect(lines.slice(0, 4)).toEqual(["Number of APs: 2", "", header, "-".repeat(header.length)]);
    expect(lines.slice(4)).toEqual([
      "AP0011.2233.0000                   2        C9105AXI-B           0011.2233.0000  -               default location                  -           10.0.1.2                                   Registered",
      "AP0011.2233.0001                   2        C9105AXI-B           0011.2233.0001  -               default location                  -           10.0.1.3                                   Registered",
      "",
    ]);
    // The rows read back with Cisco's genieparser ShowApSummary expression (iosxe show_ap.py).
    const genie = /^(?<name>\S+)\s+(?<slots>\d+)\s+(?<model>\S+)\s+(?<eth>\S+)\s+(?<radio>\S+)(?<location>.*)\s+(?<ip>\d+\.\d+\.\d+\.\d+)\s+(?<state>Registered)/;
    expect(lines.slice(4, 6).map((l) => genie.exec(l)?.groups)).toMatchObject([
      { name: plain.name, slots: "2", model: "C9105AXI-B", eth: "0011.2233.0000", ip: "10.0.1.2", state: "Registered" },
      { name: fallback.name, ip: "10.0.1.3" },
    ]);
  });

  it("show ap name <AP> config general: the 9800's labels, OOB capability as the AP's Join said; an unknown AP is an error", () => {
    const since = { now: () => plain.runSince! + 90_061_000 };
    const { ok, text } = operatorCommand(`sh ap name ${plain.name} config general`, { ...context, clock: since });
    expect(ok).toBe(true);
    expect(text).toBe(
      [
        `Cisco AP Name   : ${plain.name}`,
        "=================================================",
        "",
        "Cisco AP Identifier                             : 0011.2233.0000",
        "MAC Address                                     : 0011.2233.0000",
        "IP Address                                      : 10.0.1.2",
        "Capwap Active Window Size                       : 4",
        "Cisco AP Location                               : default location",
        "Primary Cisco Controller Name                   : vap-lab-wlc",
        "Primary Cisco Controller IP Address             : 10.0.0.1",
        "Administrative State                            : Enabled",
        "Operation State                                 : Registered",
        "AP Mode                                         : Local",
        `Software Version                                : ${plain.softwareVersion}`,
        "Number of Slots                                 : 2",
        "AP Model                                        : C9105AXI-B",
        `AP Serial Number                                : ${plain.serial}`,
        "AP CAPWAP Up Time                               : 1 days 1 hours 1 minutes 1 seconds",
        "AP Upgrade Out-Of-Band Capability               : Disabled",
        "",
      ].join("\n"),
    );
    expect(run(`sh ap name ${fallback.name} conf gen`).text).toContain("AP Upgrade Out-Of-Band Capability               : Enabled\n");
    // AP names are case-sensitive, as on a 9800; keywords are not.
    expect(run(`SH AP NAME ${plain.name.toLowerCase()} CONFIG GENERAL`)).toEqual({ ok: false, text: `% Error: AP ${plain.name.toLowerCase()} not found\n` });
  });

  it("show ap uptime: the association's age on the controller's clock", () => {
    const { text } = operatorCommand("sh ap upt", { ...context, clock: { now: () => plain.joinedAt! + 3_723_000 } });
    const [row] = text.split("\n").filter((l) => l.startsWith(plain.name));
    expect(row).toBe(`${plain.name}                   0011.2233.0000  -               -                                       0 days 1 hours 2 minutes 3 seconds`);
  });

  it("show wireless stats ap image-download: each AP's download with its Method, the fallback's reason, and the totals by method", () => {
    const { ok, text } = run("sh wireless stats ap image-download");
    expect(ok).toBe(true);
    const seconds = (a: ApRecord) => ((a.download!.finishedAt! - a.download!.startedAt!) / 1000).toFixed(2);
    const header = "AP Name                            Image     Method              State        Bytes       Size        Window  Time (s)  Reason";
    expect(text.split("\n")).toEqual([
      "Number of APs with an image download: 2",
      "",
      header,
      "-".repeat(header.length),
      `${plain.name}                   ap1g8     CAPWAP              Complete     6985        6985        4       ${seconds(plain).padEnd(10)}`.trimEnd(),
      `${fallback.name}                   ap1g8     CAPWAP (fallback)   Complete     6985        6985        4       ${seconds(fallback).padEnd(10)}${fallback.download!.fallback}`,
      "",
      "Image downloads by method",
      "Method              Downloads",
      "-----------------------------",
      "CAPWAP              1",
      "CAPWAP (fallback)   1",
      "Total               2",
      "",
    ]);
    expect(fallback.download!.fallback).toContain(REFUSED);
    expect(lab.controller.downloadsByMethod()).toBe("CAPWAP 1, CAPWAP (fallback) 1");
  });

  it("show ap upgrade method and show ap file-transfer https summary: what the controller was started with", () => {
    expect(run("sh ap upgrade method").text).toBe("AP upgrade method HTTPS                         : Disabled\n");
    expect(run("sh ap file-transfer https summary").text).toBe("HTTPS file transfer                             : Disabled\n");
    const https = { ...context, https: { server: "nginx" as const, port: 8443, fault: "refuse" as const } };
    expect(operatorCommand("sh ap upg meth", https).text).toBe("AP upgrade method HTTPS                         : Enabled\n");
    expect(operatorCommand("sh ap file https sum", https).text).toBe(
      [
        "HTTPS file transfer                             : Enabled",
        "Port                                            : 8443",
        "Server                                          : nginx",
        "State                                           : Listening",
        "Fault injection (lab)                           : refuse",
        "",
      ].join("\n"),
    );
  });
});
