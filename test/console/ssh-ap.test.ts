/**
 * A real AP's console over SSH, as Cisco's automation meets it: OpenSSH's
 * `ssh` logs in with the factory password (sshpass) or a key, then the
 * pyATS/unicon `cheetah` AP connection sequence — enable, `terminal length
 * 0`, `terminal width 0`, `show version`, `logging console disable` — and
 * the commands genieparser and genielibs read.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hostKeyPath, loadHostKey, SshConsoleServer } from "../../agent/console/transports/index.js";
import { silentLog } from "../../agent/core/index.js";
import type { Lab } from "../../lab/lab/index.js";
import { requirePeer } from "../support/peers.js";
import { tempDir } from "../support/temp.js";
import { oneApLab } from "./support.js";
import { interactive, killClients, PASSWORD_ONLY, runClient, sshArgs } from "./transports/ssh-client.js";

const VERSION = "17.12.1.5";
let lab: Lab | undefined;
let ssh: SshConsoleServer | undefined;
afterEach(async () => {
  killClients();
  await ssh?.close();
  await lab?.stop();
  [lab, ssh] = [undefined, undefined];
});

/** The lab's AP behind an SSH console on a free port; `authorizedKeys` as OpenSSH public-key lines. */
async function sshAp(authorizedKeys?: string[]): Promise<{ dir: string; port: number; name: string }> {
  const dir = tempDir("ssh-ap");
  const started = await oneApLab(VERSION);
  lab = started.lab;
  const { console } = started.ap;
  ssh = await SshConsoleServer.listen(console, {
    port: 0,
    address: "127.0.0.1",
    hostKey: loadHostKey(hostKeyPath(join(dir, "state"))),
    authenticate: (user, password) => console.authenticate(user, password),
    ...(authorizedKeys ? { authorizedKeys } : {}),
    log: silentLog,
  });
  return { dir, port: ssh.port, name: console.name };
}

describe("the AP console over SSH", () => {
  it("logs in with the factory password and runs unicon's connection sequence and the parsers' commands", async () => {
    const { dir, port, name } = await sshAp();
    const started = interactive("sshpass", ["-p", "Cisco", requirePeer("ssh"), "-tt", ...sshArgs(dir, port, PASSWORD_ONLY), `Cisco@127.0.0.1`]);
    // A step that does not come within 15 s fails with what the client saw.
    const client = {
      ...started,
      get out() {
        return started.out;
      },
      waitFor: (text: string | RegExp) =>
        Promise.race([started.waitFor(text), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${String(text)} in:\n${JSON.stringify(started.out)}`)), 15_000))]),
    };
    await client.waitFor(`${name}>`);
    client.send("enable\r");
    await client.waitFor("Password:");
    client.send("Cisco\r");
    await client.waitFor(`${name}#`);
    const run = async (command: string, until: RegExp) => {
      const from = client.out.length;
      client.send(`${command}\r`);
      await client.waitFor(until);
      return client.out.slice(from);
    };
    await run("terminal length 0", new RegExp(`terminal length 0\\r\\n${name}#`));
    await run("terminal width 0", new RegExp(`terminal width 0\\r\\n${name}#`));
    const version = await run("show version", /Product\/Model Number[\s\S]*#$/);
    expect(version).toMatch(/^Cisco AP Software, \(ap1g8\)/m);
    expect(version).toMatch(/^AP Running Image\s+: 17\.12\.1\.5\r$/m);
    await run("logging console disable", new RegExp(`logging console disable\\r\\n${name}#`));
    const rcb = await run("show capwap client rcb", /OperationState\s+:\s+UP[\s\S]*#$/);
    expect(rcb).toMatch(/^MwarName\s+: vap-lab-wlc\r$/m);
    const boot = await run("show boot | inc BOOT", /BOOT path-list:\s+part\d\r\n[\s\S]*#$/);
    // The echoed command, then only the line the filter lets through (genielibs reads partN from it).
    expect(boot.split("\r\n").filter((l) => l.includes("BOOT"))).toEqual(["show boot | inc BOOT", expect.stringMatching(/^BOOT path-list:\s+part2$/)]);
    client.send("exit\r");
    expect(await client.exited).toBe(0);
  }, 60_000);

  it("logs in with a key; an exec request runs one command in user EXEC", async () => {
    const dir = tempDir("ssh-ap-key");
    const key = join(dir, "id");
    execFileSync(requirePeer("ssh-keygen"), ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    const { port } = await sshAp([readFileSync(`${key}.pub`, "utf8")]);
    const r = await runClient("ssh", [...sshArgs(dir, port, ["-i", key, "-o", "PasswordAuthentication=no"]), "Cisco@127.0.0.1", "show clock"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\d{2}:\d{2}:\d{2}/);
    const privileged = await runClient("ssh", [...sshArgs(dir, port, ["-i", key, "-o", "PasswordAuthentication=no"]), "Cisco@127.0.0.1", "capwap ap erase all"]);
    expect(privileged.code).toBe(1);
    expect(privileged.out).toContain("% Invalid input detected at '^' marker.");
  }, 60_000);
});
