/** `vap fetch http(s)://…` through the built CLI, against a real nginx. */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../support/temp.js";
import { content, sha256 } from "../tftp/support.js";
import { type RunningNginx, startNginx } from "./support.js";

const VAP = join(import.meta.dirname, "../../../dist/cli/vap.js");
const IMAGE = content(300_000);

function runVap(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VAP, ...argv], { timeout: 60_000 }, (error, out, err) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out, err }));
  });
}

let nginx: RunningNginx;
beforeAll(async () => {
  nginx = await startNginx({ "ap1g8.bin": IMAGE });
});
afterAll(async () => {
  await nginx?.stop();
});

describe("vap fetch https://", () => {
  it("downloads with --ca, and never prints the URL's credentials", async () => {
    const file = join(tempDir("http-cli"), "ap1g8");
    const r = await runVap("fetch", `https://admin:s3cret@127.0.0.1:${nginx.httpsPort}/ap1g8.bin`, file, "--ca", nginx.caFile);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^fetch: https://\\*\\*\\*\\*\\*@127\\.0\\.0\\.1:${nginx.httpsPort}/ap1g8\\.bin -> ${file}, 300000 bytes in \\d+\\.\\d\\d s\\n$`));
    expect(sha256(readFileSync(file))).toBe(sha256(IMAGE));
  });

  it("without --ca: exit 1, one line naming the certificate problem, no credentials, no file", async () => {
    const file = join(tempDir("http-cli"), "ap1g8");
    const r = await runVap("fetch", `https://admin:s3cret@127.0.0.1:${nginx.httpsPort}/ap1g8.bin`, file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^vap fetch: https:\/\/\*\*\*\*\*@127\.0\.0\.1:\d+\/ap1g8\.bin: TLS certificate not accepted: [^\n]+\n$/);
    expect(r.err).not.toContain("s3cret");
    expect(existsSync(file) || existsSync(`${file}.part`)).toBe(false);
  });

  it("http:// works, and a 404 is exit 1 with one line", async () => {
    const file = join(tempDir("http-cli"), "ap1g8");
    const ok = await runVap("fetch", `http://127.0.0.1:${nginx.httpPort}/ap1g8.bin`, file);
    expect(ok.code).toBe(0);
    expect(sha256(readFileSync(file))).toBe(sha256(IMAGE));
    const missing = await runVap("fetch", `http://127.0.0.1:${nginx.httpPort}/nope`, join(tempDir("http-cli"), "x"));
    expect([missing.code, missing.err]).toEqual([1, `vap fetch: http://127.0.0.1:${nginx.httpPort}/nope: HTTP 404\n`]);
  });

  it("--ca for tftp:// and an unreadable --ca file are exit 2", async () => {
    const tftp = await runVap("fetch", "tftp://127.0.0.1/x", "out", "--ca", nginx.caFile);
    expect([tftp.code, tftp.err]).toEqual([2, "vap fetch: --ca applies to http://, https:// and ftpes:// only\n"]);
    const missing = await runVap("fetch", `https://127.0.0.1:${nginx.httpsPort}/ap1g8.bin`, "out", "--ca", "/no/such/ca.pem");
    expect([missing.code, missing.err]).toEqual([2, "vap fetch: --ca /no/such/ca.pem: cannot read (ENOENT)\n"]);
  });
});
