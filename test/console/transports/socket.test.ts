/**
 * The per-AP console socket and `vap console`: the socket's place and
 * modes, one command with its exit status, an interactive session driven
 * frame by frame (no pty here: the frames are what `vap console` sends from
 * a raw terminal), bad frames, typed-ahead floods, and the CLI itself
 * (dist/cli/vap.js) with --command and from a pipe.
 */
import { spawn } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, silentLog } from "../../../agent/core/index.js";
import {
  CONSOLE_LIMITS,
  ConsoleSocketServer,
  connectConsole,
  type ConsoleConnection,
  consoleSocketPath,
  encodeFrame,
  FrameDecoder,
  FrameType,
  NoApConsoleError,
  startConsoleTransports,
} from "../../../agent/console/transports/index.js";
import { tempDir } from "../../support/temp.js";
import { ECHO_PROMPT, echoConsole } from "./echo-console.js";

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(o: { limits?: typeof CONSOLE_LIMITS } = {}) {
  const dir = join(tempDir("console-socket"), "run");
  const console = echoConsole();
  const server = await ConsoleSocketServer.listen(console, dir, { log: silentLog, ...(o.limits ? { limits: o.limits } : {}) });
  servers.push(server);
  return { dir, console, server };
}

/** A client that keeps what the AP printed, and can wait for text in it. */
async function attach(dir: string, terminal = true): Promise<{ c: ConsoleConnection; out: () => string; waitFor: (t: string) => Promise<void> }> {
  let out = "";
  const c = await connectConsole(dir, "AP0200.0000.0001", (b) => (out += Buffer.from(b).toString("utf8")));
  c.send(FrameType.attach, Uint8Array.of(terminal ? 1 : 0));
  const waitFor = (t: string) => expect.poll(() => out, { timeout: 5000 }).toContain(t).then(() => undefined);
  return { c, out: () => out, waitFor };
}

/** What the socket answers to raw bytes: its output and EXIT status. */
function rawExchange(path: string, bytes: Uint8Array): Promise<{ text: string; status: number | undefined }> {
  return new Promise((resolveRun, reject) => {
    const decoder = new FrameDecoder();
    let text = "";
    let status: number | undefined;
    const s = connect(path, () => s.write(bytes));
    s.on("data", (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        if (f.type === FrameType.data) text += Buffer.from(f.payload).toString("utf8");
        if (f.type === FrameType.exit) status = f.payload[0];
      }
    });
    s.on("error", reject);
    s.on("close", () => resolveRun({ text, status }));
  });
}

