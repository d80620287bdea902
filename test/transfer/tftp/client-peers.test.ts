/** vap's TFTP client against real servers: tftpd-hpa (no windowsize) and atftpd (RFC 7440 windows). */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLog } from "../../../agent/core/index.js";
import { fetchTftp, type OptionRequest, startTftpServer, TftpError } from "../../../agent/transfer/index.js";
import { content, RecordingSink, type RunningServer, servedDir, sha256, sleep, startAtftpd, startTftpdHpa } from "./support.js";
import { rejectionOf } from "../../support/rejection.js";
import { SINK_WRITE_BYTES } from "../../../agent/transfer/tftp/limits.js";

const FILES = {
  small: content(1000),
  exact512: content(512 * 8),
  exact1468: content(1468 * 16),
  empty: new Uint8Array(),
  rollover: content(512 * 65_536 + 100),
  big: content(8 * 1024 * 1024),
};
type Name = keyof typeof FILES;

let dir: string;
const running: RunningServer[] = [];
beforeAll(() => {
  dir = servedDir(FILES);
});
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

const servers = {
  "tftpd-hpa": (extra?: string[]) => startTftpdHpa(dir, extra),
  atftpd: (extra?: string[]) => startAtftpd(dir, extra),
};

async function start(kind: keyof typeof servers, extra?: string[]): Promise<RunningServer> {
  const s = await servers[kind](extra);
  running.push(s);
  return s;
}

async function fetchFrom(server: RunningServer, name: string, options?: OptionRequest, sink = new RecordingSink()) {
  const result = await fetchTftp({ host: "127.0.0.1", port: server.port, path: name, options }, sink);
  return { result, sink };
}

/** The failure a fetch ends with (it must fail). */
const failure = (promise: Promise<unknown>) => rejectionOf(promise, TftpError);

describe.each(Object.keys(servers) as (keyof typeof servers)[])("vap TFTP client against %s", (kind) => {
  it.each(["small", "exact512", "exact1468", "empty", "big"] as Name[])("fetches %s byte for byte into the sink", async (name) => {
    const server = await start(kind);
    const { result, sink } = await fetchFrom(server, name);
    expect(sink.sha256).toBe(sha256(FILES[name]));
    expect(result.bytes).toBe(FILES[name].length);
    expect(sink.began).toEqual({ name, size: FILES[name].length });
    expect(sink.calls).toEqual(["begin", "finish"]);
    expect(sink.maxWriting).toBe(1);
  });

  it("gathers blocks into sink writes of SINK_WRITE_BYTES, not one write per datagram", async () => {
    const server = await start(kind);
    const { sink } = await fetchFrom(server, "big");
    const [last, ...full] = [...sink.writeSizes].reverse();
    expect(sink.writeSizes.length).toBeLessThanOrEqual(Math.ceil(FILES.big.length / SINK_WRITE_BYTES));
    expect(full.every((size) => size >= SINK_WRITE_BYTES)).toBe(true);
    expect(last).toBeGreaterThan(0);
    // Each write's buffer is filled again once the sink took it: two serve the whole 8 MB, one filling while the other is written.
    expect(sink.chunkBuffers.size).toBeLessThanOrEqual(2);
    expect(sink.sha256).toBe(sha256(FILES.big));
  });

  // blksize 512: atftpd drops every option when its OACK would not fit in one block (blksize 8 cannot hold it).
  it("follows the block numbers past 65535", async () => {
    const server = await start(kind);
    const { result, sink } = await fetchFrom(server, "rollover", { blockSize: 512, windowSize: 16, askSize: true });
    expect(result.options.blockSize).toBe(512);
    expect(sink.sha256).toBe(sha256(FILES.rollover));
  });

  it("a missing file fails as not-found, and the sink never begins", async () => {
    const server = await start(kind);
    const sink = new RecordingSink();
    const err = await failure(fetchTftp({ host: "127.0.0.1", port: server.port, path: "ap1g8" }, sink));
    expect(err.reason).toBe("not-found");
    expect(sink.calls.filter((c) => c === "begin")).toEqual([]);
  });

  it("a slow sink slows the transfer instead of filling memory (one write at a time, ACKs wait)", async () => {
    const server = await start(kind);
    const sink = new RecordingSink(1);
    await fetchTftp({ host: "127.0.0.1", port: server.port, path: "exact1468" }, sink);
    expect(sink.maxWriting).toBe(1);
    expect(sink.sha256).toBe(sha256(FILES.exact1468));
  });

  it("the server killed mid-transfer: timeout, and the sink is aborted", async () => {
    const server = await start(kind);
    const sink = new RecordingSink(2);
    const fetching = fetchTftp({ host: "127.0.0.1", port: server.port, path: "big" }, sink, { timeoutMs: 50, retries: 3 });
    while (sink.bytes < 100_000) await sleep(5);
    await server.stop();
    const err = await failure(fetching);
    expect(err.reason).toBe("timeout");
    expect(sink.calls.at(-1)).toMatch(/^abort/);
  });

  it("cancelled by its AbortSignal: aborted, and the sink is aborted", async () => {
    const server = await start(kind);
    const sink = new RecordingSink(2);
    const abort = new AbortController();
    const fetching = fetchTftp({ host: "127.0.0.1", port: server.port, path: "big" }, sink, { signal: abort.signal, onProgress: (bytes) => bytes > 50_000 && abort.abort() });
    const err = await failure(fetching);
    expect(err.reason).toBe("aborted");
    expect(sink.calls.at(-1)).toMatch(/^abort/);
  });
});

