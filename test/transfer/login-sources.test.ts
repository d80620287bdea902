/**
 * The sources that log in to a file server, one suite for each: SFTP against
 * OpenSSH sshd (internal-sftp, chroot), FTP and FTPS (explicit TLS,
 * ftpes://) against vsftpd — all real, on loopback, serving the same files
 * to the same freshly made user.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchFtp, fetchSftp, fileSink, type FileDownloadResult, ImageSourceError, imageSourceFor, type ImageSink } from "../../agent/transfer/index.js";
import { type RunningFileServer, type ServedFiles, servedFiles, startSshd, stopFileServers, startVsftpd } from "../support/file-servers.js";
import { removeLoginUsers } from "../support/login-user.js";
import { escaped, freeTcpPort } from "../support/loopback.js";
import { rejectionOf } from "../support/rejection.js";
import { stallingServer } from "../support/stalling-server.js";
import { tempDir } from "../support/temp.js";
import { content, RecordingSink, sha256, sleep } from "./tftp/support.js";

const SMALL = content(10_000);
const BIG = content(8 * 1024 * 1024 + 123);

interface Row {
  scheme: "sftp" | "ftp" | "ftpes";
  start(served: ServedFiles): Promise<RunningFileServer & { caPem?: string }>;
  fetch(url: string, sink: ImageSink, o: { signal?: AbortSignal; timeoutMs?: number; ca?: string }): Promise<FileDownloadResult>;
}

const ROWS: Row[] = [
  { scheme: "sftp", start: startSshd, fetch: (url, sink, { ca: _ca, ...o }) => fetchSftp(url, sink, o) },
  { scheme: "ftp", start: startVsftpd, fetch: (url, sink, { ca: _ca, ...o }) => fetchFtp(url, sink, o) },
  { scheme: "ftpes", start: startVsftpd, fetch: fetchFtp },
];

let served: ServedFiles;
beforeAll(async () => {
  served = await servedFiles({ "small.bin": SMALL, "empty.bin": new Uint8Array(0), "big.bin": BIG, ap1g8: SMALL });
});
afterAll(async () => {
  await stopFileServers();
  await removeLoginUsers();
});

const failureOf = (p: Promise<unknown>) => rejectionOf(p, ImageSourceError);

/** Wait until `ready()` — or until `fetching` settled early, which the test's assertions then judge. */
async function until(fetching: Promise<unknown>, ready: () => boolean): Promise<void> {
  let settled = false;
  fetching.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!ready() && !settled) await sleep(5);
}

/** `sink`, slowed by `delayMs` a write, counting what it took. */
function slowed(sink: ImageSink, delayMs: number): ImageSink & { bytes: number } {
  const counted = {
    bytes: 0,
    begin: sink.begin.bind(sink),
    async write(chunk: Uint8Array) {
      await sleep(delayMs);
      await sink.write(chunk);
      counted.bytes += chunk.length;
    },
    finish: sink.finish.bind(sink),
    abort: sink.abort.bind(sink),
  };
  return counted;
}

