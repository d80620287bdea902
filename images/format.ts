/**
 * The image layout (SPEC.md §5) and the text formats of its metadata
 * members. Everything here is pure: no I/O, no crypto beyond SHA-256.
 *
 * Members, in this order and no other:
 *   info              `key: value` lines, `info_end:` last (see renderInfo)
 *   <payload>…        one or more regular files (part.bin, …)
 *   file_hashes       sha256sum format, one line per member above
 *   final_hash        hex SHA-256 of (info bytes ‖ file_hashes bytes), then "\n"
 *   final_hash.sig    signature of the final_hash member's bytes (DER ECDSA or PKCS#1 v1.5 RSA, SHA-256)
 *   signing_cert.pem  the signing certificate, then any intermediates (PEM)
 *   info.ver          byte-for-byte copy of info
 * Names are flat (no directories): extraction writes one directory level.
 */
import { createHash } from "node:crypto";
import { isClassName, isSoftwareVersion, type ClassName } from "../platform/classes/index.js";
import { reject } from "./errors.js";

export const INFO = "info";
export const FILE_HASHES = "file_hashes";
export const FINAL_HASH = "final_hash";
export const SIGNATURE = "final_hash.sig";
export const SIGNING_CERT = "signing_cert.pem";
export const INFO_VER = "info.ver";

/** The members after the payload, in order. */
export const TRAILER_MEMBERS = [FILE_HASHES, FINAL_HASH, SIGNATURE, SIGNING_CERT, INFO_VER] as const;
export const RESERVED_NAMES: ReadonlySet<string> = new Set([INFO, ...TRAILER_MEMBERS]);

/** Caps on members held in memory while verifying (they are tiny in a real image). */
export const METADATA_MAX_BYTES: Readonly<Record<string, number>> = {
  [INFO]: 64 * 1024,
  [FILE_HASHES]: 1024 * 1024,
  [FINAL_HASH]: 65,
  [SIGNATURE]: 4096,
  [SIGNING_CERT]: 64 * 1024,
  [INFO_VER]: 64 * 1024,
};
/** At most this many members, so file_hashes and the member table stay small. */
export const MAX_MEMBERS = 1024;
/** ustar's name field without the prefix field: flat names never need more. */
const MAX_NAME_BYTES = 100;

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/**
 * Why `name` cannot be a member of an image, or undefined when it can. The
 * reader, the directory sink and the builder all ask this one function, so
 * what is refused on the wire is what the disk would refuse too.
 */
export function unsafeNameReason(name: string): string | undefined {
  if (name === "") return "empty name";
  if (name.startsWith("/")) return "absolute path";
  if (name.includes("\\")) return "backslash in name";
  if (name.split("/").includes("..")) return "parent-directory component";
  if (name.includes("/")) return "nested path (image members are flat file names)";
  if (name.length > MAX_NAME_BYTES) return `name longer than ${MAX_NAME_BYTES} bytes`;
  if (!SAFE_NAME.test(name)) return "name outside [A-Za-z0-9._+-] or starting with a dot/dash";
  return undefined;
}

/** Four dotted parts 0–255: a CAPWAP/Cisco 4-byte version (SPEC.md §3). */
export interface ImageInfo {
  family: ClassName;
  version: string;
  /** Every `key: value` line, in order (section markers like `version_start:` have value ""). */
  fields: readonly (readonly [key: string, value: string])[];
}

/**
 * [inf] The info member: what real images show (`image_family: ap1g8`,
 * `ws_management_version: 17.12.1.5`, `info_end:`); vap writes only these.
 */
export function renderInfo(family: ClassName, version: string): string {
  return `image_family: ${family}\nws_management_version: ${version}\ninfo_end:\n`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function text(bytes: Uint8Array, member: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return reject("IMAGE_STRUCTURE", member, "not UTF-8 text");
  }
}

/**
 * Parse info: `key: value` or `key:` lines, `#` comments and blank lines,
 * ended by `info_end:` with nothing but blank lines after it. Requires
 * `image_family` (a hardware class) and `ws_management_version` (four-part).
 */
