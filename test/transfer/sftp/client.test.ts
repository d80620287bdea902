/** What only SFTP has, against a real OpenSSH sshd: key login, and the host key checked against known_hosts or reported. The cases every login source shares are in ../login-sources.test.ts. */
import { createHmac, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchSftp, hostKeyFingerprint, ImageSourceError, isKnownHostKey, parseSftpUrl } from "../../../agent/transfer/index.js";
import { type RunningSshd, type ServedFiles, servedFiles, startSshd, stopFileServers } from "../../support/file-servers.js";
import { removeLoginUsers } from "../../support/login-user.js";
import { rejectionOf } from "../../support/rejection.js";
import { stallingServer } from "../../support/stalling-server.js";
import { content, RecordingSink, sha256 } from "../tftp/support.js";

const SMALL = content(10_000);
const BIG = content(4 * 1024 * 1024);

let served: ServedFiles;
let sshd: RunningSshd;
let base: string;
let hostKey: Buffer;

beforeAll(async () => {
  served = await servedFiles({ "small.bin": SMALL, "big.bin": BIG });
  sshd = await startSshd(served);
  base = `sftp://${served.user.name}:${encodeURIComponent(served.user.password)}@127.0.0.1:${sshd.port}`;
  hostKey = Buffer.from(sshd.knownHostsLine.split(" ")[2]!, "base64");
});

afterAll(async () => {
  await stopFileServers();
  await removeLoginUsers();
});

const failureOf = (p: Promise<unknown>) => rejectionOf(p, ImageSourceError);

describe("fetchSftp from sshd", () => {
  it("without known_hosts the host key is accepted and reported by type and fingerprint", async () => {
    const sink = new RecordingSink();
    const unchecked: string[] = [];
    await fetchSftp(`${base}/small.bin`, sink, { onUncheckedHostKey: (line) => unchecked.push(line) });
    expect(sink.sha256).toBe(sha256(SMALL));
    expect(unchecked).toEqual([`host key of 127.0.0.1:${sshd.port} not checked (no known_hosts given): ssh-ed25519 ${hostKeyFingerprint(hostKey).fingerprint}`]);
  });

  it("the fingerprint is ssh-keygen's", async () => {
    const { execFileSync } = await import("node:child_process");
    const keygen = execFileSync("ssh-keygen", ["-l", "-f", "-"], { input: `${sshd.knownHostsLine.split(" ").slice(1).join(" ")}\n`, encoding: "utf8" });
    expect(keygen).toContain(hostKeyFingerprint(hostKey).fingerprint);
  });

  it("a private key logs in without a password", async () => {
    const sink = new RecordingSink();
    await fetchSftp(`sftp://${served.user.name}@127.0.0.1:${sshd.port}/small.bin`, sink, { identity: sshd.clientKey });
    expect(sink.sha256).toBe(sha256(SMALL));
  });

  it("a known_hosts that lists the key lets it through, and reports nothing", async () => {
    const sink = new RecordingSink();
    const unchecked: string[] = [];
    await fetchSftp(`${base}/small.bin`, sink, { knownHosts: `# lab\n\n${sshd.knownHostsLine}\n`, onUncheckedHostKey: (line) => unchecked.push(line) });
    expect(sink.sha256).toBe(sha256(SMALL));
    expect(unchecked).toEqual([]);
  });

  it("a known_hosts without the key is refused, naming the fingerprint", async () => {
    const other = sshd.knownHostsLine.replace(/^\[127\.0\.0\.1\]/, "[127.0.0.2]");
    const sink = new RecordingSink();
    const err = await failureOf(fetchSftp(`${base}/small.bin`, sink, { knownHosts: other }));
    expect([err.reason, err.message]).toEqual([
      "refused",
      `sftp://*****@127.0.0.1:${sshd.port}/small.bin: host key of 127.0.0.1:${sshd.port} is not in known_hosts: ssh-ed25519 ${hostKeyFingerprint(hostKey).fingerprint}`,
    ]);
    expect(sink.calls).toEqual([`abort: host key of 127.0.0.1:${sshd.port} is not in known_hosts: ssh-ed25519 ${hostKeyFingerprint(hostKey).fingerprint}`]);
  });
});

