import { CapwapEncodeError, type Codec } from "../../codec/index.js";

/** Cisco versions are 4 bytes, one per dotted part: 17.9.4.27 → 11 09 04 1B. */
export function encodeCiscoVersion(version: string): Uint8Array {
  const parts = version.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new CapwapEncodeError(`"${version}" is not a four-part Cisco version (a.b.c.d, each 0–255)`);
  }
  return Uint8Array.from(parts);
}

export function decodeCiscoVersion(bytes: Uint8Array): string {
  return Array.from(bytes).join(".");
}

/** A 4-byte version field as its dotted string. */
export const ciscoVersion: Codec<string> = {
  read: (r) => decodeCiscoVersion(r.bytes(4, "Cisco version")),
  write: (w, v) => w.bytes(encodeCiscoVersion(v)),
};
