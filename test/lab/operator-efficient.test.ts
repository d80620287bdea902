/**
 * The efficient-upgrade operator commands (lab/controller/operator): `show
 * ap image`, `show ap name <AP> image`, `show ap primary list`, the TFTP
 * Method in `show wireless stats ap image-download`, and the `ap image …
 * site-tag` actions, laid out from a fixed controller state (a site mid-way:
 * its primary complete and serving, one subordinate waiting to retry, one
 * not yet ordered) and fake actions.
 */
import { describe, expect, it } from "vitest";
import type { ApRecord, DownloadRecord, PredownloadView, PrimaryView } from "../../lab/controller/index.js";
import { type OperatorContext, operatorCommand } from "../../lab/controller/operator/index.js";

const NOW = 1_000_000;
const OLD = "17.9.4.27";
const NEW = "17.12.1.5";
const ap = (name: string, i: number, over: Partial<ApRecord> = {}): ApRecord => ({
  key: `10.0.1.${i}:5246`,
  address: `10.0.1.${i}`,
  port: 5246,
  phase: "Run",
  imageWindow: 1,
  echoes: 0,
  name,
  model: "C9120AXI-B",
  baseMac: `02:00:00:00:00:0${i}`,
  softwareVersion: OLD,
  siteTag: "branch",
  ...over,
});
const primaryDownload: DownloadRecord = { name: "ap1g8", predownload: NEW, state: "complete", size: 6985, bytes: 6985, window: 1, method: "CAPWAP", role: "primary", siteTag: "branch", imageServer: { address: "10.0.1.2", port: 40001 }, startedAt: NOW - 5000, finishedAt: NOW - 3000 };
const retrying: DownloadRecord = { name: "ap1g8", predownload: NEW, state: "downloading", size: 0, bytes: 0, window: 0, method: "TFTP", role: "subordinate", siteTag: "branch", startedAt: NOW - 2000, retry: { attempt: 3, tries: 44, nextRetryAt: NOW + 2400, reason: "server busy" } };
const aps = [ap("AP-P", 2, { download: primaryDownload }), ap("AP-S1", 3, { download: retrying }), ap("AP-S2", 4), ap("AP-X", 5, { siteTag: "default-site-tag", model: "C9105AXI-B" })];
const predownloads = new Map<string, PredownloadView>([
  ["AP-P", { siteTag: "branch", model: "C9120AXI-B", version: NEW, role: "primary", status: "Complete", download: primaryDownload }],
  ["AP-S1", { siteTag: "branch", model: "C9120AXI-B", version: NEW, role: "subordinate", status: "Predownloading", download: retrying }],
  ["AP-S2", { siteTag: "branch", model: "C9120AXI-B", version: NEW, role: "subordinate", status: "Initiated" }],
]);
const primaries: PrimaryView[] = [{ siteTag: "branch", model: "C9120AXI-B", ap: "AP-P", version: NEW, status: "Complete", imageServer: { address: "10.0.1.2", port: 40001 }, subordinates: 2, complete: 0 }];

const calls: string[] = [];
const refuse = (site: string, what: string) => {
  if (site === "nowhere") throw new Error(`site tag nowhere ${what}`);
  calls.push(`${what} ${site}`);
  return Promise.resolve([]);
};
const context: OperatorContext = {
  controller: {
    name: "vap-lab-wlc",
    softwareVersion: OLD,
    aps: () => aps,
    stats: { discarded: 0, downloads: new Map([["TFTP from primary", 1]]) },
    sockets: undefined as never,
    predownloads: () => predownloads,
    primaries: () => primaries,
  },
  actions: { predownloadSite: (s) => refuse(s, "has no AP in Run"), swapSite: (s) => refuse(s, "has predownloaded nothing"), resetSite: (s) => refuse(s, "has no AP in Run") },
  downloads: () => new Map([["AP-S1", retrying]]),
  clock: { now: () => NOW },
};
const run = (line: string) => operatorCommand(line, context);

