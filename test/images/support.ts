/**
 * Shared fixtures for the image tests: image-signing keys, a naive
 * reference assembly of an image's members (tests reorder, drop or replace
 * them to make hostile images that are otherwise well-formed), tar packing
 * through tar-stream, raw header patching, and a sandbox that proves nothing
 * was written outside the extraction directory.
 */
import { tempDir } from "../support/temp.js";
import { createHash, sign, type KeyObject } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import tar from "tar-stream";
import { issueCa, validFor, type IssuedCertificate, type PkiKeyType } from "../../agent/pki/index.js";
import {
  directorySink,
  ImageRejectedError,
  issueImageSigner,
  signerFromPem,
  verifyImage,
  type ImageLimits,
  type ImageSigner,
  type VerifiedImage,
  type VerifyOptions,
} from "../../images/index.js";

export { tempDir };

export interface TestPki {
  root: IssuedCertificate;
  /** PEM of the root: what `trust` takes. */
  trust: string;
  signer: ImageSigner;
  signing: IssuedCertificate;
}

const pkis = new Map<PkiKeyType, TestPki>();

/** A root and a signer, made once per key type and process (key generation is slow). */
export function testPki(type: PkiKeyType = "ecdsa"): TestPki {
  let pki = pkis.get(type);
  if (!pki) {
    const root = issueCa(type, validFor(3650), `vap test image root ${type}`);
    const signing = issueImageSigner(root, { type, validity: validFor(365) });
    pki = { root, trust: root.cert, signing, signer: signerFromPem(signing.cert, signing.key) };
    pkis.set(type, pki);
  }
  return pki;
}

/** Limits roomy enough for any test image unless a test narrows them. */
export const ROOMY: ImageLimits = { imageBytes: 256 * 1024 * 1024, extractBytes: 256 * 1024 * 1024 };

