/**
 * Verify an image already extracted into a directory (the standby partition)
 * again: at ACTIVATE, and when booting from a partition. The directory must
 * hold exactly the image's members as regular files; every file listed in
 * file_hashes is hashed again, then final_hash, info.ver and (policy
 * "required") the signature and chain are checked as for the stream.
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { reject } from "./errors.js";
import {
  checkFileHashes,
  checkFinalHash,
  checkInfoVer,
  FILE_HASHES,
  FINAL_HASH,
  INFO,
  INFO_VER,
  type ImageInfo,
  METADATA_MAX_BYTES,
  parseFileHashes,
  parseInfo,
  RESERVED_NAMES,
  TRAILER_MEMBERS,
  unsafeNameReason,
} from "./format.js";
import type { SignaturePolicy } from "./trust.js";
import { finishVerification, missingMember, rootsFor, type ImageMember, type VerifiedImage, type VerifyOptions } from "./verify.js";

export type VerifyDirectoryOptions = Pick<VerifyOptions, "policy" | "trust" | "family" | "now">;

const READ_CHUNK = 1024 * 1024;

/**
 * Hash a member file without following a symlink; `cap` bounds the bytes
 * kept in memory (metadata only). ENOENT means the member is missing.
 */
async function readMember(dir: string, name: string, cap: number | undefined): Promise<{ member: ImageMember; bytes: Uint8Array | undefined } | undefined> {
  let fh;
  try {
    fh = await open(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") reject("IMAGE_UNSAFE_MEMBER", name, "is a symbolic link in the partition");
    throw err;
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) reject("IMAGE_UNSAFE_MEMBER", name, "is not a regular file in the partition");
    if (cap !== undefined && stat.size > cap) reject("IMAGE_TOO_LARGE", name, `${stat.size} bytes, more than the ${cap} allowed`);
    const hash = createHash("sha256");
    const kept: Uint8Array[] = [];
    const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(stat.size, 1)));
    let size = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      const piece = buffer.subarray(0, bytesRead);
      hash.update(piece);
      if (cap !== undefined) {
        if (size + bytesRead > cap) reject("IMAGE_TOO_LARGE", name, `more than the ${cap} bytes allowed`);
        kept.push(Buffer.from(piece));
      }
      size += bytesRead;
    }
    return { member: { name, size, sha256: hash.digest("hex") }, bytes: cap === undefined ? undefined : Buffer.concat(kept) };
  } finally {
    await fh.close();
  }
}

/**
 * What an extracted image says it is (its `info`), read without verifying
 * anything else: `show version` names the backup image this way.
 * @throws ImageRejectedError when there is no readable `info`.
 */
export async function readImageDirectoryInfo(dir: string): Promise<ImageInfo> {
  const read = await readMember(dir, INFO, METADATA_MAX_BYTES[INFO]);
  if (!read) missingMember(INFO);
  return parseInfo(read.bytes!);
}

export async function verifyImageDirectory(dir: string, options: VerifyDirectoryOptions = {}): Promise<VerifiedImage> {
  const policy: SignaturePolicy = options.policy ?? "required";
  const roots = rootsFor(policy, options.trust);
  const metadata = new Map<string, Uint8Array>();
  const trailer: ImageMember[] = [];
  for (const name of [INFO, ...TRAILER_MEMBERS]) {
    const read = await readMember(dir, name, METADATA_MAX_BYTES[name]);
    if (!read) missingMember(name);
    metadata.set(name, read.bytes!);
    if (name !== INFO) trailer.push(read.member);
  }
  const meta = (name: string) => metadata.get(name)!;
  const info = parseInfo(meta(INFO));
  if (options.family !== undefined && info.family !== options.family) {
    reject("IMAGE_WRONG_FAMILY", INFO, `image_family ${info.family}, this AP runs ${options.family}`);
  }

  // file_hashes is not trusted yet: its names are checked before any is opened.
  const listed = parseFileHashes(meta(FILE_HASHES));
  if (listed[0]?.name !== INFO) reject("IMAGE_TAMPERED", FILE_HASHES, `does not list ${INFO} first`);
  const seen = new Set<string>();
  const members: ImageMember[] = [];
  for (const [i, { name }] of listed.entries()) {
    const unsafe = unsafeNameReason(name);
    if (unsafe) reject("IMAGE_UNSAFE_MEMBER", name, `listed in ${FILE_HASHES}: ${unsafe}`);
    if (seen.has(name) || (i > 0 && RESERVED_NAMES.has(name))) reject("IMAGE_TAMPERED", name, `listed twice or out of place in ${FILE_HASHES}`);
    seen.add(name);
    const read = await readMember(dir, name, undefined);
    if (!read) reject("IMAGE_TAMPERED", name, `listed in ${FILE_HASHES} but not in the partition`);
    members.push(read.member);
  }
  checkFileHashes(listed, members);
  checkFinalHash(meta(FINAL_HASH), meta(INFO), meta(FILE_HASHES));
  checkInfoVer(meta(INFO_VER), meta(INFO));

  for (const name of await readdir(dir)) {
    if (!seen.has(name) && !RESERVED_NAMES.has(name)) reject("IMAGE_STRUCTURE", name, "in the partition but not part of the image");
  }
  members.push(...trailer);
  return finishVerification({ info, members, metadata, imageBytes: members.reduce((n, m) => n + m.size, 0) }, policy, roots, options.now ?? new Date());
}

/** One file of an extracted image, hashed again against what file_hashes lists for it. */
export interface MemberCheck {
  name: string;
  good: boolean;
}

/**
 * Every file an extracted image's file_hashes lists, hashed again one by
 * one (`show image integrity`): where verifyImageDirectory stops at the
 * first mismatch, this names each file Good or Bad. It says nothing about
 * the signature; verifyImageDirectory does.
 * @throws ImageRejectedError when there is no readable file_hashes.
 */
export async function checkImageDirectoryFiles(dir: string): Promise<MemberCheck[]> {
  const read = await readMember(dir, FILE_HASHES, METADATA_MAX_BYTES[FILE_HASHES]);
  if (!read) missingMember(FILE_HASHES);
  const checks: MemberCheck[] = [];
  for (const { name, sha256 } of parseFileHashes(read.bytes!)) {
    if (unsafeNameReason(name)) {
      checks.push({ name, good: false });
      continue;
    }
    const member = await readMember(dir, name, undefined).catch(() => undefined);
    checks.push({ name, good: member?.member.sha256 === sha256 });
  }
  return checks;
}