describe("efficient upgrade, as the operator sees it", () => {
  it("show ap image: the summary by predownload state, then each AP's images, retries and Method under the 9800's columns", () => {
    const { ok, text } = run("show ap image");
    expect(ok).toBe(true);
    const header = "AP Name                            Primary Image     Backup Image      Predownload Status    Predownload Version    Next Retry Time    Retry Count    Method";
    expect(text.split("\n")).toEqual([
      "Total number of APs                             : 4",
      "",
      "Number of APs",
      "        Initiated                               : 1",
      "        Downloading                             : 0",
      "        Predownloading                          : 1",
      "        Completed downloading                   : 0",
      "        Completed predownloading                : 1",
      "        Not Supported                           : 0",
      "        Failed to Predownload                   : 0",
      "        Predownload in progress                 : Yes",
      "",
      header,
      "-".repeat(header.length),
      "AP-P                               17.9.4.27         17.12.1.5         Complete              17.12.1.5              NA                 0              CAPWAP",
      "AP-S1                              17.9.4.27         -                 Predownloading        17.12.1.5              3 s                3              TFTP from primary",
      "AP-S2                              17.9.4.27         -                 Initiated             17.12.1.5              NA                 0              -",
      "AP-X                               17.9.4.27         -                 None                  None                   NA                 0              -",
      "",
    ]);
    // The columns sit where the header puts them.
    const row = text.split("\n")[15]!;
    for (const h of ["Predownload Status", "Next Retry Time", "Method"]) expect(row[header.indexOf(h) - 1]).toBe(" ");
    expect(row.slice(header.indexOf("Method"))).toBe("TFTP from primary");
  });

  it("show ap name <AP> image: one AP's predownload with its site tag, role and last retry; an unknown AP is an error", () => {
    expect(run("sh ap name AP-S1 image").text).toBe(
      [
        "AP Name                                         : AP-S1",
        "Primary Image                                   : 17.9.4.27",
        "Backup Image                                    : -",
        "Predownload Status                              : Predownloading",
        "Predownload Version                             : 17.12.1.5",
        "Site Tag                                        : branch",
        "Efficient Upgrade Role                          : Subordinate",
        "Next Retry Time                                 : 3 s",
        "Retry Count                                     : 3",
        "Last Retry Reason                               : server busy",
        "Method                                          : TFTP from primary",
        "",
      ].join("\n"),
    );
    expect(run("sh ap name AP-X image").text).toContain("Site Tag                                        : default-site-tag\n");
    expect(run("sh ap name AP-Z image")).toEqual({ ok: false, text: "% Error: AP AP-Z not found\n" });
  });

  it("show ap primary list: each site's primary per model, where it serves, and how its subordinates stand", () => {
    const header = "AP Name                            Model                Site Tag            Image         Predownload Status  Image Server           Subordinates  Complete";
    expect(run("sh ap prim list").text.split("\n")).toEqual([
      "Number of primary APs: 1",
      "",
      header,
      "-".repeat(header.length),
      "AP-P                               C9120AXI-B           branch              17.12.1.5     Complete            10.0.1.2:40001         2             0",
      "",
    ]);
  });

  it("show wireless stats ap image-download: a subordinate's Method is TFTP from primary", () => {
    const lines = run("sh wireless stats ap image-download").text.split("\n");
    expect(lines[4]).toMatch(/^AP-S1 {30}ap1g8 {5}TFTP from primary {3}Downloading /);
    expect(lines).toContain("TFTP from primary   1");
  });

  it("ap image predownload / swap / reset site-tag: act through the controller's actions, a refusal is one error line", () => {
    calls.length = 0;
    expect(run("ap image predownload site-tag branch start")).toEqual({ ok: true, text: "Predownload started in site tag branch: 3 AP(s), primary AP-P (C9120AXI-B)\n" });
    expect(run("ap im sw site-tag branch")).toEqual({ ok: true, text: "Image swap sent to the APs of site tag branch holding the predownloaded image\n" });
    expect(run("ap image reset site-tag branch")).toEqual({ ok: true, text: "Reset sent to the APs of site tag branch\n" });
    expect(calls).toEqual(["has no AP in Run branch", "has predownloaded nothing branch", "has no AP in Run branch"]);
    expect(run("ap image predownload site-tag nowhere start")).toEqual({ ok: false, text: "% Error: site tag nowhere has no AP in Run\n" });
    expect(run("ap image swap site-tag nowhere")).toEqual({ ok: false, text: "% Error: site tag nowhere has predownloaded nothing\n" });
    expect(run("ap image predownload site-tag branch")).toEqual({ ok: false, text: "% Incomplete command.\n" });
    const { actions: _, ...readOnly } = context;
    expect(operatorCommand("ap image reset site-tag branch", readOnly)).toEqual({ ok: false, text: "% Error: this controller takes no actions here\n" });
    expect(calls).toHaveLength(3);
  });
});
