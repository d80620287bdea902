/**
 * Building signed images and bundles. The tar is written with tar-stream's
 * packer (POSIX ustar headers, mode 0644, uid/gid 0) in one streaming pass:
 * each payload file is hashed while it is copied into the archive, so an
 * 85 MB payload never sits in memory, and file_hashes, final_hash and the
 * signature follow once the payload has gone by.
 */
import { createCipheriv, createHash, sign } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import tar from "tar-stream";
import { ConfigError, createDurableFile } from "../agent/core/index.js";
import { integerFlag } from "../agent/command-kit/index.js";
import { classNames, hardwareClasses, isSoftwareVersion, type ClassName } from "../platform/classes/index.js";
import {
  FILE_HASHES,
  FINAL_HASH,
  INFO,
  INFO_VER,
  MAX_MEMBERS,
  renderFileHashes,
  renderFinalHash,
  renderInfo,
  RESERVED_NAMES,
  SIGNATURE,
  SIGNING_CERT,
  TRAILER_MEMBERS,
  unsafeNameReason,
} from "./format.js";
import type { ImageSigner } from "./keys.js";
import { drained } from "./drain.js";
import { BLOCK, paddingOf } from "./ustar.js";
import type { ImageMember } from "./verify.js";

/** Copy chunk size: large enough that per-chunk overhead vanishes, small enough to stay out of the way. */
const CHUNK = 1024 * 1024;

/** Default image size for the lab: quick to move over CAPWAP's 1377-byte blocks. */
export const SMALL_IMAGE_BYTES = 1024 * 1024;

/**
 * [inf] The default payload: part.bin (the bulk, sized to make the image
 * the requested length) and two small files named like real images'
 * members. Their sizes are deliberately not block multiples.
 */
const BULK_MEMBER = "part.bin";
const SMALL_MEMBERS: readonly (readonly [name: string, size: number])[] = [
  ["ramfs_data_cisco.squashfs", 8_300],
  ["iox.tar.gz", 2_900],
];

interface PayloadFile {
  name: string;
  size: number;
  chunks(): AsyncIterable<Uint8Array>;
}

/**
 * Deterministic pseudo-random content: the AES-128-CTR keystream under a key
 * derived from class, version and member name. Incompressible like a real
 * image, reproducible, and generated at memory speed.
 */
function generated(name: string, size: number, seed: string): PayloadFile {
  return {
    name,
    size,
    async *chunks() {
      const key = createHash("sha256").update(`vap image ${seed} ${name}`).digest().subarray(0, 16);
      const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
      const zeros = Buffer.alloc(Math.min(CHUNK, size));
      for (let left = size; left > 0; left -= zeros.length) yield cipher.update(zeros.subarray(0, Math.min(left, zeros.length)));
    },
  };
}

/** The regular files directly in `dir`, sorted by name; anything else there is a configuration error. */
async function payloadFromDirectory(dir: string): Promise<PayloadFile[]> {
  const names = (await readdir(dir)).sort();
  if (names.length === 0) throw new ConfigError(`payload directory ${dir} is empty`);
  const room = MAX_MEMBERS - 1 - TRAILER_MEMBERS.length;
  if (names.length > room) throw new ConfigError(`payload directory ${dir} holds ${names.length} files; an image carries at most ${room}`);
  return Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      const stat = await lstat(path);
      if (!stat.isFile()) throw new ConfigError(`payload ${path} is not a regular file (images are flat; links are not followed)`);
      const unsafe = unsafeNameReason(name);
      if (unsafe) throw new ConfigError(`payload ${path}: ${unsafe}`);
      if (RESERVED_NAMES.has(name)) throw new ConfigError(`payload ${path}: ${name} is an image metadata member`);
      return {
        name,
        size: stat.size,
        async *chunks() {
          const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
          yield* fh.createReadStream({ highWaterMark: CHUNK });
        },
      };
    }),
  );
}

export interface BuildImageOptions {
  class: ClassName;
  /** Four-part version (17.12.1.5): ws_management_version in info. */
  version: string;
  /** The image file to write (atomically: a temporary file renamed at the end). */
  out: string;
  signer: ImageSigner;
  /** Use this directory's regular files as the payload instead of the generated one. */
  payload?: string;
  /** Generated payload only: the image file's exact length, rounded up to 512 bytes. Default SMALL_IMAGE_BYTES. */
  size?: number;
  /** Member mtime; default now. */
  date?: Date;
}

