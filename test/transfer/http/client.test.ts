/** fetchHttp and httpImageSource against a real nginx on loopback: HTTP, HTTPS with a private CA, redirects, Range resume, failures. */
import { readFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchHttp, fileSink, httpImageSource, ImageSourceError, MAX_REDIRECTS, MAX_RESUMES } from "../../../agent/transfer/index.js";
import { issueCa, validFor } from "../../../agent/pki/index.js";
import { rejectionOf } from "../../support/rejection.js";
import { tempDir } from "../../support/temp.js";
import { content, RecordingSink, sha256 } from "../tftp/support.js";
import { BreakingRelay, ConnectProxy, freeTcpPort, type RunningNginx, startNginx } from "./support.js";

const SMALL = content(10_000);
const BIG = content(8 * 1024 * 1024 + 123);
const SLOW = content(2 * 1024 * 1024, 7);

let nginx: RunningNginx;
let http: string;
let https: string;

beforeAll(async () => {
  nginx = await startNginx({ "small.bin": SMALL, "empty.bin": new Uint8Array(0), "big.bin": BIG, "slow/big.bin": SLOW });
  http = `http://127.0.0.1:${nginx.httpPort}`;
  https = `https://127.0.0.1:${nginx.httpsPort}`;
});

afterAll(async () => {
  await nginx?.stop();
});

const failureOf = (p: Promise<unknown>) => rejectionOf(p, ImageSourceError);

