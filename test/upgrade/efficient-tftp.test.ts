/**
 * Efficient image upgrade on real UDP, two APs' worth of pieces: a primary
 * keeps the signed image it predownloads and serves it over TFTP (at most
 * three at a time, measured by its server); a subordinate fetches it with
 * the TFTP source into its own upgrade engine's PREDOWNLOAD (signature
 * checked) — and refuses a tampered one.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PrimaryImageServer } from "../../agent/ap/index.js";
import { profiles } from "../../agent/capwap/profiles/index.js";
import type { DownloadHost, ImageDownload, ImageSourceFailure, ImageSourceResult } from "../../agent/capwap/wtp/index.js";
import { systemClock } from "../../agent/core/index.js";
import type { Endpoint } from "../../agent/net/index.js";
import { fetchTftp, PRIMARY_MAX_TRANSFERS, primaryImageSource, startTftpServer, TftpError, type TftpServer } from "../../agent/transfer/index.js";
import { UpgradeEngine } from "../../agent/upgrade/index.js";
import { RecordingSink, servedDir, sha256, sleep } from "../transfer/tftp/support.js";
import { type EngineSetup, engineSetup, fingerprint, image, NEW, OLD } from "./support.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An AP's flash running OLD, with its engine booted (closed after the test). */
async function ap(): Promise<{ setup: EngineSetup; engine: UpgradeEngine }> {
  const setup = engineSetup();
  await UpgradeEngine.provision(setup.options, (await image("ap1g8", OLD)).path);
  const engine = await setup.boot();
  cleanups.push(() => engine.close());
  return { setup, engine };
}

async function serve(o: Parameters<typeof startTftpServer>[0]): Promise<TftpServer> {
  const server = await startTftpServer(o);
  cleanups.push(() => server.close());
  return server;
}

type Outcome = { finished: ImageSourceResult } | { failed: ImageSourceFailure; message: string };

/** A subordinate's try at `primary`, as the WTP starts it: the TFTP source into the engine's predownload sink. */
function tryPrimary(subordinate: { setup: EngineSetup; engine: UpgradeEngine }, primary: Endpoint): Promise<Outcome> {
  const starter = primaryImageSource({ imageName: "ap1g8", sink: (d) => subordinate.engine.downloadSink(d.mode), clock: systemClock });
  const download: ImageDownload = { mode: "predownload", version: NEW, controllerAddress: "10.0.0.1", window: 1, efficient: { role: "subordinate", primary } };
  return new Promise((resolve) => {
    const host: DownloadHost = {
      session: { profile: profiles.cisco, log: subordinate.setup.options.log, request: () => Promise.reject(new Error("no CAPWAP here")), respond: () => {}, onImageData: () => {} },
      started: () => {},
      finished: (finished) => resolve({ finished }),
      failed: (failed, message) => resolve({ failed, message }),
    };
    starter.start(download, host);
  });
}