export interface BuiltImage {
  path: string;
  bytes: number;
  family: ClassName;
  version: string;
  /** Every member in archive order. */
  members: ImageMember[];
  finalHash: string;
}

const stored = (size: number) => BLOCK + size + paddingOf(size);

/** The generated payload for an image of `size` bytes: part.bin takes whatever the other members leave. */
function defaultPayload(o: BuildImageOptions, metadataBytes: number): PayloadFile[] {
  const target = Math.ceil((o.size ?? SMALL_IMAGE_BYTES) / BLOCK) * BLOCK;
  const fixed = metadataBytes + SMALL_MEMBERS.reduce((n, [, size]) => n + stored(size), 0) + BLOCK;
  const partBin = target - fixed;
  if (partBin < BLOCK) throw new ConfigError(`image size ${target} is too small: at least ${fixed + BLOCK} bytes`);
  const seed = `${o.class} ${o.version}`;
  return [generated(BULK_MEMBER, partBin, seed), ...SMALL_MEMBERS.map(([name, size]) => generated(name, size, seed))];
}

type Pack = ReturnType<typeof tar.pack>;
type Entry = ReturnType<Pack["entry"]>;

/** One member: header and body into the pack, hashing the body on the way. Returns its hash. */
async function addMember(pack: Pack, mtime: Date, file: PayloadFile): Promise<string> {
  const hash = createHash("sha256");
  let entry!: Entry;
  const added = new Promise<void>((resolve, reject) => {
    entry = pack.entry({ name: file.name, size: file.size, mode: 0o644, mtime, uid: 0, gid: 0, type: "file" }, (err) => (err ? reject(err) : resolve()));
  });
  let written = 0;
  for await (const chunk of file.chunks()) {
    // Checked before writing: tar-stream would emit the surplus and corrupt the archive.
    if (written + chunk.length > file.size) throw new ConfigError(`payload ${file.name} grew while the image was built`);
    hash.update(chunk);
    written += chunk.length;
    if (!entry.write(chunk)) await drained(entry);
    if (entry.destroyed) break;
  }
  if (written !== file.size) throw new ConfigError(`payload ${file.name} changed size while the image was built`);
  entry.end(null);
  await added;
  return hash.digest("hex");
}

function bytesMember(name: string, bytes: Uint8Array): PayloadFile {
  return { name, size: bytes.length, chunks: async function* () { yield bytes; } };
}

