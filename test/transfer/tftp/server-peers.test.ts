/**
 * vap's TFTP server checked by the real clients an operator would use:
 * tftp-hpa, atftp (with blksize and windowsize) and curl.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLog } from "../../../agent/core/index.js";
import { startTftpServer, type TftpServer } from "../../../agent/transfer/index.js";
import { tempDir } from "../../support/temp.js";
import { content, runClient, servedDir, sha256 } from "./support.js";

/** 65,536 blocks and a bit: block numbers wrap. */
const ROLLOVER_AT_512 = 512 * 65_536 + 100;
const ROLLOVER_AT_8 = 8 * 65_536 + 5;

const FILES = {
  small: content(1000),
  exact512: content(512 * 8),
  exact1468: content(1468 * 16),
  empty: new Uint8Array(),
  rollover8: content(ROLLOVER_AT_8),
  rollover512: content(ROLLOVER_AT_512),
};
type Name = keyof typeof FILES;

let dir: string;
let server: TftpServer;
let lines: string[];
const out = () => tempDir("tftp-got");

beforeAll(() => {
  dir = servedDir(FILES);
});

async function serve(): Promise<TftpServer> {
  lines = [];
  server = await startTftpServer({ root: dir, port: 0, log: createLog({ console: (l) => lines.push(l) }) });
  return server;
}

afterEach(async () => {
  await server?.close();
});

function expectSame(local: string, name: Name): void {
  expect(sha256(readFileSync(local))).toBe(sha256(FILES[name]));
}

describe("vap tftp server with the tftp-hpa client", () => {
  const get = async (name: string, local: string) => runClient("tftp", ["-m", "binary", "127.0.0.1", String(server.local.port), "-c", "get", name, local]);

  it.each(["small", "exact512", "empty", "rollover512"] as Name[])("serves %s byte for byte", async (name) => {
    await serve();
    const local = join(out(), name);
    const run = await get(name, local);
    expect(run.output).not.toMatch(/Error|Transfer timed out/);
    expectSame(local, name);
    expect(lines.some((l) => l.includes(`TFTP: RRQ ${name} from 127.0.0.1:`))).toBe(true);
    expect(lines.some((l) => l.includes(`TFTP: sent ${name} to 127.0.0.1:`) && l.includes(`${FILES[name].length} bytes in`))).toBe(true);
  });

  it("answers a missing file with ERROR 1", async () => {
    await serve();
    expect((await get("ap1g8", join(out(), "x"))).output).toMatch(/Error code 1: File not found/);
  });
});

describe("vap tftp server with the atftp client (blksize 1468, windowsize 16)", () => {
  const get = (name: string, local: string, blksize = 1468) =>
    runClient("atftp", ["--option", `blksize ${blksize}`, "--option", "windowsize 16", "--option", "tsize 0", "-g", "-r", name, "-l", local, "127.0.0.1", String(server.local.port)]);

  it.each(["small", "exact1468", "empty"] as Name[])("serves %s byte for byte", async (name) => {
    await serve();
    const local = join(out(), name);
    const run = await get(name, local);
    expect(run.code, run.output).toBe(0);
    expectSame(local, name);
    expect(lines.find((l) => l.includes("TFTP: sent"))).toContain("blksize 1468, windowsize 16");
  });

  it("rolls block numbers over past 65535 at blksize 8", async () => {
    await serve();
    const local = join(out(), "r");
    const run = await get("rollover8", local, 8);
    expect(run.code, run.output).toBe(0);
    expectSame(local, "rollover8");
  });

  it("answers a missing file with ERROR 1", async () => {
    await serve();
    const run = await get("nope", join(out(), "x"));
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/File not found/);
  });
});

describe("vap tftp server with curl tftp://", () => {
  const get = (name: string, local: string, blksize?: number) =>
    runClient("curl", ["-sS", ...(blksize ? ["--tftp-blksize", String(blksize)] : []), "-o", local, `tftp://127.0.0.1:${server.local.port}/${name}`]);

  // Not "empty": curl 7.88 fails every 0-byte download (exit 71, getpeername), from tftpd-hpa and atftpd too;
  // the two clients above prove the empty file.
  it.each(["small", "exact512"] as Name[])("serves %s byte for byte", async (name) => {
    await serve();
    const local = join(out(), name);
    const run = await get(name, local);
    expect(run.code, run.output).toBe(0);
    expectSame(local, name);
  });

  it("rolls block numbers over past 65535 at blksize 8", async () => {
    await serve();
    const local = join(out(), "r");
    const run = await get("rollover8", local, 8);
    expect(run.code, run.output).toBe(0);
    expectSame(local, "rollover8");
  });

  it("answers a missing file with ERROR 1 (curl exits 68)", async () => {
    await serve();
    const run = await get("nope", join(out(), "x"));
    expect(run.code).toBe(68);
  });

  it("serves three clients at once on one event loop", async () => {
    await serve();
    const runs = await Promise.all(["small", "exact512", "rollover8"].map((name) => get(name, join(out(), name), 8)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(lines.filter((l) => l.includes("TFTP: sent"))).toHaveLength(3);
  });
});
