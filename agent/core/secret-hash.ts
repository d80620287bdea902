/**
 * Passwords at rest (the AP console's login and enable secret): scrypt from
 * node:crypto in a PHC-style string, `$scrypt$ln=14,r=8,p=1$<salt>$<key>`
 * (base64, no padding), so that a config file never holds the secret itself.
 * A wrong guess costs the same time as a right one (timingSafeEqual).
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{32,})$/;

/** scrypt's cost as RFC 7914 recommends for interactive logins: N = 2^14, r = 8, p = 1. */
const COST = { ln: 14, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;

const b64 = (b: Buffer) => b.toString("base64").replace(/=+$/, "");

/** Hash a secret for a config file. */
export function hashSecret(secret: string): string {
  const salt = randomBytes(SALT_BYTES);
  const key = scryptSync(secret, salt, KEY_BYTES, { N: 2 ** COST.ln, r: COST.r, p: COST.p });
  return `$scrypt$ln=${COST.ln},r=${COST.r},p=${COST.p}$${b64(salt)}$${b64(key)}`;
}

/** Whether `text` is a hash hashSecret makes (the config checks it up front). */
export function isSecretHash(text: string): boolean {
  const m = PHC.exec(text);
  return m !== null && Number(m[1]) >= 10 && Number(m[1]) <= 20 && Number(m[2]) >= 1 && Number(m[3]) >= 1 && Number(m[3]) <= 16;
}

/** Whether `secret` is the one `hash` was made from; false for a malformed hash. */
export async function verifySecret(secret: string, hash: string): Promise<boolean> {
  if (!isSecretHash(hash)) return false;
  const [, ln, r, p, salt, key] = PHC.exec(hash)!;
  const expected = Buffer.from(key!, "base64");
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(secret, Buffer.from(salt!, "base64"), expected.length, { N: 2 ** Number(ln), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 }, (err, k) => (err ? reject(err) : resolve(k))),
  );
  return timingSafeEqual(actual, expected);
}
