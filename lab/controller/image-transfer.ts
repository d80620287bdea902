/**
 * One image transfer to one AP, from its Image Data Request (Image
 * Identifier + Initiate Download) to the last block acknowledged: open the
 * file, announce it (size and MD5), wait for a download slot, send it
 * through the sliding-window sender. Its end — done, failed, or aborted by
 * the session — is reported once.
 */
import type { ControlChannel } from "../../agent/capwap/channel/index.js";
import { ResultCode } from "../../agent/capwap/codec/index.js";
import type { Message } from "../../agent/capwap/profiles/index.js";
import { describeError } from "../../agent/core/index.js";
import { type ApRecord, type DownloadRecord, predownloadPart } from "./ap-record.js";
import type { ApSession, SessionHost } from "./ap-session.js";
import type { ApFaults } from "./fault-plan.js";
import type { ImageFile } from "./image-library.js";
import { ImageSender } from "./image-sender.js";

export interface ImageTransferOptions {
  host: SessionHost;
  channel: ControlChannel;
  /** The AP's request: answered with the Image Information. */
  request: Message;
  image: string;
  /** Blocks in flight. */
  window: number;
  /** Why the AP's HTTPS try failed, when this is its fallback. */
  fallback?: string;
  /** How far past the oldest unacknowledged block sending may go: the AP's receive span. */
  span: number;
  record: ApRecord;
  faults: ApFaults | undefined;
  session: Pick<ApSession, "closed" | "setDownload">;
  /** The file is announced: from here the transfer is the session's, and abort() ends it. */
  announced: () => void;
  /** Once: the last block was acknowledged, or why the transfer ended. */
  ended: (error: Error | undefined) => void;
}

/**
 * The image an AP asked for, opened; or undefined once the AP heard why not
 * (a class this controller does not have, or cannot fetch from its image
 * server: the same refusal either way).
 */
export async function openRequestedImage(host: SessionHost, channel: ControlChannel, request: Message, image: string, record: ApRecord): Promise<ImageFile | undefined> {
  const options = host.options;
  let why = "which this controller does not have";
  try {
    const file = await options.images?.open(image);
    if (file) return file;
  } catch (err) {
    why = `which this controller cannot get: ${describeError(err)}`;
  }
  options.log.warn(`AP ${record.name} asked for image "${image}", ${why}`);
  channel.respond(request, [{ kind: "ResultCode", resultCode: ResultCode.ImageDataErrorOtherError }]);
  return undefined;
}

export class ImageTransfer {
  readonly #o: ImageTransferOptions;
  /** The predownload this transfer serves (the AP's download record says so when it asks). */
  predownload: string | undefined;
  #file: ImageFile | undefined;
  #release: (() => void) | undefined;
  #sender: ImageSender | undefined;
  #startedAt = 0;
  #ended = false;

  constructor(options: ImageTransferOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    const { host, channel, request, image, record, window, span, session, fallback } = this.#o;
    const options = host.options;
    const file = await openRequestedImage(host, channel, request, image, record);
    if (!file) return;
    if (session.closed) {
      file.close();
      return;
    }
    this.#file = file;
    const md5 = this.#o.faults?.corruptMd5() ? Uint8Array.from(file.md5, (b, i) => (i === 0 ? b ^ 0xff : b)) : file.md5;
    const carried = predownloadPart(record.download);
    this.predownload = carried.predownload;
    channel.respond(request, [
      { kind: "ResultCode", resultCode: ResultCode.Success },
      { kind: "ImageInformation", fileSize: file.size, hash: md5 },
    ]);
    this.#o.announced();
    host.downloadStarted(fallback !== undefined ? "CAPWAP (fallback)" : "CAPWAP");
    const download: DownloadRecord = { name: image, state: "queued", size: file.size, bytes: 0, window, method: "CAPWAP", ...(fallback !== undefined ? { fallback } : {}), ...carried };
    session.setDownload(download);
    const slot = await host.downloadSlot();
    if (this.#ended) return slot(); // ended (session gone, or superseded) while it waited its turn
    this.#release = slot;
    // A subordinate falls back from its primary AP; anyone else from its HTTPS try.
    const from = carried.role === "subordinate" ? "its primary AP" : "HTTPS";
    options.log.info(`Sending image ${image} (${file.size} bytes) to ${record.name}, window ${window}${fallback !== undefined ? ` (fallback from ${from}: ${fallback})` : ""}`);
    this.#startedAt = options.clock.now();
    session.setDownload({ ...download, state: "downloading", startedAt: this.#startedAt });
    const faults = this.#o.faults;
    this.#sender = new ImageSender({
      channel,
      profile: host.profile,
      file,
      window,
      span,
      clock: options.clock,
      log: options.log,
      maxTimeoutMs: options.retransmitIntervalMs,
      ...(faults ? { corruptBlock: (i: number) => faults.corruptBlock(i) } : {}),
      onProgress: (bytes) => {
        if (record.download) record.download.bytes = bytes;
      },
      onDone: (error) => this.#finish(error),
    });
    this.#sender.start();
  }

  /** End the transfer now (the session ended, or the AP asked again): sender cancelled, slot and file released. */
  abort(error: Error): void {
    this.#finish(error);
  }

  #finish(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!error && this.#sender) this.#logCompleted(this.#sender);
    this.#sender?.cancel();
    this.#release?.();
    this.#file?.close();
    this.#o.ended(error);
  }

  /** The operator's one line per transfer: what went where, how fast, and what the window cost. */
  #logCompleted(sender: ImageSender): void {
    const { host, image, record, window } = this.#o;
    const { sent, retransmits, lateAcks } = sender.stats;
    const seconds = ((host.options.clock.now() - this.#startedAt) / 1000).toFixed(2);
    host.options.log.info(
      `Image transfer of ${image} to ${record.name} complete: ${this.#file!.size} bytes in ${seconds} s, window ${window} (${sent} requests, ${retransmits} retransmitted, ${lateAcks} late acks)`,
    );
  }
}