describe("fetchHttp from nginx", () => {
  it("a small file arrives byte-exact, its size announced to the sink first", async () => {
    const sink = new RecordingSink();
    const progress: number[] = [];
    const result = await fetchHttp(`${http}/small.bin`, sink, { onProgress: (bytes) => progress.push(bytes) });
    expect(result.bytes).toBe(SMALL.length);
    expect(result.resumes).toBe(0);
    expect(sink.began).toEqual({ name: "small.bin", size: SMALL.length });
    expect(sink.sha256).toBe(sha256(SMALL));
    expect(sink.calls).toEqual(["begin", "finish"]);
    expect(progress.at(-1)).toBe(SMALL.length);
  });

  it("a 0-byte file is begun and finished with nothing written", async () => {
    const sink = new RecordingSink();
    const result = await fetchHttp(`${http}/empty.bin`, sink);
    expect(result.bytes).toBe(0);
    expect(sink.began).toEqual({ name: "empty.bin", size: 0 });
    expect(sink.calls).toEqual(["begin", "finish"]);
  });

  it("a multi-MB file arrives byte-exact into a slow sink, one write at a time", async () => {
    const sink = new RecordingSink(1);
    const result = await fetchHttp(`${http}/big.bin`, sink);
    expect(result.bytes).toBe(BIG.length);
    expect(sink.sha256).toBe(sha256(BIG));
    expect(sink.maxWriting).toBe(1);
  });

  it("into a file: byte-exact, no .part left", async () => {
    const file = join(tempDir("http"), "big.bin");
    await fetchHttp(`${http}/big.bin`, fileSink(file));
    expect(sha256(readFileSync(file))).toBe(sha256(BIG));
  });

  it("404 is not-found and 403 is refused; the sink is aborted", async () => {
    const missing = new RecordingSink();
    const notFound = await failureOf(fetchHttp(`${http}/nothing.bin`, missing));
    expect([notFound.reason, notFound.message]).toEqual(["not-found", `${http}/nothing.bin: HTTP 404`]);
    expect(missing.calls).toEqual(["abort: HTTP 404"]);
    const refused = await failureOf(fetchHttp(`${http}/forbidden`, new RecordingSink()));
    expect([refused.reason, refused.message]).toEqual(["refused", `${http}/forbidden: HTTP 403`]);
  });

  it("a closed port is a network failure", async () => {
    const port = await freeTcpPort();
    const err = await failureOf(fetchHttp(`http://127.0.0.1:${port}/x`, new RecordingSink()));
    expect(err.reason).toBe("network");
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it("follows a redirect, and gives up on a loop after MAX_REDIRECTS", async () => {
    const sink = new RecordingSink();
    await fetchHttp(`${http}/moved`, sink);
    expect(sink.sha256).toBe(sha256(SMALL));
    expect(sink.began?.name).toBe("small.bin");
    const loop = await failureOf(fetchHttp(`${http}/loop`, new RecordingSink()));
    expect([loop.reason, loop.message]).toEqual(["network", `${http}/loop: more than ${MAX_REDIRECTS} redirects`]);
  });

  it("HTTPS with another CA given is refused: the CA given is the only trust", async () => {
    const other = issueCa("ecdsa", validFor(1), "some other CA");
    const err = await failureOf(fetchHttp(`${https}/small.bin`, new RecordingSink(), { ca: other.cert }));
    expect(err.reason).toBe("refused");
    expect(err.message).toMatch(/TLS certificate not accepted/);
  });

  it("HTTPS with the private CA as trust", async () => {
    const sink = new RecordingSink();
    await fetchHttp(`${https}/big.bin`, sink, { ca: nginx.caPem });
    expect(sink.sha256).toBe(sha256(BIG));
  });

  it("HTTPS without the CA is refused, naming the certificate problem on one line", async () => {
    const err = await failureOf(fetchHttp(`${https}/small.bin`, new RecordingSink()));
    expect(err.reason).toBe("refused");
    expect(err.message).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/small\.bin: TLS certificate not accepted: .+ \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)$/);
    expect(err.message).not.toContain("\n");
  });

  it("a connection broken mid-body is resumed with a ranged request and the file arrives intact", async () => {
    const relay = new BreakingRelay(nginx.httpPort, 3 * 1024 * 1024);
    const port = await relay.listen();
    try {
      const sink = new RecordingSink();
      const result = await fetchHttp(`http://127.0.0.1:${port}/big.bin`, sink);
      expect(result.resumes).toBe(1);
      expect(sink.sha256).toBe(sha256(BIG));
      expect(sink.bytes).toBe(BIG.length);
      expect(relay.requests).toHaveLength(2);
      expect(relay.requests[0]).not.toMatch(/^range:/im);
      expect(relay.requests[1]).toMatch(/^range: bytes=\d+-\r$/im);
      expect(relay.requests[1]).toMatch(/^if-range: "[^"]+"\r$/im);
    } finally {
      await relay.close();
    }
  });

  it("a server that keeps breaking the connection: MAX_RESUMES ranged retries, then a truncated image is integrity", async () => {
    const relay = new BreakingRelay(nginx.httpPort, 1024 * 1024, Infinity);
    const port = await relay.listen();
    try {
      const sink = new RecordingSink();
      const err = await failureOf(fetchHttp(`http://127.0.0.1:${port}/big.bin`, sink));
      expect(err.reason).toBe("integrity");
      expect(err.message).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/big\\.bin: truncated: \\d+ of ${BIG.length} bytes \\(.+\\)$`));
      expect(relay.requests).toHaveLength(1 + MAX_RESUMES);
      expect(sink.calls).toEqual(["begin", expect.stringMatching(/^abort: truncated/)]);
    } finally {
      await relay.close();
    }
  });

  it("a server that accepts but never answers is a timeout", async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = silent.address() as { port: number };
      const err = await failureOf(fetchHttp(`http://127.0.0.1:${port}/x`, new RecordingSink(), { timeoutMs: 200 }));
      expect(err.reason).toBe("timeout");
      expect(err.message).toMatch(/UND_ERR_HEADERS_TIMEOUT/);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("an abort by signal is 'aborted' and the sink is aborted", async () => {
    const abort = new AbortController();
    const sink = new RecordingSink();
    const err = await failureOf(fetchHttp(`${http}/slow/big.bin`, sink, { signal: abort.signal, onProgress: () => abort.abort() }));
    expect(err.reason).toBe("aborted");
    expect(sink.calls).toEqual(["begin", "abort: download cancelled"]);
    expect(sink.bytes).toBeLessThan(SLOW.length);
  });
});

describe("fetchHttp through a proxy from the environment", () => {
  const PROXY_VARIABLES = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"] as const;

  /** Run `body` with exactly `variables` set among the proxy variables, restoring them after. */
  async function withProxyEnvironment(variables: Partial<Record<(typeof PROXY_VARIABLES)[number], string>>, body: () => Promise<void>): Promise<void> {
    const saved = PROXY_VARIABLES.map((name) => [name, process.env[name]] as const);
    for (const name of PROXY_VARIABLES) delete process.env[name];
    Object.assign(process.env, variables);
    try {
      await body();
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  }

  it("HTTPS_PROXY and HTTP_PROXY carry the requests (CONNECT); NO_PROXY goes direct", async () => {
    const proxy = new ConnectProxy();
    const port = await proxy.listen();
    try {
      await withProxyEnvironment({ HTTP_PROXY: `http://127.0.0.1:${port}`, HTTPS_PROXY: `http://127.0.0.1:${port}` }, async () => {
        const sink = new RecordingSink();
        await fetchHttp(`${https}/small.bin`, sink, { ca: nginx.caPem });
        expect(sink.sha256).toBe(sha256(SMALL));
        await fetchHttp(`${http}/small.bin`, new RecordingSink());
      });
      expect(proxy.targets).toEqual([`127.0.0.1:${nginx.httpsPort}`, `127.0.0.1:${nginx.httpPort}`]);
      await withProxyEnvironment({ HTTPS_PROXY: `http://127.0.0.1:${port}`, NO_PROXY: "127.0.0.1" }, async () => {
        const sink = new RecordingSink();
        await fetchHttp(`${https}/small.bin`, sink, { ca: nginx.caPem });
        expect(sink.sha256).toBe(sha256(SMALL));
      });
      expect(proxy.targets).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });
});

describe("httpImageSource", () => {
  it("asks the server for the image by name", async () => {
    const sink = new RecordingSink();
    await httpImageSource({ server: `${https}/`, ca: nginx.caPem }).fetch({ name: "small.bin" }, sink, { signal: new AbortController().signal });
    expect(sink.sha256).toBe(sha256(SMALL));
  });

  it("without a server or URL it is an internal failure", async () => {
    const err = await failureOf(httpImageSource().fetch({ name: "ap1g8" }, new RecordingSink(), { signal: new AbortController().signal }));
    expect(err.reason).toBe("internal");
  });
});
