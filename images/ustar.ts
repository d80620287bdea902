/**
 * Strict POSIX ustar header decoding (IEEE Std 1003.1, pax "ustar Interchange
 * Format"), for the verifier. tar-stream's extractor is built to accept what
 * tools produce — it applies pax and GNU long-name records to the next
 * member, ignores padding bytes, reads octal fields leniently and keeps
 * going after the end-of-archive blocks — which is exactly what a firmware
 * verifier must refuse, so reading for verification is done here, block by
 * block. Writing (and the lenient `inspect`) use tar-stream.
 */
import { reject } from "./errors.js";

export const BLOCK = 512;

type MemberType = "file" | "hardlink" | "symlink" | "character-device" | "block-device" | "directory" | "fifo" | "pax-header" | "pax-global-header" | "gnu-long-name" | "gnu-long-link" | "other";

export interface TarHeader {
  /** prefix + "/" + name when the ustar prefix field is used. */
  name: string;
  type: MemberType;
  /** The raw typeflag character, for messages. */
  typeflag: string;
  size: number;
  linkname: string;
}

const TYPES: Record<string, MemberType> = {
  "0": "file",
  "\0": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "character-device",
  "4": "block-device",
  "5": "directory",
  "6": "fifo",
  x: "pax-header",
  g: "pax-global-header",
  L: "gnu-long-name",
  K: "gnu-long-link",
};

const POSIX_MAGIC = "ustar\u000000";
const GNU_MAGIC = "ustar  \u0000";

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function field(block: Uint8Array, offset: number, length: number): string {
  return Buffer.from(block.buffer, block.byteOffset + offset, length).toString("latin1");
}

/** Bytes up to the first NUL. */
function cString(block: Uint8Array, offset: number, length: number): string {
  const raw = field(block, offset, length);
  const nul = raw.indexOf("\0");
  return nul < 0 ? raw : raw.slice(0, nul);
}

/**
 * An octal number field: optional leading spaces, octal digits, then only
 * NUL/space terminators. Stricter than most readers on purpose: a flipped
 * byte anywhere in a numeric field is an error, never a different number
 * (GNU base-256 sizes above 8 GiB are refused; images are far smaller).
 */
function octal(block: Uint8Array, offset: number, length: number, what: string, at: number): number {
  const m = /^ *([0-7]+)[ \0]+$/.exec(field(block, offset, length));
  if (!m) reject("IMAGE_STRUCTURE", undefined, `tar header at byte ${at}: ${what} field is not octal`);
  return Number.parseInt(m[1]!, 8);
}

/** Sum of the header bytes with the checksum field counted as spaces. */
function checksum(block: Uint8Array): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += block[i]!;
  for (let i = 156; i < BLOCK; i++) sum += block[i]!;
  return sum;
}

/** Decode one non-zero 512-byte header block found at archive byte `at`. */
export function decodeHeader(block: Uint8Array, at: number): TarHeader {
  const magic = field(block, 257, 8);
  if (magic !== POSIX_MAGIC && magic !== GNU_MAGIC) reject("IMAGE_STRUCTURE", undefined, `tar header at byte ${at}: not a ustar header`);
  if (octal(block, 148, 8, "checksum", at) !== checksum(block)) reject("IMAGE_STRUCTURE", undefined, `tar header at byte ${at}: checksum mismatch`);
  const typeflag = field(block, 156, 1);
  let name = cString(block, 0, 100);
  // In GNU headers these bytes hold times and sparse maps, not a prefix.
  const prefix = magic === POSIX_MAGIC ? cString(block, 345, 155) : "";
  if (prefix !== "") name = `${prefix}/${name}`;
  // Mode and mtime mean nothing to an image (members are written 0644), but
  // a header whose octal fields do not parse is not one a real tar wrote.
  octal(block, 100, 8, "mode", at);
  octal(block, 136, 12, "mtime", at);
  return {
    name,
    type: TYPES[typeflag] ?? "other",
    typeflag,
    size: octal(block, 124, 12, "size", at),
    linkname: cString(block, 157, 100),
  };
}

export function paddingOf(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
