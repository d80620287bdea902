import { createWriteStream, type WriteStream } from "node:fs";
import type { Endpoint } from "../net/index.js";
import { PcapWriter } from "./writer.js";

/**
 * A pcap file that CAPWAP endpoints write their plaintext packets into
 * (`--pcap FILE`): what went through DTLS, as plain UDP 5246/5247 that
 * Wireshark decodes directly. Streams to disk; memory stays flat.
 */
export class CaptureFile {
  readonly #stream: WriteStream;
  readonly #writer: PcapWriter;
  #closed = false;
  packets = 0;

  private constructor(readonly path: string) {
    this.#stream = createWriteStream(path);
    this.#writer = new PcapWriter((chunk) => this.#stream.write(chunk));
  }

  static open(path: string): CaptureFile {
    return new CaptureFile(path);
  }

  /** Record one datagram; the signature matches the endpoints' capture hooks. */
  readonly record = (timeMs: number, from: Endpoint, to: Endpoint, packet: Uint8Array): void => {
    if (this.#closed) return;
    this.packets++;
    this.#writer.writeUdp(timeMs, { src: from, dst: to, payload: packet });
  };

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve, reject) => this.#stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
