/**
 * The OOB HTTPS file server against real curl, the embedded server and real
 * nginx alike: the bundle's bytes over a CA chain, ranges, the token's every
 * refusal, paths that must not leave the bundle, a busy port, the transfer
 * events and log lines (never a token in them), and nothing left behind.
 */
import { execFileSync } from "node:child_process";
import { chownSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { ConfigError, ManualClock } from "../../../agent/core/index.js";
import { OobTokens } from "../../../lab/controller/oob/index.js";
import { tempDir } from "../../support/temp.js";
import { ADDRESS, alive, AP, bundle, chainPki, curl, IMAGE, IMAGE_SIZE, KINDS, nginxLogs, nginxProcesses, OTHER_ADDRESS, passable, start } from "./support.js";

/** Debian's nobody:nogroup. */
const [NOBODY, NOGROUP] = [65534, 65534];

describe.each(KINDS)("OOB file server (%s)", (kind) => {
  it("serves the bundle's bytes to curl trusting only the root CA (leaf + intermediate presented); a range as 206; HEAD", async () => {
    const s = await start(kind);
    const token = s.token();
    const whole = await curl(s, { token });
    expect([whole.code, whole.status, whole.stderr]).toEqual([0, 200, ""]);
    expect(whole.body.equals(IMAGE)).toBe(true);

    const slice = await curl(s, { token, range: "1000-1999" });
    expect(slice.status).toBe(206);
    expect(slice.body.equals(IMAGE.subarray(1000, 2000))).toBe(true);
    const tail = await curl(s, { token, range: "-10" });
    expect(tail.body.equals(IMAGE.subarray(IMAGE_SIZE - 10))).toBe(true);
    expect((await curl(s, { token, range: `${IMAGE_SIZE}-` })).status).toBe(416);

    const head = await curl(s, { token, head: true });
    expect(head.status).toBe(200);
    const headers = head.body.toString("latin1");
    expect(headers).toMatch(new RegExp(`^content-length: ${IMAGE_SIZE}\\r$`, "im"));
    expect(headers).toMatch(/^accept-ranges: bytes\r$/im);
    const etag = /^etag: (\S+)\r$/im.exec(headers)?.[1];
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);

    // If-Range: the range only while the file is the one named.
    const same = await curl(s, { token, range: "0-9", extra: ["-H", `If-Range: ${etag}`] });
    expect([same.status, same.body.length]).toEqual([206, 10]);
    const changed = await curl(s, { token, range: "0-9", extra: ["-H", 'If-Range: "0-0"'] });
    expect([changed.status, changed.body.length]).toEqual([200, IMAGE_SIZE]);
  });

  it("a bundle and a work folder named by relative paths (`vap controller --bundle bundle`, a relative TMPDIR) are served alike", async () => {
    const s = await start(kind, { bundleDir: relative(process.cwd(), bundle()), workDir: relative(process.cwd(), tempDir("oob-relative")) });
    const whole = await curl(s, { token: s.token() });
    expect([whole.code, whole.status, whole.stderr]).toEqual([0, 200, ""]);
    expect(whole.body.equals(IMAGE)).toBe(true);
  });

  it("401 without a token or with one that does not parse; 403 for another address, an expired token, another image, a tampered one", async () => {
    const key = new Uint8Array(32).fill(3);
    const s = await start(kind, { tokens: new OobTokens({ key }), bundleDir: bundle({ ap1g8: IMAGE, ap1g7: IMAGE.subarray(0, 100) }) });
    const token = s.token();
    expect((await curl(s)).status).toBe(401);
    expect((await curl(s, { token: "not-a-token" })).status).toBe(401);
    expect((await curl(s, { extra: ["-H", "Authorization: Basic dXNlcjpwYXNz"] })).status).toBe(401);

    // 127.0.0.2 is this host too: a client there is another AP.
    expect((await curl(s, { token, from: OTHER_ADDRESS })).status).toBe(403);
    expect((await curl(s, { token: s.token({ address: OTHER_ADDRESS }), from: OTHER_ADDRESS })).status).toBe(200);

    const past = new OobTokens({ key, clock: new ManualClock(Date.now() - 3_600_000) });
    expect((await curl(s, { token: past.issue({ ap: AP, address: ADDRESS, image: "ap1g8" }).token })).status).toBe(403);

    expect((await curl(s, { token, url: s.server.url("ap1g7") })).status).toBe(403);
    expect((await curl(s, { token: s.token({ image: "ap1g7" }), url: s.server.url("ap1g7") })).status).toBe(200);

    const [payload, mac] = token.split(".") as [string, string];
    const tampered = `${payload}.${mac[0] === "A" ? "B" : "A"}${mac.slice(1)}`;
    expect((await curl(s, { token: tampered })).status).toBe(403);
    expect((await curl(s, { token: `${payload.slice(0, -2)}xy.${mac}` })).status).toBe(403);
    expect((await curl(s, { token: new OobTokens().issue({ ap: AP, address: ADDRESS, image: "ap1g8" }).token })).status).toBe(403);

    // The method comes first (405), then the token.
    const post = await curl(s, { token, extra: ["-X", "POST"] });
    expect(post.status).toBe(405);
  });

  it("serves nothing outside the bundle, nor anything but a class-named regular file in it: 404 or 400", async () => {
    // A sibling of the bundle (both in the temp dir), removed after the file as the bundle is.
    const secretDir = tempDir("oob-secret");
    const secret = Buffer.from("controller secret\n");
    writeFileSync(join(secretDir, "secret"), secret);
    const dir = bundle({ ap1g8: IMAGE, ".hidden": secret, AP1G8: secret });
    mkdirSync(join(dir, "sub"));
    execFileSync("mkfifo", [join(dir, "fifo")]);
    const s = await start(kind, { bundleDir: dir });
    const base = s.server.url("ap1g8").replace(/\/images\/ap1g8$/, "");
    const paths = [
      "/images/../../../../etc/passwd",
      `/images/../${secretDir.split("/").pop()}/secret`,
      "/images/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/images/..%2f..%2fetc%2fpasswd",
      "/images/.hidden",
      "/images/AP1G8",
      "/images/ap1g8/",
      "/images/",
      "/images",
      "/ap1g8",
      "/etc/passwd",
      "/images/%zz",
      "/_oob_auth",
      "/auth",
    ];
    for (const path of paths) {
      const r = await curl(s, { token: s.token(), url: base + path, extra: ["--path-as-is"] });
      expect([400, 404], path).toContain(r.status);
      expect(r.body.includes(secret), path).toBe(false);
      expect(r.body.toString("latin1"), path).not.toMatch(/root:.*:0:0:/);
    }
    // Class-like names that are no regular file: a folder, and a FIFO (which must not hang the server).
    for (const name of ["sub", "fifo", "ap1g4"]) {
      const r = await curl(s, { token: s.token({ image: name }), url: s.server.url(name), extra: ["--max-time", "10"] });
      expect(r.status, name).toBe(404);
    }
    expect((await curl(s, { token: s.token() })).body.equals(IMAGE)).toBe(true);
  });

  it("a port in use is a one-line ConfigError naming it, and leaves nothing behind", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, ADDRESS, resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const workDir = tempDir("oob-busy");
      const failure = start(kind, { port, workDir });
      await expect(failure).rejects.toThrow(ConfigError);
      await expect(failure).rejects.toThrow(new RegExp(`^HTTPS port ${port} is in use \\(ap file-transfer https port\\)$`));
      expect(readdirSync(workDir)).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it("reports each transfer once (event and log line: AP, address, file, bytes, seconds, status, method), never the token", async () => {
    const s = await start(kind);
    const token = s.token();
    const stranger = s.token({ address: OTHER_ADDRESS });
    expect((await curl(s, { token })).status).toBe(200);
    expect((await curl(s, { token, range: "100-199" })).status).toBe(206);
    expect((await curl(s, { token, head: true })).status).toBe(200);
    expect((await curl(s, { token: stranger })).status).toBe(403);
    expect((await curl(s, {})).status).toBe(401);
    await vi.waitFor(() => expect(s.transfers).toHaveLength(5), { timeout: 5000 });
    expect(s.transfers.map(({ ap, address, file, bytes, status, complete, method }) => ({ ap, address, file, bytes, status, complete, method }))).toEqual([
      { ap: AP, address: ADDRESS, file: "ap1g8", bytes: IMAGE_SIZE, status: 200, complete: true, method: "HTTPS" },
      { ap: AP, address: ADDRESS, file: "ap1g8", bytes: 100, status: 206, complete: true, method: "HTTPS" },
      { ap: AP, address: ADDRESS, file: "ap1g8", bytes: 0, status: 200, complete: true, method: "HTTPS" },
      { ap: undefined, address: ADDRESS, file: "ap1g8", bytes: s.transfers[3]!.bytes, status: 403, complete: true, method: "HTTPS" },
      { ap: undefined, address: ADDRESS, file: "ap1g8", bytes: s.transfers[4]!.bytes, status: 401, complete: true, method: "HTTPS" },
    ]);
    for (const t of s.transfers) expect(t.seconds).toBeGreaterThanOrEqual(0);
    const transferLines = s.lines.filter((l) => l.includes("OOB HTTPS transfer of ap1g8") && !l.startsWith("{"));
    expect(transferLines).toHaveLength(5);
    expect(transferLines[0]).toMatch(new RegExp(`OOB HTTPS transfer of ap1g8 to AP ${AP} \\(127\\.0\\.0\\.1\\): ${IMAGE_SIZE} bytes in \\d+\\.\\d{3} s, status 200, complete, method HTTPS$`));
    expect(s.lines.some((l) => /refused \(403\): token issued for another address/.test(l))).toBe(true);
    const everything = [...s.lines, nginxLogs(s.workDir)].join("\n");
    for (const secret of [token, stranger, token.split(".")[1]!, stranger.split(".")[1]!]) expect(everything).not.toContain(secret);
  });

  it("closes: the port refuses again, nginx and its workers are gone, its folder removed", async () => {
    const s = await start(kind);
    expect((await curl(s, { token: s.token() })).status).toBe(200);
    const pids = kind === "nginx" ? nginxProcesses(s.workDir) : [];
    if (kind === "nginx") expect(pids.length).toBeGreaterThanOrEqual(2);
    await s.server.close();
    await s.server.close();
    expect((await curl(s, { token: s.token() })).code).toBe(7);
    expect(pids.filter(alive)).toEqual([]);
    expect(readdirSync(s.workDir)).toEqual([]);
  });
});

describe("OOB file server setup", () => {
  it.each(KINDS)("%s on IPv6 (::1): the URL's host bracketed, the chain and the token's address as for IPv4", async (kind) => {
    const s = await start(kind, { address: "::1" });
    expect(s.server.url("ap1g8")).toBe(`https://[::1]:${s.server.port}/images/ap1g8`);
    expect((await curl(s, { token: s.token() })).body.equals(IMAGE)).toBe(true);
    expect((await curl(s, { token: s.token({ address: "::2" }) })).status).toBe(403);
  });

  it.each(KINDS)("%s: an unusable certificate or key is a ConfigError without key material, and leaves nothing behind", async (kind) => {
    const workDir = tempDir("oob-badcert");
    const pki = chainPki();
    const failure = start(kind, { workDir, key: pki.key.replace(/[A-Za-z]/, "!"), cert: pki.cert.slice(0, 200) });
    await expect(failure).rejects.toThrow(ConfigError);
    const message = String(await failure.catch((err: Error) => err.message));
    expect(message).not.toMatch(/BEGIN|PRIVATE/);
    expect(message.split("\n")).toHaveLength(1);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it("nginx missing is a one-line ConfigError, before anything is made", async () => {
    const workDir = tempDir("oob-nonginx");
    await expect(start("nginx", { workDir, nginx: "/nonexistent/sbin/nginx" })).rejects.toThrow(/^nginx program \/nonexistent\/sbin\/nginx is not an executable file/);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it("as root, nginx's workers run as the bundle's owner (here nobody), and serve it", async () => {
    expect(process.getuid?.()).toBe(0);
    const dir = passable(bundle());
    chownSync(dir, NOBODY, NOGROUP);
    chownSync(join(dir, "ap1g8"), NOBODY, NOGROUP);
    const workDir = passable(tempDir("oob-nobody"));
    const s = await start("nginx", { bundleDir: dir, workDir });
    expect((await curl(s, { token: s.token() })).body.equals(IMAGE)).toBe(true);
    const owners = nginxProcesses(workDir).map((pid) => statSync(`/proc/${pid}`).uid);
    expect(owners.sort()).toEqual([0, NOBODY]);
  });
});

it("nginx dying under the controller is one error line, not silence", async () => {
  const s = await start("nginx");
  const [master] = nginxProcesses(s.workDir);
  process.kill(master!, "SIGKILL");
  await vi.waitFor(() => expect(s.lines.some((l) => /OOB HTTPS server nginx exited \(SIGKILL\): APs fall back to CAPWAP/.test(l))).toBe(true), { timeout: 5000 });
  await s.server.close();
  expect(readdirSync(s.workDir)).toEqual([]);
});
