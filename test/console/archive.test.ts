/**
 * `archive download-sw`'s work (agent/console/archive.ts) against real
 * servers: a signed image fetched by tftp (tftpd-hpa), sftp (sshd, the
 * user and password asked), ftp (vsftpd), http and https (nginx) ends with
 * BOOT on the standby partition and the lines genielibs waits for; a
 * tampered image, a server killed mid-transfer and the operator's Ctrl-C
 * end in ABORT with both partitions, BOOT and /tmp as they were. No written
 * line and no log line holds a password.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archiveDownload, PROGRESS_MARKS, type ArchiveContext } from "../../agent/console/archive.js";
import { createLog } from "../../agent/core/index.js";
import { UpgradeEngine } from "../../agent/upgrade/index.js";
import { type RunningFileServer, type ServedFiles, servedFiles, startSshd, startVsftpd, stopFileServers } from "../support/file-servers.js";
import { removeLoginUsers } from "../support/login-user.js";
import { type RunningNginx, startNginx } from "../transfer/http/support.js";
import { type RunningServer, servedDir, sleep, startTftpdHpa } from "../transfer/tftp/support.js";
import { engineSetup, fingerprint, image, NEW, OLD } from "../upgrade/support.js";

/** The slow download's image: long enough at nginx's 64 KiB/s to be cut while it streams. */
const SLOW_BYTES = 2 * 1024 * 1024;

let good: Uint8Array;
let tampered: Uint8Array;
let slow: Uint8Array;
let tftpd: RunningServer;
let nginx: RunningNginx;
let served: ServedFiles;
let sshd: RunningFileServer;
let vsftpd: RunningFileServer;

beforeAll(async () => {
  good = readFileSync((await image("ap1g8", NEW)).path);
  slow = readFileSync((await image("ap1g8", NEW, SLOW_BYTES)).path);
  tampered = Uint8Array.from(good);
  tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
  const files = { ap1g8: good, "tampered-ap1g8": tampered };
  tftpd = await startTftpdHpa(servedDir(files));
  nginx = await startNginx({ ...files, "slow/ap1g8": slow });
  served = await servedFiles(files);
  sshd = await startSshd(served);
  vsftpd = await startVsftpd(served);
});
afterAll(async () => {
  await tftpd?.stop();
  await nginx?.stop();
  await stopFileServers();
  await removeLoginUsers();
});

interface Run {
  ok: boolean;
  /** Everything written to the session. */
  text: string;
  /** The AP log's lines, their timestamps cut. */
  log: string[];
  /** The questions asked, with whether each was secret. */
  asked: [string, boolean][];
  engine: UpgradeEngine;
  /** The partitions, BOOT and /tmp as the download found them. */
  before: { part1: string; part2: string; boot: string };
}

/** An AP at OLD running part2, `archive download-sw` of `url`; `answers` for the questions, `during` while the bytes stream. */
async function download(url: string, o: { answers?: string[]; ca?: string; during?: (engine: UpgradeEngine, controller: AbortController) => Promise<void> } = {}): Promise<Run> {
  const setup = engineSetup();
  await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
  const engine = await setup.boot();
  const before = { part1: fingerprint(engine.flash.partitionDir("part1")), part2: fingerprint(engine.flash.partitionDir("part2")), boot: engine.state.boot };
  let text = "";
  const log: string[] = [];
  const asked: [string, boolean][] = [];
  const answers = [...(o.answers ?? [])];
  const controller = new AbortController();
  const context: ArchiveContext = {
    engine,
    imageName: "ap1g8",
    write: (t) => (text += t),
    ask: async (prompt, secret) => {
      asked.push([prompt, secret]);
      return answers.shift() ?? "";
    },
    signal: controller.signal,
    log: createLog({ console: (l) => log.push(l.replace(/^\[\*[^\]]+\] /, "")) }),
    ...(o.ca ? { ca: o.ca } : {}),
  };
  const running = archiveDownload({ url, reload: false, overwrite: false }, context);
  await o.during?.(engine, controller);
  const { ok } = await running;
  await engine.close();
  return { ok, text, log, asked, engine, before };
}

