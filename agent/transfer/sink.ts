/**
 * Where a firmware download goes. Every image source (CAPWAP Image Data,
 * later HTTPS, TFTP, SFTP, FTP) writes the same way into an ImageSink, in
 * order, with back-pressure; the upgrade engine is one sink, a file or a
 * bare hash are others. Memory never grows with the image size.
 */
import { createHash, type Hash } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { once } from "node:events";

export interface ImageDescription {
  /** What the AP asked for (class name, e.g. "ap1g8"). */
  name: string;
  /** Bytes to expect, when the source says. */
  size?: number;
  /** MD5 the source announced (CAPWAP Image Information). */
  md5?: Uint8Array;
}

export interface ImageSinkResult {
  bytes: number;
  /** SHA-256 of what was written, hex. */
  sha256: string;
  /** Where the image went (a file path, a partition), if anywhere. */
  location?: string;
  /** The sink installed the image and the AP should reboot into it. */
  reboot?: boolean;
  /** Version of the image, when the sink read it (the upgrade engine does). */
  version?: string;
}

export interface ImageSink {
  /** Before the source even asks for the image (upgrade.sh PRECHECK). May refuse. */
  precheck?(): Promise<void>;
  /** Before any byte: the source says what comes. May refuse (no space). */
  begin(image: ImageDescription): Promise<void>;
  /** The next bytes, in order. Resolves when the sink can take more. */
  write(chunk: Uint8Array): Promise<void>;
  /** Every byte arrived and the source checked size and MD5: keep it. */
  finish(): Promise<ImageSinkResult>;
  /** The download failed: throw away whatever arrived. Safe to call more than once. */
  abort(reason: string): Promise<void>;
}

/** Hashes the image and stores nothing: fleets of thousands run upgrade storms this way. */
export class HashSink implements ImageSink {
  #hash: Hash = createHash("sha256");
  #bytes = 0;

  async begin(): Promise<void> {
    this.#hash = createHash("sha256");
    this.#bytes = 0;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
  }

  async finish(): Promise<ImageSinkResult> {
    return { bytes: this.#bytes, sha256: this.#hash.digest("hex") };
  }

  async abort(): Promise<void> {
    this.#bytes = 0;
  }
}

/**
 * Writes the image to `path` through a temporary file that is renamed into
 * place only when the download finished and checked out; an aborted
 * download leaves nothing behind.
 */
export class FileSink implements ImageSink {
  #stream: WriteStream | undefined;
  #error: Error | undefined;
  #hash: Hash = createHash("sha256");
  #bytes = 0;
  readonly #partial: string;

  constructor(readonly path: string) {
    this.#partial = `${path}.partial`;
  }

  async begin(): Promise<void> {
    await this.abort("restarted");
    this.#hash = createHash("sha256");
    this.#bytes = 0;
    this.#error = undefined;
    const stream = createWriteStream(this.#partial, { flags: "w", mode: 0o644 });
    // Kept, not thrown from an event: the next write or finish reports it (disk full, I/O error).
    stream.on("error", (err) => {
      if (this.#stream === stream) this.#error = err;
    });
    this.#stream = stream;
    await once(stream, "open");
  }

  async write(chunk: Uint8Array): Promise<void> {
    const stream = this.#stream;
    if (!stream) throw new Error("FileSink.write before begin");
    if (this.#error) throw this.#error;
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    if (!stream.write(chunk)) await once(stream, "drain");
  }

  async finish(): Promise<ImageSinkResult> {
    const stream = this.#stream;
    if (!stream) throw new Error("FileSink.finish before begin");
    if (this.#error) throw this.#error;
    this.#stream = undefined;
    await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await rename(this.#partial, this.path);
    return { bytes: this.#bytes, sha256: this.#hash.digest("hex"), location: this.path };
  }

  async abort(_reason?: string): Promise<void> {
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream) {
      // Not events.once: a write still queued makes the stream emit an (expected) error on destroy.
      const closed = new Promise<void>((resolve) => stream.once("close", () => resolve()));
      stream.destroy();
      await closed;
    }
    await rm(this.#partial, { force: true });
  }
}