export interface RawMember {
  name: string;
  body?: Uint8Array;
  /** tar-stream header fields to override (type, linkname, mode, …). */
  header?: Partial<tar.Header>;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

export interface ReferenceImage {
  family?: string;
  version?: string;
  payload?: [name: string, body: Uint8Array][];
  /** Sign with this key instead of the chain's own (a wrong-key image). */
  key?: KeyObject;
  chain?: string;
}

/**
 * The members of a valid image, assembled the naive way from SPEC.md §5 —
 * an independent statement of the format that buildImage is compared with.
 */
export function referenceMembers(o: ReferenceImage = {}): RawMember[] {
  const pki = testPki();
  const info = Buffer.from(`image_family: ${o.family ?? "ap1g8"}\nws_management_version: ${o.version ?? "17.12.1.5"}\ninfo_end:\n`);
  const payload = o.payload ?? [
    ["part.bin", Buffer.alloc(3000, 0xa5)],
    ["iox.tar.gz", Buffer.from("iox")],
  ];
  const fileHashes = Buffer.from([["info", info] as const, ...payload].map(([name, body]) => `${sha256(body)}  ${name}\n`).join(""));
  const finalHash = Buffer.from(`${createHash("sha256").update(info).update(fileHashes).digest("hex")}\n`);
  return [
    { name: "info", body: info },
    ...payload.map(([name, body]) => ({ name, body })),
    { name: "file_hashes", body: fileHashes },
    { name: "final_hash", body: finalHash },
    { name: "final_hash.sig", body: sign("sha256", finalHash, o.key ?? pki.signer.key) },
    { name: "signing_cert.pem", body: Buffer.from(o.chain ?? pki.signer.chain) },
    { name: "info.ver", body: info },
  ];
}

export const FIXED_DATE = new Date("2024-01-30T21:41:35Z");

/** A tar archive of `members` (tar-stream's packer), optionally followed by `trailer` bytes. */
export async function packTar(members: readonly RawMember[], trailer: Uint8Array = new Uint8Array(0)): Promise<Buffer> {
  const pack = tar.pack();
  const out: Uint8Array[] = [];
  const done = (async () => {
    for await (const chunk of pack as AsyncIterable<Uint8Array>) out.push(chunk);
  })();
  for (const m of members) {
    const body = m.body ?? new Uint8Array(0);
    await new Promise<void>((resolve, reject) => {
      const header = { name: m.name, mode: 0o644, mtime: FIXED_DATE, uid: 0, gid: 0, ...m.header };
      const isFile = (header.type ?? "file") === "file";
      pack.entry(isFile ? { ...header, size: body.length } : header, isFile ? Buffer.from(body) : undefined!, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat([...out, trailer]);
}

/** Overwrite a header field (offset within the 512-byte block at `at`) and fix the checksum, as a forger would. */
export function patchHeader(archive: Uint8Array, at: number, fieldOffset: number, text: string): void {
  archive.set(Buffer.from(text, "latin1"), at + fieldOffset);
  let sum = 8 * 0x20;
  for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += archive[at + i]!;
  archive.set(Buffer.from(`${sum.toString(8).padStart(6, "0")}\0 `, "latin1"), at + 148);
}

/** Byte offset of each member's header in a tar-stream/GNU archive (walks the size fields). */
export function headerOffsets(archive: Uint8Array): { name: string; at: number; dataAt: number; size: number }[] {
  const out = [];
  for (let at = 0; at + 512 <= archive.length; ) {
    const block = archive.subarray(at, at + 512);
    if (block.every((b) => b === 0)) break;
    const name = Buffer.from(block.subarray(0, 100)).toString("latin1").replace(/\0.*$/s, "");
    const size = Number.parseInt(Buffer.from(block.subarray(124, 136)).toString("latin1"), 8);
    out.push({ name, at, dataAt: at + 512, size });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** Yield `bytes` in chunks of `size` (or a seeded mix of sizes when given a function). */
export function* chunks(bytes: Uint8Array, size: number | (() => number)): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; ) {
    const n = Math.max(1, typeof size === "number" ? size : size());
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

/** Every file and directory under `dir`, relative, sorted. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(relative(dir, p) + (e.isDirectory() ? "/" : ""));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * parent/ holds a sentinel file and target/, the extraction directory. After
 * a refusal, check() proves target/ is empty and parent/ unchanged.
 */
export class Sandbox {
  readonly parent: string;
  readonly target: string;

  constructor(root: string, name: string) {
    this.parent = join(root, name);
    this.target = join(this.parent, "target");
    mkdirSync(this.target, { recursive: true });
    writeFileSync(join(this.parent, "sentinel"), "untouched");
  }

  /** Lists what is wrong: anything but target/ and the intact sentinel in parent/, anything left in target/ (when it should be empty). */
  problems(targetMayHoldImage = false): string[] {
    const problems: string[] = [];
    const tree = listTree(this.parent).filter((p) => p !== "sentinel" && p !== "target/" && !(targetMayHoldImage && p.startsWith("target/")));
    if (tree.length > 0) problems.push(`unexpected: ${tree.join(", ")}`);
    if (readFileSync(join(this.parent, "sentinel"), "utf8") !== "untouched") problems.push("sentinel changed");
    return problems;
  }

  /** Empty target/ after an accepted image, for the next case. */
  reset(): void {
    rmSync(this.target, { recursive: true, force: true });
    mkdirSync(this.target);
  }
}

export interface Attempt {
  result?: VerifiedImage;
  error?: ImageRejectedError;
}

/**
 * Verify `bytes` (in chunks) into `sandbox.target`. Only ImageRejectedError
 * counts as a refusal; anything else escapes and fails the test.
 */
export async function attempt(bytes: Uint8Array, options: Partial<VerifyOptions> & { sandbox?: Sandbox; chunk?: number | (() => number) } = {}): Promise<Attempt> {
  const { sandbox, chunk, ...rest } = options;
  try {
    const result = await verifyImage(chunks(bytes, chunk ?? 4096), {
      trust: testPki().trust,
      limits: ROOMY,
      ...(sandbox ? { sink: directorySink(sandbox.target) } : {}),
      ...rest,
    });
    return { result };
  } catch (err) {
    if (err instanceof ImageRejectedError) return { error: err };
    throw err;
  }
}

export function fileSize(path: string): number {
  return statSync(path).size;
}
