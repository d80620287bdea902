/** Retransmission on real sockets: 1 % of datagrams lost each way (seeded), every file still arrives exactly. */
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { fetchTftp, startTftpServer, type TftpServer } from "../../../agent/transfer/index.js";
import { tempDir } from "../../support/temp.js";
import { content, LossyTftpRelay, RecordingSink, type RunningServer, runClient, servedDir, sha256, startTftpdHpa } from "./support.js";

const LOSS = 0.01;
const FILES = { image: content(3_000_000), small: content(300_000) };
let dir: string;
const cleanup: (() => unknown)[] = [];
beforeAll(() => {
  dir = servedDir(FILES);
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function ourServer(): Promise<TftpServer> {
  const server = await startTftpServer({ root: dir, port: 0 });
  cleanup.push(() => server.close());
  return server;
}

async function relayTo(port: number, seed: number): Promise<LossyTftpRelay> {
  const relay = await LossyTftpRelay.open(port, LOSS, seed);
  cleanup.push(() => relay.close());
  return relay;
}

describe("TFTP with 1 % loss each way", () => {
  it.each([1, 2])("vap client from vap server, window 16 (seed %i)", async (seed) => {
    const relay = await relayTo((await ourServer()).local.port, seed);
    const sink = new RecordingSink();
    const result = await fetchTftp({ host: "127.0.0.1", port: relay.port, path: "image" }, sink, { timeoutMs: 100 });
    expect(result.options.windowSize).toBe(16);
    expect(sink.sha256).toBe(sha256(FILES.image));
    expect(relay.dropped).toBeGreaterThan(0);
  });

  it("atftp client from vap server, window 16", async () => {
    const relay = await relayTo((await ourServer()).local.port, 3);
    const local = join(tempDir("tftp-loss"), "small");
    const run = await runClient("atftp", ["--option", "blksize 1468", "--option", "windowsize 16", "-g", "-r", "small", "-l", local, "127.0.0.1", String(relay.port)]);
    expect(run.code, run.output).toBe(0);
    expect(sha256(readFileSync(local))).toBe(sha256(FILES.small));
    expect(relay.dropped).toBeGreaterThan(0);
  });

  it("vap client from tftpd-hpa, lock-step", async () => {
    const hpa: RunningServer = await startTftpdHpa(dir);
    cleanup.push(() => hpa.stop());
    const relay = await relayTo(hpa.port, 4);
    const sink = new RecordingSink();
    await fetchTftp({ host: "127.0.0.1", port: relay.port, path: "small" }, sink, { timeoutMs: 100 });
    expect(sink.sha256).toBe(sha256(FILES.small));
    expect(relay.dropped).toBeGreaterThan(0);
  });
});
