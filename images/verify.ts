/**
 * The streaming image verifier: one pass over the archive bytes as they
 * arrive (from a download, a file, a TFTP transfer), with no member ever
 * held whole in memory except the small metadata members.
 *
 * While bytes arrive it enforces, and refuses at the first violation:
 * - tar structure: strict ustar headers (./ustar.ts), zero padding, two
 *   end-of-archive blocks and nothing but zero blocks after them;
 * - member types and names: regular files with flat, portable names only —
 *   no links, devices, directories, FIFOs, pax or GNU records, duplicates;
 * - layout: info first, payload, then file_hashes, final_hash,
 *   final_hash.sig, signing_cert.pem and info.ver last (./format.ts);
 * - limits: each member and the running total against the partition, the
 *   archive against /tmp, metadata members against small caps — checked
 *   from the header, before the member's bytes are accepted;
 * - content: SHA-256 of every member on the fly, compared with file_hashes
 *   as soon as file_hashes is complete, then final_hash and info.ver.
 * At the end: the signature and certificate chain (policy "required"), then
 * the sink commits. Any failure discards what the sink received.
 */
import { createHash, type Hash, type X509Certificate } from "node:crypto";
import { open } from "node:fs/promises";
import { UsageError } from "../agent/core/index.js";
import { partitionBytes, type ClassName, type HardwareClass } from "../platform/classes/index.js";
import { reject } from "./errors.js";
import {
  checkFileHashes,
  checkFinalHash,
  checkInfoVer,
  FILE_HASHES,
  FINAL_HASH,
  INFO,
  INFO_VER,
  MAX_MEMBERS,
  METADATA_MAX_BYTES,
  parseFileHashes,
  parseInfo,
  RESERVED_NAMES,
  SIGNATURE,
  SIGNING_CERT,
  TRAILER_MEMBERS,
  unsafeNameReason,
  type ImageInfo,
} from "./format.js";
import { hashOnlySink, type MemberSink, type MemberFile } from "./sink.js";
import { parseTrustRoots, verifySigner, type ImageSignerInfo, type SignaturePolicy } from "./trust.js";
import { BLOCK, decodeHeader, isZeroBlock, paddingOf, type TarHeader } from "./ustar.js";

export interface ImageLimits {
  /** Bytes of the whole archive: a real AP stages it in /tmp/part.tar. */
  imageBytes: number;
  /** Bytes of all members together once extracted: the standby partition. */
  extractBytes: number;
}

/** The limits of a hardware class: its /tmp space and one flash partition. */
export function imageLimits(c: HardwareClass): ImageLimits {
  return { imageBytes: c.tmpKiB * 1024, extractBytes: partitionBytes(c) };
}

export interface VerifyOptions {
  limits: ImageLimits;
  /** "required" (default): signature and chain must verify. "structure-only": skip both — the engine must log every such use. */
  policy?: SignaturePolicy;
  /**
   * Trusted image-signing roots: PEM (one or more), or certificates already
   * parsed (rootsFor) when one caller verifies many images. Required unless
   * the policy is "structure-only".
   */
  trust?: string | readonly X509Certificate[];
  /** Where members go; default: nowhere (hash only). */
  sink?: MemberSink;
  /** Refuse an image whose image_family is not this class, before its payload is accepted. */
  family?: ClassName;
  /** Time at which certificates must be valid; default now. */
  now?: Date;
}

export interface ImageMember {
  name: string;
  size: number;
  /** Lowercase hex SHA-256. */
  sha256: string;
}

export interface VerifiedImage {
  family: ClassName;
  /** ws_management_version, four-part. */
  version: string;
  info: ImageInfo["fields"];
  /** Every member, in archive order. */
  members: ImageMember[];
  /** The final_hash value (hex), what the signature covers. */
  finalHash: string;
  policy: SignaturePolicy;
  /** Who signed it; null under "structure-only", which checks neither signature nor chain. */
  signer: ImageSignerInfo | null;
  /** Bytes read: the archive length when streaming, the members' total when re-verifying a directory. */
  imageBytes: number;
}

