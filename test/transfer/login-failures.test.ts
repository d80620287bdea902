/** The pure parts of the SFTP and FTP sources: their libraries' errors → the seam's reasons, and their URLs. */
import { FTPError } from "basic-ftp";
import { describe, expect, it } from "vitest";
import { ftpFailure } from "../../agent/transfer/ftp/failures.js";
import { parseFtpUrl } from "../../agent/transfer/index.js";
import { socketFailure } from "../../agent/transfer/file-download.js";
import { sftpFailure } from "../../agent/transfer/sftp/failures.js";

const coded = (code: unknown, message: string, cause?: unknown) => Object.assign(new Error(message, { cause }), { code });
const reply = (code: number, message: string) => new FTPError({ code, message } as ConstructorParameters<typeof FTPError>[0]);

describe("ftpFailure", () => {
  it.each([
    [reply(530, "530 Login incorrect."), "auth", "authentication failed (FTP 530 Login incorrect.)"],
    [reply(550, "550 Could not get file size."), "not-found", "FTP 550 Could not get file size."],
    [reply(553, "553 Could not create file."), "refused", "FTP 553 Could not create file."],
    [reply(421, "421 Timeout."), "network", "FTP 421 Timeout."],
    [coded("SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain"), "refused", "TLS certificate not accepted: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)"],
    [coded("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match"), "refused", "TLS certificate not accepted: Hostname/IP does not match (ERR_TLS_CERT_ALTNAME_INVALID)"],
    [new Error("Timeout (data socket)"), "timeout", "Timeout (data socket)"],
    [coded("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:21"), "network", "connect ECONNREFUSED 127.0.0.1:21"],
    [new Error("Server sent FIN packet unexpectedly, closing connection."), "network", "Server sent FIN packet unexpectedly, closing connection."],
  ])("%s → %s", (err, reason, message) => {
    expect(ftpFailure(err)).toEqual({ reason, message });
  });
});

describe("sftpFailure", () => {
  it.each([
    [coded(undefined, "getConnection: All configured authentication methods failed"), "auth", "authentication failed (user, password or key refused)"],
    [Object.assign(new Error("x"), { level: "client-authentication" }), "auth", "authentication failed (user, password or key refused)"],
    [coded(undefined, "getConnection: Timed out while waiting for handshake"), "timeout", "timed out waiting for the SSH handshake"],
    [coded("ENOENT", "_xstat: No such file: /x"), "not-found", "no such file"],
    [coded(2, "No such file"), "not-found", "no such file"],
    [coded(3, "Permission denied"), "refused", "permission denied"],
    [coded("ECONNRESET", "read ECONNRESET"), "network", "read ECONNRESET"],
    [coded("ERR_GENERIC_CLIENT", "getConnection: Unexpected close event"), "network", "getConnection: Unexpected close event"],
  ])("%s → %s", (err, reason, message) => {
    expect(sftpFailure(err)).toEqual({ reason, message });
  });
});

describe("socketFailure", () => {
  it("finds the errno code down the cause chain, ETIMEDOUT as a timeout, and nothing without one", () => {
    expect(socketFailure(new Error("wrapped", { cause: coded("EHOSTUNREACH", "connect EHOSTUNREACH 10.0.0.9:22") }))).toEqual({ reason: "network", message: "connect EHOSTUNREACH 10.0.0.9:22" });
    expect(socketFailure(coded("ETIMEDOUT", "timed out"))).toEqual({ reason: "timeout", message: "timed out (ETIMEDOUT)" });
    expect(socketFailure(coded("ERR_BAD_AUTH", "x"))).toBeUndefined();
    expect(socketFailure("text")).toBeUndefined();
  });
});

describe("parseFtpUrl", () => {
  it("ftp:// and ftpes:// on port 21, anonymous without a user, the path as given", () => {
    expect(parseFtpUrl("ftp://10.0.0.5/images/ap1g8")).toEqual({ scheme: "ftp:", host: "10.0.0.5", port: 21, path: "/images/ap1g8" });
    expect(parseFtpUrl("FTPES://adm:p%40ss@10.0.0.5:2121/ap%201")).toEqual({ scheme: "ftpes:", host: "10.0.0.5", port: 2121, user: "adm", password: "p@ss", path: "/ap 1" });
  });

  it.each(["ftp://10.0.0.5", "ftp://10.0.0.5/x?y", "sftp://u@10.0.0.5/x", "ftp:///x", "not a url"])("%s is one ConfigError line", (url) => {
    expect(() => parseFtpUrl(url)).toThrow(/is not ftp:\/\/ or ftpes:\/\/\[user\[:password\]@\]host\[:port\]\/path$/);
  });
});
