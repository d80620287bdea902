/**
 * Every fault `vap lab --oob-fault` injects, seen by real curl, with the
 * embedded server and with nginx in the path: the failure each AP fallback
 * path must recognise.
 */
import { readdirSync } from "node:fs";
import { connect } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { CORRUPT_BYTES } from "../../../lab/controller/oob/limits.js";
import { curl, IMAGE, IMAGE_SIZE, KINDS, start } from "./support.js";

const HALF = Math.floor(IMAGE_SIZE / 2);
/** curl's whole-transfer limit: half an image crosses loopback in far less; the stalled rest never comes. */
const STALL_LIMIT = ["--max-time", "2"];

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

describe.each(KINDS)("OOB faults (%s)", (kind) => {
  it("refuse: nothing listens at the URL's port (curl exit 7), and nothing was started", async () => {
    const s = await start(kind, { fault: "refuse" });
    expect(s.server.url("ap1g8")).toBe(`https://127.0.0.1:${s.server.port}/images/ap1g8`);
    expect(s.server.port).toBeGreaterThan(0);
    expect(await refused(s.server.port)).toBe(true);
    expect((await curl(s, { token: s.token() })).code).toBe(7);
    expect(readdirSync(s.workDir)).toEqual([]);
  });

  it("tls: a certificate the AP cannot verify (curl exit 60); the same request without verification gets the image", async () => {
    const s = await start(kind, { fault: "tls" });
    const r = await curl(s, { token: s.token() });
    expect(r.code).toBe(60);
    expect(r.stderr).toMatch(/certificate/);
    const unchecked = await curl(s, { token: s.token(), extra: ["--insecure"] });
    expect(unchecked.body.equals(IMAGE)).toBe(true);
  });

  it("token: every token refused with 403", async () => {
    const s = await start(kind, { fault: "token" });
    const r = await curl(s, { token: s.token() });
    expect([r.code, r.status]).toEqual([0, 403]);
    expect(s.lines.some((l) => /refused \(403\): every token refused \(fault injection\)/.test(l))).toBe(true);
  });

  it("404: the image reported missing, to a valid token (an invalid one still gets 401)", async () => {
    const s = await start(kind, { fault: "404" });
    expect((await curl(s, { token: s.token() })).status).toBe(404);
    expect((await curl(s, { token: s.token(), head: true })).status).toBe(404);
    expect((await curl(s)).status).toBe(401);
  });

  it("stall: the headers and about half the body, then silence on an open connection (curl times out, exit 28), a resume too", async () => {
    const s = await start(kind, { fault: "stall" });
    const r = await curl(s, { token: s.token(), extra: STALL_LIMIT });
    expect([r.code, r.status]).toEqual([28, 200]);
    expect(r.body.length).toBe(HALF);
    expect(r.body.equals(IMAGE.subarray(0, HALF))).toBe(true);
    // A HEAD has no body to stall.
    expect((await curl(s, { token: s.token(), head: true, extra: STALL_LIMIT })).code).toBe(0);
    const resume = await curl(s, { token: s.token(), range: `${HALF}-`, extra: STALL_LIMIT });
    expect([resume.code, resume.status, resume.body.length]).toEqual([28, 206, Math.floor((IMAGE_SIZE - HALF) / 2)]);
    await vi.waitFor(() => expect(s.transfers).toHaveLength(3), { timeout: 5000 });
    expect(s.transfers.map((t) => [t.status, t.complete])).toEqual([
      [200, false],
      [200, true],
      [206, false],
    ]);
  });

  it("truncate: the full Content-Length announced, the connection closed after about half (curl exit 18) — every Range resume too", async () => {
    const s = await start(kind, { fault: "truncate" });
    const r = await curl(s, { token: s.token() });
    expect([r.code, r.status]).toEqual([18, 200]);
    expect(r.stderr).toMatch(new RegExp(`transfer closed with ${IMAGE_SIZE - HALF} bytes remaining`));
    expect(r.body.equals(IMAGE.subarray(0, HALF))).toBe(true);
    let at = HALF;
    for (let resume = 0; resume < 3; resume++) {
      const next = await curl(s, { token: s.token(), range: `${at}-` });
      expect([next.code, next.status]).toEqual([18, 206]);
      expect(next.body.equals(IMAGE.subarray(at, at + Math.floor((IMAGE_SIZE - at) / 2)))).toBe(true);
      at += next.body.length;
    }
    await vi.waitFor(() => expect(s.transfers).toHaveLength(4), { timeout: 5000 });
    expect(s.transfers.every((t) => !t.complete)).toBe(true);
    expect(s.transfers[0]!.bytes).toBe(HALF);
  });

  it("corrupt: the full length, bytes flipped in the middle (a resume over the middle gets the same flipped bytes)", async () => {
    const s = await start(kind, { fault: "corrupt" });
    const r = await curl(s, { token: s.token() });
    expect([r.code, r.status, r.body.length]).toEqual([0, 200, IMAGE_SIZE]);
    const differ = [...r.body.keys()].filter((i) => r.body[i] !== IMAGE[i]);
    expect(differ).toEqual(Array.from({ length: CORRUPT_BYTES }, (_, i) => HALF + i));
    const resume = await curl(s, { token: s.token(), range: `${HALF - 10}-` });
    expect(resume.status).toBe(206);
    expect(resume.body.equals(r.body.subarray(HALF - 10))).toBe(true);
    await vi.waitFor(() => expect(s.transfers).toHaveLength(2), { timeout: 5000 });
    expect(s.transfers[0]).toMatchObject({ bytes: IMAGE_SIZE, status: 200, complete: true });
  });
});