/** The parts checked after the last byte, shared with the extracted-directory check. */
interface ImageParts {
  info: ImageInfo;
  members: ImageMember[];
  metadata: ReadonlyMap<string, Uint8Array>;
  imageBytes: number;
}

/** Signature and chain per policy, then the result. */
export function finishVerification(parts: ImageParts, policy: SignaturePolicy, roots: readonly X509Certificate[], now: Date): VerifiedImage {
  const meta = (name: string) => parts.metadata.get(name)!;
  const signer = policy === "required" ? verifySigner({ finalHash: meta(FINAL_HASH), signature: meta(SIGNATURE), signingCert: meta(SIGNING_CERT) }, roots, now) : null;
  return {
    family: parts.info.family,
    version: parts.info.version,
    info: parts.info.fields,
    members: parts.members,
    finalHash: Buffer.from(meta(FINAL_HASH)).toString("latin1").trim(),
    policy,
    signer,
    imageBytes: parts.imageBytes,
  };
}

/** Roots for a policy: none needed for "structure-only". */
export function rootsFor(policy: SignaturePolicy, trust: string | readonly X509Certificate[] | undefined): readonly X509Certificate[] {
  if (policy === "structure-only") return [];
  if (trust === undefined) throw new UsageError('verifying with policy "required" needs trusted roots');
  return typeof trust === "string" ? parseTrustRoots(trust) : trust;
}

/** Refuse an image that lacks a layout member; an absent signature or certificate says so in its code. */
export function missingMember(name: string): never {
  if (name === SIGNATURE) reject("IMAGE_SIGNATURE", SIGNATURE, "missing: the image is unsigned");
  if (name === SIGNING_CERT) reject("IMAGE_CERTIFICATE", SIGNING_CERT, "missing: no signing certificate");
  return reject("IMAGE_STRUCTURE", name, "missing");
}

function typeReason(h: TarHeader): string {
  switch (h.type) {
    case "hardlink":
      return `hard link to ${JSON.stringify(h.linkname)}`;
    case "symlink":
      return `symbolic link to ${JSON.stringify(h.linkname)}`;
    case "character-device":
    case "block-device":
      return `${h.type.replace("-", " ")} node`;
    case "directory":
      return "directory";
    case "fifo":
      return "FIFO";
    case "pax-header":
      return "pax extended header (it could rename or resize the next member)";
    case "pax-global-header":
      return "pax global header (it could rename later members)";
    case "gnu-long-name":
    case "gnu-long-link":
      return "GNU long-name record (it could rename the next member)";
    default:
      return `unsupported tar member type ${JSON.stringify(h.typeflag)}`;
  }
}

interface OpenMember {
  name: string;
  size: number;
  remaining: number;
  hash: Hash;
  file: MemberFile;
  /** Metadata members are kept (they are capped); payload is not. */
  kept: Uint8Array[] | null;
}

/** Layout position: what the next member may be. */
const EXPECT_INFO = -2;
const EXPECT_PAYLOAD = -1;
// 0..TRAILER_MEMBERS.length-1: that trailer member; TRAILER_MEMBERS.length: nothing (info.ver was last).
const EXPECT_NOTHING = TRAILER_MEMBERS.length;

/**
 * Push-style verifier for sources that deliver bytes by callback (CAPWAP
 * Image Data, TFTP). Call write() for each chunk, awaiting each, then end();
 * or abort() to give up. The first refusal rejects that write() (or end())
 * with an ImageRejectedError after the sink has discarded; later calls
 * repeat it. Errors from the sink itself propagate unchanged.
 */
export class ImageVerifier {
  readonly #limits: ImageLimits;
  readonly #policy: SignaturePolicy;
  readonly #roots: readonly X509Certificate[];
  readonly #sink: MemberSink;
  readonly #family: ClassName | undefined;
  readonly #now: Date | undefined;