export async function buildImage(o: BuildImageOptions): Promise<BuiltImage> {
  if (!isSoftwareVersion(o.version)) throw new ConfigError(`version "${o.version}" is not four-part like 17.12.1.5`);
  if (o.payload !== undefined && o.size !== undefined) throw new ConfigError("an image size applies to the generated payload only, not to --payload");
  const info = Buffer.from(renderInfo(o.class, o.version));
  const chain = Buffer.from(o.signer.chain);
  // Signature sizes vary by a byte or two (DER ECDSA) but never by a block.
  const signatureBytes = sign("sha256", Buffer.from(renderFinalHash(info, info)), o.signer.key).length;

  const payload = o.payload !== undefined ? await payloadFromDirectory(o.payload) : undefined;
  const names = payload?.map((p) => p.name) ?? [BULK_MEMBER, ...SMALL_MEMBERS.map(([name]) => name)];
  // Every metadata member's stored size is known before the payload streams; the generated payload fills the rest.
  const fileHashesBytes = names.reduce((n, name) => n + 64 + 2 + name.length + 1, 64 + 2 + INFO.length + 1);
  const metadataBytes = stored(info.length) * 2 + stored(fileHashesBytes) + stored(65) + stored(signatureBytes) + stored(chain.length) + 2 * BLOCK;
  const files = payload ?? defaultPayload(o, metadataBytes);

  const mtime = o.date ?? new Date();
  const tmp = `${o.out}.partial-${process.pid}`;
  const file = await createDurableFile(tmp, 0o644, { exclusive: true });
  const pack = tar.pack();
  const copying = (async () => {
    let bytes = 0;
    for await (const chunk of pack as AsyncIterable<Uint8Array>) {
      await file.write(chunk);
      bytes += chunk.length;
    }
    return bytes;
  })();
  try {
    const members: ImageMember[] = [];
    const add = async (file: PayloadFile) => members.push({ name: file.name, size: file.size, sha256: await addMember(pack, mtime, file) });
    const feeding = (async () => {
      await add(bytesMember(INFO, info));
      for (const file of files) await add(file);
      const fileHashes = Buffer.from(renderFileHashes(members));
      const finalHash = Buffer.from(renderFinalHash(info, fileHashes));
      await add(bytesMember(FILE_HASHES, fileHashes));
      await add(bytesMember(FINAL_HASH, finalHash));
      await add(bytesMember(SIGNATURE, sign("sha256", finalHash, o.signer.key)));
      await add(bytesMember(SIGNING_CERT, chain));
      await add(bytesMember(INFO_VER, info));
      pack.finalize();
      return finalHash.toString("latin1").trim();
    })();
    // If writing fails, the pack stops pulling and feeding would wait forever: destroy it.
    copying.catch((err: unknown) => pack.destroy(err as Error));
    const [bytes, finalHash] = await Promise.all([copying, feeding]);
    await file.commit();
    await rename(tmp, o.out);
    return { path: o.out, bytes, family: o.class, version: o.version, members, finalHash };
  } catch (err) {
    pack.destroy();
    await copying.catch(() => {});
    await file.discard();
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

export type ImageSize = "realistic" | "small" | number;

/** An image size flag (`--size`): small, realistic (the class's real size) or a number of bytes. */
export function imageSizeFlag(flag: string, value: string): ImageSize {
  return value === "small" || value === "realistic" ? value : integerFlag(flag, value, 1);
}

/** Bytes for a class: "realistic" is the seed's bundle size (SPEC.md §2), "small" the lab default. */
export function imageSizeFor(size: ImageSize, c: ClassName): number {
  return size === "realistic" ? hardwareClasses[c].typicalImageBytes : size === "small" ? SMALL_IMAGE_BYTES : size;
}

export interface BuildBundleOptions {
  version: string;
  /** The bundle folder; created if needed. */
  out: string;
  signer: ImageSigner;
  size?: ImageSize;
  /** Default: every class. */
  classes?: readonly ClassName[];
  /** controller_version.info; default the image version. */
  controllerVersion?: string;
  date?: Date;
}

export interface BuiltBundle {
  dir: string;
  images: BuiltImage[];
  /** version.info, controller_version.info, readme.txt. */
  files: string[];
}

function readme(o: BuildBundleOptions, images: readonly BuiltImage[]): string {
  const rows = images.map((i) => `  ${i.family.padEnd(8)} ${String(i.bytes).padStart(10)} bytes  ${hardwareClasses[i.family].models.map((m) => m.family).join(", ")}`);
  return [
    `vap AP image bundle ${o.version}`,
    "",
    "One signed image per AP hardware class, named by class: an AP asks for",
    "the file named after its class (e.g. ap1g8). Host this folder on a TFTP",
    "or SFTP server and point the controller's image-download profile at it.",
    "",
    ...rows,
    "",
    "version.info             the AP image version",
    "controller_version.info  the controller version these images go with",
    "",
    `Signed by ${o.signer.subject}. Check an image with:`,
    "  vap image verify ap1g8 --trust image-ca.pem",
    "",
  ].join("\n");
}

/** A bundle folder like the seed's: one image per class plus version.info, controller_version.info and readme.txt. */
export async function buildBundle(o: BuildBundleOptions): Promise<BuiltBundle> {
  const controllerVersion = o.controllerVersion ?? o.version;
  if (!isSoftwareVersion(controllerVersion)) throw new ConfigError(`controller version "${controllerVersion}" is not four-part like 17.12.1.5`);
  const classes = o.classes ?? classNames;
  if (classes.length === 0) throw new ConfigError("a bundle needs at least one class");
  await mkdir(o.out, { recursive: true });
  const images: BuiltImage[] = [];
  for (const c of classes) {
    images.push(await buildImage({ class: c, version: o.version, out: join(o.out, c), signer: o.signer, size: imageSizeFor(o.size ?? "small", c), ...(o.date ? { date: o.date } : {}) }));
  }
  const files = [
    [join(o.out, "version.info"), `${o.version}\n`],
    [join(o.out, "controller_version.info"), `${controllerVersion}\n`],
    [join(o.out, "readme.txt"), readme(o, images)],
  ] as const;
  for (const [path, text] of files) await writeFile(path, text, { mode: 0o644 });
  return { dir: o.out, images, files: files.map(([path]) => path) };
}
