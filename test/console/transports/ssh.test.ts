/**
 * The AP's SSH console against OpenSSH's own client: password (sshpass)
 * and key logins, a pty shell through the line editor, exec requests,
 * three wrong passwords, 50 logins at once, binary garbage and a flood,
 * the idle timeout, and a host key that survives restarts.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLog, type Log } from "../../../agent/core/index.js";
import { CONSOLE_LIMITS, hostKeyPath, loadHostKey, SshConsoleServer } from "../../../agent/console/transports/index.js";
import { requirePeer } from "../../support/peers.js";
import { tempDir } from "../../support/temp.js";
import { ECHO_PROMPT, ECHO_USER, echoConsole } from "./echo-console.js";
import { askpass, interactive, killClients, PASSWORD_ONLY, runClient, sshArgs } from "./ssh-client.js";

const servers: SshConsoleServer[] = [];
afterEach(async () => {
  killClients();
  for (const s of servers.splice(0)) await s.close();
});

interface Started {
  ssh: SshConsoleServer;
  dir: string;
  lines: string[];
  console: ReturnType<typeof echoConsole>;
}

async function start(o: { idleTimeoutMs?: number; authorizedKeys?: string[]; dir?: string; limits?: typeof CONSOLE_LIMITS } = {}): Promise<Started> {
  const dir = o.dir ?? tempDir("ssh-console");
  const lines: string[] = [];
  const log: Log = createLog({ console: (l) => lines.push(l) });
  const console = echoConsole(o.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: o.idleTimeoutMs });
  const ssh = await SshConsoleServer.listen(console, {
    port: 0,
    address: "127.0.0.1",
    hostKey: loadHostKey(hostKeyPath(join(dir, "state"))),
    authenticate: (user, password) => user === ECHO_USER.user && password === ECHO_USER.password,
    ...(o.authorizedKeys ? { authorizedKeys: o.authorizedKeys } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    log,
  });
  servers.push(ssh);
  return { ssh, dir, lines, console };
}

/** `sshpass -p <password> ssh … Cisco@127.0.0.1 <command>` */
function withPassword(s: Started, command: string[], password = ECHO_USER.password, extra: string[] = []) {
  return runClient("sshpass", ["-p", password, requirePeer("ssh"), ...sshArgs(s.dir, s.ssh.port, [...PASSWORD_ONLY, ...extra]), `${ECHO_USER.user}@127.0.0.1`, ...command]);
}

function keyPair(dir: string, name: string): { key: string; pub: string } {
  const key = join(dir, name);
  execFileSync(requirePeer("ssh-keygen"), ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key]);
  return { key, pub: readFileSync(`${key}.pub`, "utf8") };
}

