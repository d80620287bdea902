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
import { type ClientRun, content, runClient, servedDir, sha256 } from "./support.js";

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

interface PeerClient {
  /** Files it fetches; "rollover8" at blksize 8. */
  files: Name[];
  get(name: Name | "nope", local: string): Promise<ClientRun>;
  /** How it reports ERROR 1. */
  notFound: (run: ClientRun) => boolean;
}

const blksizeFor = (name: string, normal: number) => (name === "rollover8" ? 8 : normal);
const port = () => String(server.local.port);

const CLIENTS: Record<string, PeerClient> = {
  // tftp-hpa asks for no options: 512-byte lock-step, so its rollover file is 32 MiB.
  "tftp-hpa": {
    files: ["small", "exact512", "empty", "rollover512"],
    get: (name, local) => runClient("tftp", ["-m", "binary", "127.0.0.1", port(), "-c", "get", name, local]),
    notFound: (run) => /Error code 1: File not found/.test(run.output),
  },
  "atftp (blksize 1468, windowsize 16)": {
    files: ["small", "exact1468", "empty", "rollover8"],
    get: (name, local) =>
      runClient("atftp", ["--option", `blksize ${blksizeFor(name, 1468)}`, "--option", "windowsize 16", "--option", "tsize 0", "-g", "-r", name, "-l", local, "127.0.0.1", port()]),
    notFound: (run) => run.code !== 0 && /File not found/.test(run.output),
  },
  // Not "empty": curl 7.88 fails every 0-byte download (exit 71, getpeername), from tftpd-hpa and atftpd too;
  // the two clients above prove the empty file.
  curl: {
    files: ["small", "exact512", "rollover8"],
    get: (name, local) => runClient("curl", ["-sS", "--tftp-blksize", String(blksizeFor(name, 512)), "-o", local, `tftp://127.0.0.1:${port()}/${name}`]),
    notFound: (run) => run.code === 68,
  },
};

describe.each(Object.entries(CLIENTS))("vap tftp server with the %s client", (_client, c) => {
  it.each(c.files)("serves %s byte for byte, logging the transfer's start and end", async (name) => {
    await serve();
    const local = join(out(), name);
    const run = await c.get(name, local);
    expect(run.output).not.toMatch(/Error|timed out/);
    expectSame(local, name);
    expect(lines.some((l) => l.includes(`TFTP: RRQ ${name} from 127.0.0.1:`))).toBe(true);
    expect(lines.some((l) => l.includes(`TFTP: sent ${name} to 127.0.0.1:`) && l.includes(`${FILES[name].length} bytes in`))).toBe(true);
  });

  it("answers a missing file with ERROR 1", async () => {
    await serve();
    expect(c.notFound(await c.get("nope", join(out(), "x")))).toBe(true);
  });
});

describe("vap tftp server, several clients", () => {
  it("grants atftp blksize 1468 and windowsize 16", async () => {
    await serve();
    const run = await CLIENTS["atftp (blksize 1468, windowsize 16)"]!.get("exact1468", join(out(), "x"));
    expect(run.code, run.output).toBe(0);
    expect(lines.find((l) => l.includes("TFTP: sent"))).toContain("blksize 1468, windowsize 16");
  });

  it("serves three clients at once on one event loop", async () => {
    await serve();
    const runs = await Promise.all((["small", "exact512", "rollover8"] as Name[]).map((name) => CLIENTS.curl!.get(name, join(out(), name))));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(lines.filter((l) => l.includes("TFTP: sent"))).toHaveLength(3);
  });
});