describe("efficient image upgrade over real UDP", () => {
  it("a primary keeps the image it predownloads and serves it; a subordinate gets it over TFTP into PREDOWNLOAD", async () => {
    const built = await image("ap1g8", NEW, 512 * 1024);
    // The controller's side of the primary's download (CAPWAP or HTTPS on a real AP) stands in as a TFTP server here: the sink is what counts.
    const controller = await serve({ root: servedDir({ ap1g8: readFileSync(built.path) }), port: 0 });
    const primary = await ap();
    const server = new PrimaryImageServer({ dir: join(primary.setup.options.stateDir, "primary"), imageName: "ap1g8", port: 0, log: primary.setup.options.log });
    cleanups.push(() => server.close());
    const installed = await fetchTftp({ host: "127.0.0.1", port: controller.local.port, path: "ap1g8" }, server.keeping(primary.engine.downloadSink("predownload")));
    expect(installed.version).toBe(NEW);
    expect(primary.engine.pending?.version).toBe(NEW);
    expect(sha256(readFileSync(join(primary.setup.options.stateDir, "primary", "ap1g8")))).toBe(sha256(readFileSync(built.path)));

    const at = await server.serve("127.0.0.1");
    expect(at.address).toBe("127.0.0.1");
    expect(primary.setup.lines).toContain(`Efficient image upgrade: serving ap1g8 to subordinate APs over TFTP on 127.0.0.1:${at.port} (at most 3 at a time)`);

    const subordinate = await ap();
    const outcome = await tryPrimary(subordinate, at);
    expect(outcome).toEqual({ finished: { reboot: false, version: NEW } });
    expect(subordinate.engine.pending?.version).toBe(NEW);
    expect(subordinate.engine.state).toMatchObject({ running: OLD, backup: NEW });
    expect(subordinate.setup.lines).toContain(`Image Data Request sent to 127.0.0.1:${at.port}, fileName [ap1g8], replicaStatus 1`);
    expect(subordinate.setup.lines.some((l) => l.startsWith(`Efficient image upgrade: ap1g8 ${NEW} from primary 127.0.0.1:${at.port} in `))).toBe(true);
    expect(server.status).toMatchObject({ local: at, activeTransfers: 0, peakTransfers: 1 });

    await server.close();
    expect(server.status).toBeUndefined();
  });

  it("a tampered image on the primary is refused by the subordinate's signature check: a verification failure, its flash untouched", async () => {
    const bytes = new Uint8Array(readFileSync((await image("ap1g8", NEW)).path));
    bytes[bytes.length >> 1]! ^= 0xff;
    const dir = servedDir({});
    writeFileSync(join(dir, "ap1g8"), bytes);
    const primary = await serve({ root: dir, port: 0, maxTransfers: PRIMARY_MAX_TRANSFERS });
    const subordinate = await ap();
    const active = subordinate.engine.flash.partitionDir(subordinate.engine.state.active);
    const before = fingerprint(active);
    const outcome = await tryPrimary(subordinate, primary.local);
    expect(outcome).toMatchObject({ failed: expect.stringMatching(/^(sink|integrity)$/) });
    expect(subordinate.engine.pending).toBeUndefined();
    expect(subordinate.engine.state).toMatchObject({ running: OLD, backup: "0.0.0.0" });
    expect(fingerprint(active)).toBe(before);
  });

  it("five subordinates at once: the primary runs at most three transfers (measured by its server), the others are told busy and may retry", async () => {
    const built = await image("ap1g8", NEW, 1024 * 1024);
    const primary = await serve({ root: servedDir({ ap1g8: readFileSync(built.path) }), port: 0, maxTransfers: PRIMARY_MAX_TRANSFERS });
    const target = { host: "127.0.0.1", port: primary.local.port, path: "ap1g8" };
    const fifthAp = await ap();
    // Slow sinks keep the three transfers open while the others ask.
    const sinks = [0, 1, 2].map(() => new RecordingSink(3));
    const running = sinks.map((sink) => fetchTftp(target, sink));
    while (primary.activeTransfers < PRIMARY_MAX_TRANSFERS) await sleep(5);
    const fourth = await fetchTftp(target, new RecordingSink()).then(
      () => "served",
      (err: unknown) => (err instanceof TftpError ? `${err.reason}: ${err.message}` : String(err)),
    );
    expect(fourth).toMatch(/^refused: .*server busy \(3 transfers\)/);
    const fifth = await tryPrimary(fifthAp, primary.local);
    expect(primary.activeTransfers).toBe(PRIMARY_MAX_TRANSFERS);
    expect(fifth).toMatchObject({ failed: "refused", message: expect.stringContaining("server busy") });
    await Promise.all(running);
    for (const sink of sinks) expect(sink.sha256).toBe(sha256(readFileSync(built.path)));
    // A client is done once it sent its last ACK; the server's transfer ends when that ACK arrives.
    while (primary.activeTransfers > 0) await sleep(5);
    expect(primary.peakTransfers).toBe(PRIMARY_MAX_TRANSFERS);
  });
});
