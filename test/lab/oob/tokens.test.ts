/** OobTokens: issued and verified under a ManualClock; every refusal its status; the key random per instance and never shown. */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ManualClock, UsageError } from "../../../agent/core/index.js";
import { OOB_TOKEN_TTL_MS, OobTokens } from "../../../lab/controller/oob/index.js";
import { bearerToken } from "../../../lab/controller/oob/tokens.js";

const CLAIMS = { ap: "02:00:00:00:00:01", address: "192.0.2.10", image: "ap1g8" };
const REQUEST = { address: "192.0.2.10", image: "ap1g8" };

/** The token with one character of its MAC part (index `at` from the MAC's start) replaced by another base64url character that changes the bytes. */
function tamperMac(token: string, at: number): string {
  const [payload, mac] = token.split(".") as [string, string];
  const chars = [...mac];
  chars[at] = chars[at] === "A" ? "B" : "A";
  return `${payload}.${chars.join("")}`;
}

describe("OobTokens", () => {
  it("verifies what it issued: the claims back, valid for OOB_TOKEN_TTL_MS from issue (10 minutes)", () => {
    const clock = new ManualClock();
    const tokens = new OobTokens({ clock });
    const { token, expiresAt } = tokens.issue(CLAIMS);
    expect(OOB_TOKEN_TTL_MS).toBe(600_000);
    expect(expiresAt).toBe(clock.wallNow() + OOB_TOKEN_TTL_MS);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(tokens.verify(token, REQUEST)).toEqual({ ok: true, claims: { ...CLAIMS, expiresAt } });
  });

  it("expires exactly at expiresAt: valid 1 ms before, 403 at it (checked when a request starts)", () => {
    const clock = new ManualClock();
    const tokens = new OobTokens({ clock, ttlMs: 5000 });
    const { token } = tokens.issue(CLAIMS);
    clock.advance(4999);
    expect(tokens.verify(token, REQUEST).ok).toBe(true);
    clock.advance(1);
    expect(tokens.verify(token, REQUEST)).toEqual({ ok: false, status: 403, reason: "token expired" });
  });

  it("is bound to the AP's address and to the image: 403 for another; an IPv4-mapped spelling is the same address", () => {
    const tokens = new OobTokens();
    const { token } = tokens.issue(CLAIMS);
    expect(tokens.verify(token, { ...REQUEST, address: "192.0.2.11" })).toEqual({ ok: false, status: 403, reason: "token issued for another address" });
    expect(tokens.verify(token, { ...REQUEST, image: "ap1g7" })).toEqual({ ok: false, status: 403, reason: "token issued for another image" });
    expect(tokens.verify(token, { ...REQUEST, address: "::ffff:192.0.2.10" }).ok).toBe(true);
    const v6 = tokens.issue({ ...CLAIMS, address: "2001:DB8::1" }).token;
    expect(tokens.verify(v6, { ...REQUEST, address: "2001:db8::1" }).ok).toBe(true);
  });

  it("401 for no token or one that does not parse; 403 for a MAC that does not match, wherever the difference", () => {
    const tokens = new OobTokens();
    const { token } = tokens.issue(CLAIMS);
    const [payload, mac] = token.split(".") as [string, string];
    for (const bad of [undefined, "", "abc", `${token}.x`, `${payload}.`, `.${mac}`, `${payload}.${mac.slice(0, -2)}`, `${payload}.${mac}AA`, `${payload}!.${mac}`, "x".repeat(5000)]) {
      expect(tokens.verify(bad, REQUEST), String(bad).slice(0, 40)).toMatchObject({ ok: false, status: 401 });
    }
    // The constant-time comparison's path: same length, one byte off at the start, in the middle or at the end.
    for (const at of [0, 21, 41]) expect(tamperMac(token, at) === token).toBe(false);
    for (const at of [0, 21, 41]) expect(tokens.verify(tamperMac(token, at), REQUEST)).toEqual({ ok: false, status: 403, reason: "token signature does not match" });
    // Another payload under the old MAC (a claim rewritten: another image, a later expiry).
    const forged = Buffer.from(JSON.stringify([1, CLAIMS.ap, CLAIMS.address, "ap1g7", Date.now() + 1e9, "n"])).toString("base64url");
    expect(tokens.verify(`${forged}.${mac}`, { ...REQUEST, image: "ap1g7" })).toMatchObject({ ok: false, status: 403 });
  });

  it("accepts only the canonical spelling of the MAC: base64url's spare bits changed make it malformed (401), not a second valid token", () => {
    const tokens = new OobTokens();
    const { token } = tokens.issue(CLAIMS);
    const last = token.at(-1)!;
    // The 43rd character holds 4 bits of the MAC and 2 spare ones: its neighbour in the alphabet differs only in a spare bit.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    const respelled = token.slice(0, -1) + sibling;
    expect(Buffer.from(respelled.split(".")[1]!, "base64url")).toEqual(Buffer.from(token.split(".")[1]!, "base64url"));
    expect(tokens.verify(respelled, REQUEST)).toEqual({ ok: false, status: 401, reason: "malformed token" });
  });

  it("has a random key per instance: another controller's token is refused; one given key verifies across instances", () => {
    const a = new OobTokens();
    const b = new OobTokens();
    expect(b.verify(a.issue(CLAIMS).token, REQUEST)).toMatchObject({ ok: false, status: 403 });
    const key = new Uint8Array(32).fill(7);
    const past = new ManualClock(Date.now() - 3_600_000);
    const issuer = new OobTokens({ key, clock: past });
    const verifier = new OobTokens({ key });
    const { token } = issuer.issue(CLAIMS);
    // An hour ago, ten-minute tokens: expired now, on the verifier's own clock.
    expect(verifier.verify(token, REQUEST)).toEqual({ ok: false, status: 403, reason: "token expired" });
    expect(issuer.verify(token, REQUEST).ok).toBe(true);
  });

  it("makes no two tokens alike (a nonce), and never shows its key", () => {
    const key = new Uint8Array(32).fill(0xab);
    const tokens = new OobTokens({ key, clock: new ManualClock() });
    const first = tokens.issue(CLAIMS).token;
    expect(tokens.issue(CLAIMS).token).not.toBe(first);
    const shown = `${inspect(tokens, { showHidden: true, depth: 5 })} ${JSON.stringify(tokens)} ${String(tokens)}`;
    expect(shown).not.toMatch(/abab|171, 171|q6ur/i);
  });

  it("refuses bad arguments as the caller's mistake, and a short key without its bytes in the message", () => {
    expect(() => new OobTokens({ key: new Uint8Array(16).fill(0x5a) })).toThrow(/at least 32 bytes \(got 16\)$/);
    expect(() => new OobTokens({ ttlMs: 0 })).toThrow(UsageError);
    const tokens = new OobTokens();
    expect(() => tokens.issue({ ...CLAIMS, image: "../etc" })).toThrow(UsageError);
    expect(() => tokens.issue({ ...CLAIMS, address: "controller.lab" })).toThrow(UsageError);
    expect(() => tokens.issue({ ...CLAIMS, ap: "02:00:00:00:00:01\r\nX: y" })).toThrow(UsageError);
    expect(tokens.issue({ ...CLAIMS, ap: "0200.0000.0001" }).token).toBeTruthy();
  });

  it("reads the token from an Authorization: Bearer header only", () => {
    expect(bearerToken("Bearer abc.DEF_-")).toBe("abc.DEF_-");
    expect(bearerToken("bearer  abc.def ")).toBe("abc.def");
    expect(bearerToken("Basic dXNlcjpwYXNz")).toBeUndefined();
    expect(bearerToken("Bearer")).toBeUndefined();
    expect(bearerToken("Bearer a b")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
