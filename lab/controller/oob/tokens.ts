/**
 * The tokens that authorise an AP's out-of-band HTTPS image download.
 *
 * [inf] How a Cisco controller authorises the AP is not public (SPEC.md,
 * "Out-of-band HTTPS"), and a public vulnerability in this very feature
 * (CVE-2025-20188) came from a hard-coded signing key. Every choice of the
 * scheme is here, in one place:
 *
 * - Key: 32 random bytes per controller process (OobTokens instance), held
 *   in a private field, never logged, never written, never derived from
 *   anything an attacker can know. A restarted controller has a new key, so
 *   its old tokens die with it; the AP falls back to CAPWAP and is offered a
 *   new token at its next download.
 * - Claims: the AP (base MAC), the address the controller sees its CAPWAP
 *   session come from, the image class, an expiry, and a random nonce (no two
 *   tokens alike, even for the same AP, image and millisecond). A token stolen
 *   from one AP is useless from another address or for another image.
 * - Lifetime: OOB_TOKEN_TTL_MS (limits.ts), checked when each request starts,
 *   not while it streams: a slow download that started in time finishes, and
 *   its Range resumes work for as long as the token lives. Within that life a
 *   token may be used again from its address (that is what a resume is).
 * - Wire form: base64url(payload) "." base64url(HMAC-SHA256(key, label "."
 *   base64url(payload))), payload = the JSON array [version, ap, address,
 *   image, expiresAt, nonce]. The MAC is checked (in constant time) before the
 *   payload is parsed, so nothing unauthenticated is ever interpreted.
 * - Transport: `Authorization: Bearer <token>`, a header, so that URLs, nginx
 *   access logs and proxies' logs never carry it. The AP learns it over the
 *   DTLS-protected CAPWAP session (the lead's cisco-profile element).
 * - Answers: no token, or one that does not parse → 401; a bad MAC, an
 *   expired token, or one issued for another address or image → 403. The
 *   reason goes to the controller's log; the token itself never does, nor into
 *   any error message.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { type Clock, systemClock, UsageError } from "../../../agent/core/index.js";
import { MAX_TOKEN_LENGTH, OOB_TOKEN_KEY_BYTES, OOB_TOKEN_NONCE_BYTES, OOB_TOKEN_TTL_MS } from "./limits.js";

/** What a token is issued for. */
export interface OobClaims {
  /** The AP's base MAC, "02:00:00:00:00:01". */
  ap: string;
  /** The AP's IP address as the controller sees its CAPWAP session. */
  address: string;
  /** The image class, "ap1g8". */
  image: string;
}

export type OobVerdict = { ok: true; claims: OobClaims & { expiresAt: number } } | { ok: false; status: 401 | 403; reason: string };

/** A change of the payload's layout changes this, so an old token never parses as a new one. */
const TOKEN_VERSION = 1;
/** What the MAC covers besides the payload: a key used for these tokens signs nothing else's format. */
const MAC_LABEL = "vap-oob-image";
const MAC_BYTES = 32;
/** Class names as the bundle names its files (and the only names the file server serves). */
export const IMAGE_NAME = /^[a-z0-9]+$/;
/** "02:00:00:00:00:01", "02-00-…", Cisco's "0200.0000.0001": what a header (nginx's X-Oob-Ap) can carry. */
const MAC = /^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$|^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/**
 * One address, one spelling: an IPv4 client on a dual-stack socket shows as
 * "::ffff:192.0.2.1", IPv6 may come in upper case.
 */
export function canonicalAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address.toLowerCase();
}

/** The token in an `Authorization: Bearer <token>` header; undefined when there is none or the header is another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

const refuse = (status: 401 | 403, reason: string): OobVerdict => ({ ok: false, status, reason });

/** The token authority of one controller process: issues tokens over CAPWAP, verifies them at the HTTPS server. */
export class OobTokens {
  readonly #key: Buffer;
  readonly #clock: Clock;
  readonly #ttlMs: number;

  constructor(o: { clock?: Clock; ttlMs?: number; key?: Uint8Array } = {}) {
    const ttlMs = o.ttlMs ?? OOB_TOKEN_TTL_MS;
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new UsageError(`OOB token lifetime ${ttlMs} ms must be a positive whole number`);
    // The length only: the key's bytes never reach a message.
    if (o.key && o.key.length < OOB_TOKEN_KEY_BYTES) throw new UsageError(`an OOB token key must have at least ${OOB_TOKEN_KEY_BYTES} bytes (got ${o.key.length})`);
    this.#key = o.key ? Buffer.from(o.key) : randomBytes(OOB_TOKEN_KEY_BYTES);
    this.#clock = o.clock ?? systemClock;
    this.#ttlMs = ttlMs;
  }

  issue(claims: OobClaims): { token: string; expiresAt: number } {
    if (!MAC.test(claims.ap)) throw new UsageError(`OOB token for AP "${claims.ap}": not a MAC address`);
    if (!IMAGE_NAME.test(claims.image)) throw new UsageError(`OOB token for image "${claims.image}": not a class name`);
    if (isIP(claims.address) === 0) throw new UsageError(`OOB token for address "${claims.address}": not an IP address`);
    const expiresAt = this.#clock.wallNow() + this.#ttlMs;
    const nonce = randomBytes(OOB_TOKEN_NONCE_BYTES).toString("base64url");
    const payload = Buffer.from(JSON.stringify([TOKEN_VERSION, claims.ap, canonicalAddress(claims.address), claims.image, expiresAt, nonce])).toString("base64url");
    return { token: `${payload}.${this.#mac(payload).toString("base64url")}`, expiresAt };
  }

  /** Whether `token` lets a client at `request.address` fetch `request.image` now. */
  verify(token: string | undefined, request: { address: string; image: string }): OobVerdict {
    if (token === undefined || token === "") return refuse(401, "no token");
    const parts = token.length <= MAX_TOKEN_LENGTH ? token.split(".") : [];
    if (parts.length !== 2 || !parts.every((p) => BASE64URL.test(p))) return refuse(401, "malformed token");
    const [payload, macText] = parts as [string, string];
    const mac = Buffer.from(macText, "base64url");
    // timingSafeEqual throws on a length mismatch: a MAC of the wrong length is malformed, not a near miss. Only the
    // canonical spelling counts (base64url's last character has spare bits): one MAC, one token text.
    if (mac.length !== MAC_BYTES || mac.toString("base64url") !== macText) return refuse(401, "malformed token");
    if (!timingSafeEqual(mac, this.#mac(payload))) return refuse(403, "token signature does not match");
    const claims = parsePayload(payload);
    if (!claims) return refuse(401, "malformed token");
    if (this.#clock.wallNow() >= claims.expiresAt) return refuse(403, "token expired");
    if (claims.address !== canonicalAddress(request.address)) return refuse(403, "token issued for another address");
    if (claims.image !== request.image) return refuse(403, "token issued for another image");
    return { ok: true, claims };
  }

  #mac(payload: string): Buffer {
    return createHmac("sha256", this.#key).update(`${MAC_LABEL}.${payload}`).digest();
  }
}

/** The claims of a payload whose MAC matched: only this process wrote it, but a layout of another version is refused. */
function parsePayload(payload: string): (OobClaims & { expiresAt: number }) | undefined {
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(fields) || fields.length !== 6 || fields[0] !== TOKEN_VERSION) return undefined;
  const [, ap, address, image, expiresAt] = fields as unknown[];
  if (typeof ap !== "string" || typeof address !== "string" || typeof image !== "string" || typeof expiresAt !== "number") return undefined;
  return { ap, address, image, expiresAt };
}