/** The lines a successful download prints, in order, and BOOT on the standby partition. */
function expectSetUp(run: Run, shown: string): void {
  expect(run.text).toContain("Archive done.");
  expect(run.ok).toBe(true);
  const lines = run.text.split("\n");
  const at = (line: string) => lines.indexOf(line);
  expect(lines[0]).toBe(`Starting download AP image ${shown} ...`);
  expect(lines[1]).toBe("It may take a few minutes. If longer, please abort command, check network and try again.");
  expect(lines).toContain(`${"#".repeat(PROGRESS_MARKS)} 100.0%`);
  expect(at("Upgrading ...")).toBe(at(`${"#".repeat(PROGRESS_MARKS)} 100.0%`) + 1);
  expect(at("status 'upgrade.sh: Script called with args:[-c PREDOWNLOAD]'")).toBeGreaterThan(at("Upgrading ..."));
  expect(lines).toContain("status 'Image signing verify success.'");
  expect(lines).toContain("status 'activate part1, set BOOT to part1'");
  expect(lines.slice(-4)).toEqual(["Successfully setup AP image.", "Image download completed.", "Archive done.", ""]);
  expect(run.engine.state).toMatchObject({ active: "part2", boot: "part1", backup: NEW });
  expect(fingerprint(run.engine.flash.partitionDir("part2"))).toBe(run.before.part2);
  expect(readdirSync(run.engine.flash.tmpDir)).toEqual([]);
  // The upgrade.sh lines reach the AP's log too (show logging).
  expect(run.log).toContain("upgrade.sh: Using image /tmp/cli_part.tar on ap1g8 ...");
}

/** A failed download: the lines, ABORT, and nothing changed. */
function expectUntouched(run: Run): string {
  expect(run.ok).toBe(false);
  const lines = run.text.trimEnd().split("\n");
  expect(lines.at(-2)).toBe("Image download failed.");
  expect(lines).not.toContain("Successfully setup AP image.");
  expect(lines).not.toContain("Image download completed.");
  expect(run.log).toContain("upgrade.sh: Script called with args:[ABORT]");
  expect(run.engine.state).toMatchObject({ active: "part2", boot: run.before.boot });
  expect(fingerprint(run.engine.flash.partitionDir("part1"))).toBe(run.before.part1);
  expect(fingerprint(run.engine.flash.partitionDir("part2"))).toBe(run.before.part2);
  expect(readdirSync(run.engine.flash.tmpDir)).toEqual([]);
  return lines.at(-1)!;
}

/** Nothing written to the session or the log holds `secret`. */
function expectNoSecret(run: Run, secret: string): void {
  expect(run.text).not.toContain(secret);
  expect(run.log.join("\n")).not.toContain(secret);
}

/** Resolves once the download staged some bytes in /tmp/cli_part.tar. */
async function streaming(engine: UpgradeEngine): Promise<void> {
  const staged = () => statSync(engine.flash.stagedImagePath("cli"), { throwIfNoEntry: false })?.size ?? 0;
  while (staged() === 0) await sleep(5);
}

describe("archive download-sw: the image set up from each kind of server", () => {
  it("tftp:// (tftpd-hpa)", async () => {
    const url = `tftp://127.0.0.1:${tftpd.port}/ap1g8`;
    const run = await download(url);
    expectSetUp(run, url);
    expect(run.asked).toEqual([]);
  });

  it("sftp:// (sshd) without credentials: Username: then Password: (secret) asked, the password nowhere", async () => {
    const url = `sftp://127.0.0.1:${sshd.port}/ap1g8`;
    const run = await download(url, { answers: [served.user.name, served.user.password] });
    expect(run.asked).toEqual([
      ["Username: ", false],
      ["Password: ", true],
    ]);
    expectSetUp(run, url);
    expectNoSecret(run, served.user.password);
  });

  it("ftp:// (vsftpd) with the user in the URL: only Password: asked", async () => {
    const run = await download(`ftp://${served.user.name}@127.0.0.1:${vsftpd.port}/ap1g8`, { answers: [served.user.password] });
    expect(run.asked).toEqual([["Password: ", true]]);
    expectSetUp(run, `ftp://*****@127.0.0.1:${vsftpd.port}/ap1g8`);
    expectNoSecret(run, served.user.password);
  });

  it("http:// (nginx)", async () => {
    expectSetUp(await download(`http://127.0.0.1:${nginx.httpPort}/ap1g8`), `http://127.0.0.1:${nginx.httpPort}/ap1g8`);
  });

  it("https:// (nginx, its private CA given) with Basic credentials in the URL: shown as *****, asked nothing", async () => {
    const run = await download(`https://${nginx.user.name}:${nginx.user.password}@127.0.0.1:${nginx.httpsPort}/auth/ap1g8`, { ca: nginx.caPem });
    expect(run.asked).toEqual([]);
    expectSetUp(run, `https://*****@127.0.0.1:${nginx.httpsPort}/auth/ap1g8`);
    expectNoSecret(run, nginx.user.password);
  });
});

