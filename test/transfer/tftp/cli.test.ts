/** `vap tftp serve` and `vap fetch` as an operator types them. */
import { createHash } from "node:crypto";
import { createSocket } from "node:dgram";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../../cli/main.js";
import { DALLY_WAITS, DEFAULT_TIMEOUT_MS } from "../../../agent/transfer/tftp/limits.js";
import { spawnVap, vap } from "../../support/cli.js";
import { tempDir } from "../../support/temp.js";
import { content, runClient, servedDir, sha256, sleep } from "./support.js";

const IMAGE = content(200_000);

/** `vap tftp serve DIR --port 0` in this process until the returned stop(); its port read from its first log line. */
async function serveCommand(dir: string, ...flags: string[]) {
  const abort = new AbortController();
  let out = "";
  const exit = main(["tftp", "serve", dir, "--address", "127.0.0.1", "--port", "0", ...flags], { stdout: (t) => (out += t), stderr: (t) => (out += t), signal: abort.signal });
  while (!/on 127\.0\.0\.1:(\d+)/.test(out)) await sleep(5);
  const port = Number(/on 127\.0\.0\.1:(\d+)/.exec(out)![1]);
  return {
    port,
    output: () => out,
    async stop() {
      abort.abort();
      return exit;
    },
  };
}

describe("vap tftp serve", () => {
  it("serves until stopped, one log line per transfer at start and at end", async () => {
    const server = await serveCommand(servedDir({ ap1g8: IMAGE }));
    const local = join(tempDir("tftp-cli"), "ap1g8");
    const run = await runClient("atftp", ["--option", "blksize 1468", "--option", "windowsize 16", "-g", "-r", "ap1g8", "-l", local, "127.0.0.1", String(server.port)]);
    expect(run.code, run.output).toBe(0);
    expect(await server.stop()).toBe(0);
    expect(sha256(readFileSync(local))).toBe(sha256(IMAGE));
    const lines = server.output().trim().split("\n");
    expect(lines[0]).toMatch(/^\[\*\d\d\/\d\d\/\d{4} [\d:.]+\] TFTP: serving .* on 127\.0\.0\.1:\d+ \(at most 64 transfers\)$/);
    expect(lines[1]).toMatch(/TFTP: RRQ ap1g8 from 127\.0\.0\.1:\d+, 200000 bytes \(blksize 1468, windowsize 16, timeout 1 s\)$/);
    expect(lines[2]).toMatch(/TFTP: sent ap1g8 to 127\.0\.0\.1:\d+, 200000 bytes in \d+\.\d\d s \(blksize 1468, windowsize 16, timeout 1 s\)$/);
  });

  it("a port already taken is one line and exit status 2", async () => {
    const taken = createSocket("udp4");
    await new Promise<void>((resolve) => taken.bind(0, "127.0.0.1", resolve));
    try {
      const r = await vap("tftp", "serve", servedDir({}), "--address", "127.0.0.1", "--port", String(taken.address().port));
      expect(r.code).toBe(2);
      expect(r.err).toBe(`vap tftp serve: cannot listen on 127.0.0.1:${taken.address().port} (EADDRINUSE)\n`);
    } finally {
      taken.close();
    }
  });

  it("a directory that is not there, or bad flags, are one line and exit status 2", async () => {
    const missing = await vap("tftp", "serve", "/no/such/dir", "--port", "0");
    expect([missing.code, missing.err]).toEqual([2, "vap tftp serve: cannot serve /no/such/dir (ENOENT)\n"]);
    const flags = await vap("tftp", "serve", servedDir({}), "--max-transfers", "0");
    expect([flags.code, flags.err]).toEqual([2, 'vap tftp serve: --max-transfers: expected a whole number from 1 up, got "0"\n']);
  });
});

