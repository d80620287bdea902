/**
 * The AP's out-of-band source on its own: it asks the controller (a scripted
 * CAPWAP session) for an offer, then fetches from a real HTTPS server (Node's
 * https) with the offered token, trusting only the given CA, checked against
 * the announced size and MD5. Every failure the WTP must fall back on comes
 * out as a typed reason with one line, the sink aborted; the token never
 * reaches a log line.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MessageType, ResultCode } from "../../../agent/capwap/codec/index.js";
import { type Element, type Message, profiles } from "../../../agent/capwap/profiles/index.js";
import type { DownloadHost, ImageDownload, ImageSourceFailure } from "../../../agent/capwap/wtp/index.js";
import { createLog, systemClock } from "../../../agent/core/index.js";
import { issueCa, issueLeaf, validFor } from "../../../agent/pki/index.js";
import { oobImageSource } from "../../../agent/transfer/index.js";
import { MemorySink } from "../../support/memory-images.js";

const DOWNLOAD: ImageDownload = { mode: "join", version: "17.12.1.5", controllerAddress: "127.0.0.1", window: 1 };
const IMAGE = randomBytes(300_000);

/** `bytes` with the byte at `at` inverted: always a different body (a byte set to 0 is the same one when it was 0). */
function flipped(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at]! ^= 0xff;
  return copy;
}
const TOKEN = "tok.en-secret-value";
const validity = validFor(1);
const ca = issueCa("ecdsa", validity, "wlc CA");
const named = issueLeaf(ca, { commonName: "wlc", role: "controller", type: "ecdsa", validity, ipAddresses: ["127.0.0.1"] });
/** A certificate from the right CA for another address: the AP must refuse it by name. */
const misnamed = issueLeaf(ca, { commonName: "wlc", role: "controller", type: "ecdsa", validity, ipAddresses: ["192.0.2.1"] });

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