describe("archive download-sw: a failure changes nothing", () => {
  it("a tampered image: `Image download failed.`, the signature's reason, ABORT, partitions and BOOT as they were", async () => {
    const run = await download(`tftp://127.0.0.1:${tftpd.port}/tampered-ap1g8`);
    expect(run.text).toContain(`${"#".repeat(PROGRESS_MARKS)} 100.0%\nUpgrading ...\n`);
    expect(expectUntouched(run)).toMatch(/hash|sign/i);
  });

  it("a wrong sftp password: the server's refusal is the reason, the password nowhere", async () => {
    const run = await download(`sftp://127.0.0.1:${sshd.port}/ap1g8`, { answers: [served.user.name, "wrong-secret-x"] });
    expect(expectUntouched(run)).not.toBe("");
    expectNoSecret(run, "wrong-secret-x");
  });

  it("a file the server does not have: not found", async () => {
    const run = await download(`http://127.0.0.1:${nginx.httpPort}/missing`);
    expect(expectUntouched(run)).toMatch(/404/);
  });

  it("the server killed mid-transfer: the bar ends at the share reached, ABORT, /tmp clean", async () => {
    const dying = await startNginx({ "slow/ap1g8": slow });
    try {
      const run = await download(`http://127.0.0.1:${dying.httpPort}/slow/ap1g8`, { during: async (engine) => (await streaming(engine), await dying.stop()) });
      expect(run.text).toMatch(/\n#* \d+\.\d%\n/);
      expect(run.text).not.toContain("100.0%");
      expectUntouched(run);
    } finally {
      await dying.stop();
    }
  });

  it("Ctrl-C (the signal) mid-transfer: ABORT at once, nothing left", async () => {
    const run = await download(`http://127.0.0.1:${nginx.httpPort}/slow/ap1g8`, { during: async (engine, controller) => (await streaming(engine), controller.abort()) });
    expect(expectUntouched(run)).toBe("Download aborted by the operator.");
  });

  it("Ctrl-C at the Username: prompt: nothing started, nothing asked after", async () => {
    const controller = new AbortController();
    const setup = engineSetup();
    await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
    const engine = await setup.boot();
    let text = "";
    const asked: string[] = [];
    const result = await archiveDownload(
      { url: `sftp://127.0.0.1:${sshd.port}/ap1g8`, reload: false, overwrite: false },
      {
        engine,
        imageName: "ap1g8",
        write: (t) => (text += t),
        ask: (prompt) => {
          asked.push(prompt);
          controller.abort();
          return new Promise<string>(() => {});
        },
        signal: controller.signal,
        log: setup.options.log,
      },
    );
    await engine.close();
    expect(result.ok).toBe(false);
    expect(asked).toEqual(["Username: "]);
    expect(text).toBe("Image download failed.\nDownload aborted by the operator.\n");
    expect(setup.lines.filter((l) => l.includes("PRECHECK"))).toEqual([]);
  });

  it("a URL of no supported scheme: one line saying so, nothing asked, the engine untouched", async () => {
    const run = await download("gopher://user:pw-hidden@127.0.0.1/ap1g8");
    expect(run.ok).toBe(false);
    expect(run.asked).toEqual([]);
    expect(run.text).toBe(
      'Image download failed.\ncannot fetch "gopher://*****@127.0.0.1/ap1g8": gopher:// is not supported (supported: tftp://, http://, https://, sftp://, ftp://, ftpes://)\n',
    );
    expect(run.log.filter((l) => l.startsWith("upgrade.sh"))).toEqual([]);
    expectNoSecret(run, "pw-hidden");
  });
});
