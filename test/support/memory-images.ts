import { createHash, type Hash } from "node:crypto";
import type { ImageSink, ImageSinkResult } from "../../agent/transfer/index.js";
import type { ImageLibrary } from "../../lab/controller/image-library.js";

/** Images served from memory (no file I/O, so a ManualClock simulation stays exact). */
export function memoryLibrary(images: Record<string, Uint8Array>): ImageLibrary {
  return {
    async open(name) {
      const bytes = images[name];
      if (!bytes) return undefined;
      return {
        name,
        size: bytes.length,
        md5: createHash("md5").update(bytes).digest(),
        read: (offset, length) => bytes.slice(offset, Math.min(offset + length, bytes.length)),
        close: () => {},
      };
    },
  };
}

/** A sink keeping the image in memory, recording what happened to it. */
export class MemorySink implements ImageSink {
  chunks: Uint8Array[] = [];
  finished: Uint8Array | undefined;
  aborted: string[] = [];

  async begin(): Promise<void> {
    this.chunks = [];
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.chunks.push(Uint8Array.from(chunk));
  }

  async finish(): Promise<ImageSinkResult> {
    this.finished = Buffer.concat(this.chunks);
    this.chunks = [];
    return {};
  }

  async abort(reason: string): Promise<void> {
    this.chunks = [];
    this.aborted.push(reason);
  }
}

/** A sink keeping only the image's SHA-256 (a 200 MB download holds no bytes), with when it began, first took bytes, finished and was first aborted. */
export class HashSink implements ImageSink {
  #hash: Hash = createHash("sha256");
  #bytes = 0;
  /** performance.now() at begin(), at the first write() after it, and at finish(). */
  beganAt: number | undefined;
  firstWriteAt: number | undefined;
  finished: { bytes: number; sha256: string; at: number } | undefined;
  aborted: string[] = [];
  /** performance.now() at the first abort(). */
  firstAbortAt: number | undefined;

  async begin(): Promise<void> {
    this.#hash = createHash("sha256");
    this.#bytes = 0;
    this.beganAt = performance.now();
    this.firstWriteAt = undefined;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.firstWriteAt ??= performance.now();
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
  }

  async finish(): Promise<ImageSinkResult> {
    this.finished = { bytes: this.#bytes, sha256: this.#hash.digest("hex"), at: performance.now() };
    return {};
  }

  async abort(reason: string): Promise<void> {
    this.firstAbortAt ??= performance.now();
    this.aborted.push(reason);
  }
}