describe("the SSH console", () => {
  it("runs an exec request with a password login: its output, exit 0, or 1 after a % error; log lines name user, peer and method, never the password", async () => {
    const s = await start();
    const ok = await withPassword(s, ["show version"]);
    expect(ok).toMatchObject({ code: 0, out: "you said: show version\n" });
    const bad = await withPassword(s, ["fail"]);
    expect(bad.code).toBe(1);
    expect(bad.out).toBe("% Invalid input detected at '^' marker.\n");
    // SSH logged the user in; the session starts in user EXEC (enable to go further).
    expect(s.console.record.opened).toContainEqual({ login: false, privileged: false, user: "Cisco" });
    expect(s.lines.join("\n")).toMatch(/Console: Cisco logged in over SSH from 127\.0\.0\.1:\d+ \(password\)/);
    await expect.poll(() => s.lines.filter((l) => /Console: Cisco logged out of SSH from 127\.0\.0\.1:\d+/.test(l)).length).toBe(2);
    expect(s.lines.join("\n")).not.toContain(ECHO_USER.password);
  });

  it("gives a pty shell: prompt, echo, no echo for a secret, backspace, Ctrl-U, history, Ctrl-C to the session, \\r\\n line ends, exit closes", async () => {
    const s = await start();
    const c = interactive("sshpass", ["-p", ECHO_USER.password, requirePeer("ssh"), "-tt", ...sshArgs(s.dir, s.ssh.port, PASSWORD_ONLY), `${ECHO_USER.user}@127.0.0.1`]);
    await c.waitFor(ECHO_PROMPT);
    c.send("shox\x7fw clock\r");
    await c.waitFor("you said: show clock\r\n");
    expect(c.out).toContain("shox\b \bw clock\r\n");
    c.send("garbage\x15show boot\r");
    await c.waitFor("you said: show boot\r\n");
    c.send("\x1b[A\x1b[A\r");
    await c.waitFor(/you said: show clock\r\n[\s\S]*you said: show clock\r\n/);
    c.send("slow\r");
    await c.waitFor("working\r\n");
    c.send("\x03");
    await c.waitFor("aborted\r\n");
    expect(s.console.record.interrupts).toBe(1);
    c.send("ask\r");
    await c.waitFor("Username: ");
    c.send("operator\r");
    await c.waitFor("got operator\r\n");
    c.send("exit\r");
    expect(await c.exited).toBe(0);
    expect(s.console.record.inputs).toEqual(["show clock", "show boot", "show clock", "slow", "ask", "operator", "exit"]);
  });

  it("logs in with an authorized key and refuses another key", async () => {
    const dir = tempDir("ssh-keys");
    const good = keyPair(dir, "good");
    const other = keyPair(dir, "other");
    const s = await start({ dir, authorizedKeys: [`# the operator's key`, good.pub] });
    const keyOnly = ["-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no", "-o", "BatchMode=yes"];
    const ok = await runClient("ssh", [...sshArgs(dir, s.ssh.port, [...keyOnly, "-i", good.key]), "admin@127.0.0.1", "show boot"]);
    expect(ok).toMatchObject({ code: 0, out: "you said: show boot\n" });
    const refused = await runClient("ssh", [...sshArgs(dir, s.ssh.port, [...keyOnly, "-i", other.key]), "admin@127.0.0.1", "show boot"]);
    expect(refused.code).toBe(255);
    expect(refused.err).toMatch(/Permission denied/);
    expect(s.lines.join("\n")).toMatch(/Console: admin logged in over SSH from 127\.0\.0\.1:\d+ \(publickey\)/);
  });

  it("disconnects after three wrong passwords, though the client would try five", async () => {
    const s = await start();
    const ask = askpass(s.dir, "wrong-password");
    const env = { ...process.env, SSH_ASKPASS: ask.program, SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0" };
    const run = await runClient("ssh", [...sshArgs(s.dir, s.ssh.port, [...PASSWORD_ONLY, "-o", "NumberOfPasswordPrompts=5"]), "Cisco@127.0.0.1", "show version"], "", env);
    expect(run.code, run.err).toBe(255);
    expect(readFileSync(ask.counter, "utf8").split("\n").filter(Boolean)).toHaveLength(3);
    expect(s.lines.filter((l) => l.includes("Console: SSH login failed for Cisco"))).toHaveLength(3);
    expect(s.lines.join("\n")).toMatch(/closed after 3 failed logins/);
    expect(s.lines.join("\n")).not.toContain("wrong-password");
  });

  it("keeps its host key across restarts (0600): the client's known_hosts still holds", async () => {
    const first = await start();
    expect(await withPassword(first, ["one"])).toMatchObject({ code: 0 });
    const keyFile = hostKeyPath(join(first.dir, "state"));
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(first.dir, "state", "console")).mode & 0o777).toBe(0o700);
    const key = readFileSync(keyFile, "utf8");
    await first.ssh.close();
    const second = await start({ dir: first.dir });
    expect(readFileSync(keyFile, "utf8")).toBe(key);
    expect(await withPassword(second, ["two"], ECHO_USER.password, ["-o", "StrictHostKeyChecking=yes"])).toMatchObject({ code: 0, out: "you said: two\n" });
    // A new key under the same name is what known_hosts catches.
    const third = await start({ dir: tempDir("ssh-console-other") });
    const changed = await runClient("sshpass", ["-p", ECHO_USER.password, requirePeer("ssh"), ...sshArgs(first.dir, third.ssh.port, [...PASSWORD_ONLY, "-o", "StrictHostKeyChecking=yes", "-o", `HostKeyAlias=[127.0.0.1]:${second.ssh.port}`]), "Cisco@127.0.0.1", "x"]);
    expect(changed.code).toBe(255);
    expect(changed.err).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  it("serves 50 logins at once", async () => {
    const s = await start();
    const runs = await Promise.all(Array.from({ length: 50 }, (_, i) => withPassword(s, [`line ${i}`])));
    expect(runs.map((r) => r.code)).toEqual(Array(50).fill(0));
    expect(runs.map((r) => r.out)).toEqual(Array.from({ length: 50 }, (_, i) => `you said: line ${i}\n`));
    await expect.poll(() => s.ssh.sessions).toBe(0);
  }, 60_000);

  it("refuses a session beyond its limit with a clear line", async () => {
    const s = await start({ limits: { ...CONSOLE_LIMITS, maxSessions: 1 } });
    const c = interactive("sshpass", ["-p", ECHO_USER.password, requirePeer("ssh"), "-tt", ...sshArgs(s.dir, s.ssh.port, PASSWORD_ONLY), `${ECHO_USER.user}@127.0.0.1`]);
    await c.waitFor(ECHO_PROMPT);
    const refused = await withPassword(s, ["show version"]);
    expect(refused.code).toBe(1);
    expect(refused.out).toBe("% Too many console sessions (1 open): try again later\r\n");
    c.send("exit\r");
    await c.exited;
  });

  it("bounds the connections still logging in, and drops one that takes longer than the login timeout", async () => {
    const s = await start({ limits: { ...CONSOLE_LIMITS, maxUnauthenticated: 2, loginTimeoutMs: 500 } });
    const silent: Socket[] = [];
    const closed: Promise<void>[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = connect(s.ssh.port, "127.0.0.1");
      socket.on("error", () => {});
      silent.push(socket);
      closed.push(new Promise((resolve) => socket.on("close", () => resolve())));
      await new Promise((resolve) => socket.once("data", resolve));
    }
    const crowded = await withPassword(s, ["show version"]);
    expect(crowded.code).toBe(255);
    expect(s.lines.join("\n")).toMatch(/SSH connection from 127\.0\.0\.1:\d+ refused: 2 are logging in already/);
    // The two that never log in are dropped by the login timeout; then logins go through again.
    await Promise.all(closed);
    expect(await withPassword(s, ["show version"])).toMatchObject({ code: 0, out: "you said: show version\n" });
  });

  it("takes binary garbage and a flood on the channel with bounded cost and clear lines, and goes on serving", async () => {
    const s = await start();
    const c = interactive("sshpass", ["-p", ECHO_USER.password, requirePeer("ssh"), "-tt", ...sshArgs(s.dir, s.ssh.port, PASSWORD_ONLY), `${ECHO_USER.user}@127.0.0.1`]);
    await c.waitFor(ECHO_PROMPT);
    // Garbage without Ctrl-C/Ctrl-D/CR/LF (those would be keys), then one over-long line, then a good one.
    const garbage = Buffer.from([...randomBytes(256 * 1024)].filter((b) => ![0x03, 0x04, 0x0a, 0x0d].includes(b)));
    c.send(garbage);
    c.send("\r");
    c.send(`${"A".repeat(200_000)}\r`);
    await c.waitFor("% Input line longer than 512 characters: discarded\r\n");
    c.send("still here\r");
    await c.waitFor("you said: still here\r\n");
    c.send("exit\r");
    expect(await c.exited).toBe(0);
    expect(s.console.record.inputs.at(-2)).toBe("still here");
    expect(s.console.record.inputs.every((l) => l.length <= CONSOLE_LIMITS.maxLineLength)).toBe(true);
    expect(await withPassword(s, ["after"])).toMatchObject({ code: 0, out: "you said: after\n" });
  });

  it("ends a session idle past the session's exec-timeout", async () => {
    const s = await start({ idleTimeoutMs: 300 });
    const c = interactive("sshpass", ["-p", ECHO_USER.password, requirePeer("ssh"), "-tt", ...sshArgs(s.dir, s.ssh.port, PASSWORD_ONLY), `${ECHO_USER.user}@127.0.0.1`]);
    await c.waitFor(ECHO_PROMPT);
    await c.exited;
    expect(s.console.record.ends).toBe(1);
    expect(s.lines.join("\n")).toMatch(/SSH session of Cisco from 127\.0\.0\.1:\d+ ended \(idle\)/);
  });

  it("refuses a host key file others may read", async () => {
    const dir = tempDir("ssh-key-mode");
    const path = hostKeyPath(dir);
    loadHostKey(path);
    execFileSync("chmod", ["644", path]);
    expect(() => loadHostKey(path)).toThrow(`SSH host key ${path}: readable by others (mode 644); chmod 600 it`);
    expect(existsSync(path)).toBe(true);
  });
});