describe("vap fetch", () => {
  it("writes FILE from a tftp:// URL, through FILE.part", async () => {
    const server = await serveCommand(servedDir({ ap1g8: IMAGE }));
    const file = join(tempDir("tftp-cli"), "image");
    const r = await vap("fetch", `tftp://127.0.0.1:${server.port}/ap1g8`, file);
    await server.stop();
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`^fetch: tftp://127.0.0.1:${server.port}/ap1g8 -> ${file}, 200000 bytes in \\d+\\.\\d\\d s\\n$`));
    expect(sha256(readFileSync(file))).toBe(sha256(IMAGE));
    expect(existsSync(`${file}.part`)).toBe(false);
  });

  it("as its own process, exits once FILE is in place: the dally after the final ACK does not hold it", async () => {
    const server = await serveCommand(servedDir({ ap1g8: IMAGE }));
    const file = join(tempDir("tftp-cli"), "image");
    const started = Date.now();
    const fetch = spawnVap(["fetch", `tftp://127.0.0.1:${server.port}/ap1g8`, file]);
    const { code } = await fetch.exited;
    const elapsed = Date.now() - started;
    await server.stop();
    expect(code, fetch.out).toBe(0);
    expect(sha256(readFileSync(file))).toBe(sha256(IMAGE));
    // The dally alone would take DALLY_WAITS × the 1 s wait (8 s) before the socket closed.
    expect(elapsed).toBeLessThan(DALLY_WAITS * DEFAULT_TIMEOUT_MS);
  });

  it("a missing file: one line, exit status 1, no FILE and no FILE.part left", async () => {
    const server = await serveCommand(servedDir({}));
    const file = join(tempDir("tftp-cli"), "image");
    const r = await vap("fetch", `tftp://127.0.0.1:${server.port}/ap1g8`, file);
    await server.stop();
    expect([r.code, r.err]).toEqual([1, "vap fetch: tftp ap1g8: ap1g8: File not found\n"]);
    expect(existsSync(file) || existsSync(`${file}.part`)).toBe(false);
  });

  it.each([
    ["scp://host/ap1g8", 'vap fetch: cannot fetch "scp://host/ap1g8": scp:// is not supported (supported: tftp://, http://, https://, sftp://, ftp://, ftpes://)\n'],
    ["ftps://user:secret@host/ap1g8", 'vap fetch: cannot fetch "ftps://*****@host/ap1g8": ftps:// is not supported (supported: tftp://, http://, https://, sftp://, ftp://, ftpes://)\n'],
    ["ap1g8", 'vap fetch: cannot fetch "ap1g8": not a URL (supported: tftp://, http://, https://, sftp://, ftp://, ftpes://)\n'],
    ["tftp://host/", 'vap fetch: "tftp://host/" is not tftp://host[:port]/path\n'],
  ])("refuses %s in one line with exit status 2", async (url, err) => {
    const r = await vap("fetch", url, join(tempDir("tftp-cli"), "x"));
    expect([r.code, r.err]).toEqual([2, err]);
  });

  it("wants exactly URL and FILE", async () => {
    const r = await vap("fetch", "tftp://h/x");
    expect([r.code, r.err]).toEqual([2, "vap fetch: usage: vap fetch URL FILE [--ca FILE] [--identity FILE] [--known-hosts FILE] [--size BYTES] [--md5 HEX | --sha256 HEX]\n"]);
  });

  it("--size and --sha256 that match: FILE written", async () => {
    const server = await serveCommand(servedDir({ ap1g8: IMAGE }));
    const file = join(tempDir("tftp-cli"), "image");
    const r = await vap("fetch", `tftp://127.0.0.1:${server.port}/ap1g8`, file, "--size", String(IMAGE.length), "--sha256", sha256(IMAGE).toUpperCase());
    await server.stop();
    expect(r.code, r.err).toBe(0);
    expect(sha256(readFileSync(file))).toBe(sha256(IMAGE));
  });

  it("a digest or size that does not match: one line naming both, exit status 1, no FILE and no FILE.part", async () => {
    const server = await serveCommand(servedDir({ ap1g8: IMAGE }));
    const file = join(tempDir("tftp-cli"), "image");
    const wrong = "ab".repeat(16);
    const md5 = await vap("fetch", `tftp://127.0.0.1:${server.port}/ap1g8`, file, "--md5", wrong);
    const size = await vap("fetch", `tftp://127.0.0.1:${server.port}/ap1g8`, file, "--size", "1000");
    await server.stop();
    expect([md5.code, md5.err]).toEqual([1, `vap fetch: ap1g8: MD5 mismatch: expected ${wrong}, got ${createHash("md5").update(IMAGE).digest("hex")}\n`]);
    expect([size.code, size.err]).toEqual([1, `vap fetch: ap1g8: is ${IMAGE.length} bytes, expected 1000\n`]);
    expect(existsSync(file) || existsSync(`${file}.part`)).toBe(false);
  });

  it.each([
    [["--md5", "xyz"], 'vap fetch: --md5: "xyz" is not an MD5 digest (32 hex digits)\n'],
    [["--md5", "ab".repeat(16), "--sha256", "ab".repeat(32)], "vap fetch: give one of --md5, --sha256\n"],
    [["--size", "12x"], 'vap fetch: --size "12x" is not a number of bytes\n'],
  ])("%j is one line and exit status 2", async (flags, err) => {
    const r = await vap("fetch", "tftp://127.0.0.1/ap1g8", join(tempDir("tftp-cli"), "x"), ...flags);
    expect([r.code, r.err]).toEqual([2, err]);
  });
});
