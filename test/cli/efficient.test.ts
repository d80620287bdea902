/**
 * `vap lab --sites N --efficient` as a user types it: README's "Upgrade
 * branch sites efficiently", read from README.md and run with the built
 * CLI, and the flags' mistakes as one line each.
 */
import { afterEach, describe, expect, it } from "vitest";
import { spawnVap, stopVapProcesses, vap } from "../support/cli.js";
import { freeLoopbackAddress } from "../support/loopback.js";
import { readmeCommands } from "../support/readme.js";
import { tempDir } from "../support/temp.js";

afterEach(stopVapProcesses);

/** The summary's rows: each AP's Class, Role and Method columns, by the header's positions. */
function summaryRows(out: string): { cls: string; role: string; method: string }[] {
  const header = /^AP Name +Model +Class .*Method$/m.exec(out);
  expect(header, out).not.toBeNull();
  const at = (column: string) => header![0].indexOf(column);
  const cell = (line: string, column: string, next: string) => line.slice(at(column), at(next)).trim();
  return out
    .slice(header!.index)
    .split("\n")
    .filter((l) => /^AP[0-9A-F]{4}\.[0-9A-F]{4}\.[0-9A-F]{4} /.test(l))
    .map((l) => ({ cls: cell(l, "Class", "Site"), role: cell(l, "Role", "State"), method: l.slice(at("Method")) }));
}

describe("README's \"Upgrade branch sites efficiently\"", () => {
  it("exits 0 with a primary per model fetching from the controller and the other nine from their primary by TFTP", async () => {
    const lines = readmeCommands("Upgrade branch sites efficiently");
    expect(lines).toEqual(["npx vap lab --aps 12 --classes ap1g8,ap1g7,ap1g4 --sites 1 --efficient --until upgraded"]);
    const lab = spawnVap([...lines[0]!.split(/\s+/).slice(2), "--address", await freeLoopbackAddress()], { cwd: tempDir("efficient-readme") });
    const { code } = await lab.exited;
    expect(code, lab.out).toBe(0);
    const rows = summaryRows(lab.out);
    expect(rows).toHaveLength(12);
    for (const cls of ["ap1g8", "ap1g7", "ap1g4"]) {
      const of = rows.filter((r) => r.cls === cls);
      expect(of.filter((r) => r.role === "Primary" && r.method === "CAPWAP"), cls).toHaveLength(1);
      expect(of.filter((r) => r.role === "Subordinate" && r.method === "TFTP from primary"), cls).toHaveLength(3);
    }
    // The operator's commands, as the lab typed them, and the controller's answers.
    for (const command of ["ap image predownload site-tag site-1 start", "show ap primary list", "show ap image", "ap image swap site-tag site-1", "ap image reset site-tag site-1"]) {
      expect(lab.out).toContain(`vap-lab-wlc#${command}\n`);
    }
    expect(lab.out).toMatch(/^ {8}Completed predownloading {16}: 12$/m);
    expect(lab.out).toContain("Image downloads by method: CAPWAP 3, TFTP from primary 9\n");
    // Three 1 MiB images (--size small) crossed from the controller into the site, one per model.
    expect(lab.out).toContain(`Site site-1: the controller sent 3 image(s), ${3 * 1024 * 1024} bytes\n`);
    expect(lab.out).toContain("All 12 AP(s) upgraded to 17.12.1.5 and in Run.\n");
  }, 120_000);
});

describe("vap lab's site flags", () => {
  it.each([
    [["--efficient"], "vap lab: --efficient and --predownload-tries apply with --sites only\n"],
    [["--aps", "4", "--sites", "2", "--predownload-tries", "5"], "vap lab: --predownload-tries applies with --efficient only\n"],
    [["--sites", "1", "--efficient", "--predownload-tries", "64"], /^vap lab: --predownload-tries: .*64.*\n$/],
    [["--sites", "3", "--aps", "2"], /^vap lab: --sites: .*3.*\n$/],
  ])("%j is one line, exit 2", async (argv, err) => {
    const r = await vap("lab", ...argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    if (typeof err === "string") expect(r.err).toBe(err);
    else expect(r.err).toMatch(err);
  });
});