  #offset = 0;
  #state: "header" | "data" | "padding" | "end" | "trailer" = "header";
  readonly #block = new Uint8Array(BLOCK);
  #blockFill = 0;
  #padLeft = 0;
  #member: OpenMember | undefined;
  #expect = EXPECT_INFO;
  readonly #members: ImageMember[] = [];
  readonly #names = new Set<string>();
  readonly #metadata = new Map<string, Uint8Array>();
  #extracted = 0;
  #info: ImageInfo | undefined;
  #inflight: Promise<void> | undefined;
  #outcome: { error: unknown } | "finished" | undefined;

  constructor(options: VerifyOptions) {
    this.#limits = options.limits;
    this.#policy = options.policy ?? "required";
    this.#roots = rootsFor(this.#policy, options.trust);
    this.#sink = options.sink ?? hashOnlySink();
    this.#family = options.family;
    this.#now = options.now;
  }

  /** The next bytes of the archive. Chunks may be any size; the verifier does not keep them. */
  async write(chunk: Uint8Array): Promise<void> {
    await this.#run(() => this.#consume(chunk));
  }

  /** The source ended: check completeness, the signature and the chain, then commit the sink. */
  async end(): Promise<VerifiedImage> {
    let result: VerifiedImage | undefined;
    await this.#run(async () => {
      result = this.#finish();
      await this.#sink.commit();
    });
    // abort() may have come while the sink committed; it has discarded since.
    if (this.#outcome !== undefined && this.#outcome !== "finished") throw this.#outcome.error;
    this.#outcome = "finished";
    return result!;
  }

  /**
   * Give up (download failed, session torn down): the sink discards, once
   * any write in flight has settled, so no file it was opening survives.
   */
  async abort(): Promise<void> {
    if (this.#outcome === "finished") return;
    this.#outcome ??= { error: new UsageError("image verification was aborted") };
    await this.#inflight?.catch(() => {});
    await this.#sink.discard().catch(() => {});
  }

  async #run(step: () => Promise<void>): Promise<void> {
    if (this.#outcome === "finished") throw new UsageError("the image verifier has already finished");
    if (this.#outcome) throw this.#outcome.error;
    if (this.#inflight) throw new UsageError("ImageVerifier calls must not overlap: await each write()");
    const running = (async () => {
      try {
        await step();
      } catch (error) {
        this.#outcome ??= { error };
        // A failed discard leaves debris only in the standby partition, which
        // the engine clears before its next attempt; the refusal matters more.
        await this.#sink.discard().catch(() => {});
        throw error;
      }
    })();
    this.#inflight = running;
    try {
      await running;
    } finally {
      this.#inflight = undefined;
    }
  }

  async #consume(chunk: Uint8Array): Promise<void> {
    const room = this.#limits.imageBytes - this.#offset;
    const n = Math.min(chunk.length, room);
    let pos = 0;
    while (pos < n) {
      if (this.#state === "data") {
        const m = this.#member!;
        const piece = chunk.subarray(pos, pos + Math.min(m.remaining, n - pos));
        m.hash.update(piece);
        m.kept?.push(Uint8Array.from(piece));
        await m.file.write(piece);
        m.remaining -= piece.length;
        pos += piece.length;
        this.#offset += piece.length;
        if (m.remaining === 0) await this.#endMember();
      } else if (this.#state === "padding") {
        const end = pos + Math.min(this.#padLeft, n - pos);
        for (let i = pos; i < end; i++) {
          if (chunk[i] !== 0) reject("IMAGE_STRUCTURE", this.#members.at(-1)!.name, `non-zero padding byte at ${this.#offset + i - pos}`);
        }
        this.#padLeft -= end - pos;
        this.#offset += end - pos;
        pos = end;
        if (this.#padLeft === 0) this.#state = "header";
      } else {
        // A block-sized step: a header, or an end-of-archive/trailing zero block.
        let block: Uint8Array;
        if (this.#blockFill === 0 && n - pos >= BLOCK) {
          block = chunk.subarray(pos, pos + BLOCK);
          pos += BLOCK;
        } else {
          const take = Math.min(BLOCK - this.#blockFill, n - pos);
          this.#block.set(chunk.subarray(pos, pos + take), this.#blockFill);
          this.#blockFill += take;
          pos += take;
          if (this.#blockFill < BLOCK) break;
          this.#blockFill = 0;
          block = this.#block;
        }
        const at = this.#offset;
        this.#offset += BLOCK;
        await this.#onBlock(block, at);
      }
    }
    if (chunk.length > room) reject("IMAGE_TOO_LARGE", undefined, `larger than the ${this.#limits.imageBytes}-byte image limit`);
  }

  async #onBlock(block: Uint8Array, at: number): Promise<void> {
    const zero = isZeroBlock(block);
    if (this.#state === "trailer") {
      if (!zero) reject("IMAGE_STRUCTURE", undefined, `data at byte ${at}, after the end-of-archive blocks`);
    } else if (this.#state === "end") {
      if (!zero) reject("IMAGE_STRUCTURE", undefined, `a lone zero block at byte ${at - BLOCK} is followed by data`);
      this.#state = "trailer";
    } else if (zero) {
      this.#state = "end";
    } else {
      await this.#startMember(decodeHeader(block, at), at);
    }
  }

  /** Every check a header allows, before any of the member's bytes are accepted. */
  async #startMember(h: TarHeader, at: number): Promise<void> {
    const name = h.name;
    if (h.type !== "file") reject("IMAGE_UNSAFE_MEMBER", name, typeReason(h));
    if (h.linkname !== "") reject("IMAGE_STRUCTURE", name, "regular file with a link name");
    const unsafe = unsafeNameReason(name);
    if (unsafe) reject("IMAGE_UNSAFE_MEMBER", name, unsafe);
    if (this.#names.has(name)) reject("IMAGE_UNSAFE_MEMBER", name, "duplicate member");
    if (this.#members.length >= MAX_MEMBERS) reject("IMAGE_STRUCTURE", name, `more than ${MAX_MEMBERS} members`);
    this.#checkPlace(name);

    const end = at + BLOCK + h.size + paddingOf(h.size);
    if (end > this.#limits.imageBytes) reject("IMAGE_TOO_LARGE", name, `${h.size} bytes end at byte ${end}, beyond the ${this.#limits.imageBytes}-byte image limit`);
    const left = this.#limits.extractBytes - this.#extracted;
    if (h.size > left) reject("IMAGE_TOO_LARGE", name, `${h.size} bytes exceed the partition limit (${left} of ${this.#limits.extractBytes} bytes left)`);
    const cap = METADATA_MAX_BYTES[name];
    if (cap !== undefined && h.size > cap) reject("IMAGE_TOO_LARGE", name, `${h.size} bytes, more than the ${cap} allowed`);

    this.#extracted += h.size;
    this.#names.add(name);
    this.#member = {
      name,
      size: h.size,
      remaining: h.size,
      hash: createHash("sha256"),
      file: await this.#sink.open(name, h.size),
      kept: cap !== undefined ? [] : null,
    };
    this.#state = "data";
    if (h.size === 0) await this.#endMember();
  }

  /** The layout: is `name` allowed next? Advances the expectation. */
  #checkPlace(name: string): void {
    const e = this.#expect;
    if (e === EXPECT_INFO) {
      if (name !== INFO) reject("IMAGE_STRUCTURE", name, `is the first member; ${INFO} must be`);
      this.#expect = EXPECT_PAYLOAD;
      return;
    }
    if (e === EXPECT_PAYLOAD) {
      if (name !== FILE_HASHES) {
        if (RESERVED_NAMES.has(name)) reject("IMAGE_STRUCTURE", name, `comes before ${FILE_HASHES}`);
        return;
      }
      // members holds info and the payload so far.
      if (this.#members.length < 2) reject("IMAGE_STRUCTURE", name, "comes before any payload member");
      this.#expect = 0;
    }
    if (this.#expect === EXPECT_NOTHING) reject("IMAGE_STRUCTURE", name, `follows ${INFO_VER}, which must be last`);
    const expected = TRAILER_MEMBERS[this.#expect]!;
    if (name !== expected) missingMember(expected);
    this.#expect++;
  }

  async #endMember(): Promise<void> {
    const m = this.#member!;
    this.#member = undefined;
    await m.file.close();
    this.#members.push({ name: m.name, size: m.size, sha256: m.hash.digest("hex") });
    const pad = paddingOf(m.size);
    this.#padLeft = pad;
    this.#state = pad > 0 ? "padding" : "header";
    if (!m.kept) return;
    const bytes = Buffer.concat(m.kept);
    this.#metadata.set(m.name, bytes);
    const meta = (name: string) => this.#metadata.get(name)!;
    switch (m.name) {
      case INFO:
        this.#info = parseInfo(bytes);
        if (this.#family !== undefined && this.#info.family !== this.#family) {
          reject("IMAGE_WRONG_FAMILY", INFO, `image_family ${this.#info.family}, this AP runs ${this.#family}`);
        }
        break;
      case FILE_HASHES:
        checkFileHashes(parseFileHashes(bytes), this.#members.slice(0, -1));
        break;
      case FINAL_HASH:
        checkFinalHash(bytes, meta(INFO), meta(FILE_HASHES));
        break;
      case INFO_VER:
        checkInfoVer(bytes, meta(INFO));
        break;
    }
  }

  #finish(): VerifiedImage {
    const m = this.#member;
    if (m) reject("IMAGE_TRUNCATED", m.name, `archive ends after ${m.size - m.remaining} of its ${m.size} bytes`);
    if (this.#state === "padding") reject("IMAGE_TRUNCATED", this.#members.at(-1)!.name, "archive ends inside the padding after it");
    if (this.#blockFill > 0) {
      if (this.#state !== "header" && !this.#block.subarray(0, this.#blockFill).every((b) => b === 0)) {
        reject("IMAGE_STRUCTURE", undefined, `data at byte ${this.#offset}, after the end-of-archive blocks`);
      }
      reject("IMAGE_TRUNCATED", undefined, `archive ends inside a ${BLOCK}-byte block at byte ${this.#offset + this.#blockFill}`);
    }
    if (this.#state === "header") {
      const last = this.#members.at(-1)?.name;
      reject("IMAGE_TRUNCATED", undefined, last ? `archive ends after member ${JSON.stringify(last)} without end-of-archive blocks` : "empty");
    }
    if (this.#state === "end") reject("IMAGE_TRUNCATED", undefined, "archive ends after the first of its two end-of-archive blocks");
    if (this.#expect === EXPECT_INFO) reject("IMAGE_STRUCTURE", INFO, "missing: the archive has no members");
    if (this.#expect === EXPECT_PAYLOAD) missingMember(FILE_HASHES);
    if (this.#expect !== EXPECT_NOTHING) missingMember(TRAILER_MEMBERS[this.#expect]!);
    return finishVerification(
      { info: this.#info!, members: this.#members, metadata: this.#metadata, imageBytes: this.#offset },
      this.#policy,
      this.#roots,
      this.#now ?? new Date(),
    );
  }
}

/** A byte source: a Node Readable, or any (async) iterable of byte chunks. */
export type ImageSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * An image file (e.g. the staged /tmp/part.tar) as a source read into one
 * reused buffer. The verifier never keeps a chunk past write(), so memory
 * stays at one buffer however large the image — but a consumer that keeps
 * chunks (tar-stream does) must not be fed from it.
 */
export async function* fileSource(path: string, chunkBytes = 1024 * 1024): AsyncGenerator<Uint8Array> {
  const fh = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(chunkBytes);
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Verify (and, with a sink, extract) an image streaming from `source`. */
export async function verifyImage(source: ImageSource, options: VerifyOptions): Promise<VerifiedImage> {
  const verifier = new ImageVerifier(options);
  try {
    for await (const chunk of source) await verifier.write(chunk);
  } catch (err) {
    await verifier.abort();
    throw err;
  }
  return verifier.end();
}
