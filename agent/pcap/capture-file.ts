import { createWriteStream, openSync, type WriteStream } from "node:fs";
import { ConfigError, describeError } from "../core/index.js";
import type { Endpoint } from "../net/index.js";
import { PcapWriter } from "./writer.js";

/** Bytes the capture may hold for a slow disk before it drops packets, as dumpcap does. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * A pcap file that CAPWAP endpoints write their plaintext packets into
 * (`--pcap FILE`): what went through DTLS, as plain UDP 5246/5247 that
 * Wireshark decodes directly. Streams to disk; memory stays bounded: when
 * the disk falls behind, packets are dropped and counted, and a write error
 * (disk full) ends the capture, never the AP.
 */
export class CaptureFile {
  readonly #stream: WriteStream;
  readonly #writer: PcapWriter;
  #closed = false;
  packets = 0;
  /** Packets not written because the disk fell behind or failed. */
  dropped = 0;
  /** Why the capture stopped early, if it did. */
  failure: Error | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    onError: (err: Error) => void,
  ) {
    this.#stream = createWriteStream(path, { fd });
    this.#stream.on("error", (err) => {
      if (this.failure) return;
      this.failure = err;
      onError(new Error(`capture ${path} stopped: ${describeError(err)}`));
    });
    this.#writer = new PcapWriter((chunk) => this.#stream.write(chunk));
  }

  /**
   * Create (or truncate) `path` now, so a path that cannot be written is a
   * one-line ConfigError at start; later write errors go to `onError`.
   */
  static open(path: string, onError: (err: Error) => void = () => {}): CaptureFile {
    let fd: number;
    try {
      fd = openSync(path, "w", 0o644);
    } catch (err) {
      throw new ConfigError(`--pcap: cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`);
    }
    return new CaptureFile(path, fd, onError);
  }

  /** Record one datagram; the signature matches the endpoints' capture hooks. */
  readonly record = (timeMs: number, from: Endpoint, to: Endpoint, packet: Uint8Array): void => {
    if (this.#closed) return;
    if (this.failure || this.#stream.writableLength > MAX_BUFFERED_BYTES) {
      this.dropped++;
      return;
    }
    this.packets++;
    this.#writer.writeUdp(timeMs, { src: from, dst: to, payload: packet });
  };

  /** Flush and close; resolves even when the capture had failed (its failure was reported). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => this.#stream.end(() => resolve()));
  }
}
