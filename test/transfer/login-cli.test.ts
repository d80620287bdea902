/** `vap fetch sftp://, ftp://, ftpes://` against real sshd and vsftpd: in-process (a prompt injected) and as the built CLI (no terminal, and a real one). */
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { type RunningSshd, type RunningVsftpd, type ServedFiles, servedFiles, startSshd, startVsftpd, stopFileServers } from "../support/file-servers.js";
import { removeLoginUsers } from "../support/login-user.js";
import { escaped } from "../support/loopback.js";
import { requirePeer } from "../support/peers.js";
import { tempDir } from "../support/temp.js";
import { content, sha256 } from "./tftp/support.js";

const VAP = join(import.meta.dirname, "../../dist/cli/vap.js");
const IMAGE = content(300_000);

let served: ServedFiles;
let sshd: RunningSshd;
let vsftpd: RunningVsftpd;
let password: string;

beforeAll(async () => {
  served = await servedFiles({ "ap1g8.bin": IMAGE });
  [sshd, vsftpd] = await Promise.all([startSshd(served), startVsftpd(served)]);
  password = served.user.password;
});
afterAll(async () => {
  await stopFileServers();
  await removeLoginUsers();
});

/** `vap …` in this process; `askSecret` is what a terminal would answer (absent: stdin is not one). */
async function vap(argv: string[], askSecret?: (prompt: string) => Promise<string>) {
  let out = "";
  let err = "";
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), ...(askSecret ? { askSecret } : {}) });
  return { code, out, err };
}

const portOf = (scheme: string) => (scheme === "sftp" ? sshd.port : vsftpd.port);
const caFlags = (scheme: string) => (scheme === "ftpes" ? ["--ca", vsftpd.caFile] : []);

describe.each(["sftp", "ftp", "ftpes"])("vap fetch %s://", (scheme) => {
  it("exit 0 with one summary line that shows no password; the file is byte-exact", async () => {
    const file = join(tempDir("login-cli"), "ap1g8");
    const r = await vap(["fetch", `${scheme}://${served.user.name}:${encodeURIComponent(password)}@127.0.0.1:${portOf(scheme)}/ap1g8.bin`, file, ...caFlags(scheme)]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^fetch: ${scheme}://\\*\\*\\*\\*\\*@127\\.0\\.0\\.1:${portOf(scheme)}/ap1g8\\.bin -> ${escaped(file)}, 300000 bytes in \\d+\\.\\d\\d s\\n$`));
    // SFTP without --known-hosts says which host key it took; nothing else is printed.
    expect(r.err).toMatch(scheme === "sftp" ? new RegExp(`^host key of 127\\.0\\.0\\.1:${sshd.port} not checked \\(no known_hosts given\\): ssh-ed25519 SHA256:\\S+\\n$`) : /^$/);
    expect(`${r.out}${r.err}`).not.toContain(password);
    expect(sha256(readFileSync(file))).toBe(sha256(IMAGE));
  });

  it("a user without a password: asked for on the terminal, with the user and host in the prompt", async () => {
    const file = join(tempDir("login-cli"), "ap1g8");
    const prompts: string[] = [];
    const r = await vap(["fetch", `${scheme}://${served.user.name}@127.0.0.1:${portOf(scheme)}/ap1g8.bin`, file, ...caFlags(scheme)], async (prompt) => {
      prompts.push(prompt);
      return password;
    });
    expect(r.code).toBe(0);
    expect(prompts).toEqual([`Password for ${served.user.name}@127.0.0.1:${portOf(scheme)}: `]);
    expect(`${r.out}${r.err}`).not.toContain(password);
    expect(sha256(readFileSync(file))).toBe(sha256(IMAGE));
  });

  it("a user without a password and no terminal: exit 2, one line, nothing fetched", async () => {
    const file = join(tempDir("login-cli"), "ap1g8");
    const r = await vap(["fetch", `${scheme}://${served.user.name}@127.0.0.1:${portOf(scheme)}/ap1g8.bin`, file, ...caFlags(scheme)]);
    expect([r.code, r.err]).toEqual([2, `vap fetch: ${scheme}://*****@127.0.0.1:${portOf(scheme)}/ap1g8.bin: no password in the URL, and stdin is not a terminal to ask for one on\n`]);
    expect(existsSync(file) || existsSync(`${file}.part`)).toBe(false);
  });

  it("a wrong password: exit 1, one line without either password, no file", async () => {
    const file = join(tempDir("login-cli"), "ap1g8");
    const r = await vap(["fetch", `${scheme}://${served.user.name}:not-${encodeURIComponent(password)}@127.0.0.1:${portOf(scheme)}/ap1g8.bin`, file, ...caFlags(scheme)]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`(^|\\n)vap fetch: ${scheme}://\\*\\*\\*\\*\\*@127\\.0\\.0\\.1:${portOf(scheme)}/ap1g8\\.bin: authentication failed [^\\n]+\\n$`));
    expect(r.err).not.toContain(password);
    expect(existsSync(file) || existsSync(`${file}.part`)).toBe(false);
  });

  it("a missing file: exit 1, one line", async () => {
    const r = await vap(["fetch", `${scheme}://${served.user.name}:${encodeURIComponent(password)}@127.0.0.1:${portOf(scheme)}/nope`, join(tempDir("login-cli"), "x"), ...caFlags(scheme)]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`(^|\\n)vap fetch: ${scheme}://\\*\\*\\*\\*\\*@127\\.0\\.0\\.1:\\d+/nope: [^\\n]+\\n$`));
  });
});

