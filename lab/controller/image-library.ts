/**
 * The images a controller serves, by the name APs ask for (their class:
 * "ap1g8"), from a bundle directory like the seed's: one file per class.
 * Blocks are read on demand through a small read-ahead buffer, so serving a
 * 70 MB image to fifty APs costs kilobytes, not gigabytes. MD5 is computed
 * once per file version.
 */
import { createHash } from "node:crypto";
import { createReadStream, closeSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { hardwareClasses } from "../../platform/classes/index.js";

export interface ImageFile {
  readonly name: string;
  readonly size: number;
  readonly md5: Uint8Array;
  /**
   * Bytes [offset, offset + length) of the image (shorter at the end): a view
   * into the file's read-ahead buffer, valid until the next read(). Encode
   * or copy it before reading again.
   */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

export interface ImageLibrary {
  /** The image for `name`, or undefined when the library has none; rejects with the reason when it could not get one (an image server's fetch failed). */
  open(name: string): Promise<ImageFile | undefined>;
}

const READ_AHEAD = 64 * 1024;

/** The hardware classes a bundle directory holds an image for (files named ap1g8 …), sorted. */
export function bundleClasses(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && Object.hasOwn(hardwareClasses, entry.name))
    .map((entry) => entry.name)
    .sort();
}

export function bundleLibrary(dir: string): ImageLibrary {
  const md5s = new Map<string, { key: string; md5: Uint8Array }>();
  return {
    async open(name) {
      // Only plain class-like names: an AP must not walk the controller's file system.
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || basename(name) !== name) return undefined;
      const path = join(dir, name);
      let stat;
      try {
        stat = statSync(path);
      } catch {
        return undefined;
      }
      if (!stat.isFile()) return undefined;
      const key = `${stat.size}:${stat.mtimeMs}`;
      let cached = md5s.get(path);
      if (cached?.key !== key) {
        const hash = createHash("md5");
        for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
        cached = { key, md5: hash.digest() };
        md5s.set(path, cached);
      }
      return openImageFile(name, path, stat.size, cached.md5);
    },
  };
}

function openImageFile(name: string, path: string, size: number, md5: Uint8Array): ImageFile {
  const fd = openSync(path, "r");
  const buffer = Buffer.alloc(READ_AHEAD);
  let bufferOffset = -1;
  let bufferLength = 0;
  return {
    name,
    size,
    md5,
    read(offset, length) {
      const end = Math.min(offset + length, size);
      if (offset < bufferOffset || end > bufferOffset + bufferLength) {
        // Synchronous reads from the page cache: blocks go out in sequence-number order, no reordering by async I/O.
        bufferLength = readSync(fd, buffer, 0, READ_AHEAD, offset);
        bufferOffset = offset;
      }
      return buffer.subarray(offset - bufferOffset, end - bufferOffset);
    },
    close: () => closeSync(fd),
  };
}
