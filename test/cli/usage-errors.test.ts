import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { vap } from "../support/cli.js";
import { tempDir } from "../support/temp.js";

const dir = tempDir("usage-errors");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a wrong command line: one line naming the mistake, one line pointing at --help, exit 2", () => {
  it.each([
    [["--bogus"], "vap: Unknown option '--bogus'\nsee vap --help\n"],
    [["frobnicate"], 'vap: unknown command "frobnicate"\nsee vap --help\n'],
    [["capwap"], 'vap: "capwap" needs one of: decode\nsee vap --help\n'],
    [["capwap", "frobnicate"], 'vap: unknown command "capwap frobnicate" (capwap has: decode)\nsee vap --help\n'],
    // Node's parseArgs advice on `--` is not for vap's operators.
    [["capwap", "decode", "x.pcap", "--verbose"], "vap capwap decode: Unknown option '--verbose'\nsee vap capwap decode --help\n"],
    [["capwap", "decode", "x.pcap", "--profile"], "vap capwap decode: Option '--profile <value>' argument missing\nsee vap capwap decode --help\n"],
    [["run"], "vap run: --config FILE is required\nsee vap run --help\n"],
    [["run", "--config", "ap.yaml", "--console"], "vap run: --console needs a terminal on stdin\nsee vap run --help\n"],
    [["run", "--config", "ap.yaml", "--ssh-address", "0.0.0.0"], "vap run: --ssh-address and --ssh-authorized-keys go with --ssh-port\nsee vap run --help\n"],
    [["console"], "vap console: usage: vap console <AP name> [--command '<cmd>']\nsee vap console --help\n"],
    [["capwap", "decode"], "vap capwap decode: expected one capture FILE, got 0 arguments\nsee vap capwap decode --help\n"],
    [["pki", "init", "a", "b"], "vap pki init: usage: vap pki init DIR [--key-type ecdsa|rsa] [--aps N] [--model C9120AXI] [--base-mac 02:00:00:00:00:01]\nsee vap pki init --help\n"],
    [["tftp", "serve"], "vap tftp serve: usage: vap tftp serve DIR [--address A] [--port P] [--max-transfers N] [--json]\nsee vap tftp serve --help\n"],
    [["image", "keygen"], "vap image keygen: usage: vap image keygen DIR [--rsa] [--days 1825] [--start DATE] [--force]\nsee vap image keygen --help\n"],
  ])("vap %j", async (argv, stderr) => {
    const r = await vap(...argv);
    expect(r).toEqual({ code: 2, out: "", err: stderr });
  });

  it("a flag with a bad value needs no pointer: its one line says what it wants", async () => {
    expect(await vap("capwap", "decode", "x.pcap", "--profile", "aruba")).toEqual({ code: 2, out: "", err: 'vap capwap decode: --profile must be auto, rfc5415 or cisco, not "aruba"\n' });
  });

  it("vap, vap --help and vap -h still print the usage on stdout and succeed", async () => {
    for (const argv of [[], ["--help"], ["-h"]]) {
      const r = await vap(...argv);
      expect(r.code).toBe(0);
      expect(r.err).toBe("");
      expect(r.out).toMatch(/^usage: vap <command> \[options\]\n/);
    }
  });

  it("every command's --help names it once: `usage: vap <its words> <what follows>`", async () => {
    const { out } = await vap("--help");
    const commands = [...out.matchAll(/^ {2}vap (\S+(?: [a-z]+)?) {2,}/gm)].map((m) => m[1]!.split(" "));
    expect(commands.length).toBeGreaterThan(10);
    for (const words of commands) {
      const help = await vap(...words, "--help");
      expect(help.code, words.join(" ")).toBe(0);
      const first = help.out.split("\n")[0]!;
      expect(first.startsWith(`usage: vap ${words.join(" ")} `), first).toBe(true);
      // The word after the command is never the command's own last word again.
      expect(first.split(" ")[2 + words.length], first).not.toBe(words.at(-1));
    }
  });
});

describe("a config file that is not YAML", () => {
  it("one line: file, problem and place, no dangling colon", async () => {
    const config = join(dir, "broken.yaml");
    writeFileSync(config, "baseMac: 00:11:22:33:44:55\ncontrollers: [192.0.2.1\n");
    const r = await vap("run", "--config", config);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^vap run: .*broken\.yaml: not valid YAML\/JSON: [A-Z][^\n]* at line 3, column 1\n$/);
  });
});