describe("vap fetch: SFTP keys and known_hosts, FTPS trust, bad usage", () => {
  it("--identity logs in without a password; --known-hosts checks the host key and prints nothing", async () => {
    const dir = tempDir("login-cli");
    writeFileSync(join(dir, "id"), sshd.clientKey, { mode: 0o600 });
    writeFileSync(join(dir, "known_hosts"), `${sshd.knownHostsLine}\n`);
    const file = join(dir, "ap1g8");
    const r = await vap(["fetch", `sftp://${served.user.name}@127.0.0.1:${sshd.port}/ap1g8.bin`, file, "--identity", join(dir, "id"), "--known-hosts", join(dir, "known_hosts")]);
    expect([r.code, r.err]).toEqual([0, ""]);
    expect(sha256(readFileSync(file))).toBe(sha256(IMAGE));
  });

  it("ftpes:// without --ca: exit 1, the certificate problem on one line", async () => {
    const r = await vap(["fetch", `ftpes://${served.user.name}:${encodeURIComponent(password)}@127.0.0.1:${vsftpd.port}/ap1g8.bin`, join(tempDir("login-cli"), "x")]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^vap fetch: ftpes:\/\/\*\*\*\*\*@127\.0\.0\.1:\d+\/ap1g8\.bin: TLS certificate not accepted: [^\n]+\n$/);
  });

  it.each([
    [["fetch", "sftp://h/x", "out", "--ca", "/etc/hostname"], "vap fetch: --ca applies to http://, https:// and ftpes:// only\n"],
    [["fetch", "ftp://h/x", "out", "--identity", "/etc/hostname"], "vap fetch: --identity applies to sftp:// only\n"],
    [["fetch", "ftpes://h/x", "out", "--known-hosts", "/etc/hostname"], "vap fetch: --known-hosts applies to sftp:// only\n"],
    [["fetch", "sftp://u@h/x", "out", "--identity", "/no/such/key"], "vap fetch: --identity /no/such/key: cannot read (ENOENT)\n"],
    [["fetch", "sftp://127.0.0.1/x", "out"], 'vap fetch: "sftp://127.0.0.1/x" names no user (sftp://user[:password]@host[:port]/path)\n'],
    [["fetch", "ftp://u:secret@127.0.0.1/", "out"], 'vap fetch: "ftp://*****@127.0.0.1/" is not ftp:// or ftpes://[user[:password]@]host[:port]/path\n'],
    [["fetch", "sftp://u:secret@127.0.0.1/x"], "vap fetch: usage: vap fetch URL FILE [--ca FILE] [--identity FILE] [--known-hosts FILE] [--size BYTES] [--md5 HEX | --sha256 HEX]\n"],
  ])("%j: exit 2, one line", async (argv, err) => {
    expect(await vap(argv)).toEqual({ code: 2, out: "", err });
  });
});

describe("the built vap", () => {
  it("with stdin not a terminal, a URL without a password is exit 2", async () => {
    const r = await new Promise<{ code: number; err: string }>((resolve) => {
      execFile(process.execPath, [VAP, "fetch", `sftp://${served.user.name}@127.0.0.1:${sshd.port}/ap1g8.bin`, join(tempDir("login-cli"), "x")], { timeout: 60_000 }, (error, _out, err) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, err }),
      );
    });
    expect([r.code, r.err]).toEqual([2, `vap fetch: sftp://*****@127.0.0.1:${sshd.port}/ap1g8.bin: no password in the URL, and stdin is not a terminal to ask for one on\n`]);
  });

  it("on a real terminal, asks for the password without echoing it, and fetches", async () => {
    const file = join(tempDir("login-cli"), "ap1g8");
    // python3's pty gives vap a terminal; the script types the password once asked, and relays all vap printed.
    const script = `
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen = b""
typed = False
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    seen += data
    if not typed and b"Password for" in seen:
        os.write(fd, sys.stdin.buffer.read() + b"\\r")
        typed = True
sys.stdout.buffer.write(seen)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
`;
    const child = spawn(requirePeer("python3"), ["-c", script, process.execPath, VAP, "fetch", `ftp://${served.user.name}@127.0.0.1:${vsftpd.port}/ap1g8.bin`, file], { stdio: ["pipe", "pipe", "inherit"] });
    child.stdin.end(password);
    let seen = "";
    child.stdout.on("data", (d) => (seen += d));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(seen).toContain(`Password for ${served.user.name}@127.0.0.1:${vsftpd.port}: `);
    expect(seen).toMatch(/fetch: ftp:\/\/\*\*\*\*\*@127\.0\.0\.1:\d+\/ap1g8\.bin -> /);
    expect(seen).not.toContain(password);
    expect(code).toBe(0);
    expect(sha256(readFileSync(file))).toBe(sha256(IMAGE));
  });
});
