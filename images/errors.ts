import { PeerError } from "../agent/core/index.js";

/** Why an image was refused: stable strings callers and tests can match on. */
export type ImageRejectCode =
  /** Not a well-formed image: bad tar header, member order, info or file_hashes syntax, garbage after the end. */
  | "IMAGE_STRUCTURE"
  /** A member that could escape or confuse extraction: absolute or `..` paths, nested names, links, devices, directories, pax/GNU renames, duplicates. */
  | "IMAGE_UNSAFE_MEMBER"
  /** A member, or the whole image, exceeds the partition or `/tmp` limit (or a metadata cap). */
  | "IMAGE_TOO_LARGE"
  /** The archive stops before its end-of-archive blocks. */
  | "IMAGE_TRUNCATED"
  /** Content differs from what was signed: a file hash, final_hash, info.ver, the member list. */
  | "IMAGE_TAMPERED"
  /** final_hash.sig is missing, malformed or does not verify with the signing certificate's key. */
  | "IMAGE_SIGNATURE"
  /** The signing certificate is missing, malformed, expired, not yet valid, not for code signing, or does not chain to a trusted root. */
  | "IMAGE_CERTIFICATE"
  /** The image is for another hardware class than the caller expects. */
  | "IMAGE_WRONG_FAMILY";

/**
 * An image refused by the verifier. The message is one line and names the
 * member ("member \"../x\": parent-directory component"); names from the
 * archive are JSON-quoted so a hostile name cannot add lines to a log.
 */
export class ImageRejectedError extends PeerError {
  declare readonly code: ImageRejectCode;
  /** The member concerned, when there is one (as found in the archive). */
  readonly member: string | undefined;

  constructor(code: ImageRejectCode, member: string | undefined, reason: string) {
    super(code, member === undefined ? `image: ${reason}` : `member ${JSON.stringify(member)}: ${reason}`);
    this.member = member;
  }
}

export function reject(code: ImageRejectCode, member: string | undefined, reason: string): never {
  throw new ImageRejectedError(code, member, reason);
}