describe("options the server does not take", () => {
  it("tftpd-hpa has no windowsize: the client falls back to lock-step", async () => {
    const server = await start("tftpd-hpa");
    const { result, sink } = await fetchFrom(server, "big");
    expect(result.options).toMatchObject({ blockSize: 1468, windowSize: 1, size: FILES.big.length });
    expect(sink.sha256).toBe(sha256(FILES.big));
  });

  it("atftpd grants windowsize 16", async () => {
    const server = await start("atftpd");
    const { result } = await fetchFrom(server, "big");
    expect(result.options).toMatchObject({ blockSize: 1468, windowSize: 16 });
  });

  it("tftpd-hpa refusing blksize and tsize: 512-byte blocks and no size", async () => {
    const server = await start("tftpd-hpa", ["--refuse", "blksize", "--refuse", "tsize"]);
    const { result, sink } = await fetchFrom(server, "small");
    expect(result.options).toEqual({ blockSize: 512, windowSize: 1, timeoutMs: 1000 });
    expect(sink.began).toEqual({ name: "small", size: undefined });
    expect(sink.sha256).toBe(sha256(FILES.small));
  });

  it("atftpd without windowsize, blksize or tsize", async () => {
    const server = await start("atftpd", ["--no-windowsize", "--no-blksize", "--no-tsize"]);
    const { result, sink } = await fetchFrom(server, "exact512");
    expect(result.options).toEqual({ blockSize: 512, windowSize: 1, timeoutMs: 1000 });
    expect(sink.sha256).toBe(sha256(FILES.exact512));
  });
});

describe("nobody there", () => {
  it("a port nobody listens on: unreachable after the retransmissions", async () => {
    const server = await start("tftpd-hpa");
    await server.stop();
    const err = await failure(fetchTftp({ host: "127.0.0.1", port: server.port, path: "small" }, new RecordingSink(), { timeoutMs: 20, retries: 2 }));
    expect(err.reason).toBe("unreachable");
    expect(err.message).toMatch(/no answer to RRQ small/);
  });

  it("a host name that does not resolve: unreachable", async () => {
    const err = await failure(fetchTftp("tftp://no-such-host.invalid/ap1g8", new RecordingSink()));
    expect(err.reason).toBe("unreachable");
  });
});

describe("against vap's own server", () => {
  it("the largest window (blksize 65464 × windowsize 64, 4 MB) arrives whole: the client's receive buffer holds it", async () => {
    // With the kernel's default receive buffer (~208 KB) most of each window is dropped and the
    // transfer crawls from timeout to timeout: 8 MB took 42 s, far past this test's timeout, instead of 0.1 s.
    const server = await startTftpServer({ root: dir, port: 0 });
    try {
      const sink = new RecordingSink();
      const { options } = await fetchTftp({ host: "127.0.0.1", port: server.local.port, path: "big", options: { blockSize: 65464, windowSize: 64 } }, sink);
      expect(options).toMatchObject({ blockSize: 65464, windowSize: 64 });
      expect(sink.sha256).toBe(sha256(FILES.big));
    } finally {
      await server.close();
    }
  });

  it("a cancelled or refused download tells the server at once (ERROR), so it does not wait out its retransmissions", async () => {
    const lines: string[] = [];
    const server = await startTftpServer({ root: dir, port: 0, log: createLog({ console: (l) => lines.push(l) }) });
    try {
      const abort = new AbortController();
      const cancelled = fetchTftp({ host: "127.0.0.1", port: server.local.port, path: "big" }, new RecordingSink(), { signal: abort.signal, onProgress: (b) => b > 50_000 && abort.abort() });
      expect((await failure(cancelled)).reason).toBe("aborted");
      const refusing = new RecordingSink();
      refusing.write = () => Promise.reject(new Error("no space left"));
      expect((await failure(fetchTftp({ host: "127.0.0.1", port: server.local.port, path: "big" }, refusing))).reason).toBe("sink");
      while (server.activeTransfers > 0) await sleep(5);
      expect(lines.filter((l) => l.includes("failed after")).map((l) => l.replace(/.*: peer sent/, "peer sent"))).toEqual([
        "peer sent ERROR 0 (transfer cancelled)",
        "peer sent ERROR 3 (sink: no space left)",
      ]);
    } finally {
      await server.close();
    }
  });
});
