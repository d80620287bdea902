/** The pure parts of the HTTP(S) source: statuses and thrown errors → the seam's reasons, URLs, resume headers. */
import { describe, expect, it } from "vitest";
import { errorFailure, isConnectionBreak, statusFailure } from "../../../agent/transfer/http/failures.js";
import { parseHttpUrl, rangeStart, resumeValidator } from "../../../agent/transfer/http/client.js";
import { ConfigError } from "../../../agent/core/index.js";
import { redactCredentials } from "../../../agent/transfer/index.js";

const coded = (code: string, message: string, cause?: unknown) => Object.assign(new Error(message, { cause }), { code });

describe("statusFailure", () => {
  it.each([
    [404, "not-found"],
    [410, "not-found"],
    [401, "auth"],
    [403, "refused"],
    [407, "auth"],
    [400, "refused"],
    [408, "timeout"],
    [504, "timeout"],
    [500, "network"],
    [503, "network"],
  ] as const)("HTTP %i is %s", (status, reason) => {
    expect(statusFailure(status, "")).toEqual({ reason, message: `HTTP ${status}` });
  });
});

describe("errorFailure", () => {
  it("a certificate problem anywhere in the cause chain is refused, naming it", () => {
    const err = new TypeError("fetch failed", { cause: coded("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate") });
    expect(errorFailure(err)).toEqual({ reason: "refused", message: "TLS certificate not accepted: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)" });
    expect(errorFailure(coded("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames")).reason).toBe("refused");
  });

  it("undici's timeouts are timeout; its UND_ERR_ABORTED without the caller's signal (a proxy's refusal) is network", () => {
    expect(errorFailure(coded("UND_ERR_HEADERS_TIMEOUT", "Headers Timeout Error"))).toEqual({ reason: "timeout", message: "Headers Timeout Error (UND_ERR_HEADERS_TIMEOUT)" });
    expect(errorFailure(coded("UND_ERR_CONNECT_TIMEOUT", "Connect Timeout Error")).reason).toBe("timeout");
    expect(errorFailure(coded("UND_ERR_ABORTED", "Proxy response (403) !== 200 when HTTP Tunneling"))).toEqual({
      reason: "network",
      message: "Proxy response (403) !== 200 when HTTP Tunneling (UND_ERR_ABORTED)",
    });
  });

  it("a refused connection, a name that does not resolve, a reset: network, the innermost code named (AggregateError too)", () => {
    const refused = new AggregateError([coded("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1")], "");
    expect(errorFailure(refused)).toEqual({ reason: "network", message: "connect ECONNREFUSED 127.0.0.1:1" });
    expect(errorFailure(coded("ENOTFOUND", "getaddrinfo ENOTFOUND nowhere.invalid"))).toEqual({ reason: "network", message: "getaddrinfo ENOTFOUND nowhere.invalid" });
    expect(errorFailure(coded("UND_ERR_SOCKET", "other side closed"))).toEqual({ reason: "network", message: "other side closed (UND_ERR_SOCKET)" });
    expect(isConnectionBreak(coded("UND_ERR_SOCKET", "other side closed"))).toBe(true);
  });

  it("an error without any code is internal (a bug, not the network)", () => {
    expect(errorFailure(new TypeError("x is not a function"))).toEqual({ reason: "internal", message: "x is not a function" });
    expect(isConnectionBreak(new TypeError("x"))).toBe(false);
  });
});

describe("URLs and resume headers", () => {
  it("credentials are stripped into Basic auth and never printed", () => {
    const target = parseHttpUrl("https://admin:s%3Acret@host:8443/images/ap1g8");
    expect(target.url.href).toBe("https://host:8443/images/ap1g8");
    expect(target.authorization).toBe(`Basic ${Buffer.from("admin:s:cret").toString("base64")}`);
    expect(redactCredentials("https://admin:secret@host/x")).toBe("https://*****@host/x");
    expect(redactCredentials("https://host/a@b")).toBe("https://host/a@b");
    expect(() => parseHttpUrl("ftp://user:pw@host/x")).toThrow(new ConfigError('"ftp://*****@host/x" is not http(s)://host[:port]/path'));
  });

  it("If-Range takes a strong ETag, else Last-Modified; Content-Range gives the first byte", () => {
    expect(resumeValidator({ etag: '"abc"', "last-modified": "Mon" })).toBe('"abc"');
    expect(resumeValidator({ etag: 'W/"abc"', "last-modified": "Mon" })).toBe("Mon");
    expect(resumeValidator({})).toBeUndefined();
    expect(rangeStart({ "content-range": "bytes 100-199/200" })).toBe(100);
    expect(rangeStart({ "content-range": "bytes */200" })).toBeUndefined();
  });
});