export function parseInfo(bytes: Uint8Array): ImageInfo {
  const lines = text(bytes, INFO).split("\n");
  const fields: [string, string][] = [];
  const seen = new Set<string>();
  let end = -1;
  for (let i = 0; i < lines.length && end < 0; i++) {
    const line = lines[i]!;
    if (line.trim() === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z0-9_.-]+):(?: (.*))?$/.exec(line);
    if (!m) reject("IMAGE_STRUCTURE", INFO, `line ${i + 1} is not "key: value"`);
    const key = m[1]!;
    if (key === "info_end") {
      end = i;
      break;
    }
    if (seen.has(key)) reject("IMAGE_STRUCTURE", INFO, `line ${i + 1} repeats ${key}`);
    seen.add(key);
    fields.push([key, (m[2] ?? "").trim()]);
  }
  if (end < 0) reject("IMAGE_STRUCTURE", INFO, "no info_end: line");
  if (lines.slice(end + 1).some((l) => l.trim() !== "")) reject("IMAGE_STRUCTURE", INFO, "text after info_end:");
  const get = (k: string) => fields.find(([key]) => key === k)?.[1];
  const family = get("image_family");
  const version = get("ws_management_version");
  if (family === undefined) reject("IMAGE_STRUCTURE", INFO, "no image_family");
  if (!isClassName(family)) reject("IMAGE_STRUCTURE", INFO, `image_family ${JSON.stringify(family)} is not a hardware class`);
  if (version === undefined) reject("IMAGE_STRUCTURE", INFO, "no ws_management_version");
  if (!isSoftwareVersion(version)) reject("IMAGE_STRUCTURE", INFO, `ws_management_version ${JSON.stringify(version)} is not a four-part version`);
  return { family, version, fields };
}

interface HashedMember {
  name: string;
  /** Lowercase hex SHA-256 of the member's bytes. */
  sha256: string;
}

/** `sha256sum` output: hash, two spaces, name, newline — so `sha256sum -c file_hashes` checks an extracted image. */
export function renderFileHashes(members: readonly HashedMember[]): string {
  return members.map((m) => `${m.sha256}  ${m.name}\n`).join("");
}

export function parseFileHashes(bytes: Uint8Array): HashedMember[] {
  const body = text(bytes, FILE_HASHES);
  if (!body.endsWith("\n")) reject("IMAGE_STRUCTURE", FILE_HASHES, "does not end with a newline");
  return body
    .slice(0, -1)
    .split("\n")
    .map((line, i) => {
      const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
      if (!m) reject("IMAGE_STRUCTURE", FILE_HASHES, `line ${i + 1} is not "<sha256 hex>  <name>"`);
      return { sha256: m[1]!, name: m[2]! };
    });
}

/**
 * file_hashes must list exactly the members that precede it, in archive
 * order, with their hashes: anything else means the archive is not the one
 * that was signed.
 */
export function checkFileHashes(listed: readonly HashedMember[], actual: readonly HashedMember[]): void {
  for (let i = 0; i < Math.max(listed.length, actual.length); i++) {
    const l = listed[i];
    const a = actual[i];
    if (!a) reject("IMAGE_TAMPERED", l!.name, "listed in file_hashes but not in the image");
    if (!l || l.name !== a.name) reject("IMAGE_TAMPERED", a.name, `not listed at line ${i + 1} of file_hashes`);
    if (l.sha256 !== a.sha256) reject("IMAGE_TAMPERED", a.name, "SHA-256 differs from file_hashes");
  }
}

/** The final_hash member for given info and file_hashes bytes: hex SHA-256 of their concatenation, newline. */
export function renderFinalHash(info: Uint8Array, fileHashes: Uint8Array): string {
  return `${createHash("sha256").update(info).update(fileHashes).digest("hex")}\n`;
}

export function checkFinalHash(finalHash: Uint8Array, info: Uint8Array, fileHashes: Uint8Array): void {
  const got = text(finalHash, FINAL_HASH);
  if (!/^[0-9a-f]{64}\n$/.test(got)) reject("IMAGE_STRUCTURE", FINAL_HASH, "not 64 lowercase hex digits and a newline");
  if (got !== renderFinalHash(info, fileHashes)) reject("IMAGE_TAMPERED", FINAL_HASH, "differs from SHA-256 of info + file_hashes");
}

export function checkInfoVer(infoVer: Uint8Array, info: Uint8Array): void {
  if (Buffer.compare(infoVer, info) !== 0) reject("IMAGE_TAMPERED", INFO_VER, "differs from info");
}