describe("the console socket", () => {
  it("lives at <runtime dir>/<AP name>.console, the dir 0700 and the socket 0600, and goes when closed", async () => {
    const { dir, server } = await serve();
    expect(server.path).toBe(join(dir, "AP0200.0000.0001.console"));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(server.path).mode & 0o777).toBe(0o600);
    expect(() => consoleSocketPath(dir, "../etc/passwd")).toThrow(ConfigError);
    await server.close();
    await expect(connectConsole(dir, "AP0200.0000.0001", () => {})).rejects.toThrow(NoApConsoleError);
  });

  it("refuses a second AP of the same name while the first listens, and replaces a dead one's socket", async () => {
    const { dir } = await serve();
    await expect(ConsoleSocketServer.listen(echoConsole(), dir, { log: silentLog })).rejects.toThrow(`console socket ${join(dir, "AP0200.0000.0001.console")}: another AP is listening there`);
    const other = join(tempDir("console-stale"), "run");
    mkdirSync(other, { mode: 0o700 });
    writeFileSync(join(other, "AP0200.0000.0001.console"), "");
    await expect(ConsoleSocketServer.listen(echoConsole(), other, { log: silentLog })).rejects.toThrow("exists and is not a socket");
  });

  it("runs one COMMAND: its output, EXIT 0 — or 1 when it ended in a % error", async () => {
    const { server, console } = await serve();
    expect(await rawExchange(server.path, encodeFrame(FrameType.command, Buffer.from("show version")))).toEqual({ text: "you said: show version\n", status: 0 });
    expect(await rawExchange(server.path, encodeFrame(FrameType.command, Buffer.from("fail")))).toEqual({ text: "% Invalid input detected at '^' marker.\n", status: 1 });
    // Only the host's owner reaches the socket: its sessions start privileged, without a login.
    expect(console.record.opened).toEqual([
      { login: false, privileged: true },
      { login: false, privileged: true },
    ]);
    expect(console.record.ends).toBe(2);
  });

  it("carries an interactive session: prompt, echo, a secret unechoed, history, Ctrl-C, typed-ahead lines in order, Ctrl-D ends with EXIT 0", async () => {
    const { dir, console } = await serve();
    const { c, out, waitFor } = await attach(dir);
    await waitFor(ECHO_PROMPT);
    c.type(Buffer.from("show clocx\x7fk\r"));
    await waitFor("you said: show clock\r\n");
    c.type(Buffer.from("slow\r"));
    await waitFor("working\r\n");
    // Typed while `slow` runs: waits for it.
    c.type(Buffer.from("typed ahead\r"));
    expect(console.record.inputs).toEqual(["show clock", "slow"]);
    c.type(Buffer.from("\x03"));
    await waitFor("aborted\r\n");
    expect(console.record.interrupts).toBe(1);
    // Ctrl-C dropped what was typed ahead, as it drops a half-typed line.
    c.type(Buffer.from("ask-secret\r"));
    await waitFor("Password: ");
    c.type(Buffer.from("hunter2\r"));
    await waitFor("got hunter2\r\n");
    expect(out()).not.toContain("hunter2\r\n\r\ngot");
    expect(out().split("got hunter2")[0]).not.toContain("hunter2");
    c.type(Buffer.from("\x1b[A\x1b[A\r"));
    // Up twice: past ask-secret to `typed ahead` (typed, so remembered, though Ctrl-C dropped it before it ran); the password is not remembered.
    await expect.poll(() => console.record.inputs.at(-1)).toBe("typed ahead");
    c.type(Buffer.from("\x03\x04"));
    expect(await c.exit).toBe(0);
    expect(console.record.inputs).toEqual(["show clock", "slow", "ask-secret", "hunter2", "typed ahead"]);
    expect(console.record.ends).toBe(1);
  });

  it("ends a session that types more than maxQueuedLines ahead, with a clear line", async () => {
    const { dir } = await serve({ limits: { ...CONSOLE_LIMITS, maxQueuedLines: 4 } });
    const { c, waitFor } = await attach(dir);
    await waitFor(ECHO_PROMPT);
    c.type(Buffer.from("slow\r"));
    await waitFor("working");
    c.type(Buffer.from("x\r".repeat(10)));
    await waitFor("% More than 4 lines typed ahead while a command runs: session closed\r\n");
    expect(await c.exit).toBe(0);
  });

  it("answers frames no client sends with one line and EXIT 2, and goes on serving", async () => {
    const { server } = await serve();
    expect(await rawExchange(server.path, Uint8Array.of(9, 0, 0))).toEqual({ text: "% Bad console frame: unknown frame type 9\n", status: 2 });
    expect(await rawExchange(server.path, Uint8Array.of(FrameType.data, 0xff, 0xff))).toEqual({ text: "% Bad console frame: frame of 65535 bytes, more than 16384\n", status: 2 });
    expect(await rawExchange(server.path, encodeFrame(FrameType.data, Buffer.from("x")))).toEqual({ text: "% Bad console frame: the first frame is ATTACH or COMMAND\n", status: 2 });
    expect(await rawExchange(server.path, encodeFrame(FrameType.command, Buffer.from("still")))).toEqual({ text: "you said: still\n", status: 0 });
  });

  it("startConsoleTransports starts the socket and SSH together and closes both", async () => {
    const root = tempDir("console-start");
    const transports = await startConsoleTransports(echoConsole(), { stateDir: join(root, "state"), socketDir: join(root, "run"), ssh: { port: 0 }, log: silentLog });
    servers.push(transports);
    expect(transports.ssh!.port).toBeGreaterThan(0);
    expect(await rawExchange(transports.socket!.path, encodeFrame(FrameType.command, Buffer.from("hi")))).toEqual({ text: "you said: hi\n", status: 0 });
  });
});

const VAP = resolve(import.meta.dirname, "../../../dist/cli/vap.js");

function vapConsole(dir: string, args: string[], input = ""): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [VAP, "console", ...args], { env: { ...process.env, VAP_RUNTIME_DIR: dir }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.stdin.end(input);
    child.on("close", (code) => done({ code, out, err }));
  });
}

describe("vap console", () => {
  it("--command prints the line's output: exit 0, or 1 on a % error", async () => {
    const { dir } = await serve();
    expect(await vapConsole(dir, ["AP0200.0000.0001", "--command", "show boot"])).toEqual({ code: 0, out: "you said: show boot\n", err: "" });
    expect(await vapConsole(dir, ["AP0200.0000.0001", "--command", "fail"])).toMatchObject({ code: 1, out: "% Invalid input detected at '^' marker.\n" });
  });

  it("types piped lines in order, and ends when the pipe does", async () => {
    const { dir, console } = await serve();
    const run = await vapConsole(dir, ["AP0200.0000.0001"], "show version\nshow boot\n");
    expect(run.code).toBe(0);
    expect(run.out).toBe(`${ECHO_PROMPT}you said: show version\n${ECHO_PROMPT}you said: show boot\n${ECHO_PROMPT}`);
    expect(console.record.inputs).toEqual(["show version", "show boot"]);
  });

  it("names the AP it cannot find, exit 1", async () => {
    const dir = tempDir("console-none");
    const run = await vapConsole(dir, ["AP9999.9999.9999", "--command", "show version"]);
    expect(run.code).toBe(1);
    expect(run.err).toContain(`no AP named AP9999.9999.9999 answers on ${join(dir, "AP9999.9999.9999.console")} (ENOENT)`);
  });
});