describe("fetchSftp from a server gone silent mid-file", () => {
  it("is a timeout naming how far it got, and the sink is aborted", async () => {
    const relay = await stallingServer({ relayTo: sshd.port, after: 2 * 1024 * 1024 });
    try {
      const sink = new RecordingSink();
      const err = await failureOf(fetchSftp(`sftp://${served.user.name}:${encodeURIComponent(served.user.password)}@127.0.0.1:${relay.port}/big.bin`, sink, { timeoutMs: 500 }));
      expect(err.reason).toBe("timeout");
      expect(err.message).toMatch(new RegExp(`^sftp://\\*{5}@127\\.0\\.0\\.1:${relay.port}/big\\.bin: no answer for 500 ms after \\d+ of ${BIG.length} bytes$`));
      expect(sink.calls.at(-1)).toMatch(/^abort: no answer for 500 ms/);
    } finally {
      await relay.close();
    }
  });
});

describe("isKnownHostKey", () => {
  const key = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), randomBytes(36)]);
  const b64 = key.toString("base64");
  const hashed = (name: string) => {
    const salt = randomBytes(20);
    return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
  };

  it.each([
    [`[10.0.0.5]:2222 ssh-ed25519 ${b64}`, "10.0.0.5", 2222, true],
    [`10.0.0.5 ssh-ed25519 ${b64}`, "10.0.0.5", 22, true],
    [`10.0.0.5 ssh-ed25519 ${b64}`, "10.0.0.5", 2222, false],
    [`server,10.0.0.5 ssh-ed25519 ${b64} a comment`, "10.0.0.5", 22, true],
    [`10.0.0.* ssh-ed25519 ${b64}`, "10.0.0.5", 22, true],
    [`10.0.0.*,!10.0.0.5 ssh-ed25519 ${b64}`, "10.0.0.5", 22, false],
    [`10.0.0.? ssh-ed25519 ${b64}`, "10.0.0.55", 22, false],
    [`${hashed("[10.0.0.5]:2222")} ssh-ed25519 ${b64}`, "10.0.0.5", 2222, true],
    [`${hashed("10.0.0.6")} ssh-ed25519 ${b64}`, "10.0.0.5", 22, false],
    [`@revoked 10.0.0.5 ssh-ed25519 ${b64}`, "10.0.0.5", 22, false],
    [`# 10.0.0.5 ssh-ed25519 ${b64}`, "10.0.0.5", 22, false],
    [`10.0.0.5 ssh-ed25519 ${randomBytes(47).toString("base64")}`, "10.0.0.5", 22, false],
  ])("%s for %s port %d: %s", (line, host, port, known) => {
    expect(isKnownHostKey(`${line}\n`, host, port, key)).toBe(known);
  });

  it("names the key's type from its blob, and survives garbage", () => {
    expect(hostKeyFingerprint(key).type).toBe("ssh-ed25519");
    expect(hostKeyFingerprint(new Uint8Array([0, 0, 0, 200, 1])).type).toBe("unknown");
  });
});

describe("parseSftpUrl", () => {
  it("takes user, password, port and path, percent-decoded; /~/ is the home directory", () => {
    expect(parseSftpUrl("sftp://ad%40min:p%3Ass@10.0.0.5:2222/img/ap1g8")).toEqual({ scheme: "sftp:", host: "10.0.0.5", port: 2222, user: "ad@min", password: "p:ss", path: "/img/ap1g8" });
    expect(parseSftpUrl("sftp://admin@[::1]/~/ap1g8")).toEqual({ scheme: "sftp:", host: "::1", port: 22, user: "admin", path: "ap1g8" });
  });

  it.each([
    ["sftp://10.0.0.5/ap1g8", `"sftp://10.0.0.5/ap1g8" names no user (sftp://user[:password]@host[:port]/path)`],
    ["sftp://admin:secret@10.0.0.5/", `"sftp://*****@10.0.0.5/" is not sftp://[user[:password]@]host[:port]/path`],
    ["ftp://admin:secret@10.0.0.5/x", `"ftp://*****@10.0.0.5/x" is not sftp://[user[:password]@]host[:port]/path`],
    ["sftp://admin:secret@10.0.0.5/%zz", `"sftp://*****@10.0.0.5/%zz": bad %-escape in the path`],
  ])("%s: one line, no password", (url, message) => {
    expect(() => parseSftpUrl(url)).toThrow(message);
  });
});