describe.each(ROWS)("$scheme://", (row) => {
  let server: RunningFileServer & { caPem?: string };
  let base: string;
  let shown: string;
  /** The row's options: FTPS trusts the server's private CA. */
  let o: { ca?: string };

  beforeAll(async () => {
    server = await row.start(served);
    base = `${row.scheme}://${served.user.name}:${encodeURIComponent(served.user.password)}@127.0.0.1:${server.port}`;
    shown = `${row.scheme}://*****@127.0.0.1:${server.port}`;
    o = row.scheme === "ftpes" ? { ca: server.caPem! } : {};
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("a small file arrives byte-exact, its size announced to the sink first", async () => {
    const sink = new RecordingSink();
    const result = await row.fetch(`${base}/small.bin`, sink, o);
    expect(result.bytes).toBe(SMALL.length);
    expect(sink.began).toEqual({ name: "small.bin", size: SMALL.length });
    expect(sink.sha256).toBe(sha256(SMALL));
    expect(sink.calls).toEqual(["begin", "finish"]);
  });

  it("a 0-byte file is begun and finished with nothing written", async () => {
    const sink = new RecordingSink();
    const result = await row.fetch(`${base}/empty.bin`, sink, o);
    expect(result.bytes).toBe(0);
    expect(sink.began).toEqual({ name: "empty.bin", size: 0 });
    expect(sink.calls).toEqual(["begin", "finish"]);
  });

  it("a multi-MB file arrives byte-exact into a slow sink, one write at a time", async () => {
    const sink = new RecordingSink(1);
    const result = await row.fetch(`${base}/big.bin`, sink, o);
    expect(result.bytes).toBe(BIG.length);
    expect(sink.sha256).toBe(sha256(BIG));
    expect(sink.maxWriting).toBe(1);
  });

  it("into a file: byte-exact, no .part left", async () => {
    const file = join(tempDir(row.scheme), "big.bin");
    await row.fetch(`${base}/big.bin`, fileSink(file), o);
    expect(sha256(readFileSync(file))).toBe(sha256(BIG));
    expect(existsSync(`${file}.part`)).toBe(false);
  });

  it("a missing file is not-found, and the sink is aborted", async () => {
    const sink = new RecordingSink();
    const err = await failureOf(row.fetch(`${base}/nothing.bin`, sink, o));
    expect(err.reason).toBe("not-found");
    expect(err.message).toMatch(new RegExp(`^${escaped(shown)}/nothing\\.bin: [^\\n]+$`));
    expect(sink.calls).toEqual([`abort: ${err.message.slice(shown.length + "/nothing.bin: ".length)}`]);
  });

  it("a wrong password is auth, and no password is in the message", async () => {
    const err = await failureOf(row.fetch(`${row.scheme}://${served.user.name}:wrong-pw@127.0.0.1:${server.port}/small.bin`, new RecordingSink(), o));
    expect(err.reason).toBe("auth");
    expect(err.message).toMatch(new RegExp(`^${escaped(shown)}/small\\.bin: authentication failed [^\\n]+$`));
    expect(err.message).not.toMatch(/wrong-pw/);
    expect(err.message).not.toContain(served.user.password);
  });

  it("a closed port is a network failure naming ECONNREFUSED", async () => {
    const port = await freeTcpPort();
    const err = await failureOf(row.fetch(`${row.scheme}://u:p@127.0.0.1:${port}/x`, new RecordingSink(), o));
    expect(err.reason).toBe("network");
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it("a server that never answers is a timeout", async () => {
    const silent = await stallingServer();
    try {
      const started = Date.now();
      const err = await failureOf(row.fetch(`${row.scheme}://u:p@127.0.0.1:${silent.port}/x`, new RecordingSink(), { ...o, timeoutMs: 300 }));
      expect(err.reason).toBe("timeout");
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await silent.close();
    }
  });

  it("a sink that holds a chunk longer than the timeout is not a silent server", async () => {
    // Its first write takes longer than the timeout, with most of the file still to come.
    const sink = new (class extends RecordingSink {
      override async write(chunk: Uint8Array) {
        if (this.bytes === 0) await sleep(1_000);
        return super.write(chunk);
      }
    })();
    await row.fetch(`${base}/big.bin`, sink, { ...o, timeoutMs: 500 });
    expect(sink.sha256).toBe(sha256(BIG));
  });

  it("cancelling closes the connection and fails as aborted", async () => {
    const controller = new AbortController();
    const sink = new RecordingSink(5);
    const fetching = row.fetch(`${base}/big.bin`, sink, { ...o, signal: controller.signal });
    await until(fetching, () => sink.bytes >= 256 * 1024);
    controller.abort();
    const err = await failureOf(fetching);
    expect([err.reason, err.message]).toEqual(["aborted", `${shown}/big.bin: download cancelled`]);
  });

  it("the server killed mid-transfer: truncated N of M bytes, the .part removed and no file left", async () => {
    const victim = await row.start(served);
    try {
      const file = join(tempDir(row.scheme), "big.bin");
      const sink = slowed(fileSink(file), 2);
      const url = `${row.scheme}://${served.user.name}:${encodeURIComponent(served.user.password)}@127.0.0.1:${victim.port}/big.bin`;
      const fetching = row.fetch(url, sink, { ...(victim.caPem === undefined ? {} : { ca: victim.caPem }), timeoutMs: 5_000 });
      await until(fetching, () => sink.bytes >= 1024 * 1024);
      await victim.stop();
      const err = await failureOf(fetching);
      expect(err.reason).toBe("integrity");
      expect(err.message).toMatch(new RegExp(`/big\\.bin: truncated: \\d+ of ${BIG.length} bytes`));
      expect(existsSync(file) || existsSync(`${file}.part`)).toBe(false);
    } finally {
      await victim.stop();
    }
  });

  it("imageSourceFor(a server directory) fetches the request's name from it", async () => {
    const sink = new RecordingSink();
    await imageSourceFor(`${base}/`, o).fetch({ name: "ap1g8" }, sink, { signal: new AbortController().signal });
    expect(sink.sha256).toBe(sha256(SMALL));
    expect(sink.began?.name).toBe("ap1g8");
  });
});
