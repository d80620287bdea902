/**
 * Failures the OOB file server injects so that every fallback path of an AP
 * can be seen (`vap lab --oob-fault`). Each means the same with the embedded
 * server and with nginx.
 */
import { CORRUPT_BYTES, FAULT_BODY_SHARE } from "./limits.js";

export const OOB_FAULTS = ["refuse", "tls", "token", "404", "stall", "truncate", "corrupt"] as const;
/**
 * - refuse: nothing listens at the URL's port (connection refused);
 * - tls: the server presents a certificate from a CA made at start, which the AP does not trust;
 * - token: every token is refused (403);
 * - 404: the image is reported missing;
 * - stall: the headers and about half the body, then silence, the connection held open;
 * - truncate: the full Content-Length announced, the connection closed after about half — every time, a Range resume too;
 * - corrupt: the full length, with bytes flipped in the middle of the image (MD5 and signature checks catch it).
 */
export type OobFault = (typeof OOB_FAULTS)[number];

/** The faults that shape a response's body (the others act before any body). */
export type BodyFault = Extract<OobFault, "stall" | "truncate" | "corrupt">;

export function isBodyFault(fault: OobFault | undefined): fault is BodyFault {
  return fault === "stall" || fault === "truncate" || fault === "corrupt";
}

/** What to do after sending `send` bytes of a body: end it, close the connection, or hold it open in silence. */
export interface BodyPlan {
  send: number;
  then: "end" | "close" | "hold";
}

/** How much of a `length`-byte body goes out under `fault`. No body (HEAD) has nothing to spoil: it ends. */
export function bodyPlan(fault: OobFault | undefined, length: number): BodyPlan {
  if (length === 0) return { send: 0, then: "end" };
  if (fault === "stall") return { send: Math.floor(length * FAULT_BODY_SHARE), then: "hold" };
  if (fault === "truncate") return { send: Math.floor(length * FAULT_BODY_SHARE), then: "close" };
  return { send: length, then: "end" };
}

/**
 * The `corrupt` fault: flip the bytes of `chunk` (file bytes from `position`
 * on) that fall in the image's middle CORRUPT_BYTES. Absolute file positions,
 * so a Range resume gets the same flipped bytes as a whole download.
 */
export function corruptChunk(chunk: Uint8Array, position: number, fileSize: number): void {
  const from = Math.floor(fileSize / 2);
  const to = Math.min(fileSize, from + CORRUPT_BYTES);
  for (let p = Math.max(from, position); p < Math.min(to, position + chunk.length); p++) chunk[p - position]! ^= 0xff;
}