/** A real HTTPS server: `answer` decides each response (it sees the Authorization header). */
async function httpsServer(answer: (authorization: string | undefined, res: import("node:http").ServerResponse) => void, cert = named): Promise<string> {
  const server = createServer({ cert: cert.cert + ca.cert, key: cert.key }, (req, res) => answer(req.headers.authorization, res));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}/images/ap1g8`;
}

const serveImage = (authorization: string | undefined, res: import("node:http").ServerResponse, body: Uint8Array = IMAGE) => {
  if (authorization !== `Bearer ${TOKEN}`) return res.writeHead(401).end();
  res.writeHead(200, { "content-length": body.length });
  res.end(body);
};

/** The controller's answer to the AP's offer request. */
function offer(url: string, md5 = createHash("md5").update(IMAGE).digest()): Element[] {
  return [
    { kind: "ResultCode", resultCode: ResultCode.Success },
    { kind: "ImageInformation", fileSize: IMAGE.length, hash: md5 },
    { kind: "OobImageOffer", url, token: TOKEN },
  ];
}

interface Run {
  reports: ({ finished: true } | { failed: ImageSourceFailure; message: string })[];
  lines: string[];
  asked: Message[];
  sink: MemorySink;
}

/** One download through the starter, as the WTP runs it; resolves once it reported its end. */
async function download(answer: Element[] | undefined, sink = new MemorySink(), of = DOWNLOAD): Promise<Run> {
  const run: Run = { reports: [], lines: [], asked: [], sink };
  await new Promise<void>((done) => {
    const host: DownloadHost = {
      session: {
        profile: profiles.cisco,
        log: createLog({ console: (l) => run.lines.push(l) }),
        request: async (m) => {
          run.asked.push({ ...m, seq: 0 });
          if (!answer) throw new Error("no answer");
          return { type: MessageType.ImageDataResponse, seq: 0, elements: answer };
        },
        respond: () => {},
        onImageData: () => {},
      },
      started: () => {},
      finished: () => (run.reports.push({ finished: true }), done()),
      failed: (reason, message) => (run.reports.push({ failed: reason, message }), done()),
    };
    oobImageSource({ imageName: "ap1g8", sink: () => sink, ca: ca.cert, clock: systemClock, stallTimeoutMs: 1000 }).start(of, host);
  });
  return run;
}

describe("the OOB HTTPS source", () => {
  it("asks for an offer over CAPWAP (Image Identifier + OobImageRequest), downloads with the token, checks size and MD5", async () => {
    const run = await download(offer(await httpsServer(serveImage)));
    expect(run.reports).toEqual([{ finished: true }]);
    expect(Buffer.from(run.sink.finished!).equals(IMAGE)).toBe(true);
    expect(run.asked).toEqual([
      {
        type: MessageType.ImageDataRequest,
        seq: 0,
        elements: [
          { kind: "ImageIdentifier", vendorId: profiles.cisco.vendorId, identifier: "ap1g8" },
          { kind: "OobImageRequest", flags: 0 },
        ],
      },
    ]);
    expect(run.lines.some((l) => /OOB Image Download completed: 300000 bytes in/.test(l))).toBe(true);
    expect(run.lines.filter((l) => l.includes(TOKEN))).toEqual([]);
  });

  it("a primary's download (efficient image upgrade): its request line carries replicaStatus 0 after the method", async () => {
    const run = await download(offer(await httpsServer(serveImage)), new MemorySink(), { ...DOWNLOAD, mode: "predownload", efficient: { role: "primary" } });
    expect(run.reports).toEqual([{ finished: true }]);
    expect(run.lines.some((l) => l.endsWith("Image Data Request sent to 127.0.0.1, fileName [ap1g8], method HTTPS, replicaStatus 0"))).toBe(true);
  });

  it("a server certificate under an intermediate CA (the chain the seed's controllers fail on): trusted through the root alone", async () => {
    const intermediate = issueCa("ecdsa", validity, "wlc intermediate CA", ca);
    const leaf = issueLeaf(intermediate, { commonName: "wlc", role: "controller", type: "ecdsa", validity, ipAddresses: ["127.0.0.1"] });
    // The server sends leaf and intermediate; the AP holds only the root (httpsServer appends it too, which TLS ignores).
    const run = await download(offer(await httpsServer(serveImage, { ...leaf, cert: leaf.cert + intermediate.cert })));
    expect(run.reports).toEqual([{ finished: true }]);
    expect(Buffer.from(run.sink.finished!).equals(IMAGE)).toBe(true);
    // The same leaf without its intermediate does not verify: the chain is what made it work.
    const broken = await download(offer(await httpsServer(serveImage, leaf)));
    expect(broken.reports).toMatchObject([{ failed: "refused", message: expect.stringMatching(/^TLS certificate not accepted: /) }]);
  });

  const failures: [string, () => Promise<Element[] | undefined>, ImageSourceFailure, RegExp][] = [
    ["the controller refuses the offer", async () => [{ kind: "ResultCode", resultCode: ResultCode.ImageDataErrorOtherError }], "refused", /^the controller offers no HTTPS download: /],
    ["the controller does not answer", async () => undefined, "timeout", /^the controller did not answer the OOB image request$/],
    ["an answer without the offer", async () => [{ kind: "ResultCode", resultCode: ResultCode.Success }], "refused", /lacks the image information or the offer/],
    ["a certificate for another address", async () => offer(await httpsServer(serveImage, misnamed)), "refused", /^TLS certificate not accepted: .*ERR_TLS_CERT_ALTNAME_INVALID/],
    ["a certificate from another CA", async () => offer(await httpsServer(serveImage, issueLeaf(issueCa("ecdsa", validity, "other"), { commonName: "x", role: "controller", type: "ecdsa", validity, ipAddresses: ["127.0.0.1"] }))), "refused", /^TLS certificate not accepted: /],
    ["HTTP 401 (the token refused)", async () => offer(await httpsServer((_a, res) => res.writeHead(401).end())), "auth", /^HTTP 401$/],
    ["HTTP 403", async () => offer(await httpsServer((_a, res) => res.writeHead(403).end())), "refused", /^HTTP 403$/],
    ["HTTP 404", async () => offer(await httpsServer((_a, res) => res.writeHead(404).end())), "not-found", /^HTTP 404$/],
    ["HTTP 503", async () => offer(await httpsServer((_a, res) => res.writeHead(503).end())), "network", /^HTTP 503$/],
    ["a stall longer than the timeout", async () => offer(await httpsServer((_a, res) => (res.writeHead(200, { "content-length": IMAGE.length }), res.write(IMAGE.subarray(0, 1000))))), "timeout", /UND_ERR_BODY_TIMEOUT/],
    ["a file of another size than announced", async () => offer(await httpsServer((a, res) => serveImage(a, res, IMAGE.subarray(0, 1000)))), "integrity", /^ap1g8: is 1000 bytes, expected 300000$/],
    [
      "a connection closed mid-body",
      async () => offer(await httpsServer((_a, res) => (res.writeHead(200, { "content-length": IMAGE.length }), res.write(IMAGE.subarray(0, 1000), () => res.destroy())))),
      "integrity",
      /^truncated: 1000 of 300000 bytes/,
    ],
    ["a body that does not match the MD5", async () => offer(await httpsServer((a, res) => serveImage(a, res, flipped(IMAGE, 5)))), "integrity", /^ap1g8: MD5 mismatch: expected [0-9a-f]{32}, got [0-9a-f]{32}$/],
  ];
  it.each(failures)("%s: a typed reason, one line, the sink aborted", async (_name, answer, reason, message) => {
    const run = await download(await answer());
    expect(run.reports).toHaveLength(1);
    expect(run.reports[0]).toMatchObject({ failed: reason });
    expect((run.reports[0] as { message: string }).message).toMatch(message);
    expect((run.reports[0] as { message: string }).message).not.toContain("\n");
    expect(run.sink.finished).toBeUndefined();
    expect(run.lines.filter((l) => l.includes(TOKEN))).toEqual([]);
  });

  it("a full disk (the sink refuses a write): reason sink", async () => {
    const full = Object.assign(new MemorySink(), { write: async () => Promise.reject(new Error("ENOSPC: no space left on device")) });
    const run = await download(offer(await httpsServer(serveImage)), full);
    expect(run.reports).toEqual([{ failed: "sink", message: "sink refused the image: ENOSPC: no space left on device" }]);
    expect(full.aborted.length).toBeGreaterThan(0);
  });
});
