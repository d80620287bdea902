/**
 * The AP's half of a CAPWAP image transfer with a sliding window (RFC 5415
 * §9.1, the seed's "CAPWAP Image Download Window Enhancement"). The
 * controller keeps up to `window` Image Data Requests in flight; blocks are
 * ordered by sequence number. Every request is answered by its sequence
 * number. Blocks that arrive early wait in a buffer up to the receive span
 * (`imageReceiveSpan`: RECEIVE_SPAN_FACTOR windows) past the block the
 * stream misses, so a loss does not stop the controller sending; duplicates
 * are re-acknowledged and never written twice; bytes reach the sink
 * strictly in order. At the announced size the MD5 must match, or the
 * image is refused and the sink discards it.
 *
 * Anchoring [inf]: the controller sends the first block alone and opens the
 * window only after it is acknowledged, so the first block the AP sees is
 * block 0 even on a reordering link.
 */
import { createHash, type Hash } from "node:crypto";
import { ResultCode } from "../../capwap/codec/index.js";
import type { Message, VendorProfile } from "../../capwap/profiles/index.js";
import type { ImageSourceFailure } from "../../capwap/wtp/index.js";
import { describeError, type Log } from "../../core/index.js";
import { imageReceiveSpan, MAX_IMAGE_WINDOW } from "../../config/index.js";
import type { ImageSink, ImageSinkResult } from "../sink.js";
import { ImageSourceError } from "../source.js";

export type TransferOutcome = { ok: true; result: ImageSinkResult; blocks: number; lastBlockBytes: number } | { ok: false; error: ImageSourceError };

export interface ReceiverOptions {
  profile: VendorProfile;
  /** Blocks the controller may have in flight (negotiated at join). */
  window: number;
  size: number;
  md5: Uint8Array;
  /** Already begun for this image. */
  sink: ImageSink;
  respond: (request: Message, resultCode: number) => void;
  log: Log;
  /** Once, at the end: the checked image, or why it was refused. */
  onDone: (outcome: TransferOutcome) => void;
  /** Blocks waiting for the sink before acknowledgements are held back. */
  maxQueuedBlocks?: number;
}

/** Sequence numbers are 8 bits; a block more than half the space behind is in the past. */
const HALF_SEQ = 128;

export class ImageDataReceiver {
  readonly #o: ReceiverOptions;
  /** Blocks taken past the one the stream misses: bounds the early buffer too. */
  readonly #span: number;
  #next: number | undefined;
  readonly #early = new Map<number, { data: Uint8Array; last: boolean }>();
  readonly #md5: Hash = createHash("md5");
  #accepted = 0;
  #blocks = 0;
  #lastBlockBytes = 0;
  #queued = 0;
  #held: (() => void)[] = [];
  #writing: Promise<void> = Promise.resolve();
  #done = false;
  /** What a request after the end is answered with: the image stored, or the refusal that ended it. */
  #endAnswer: number = ResultCode.Success;
  #progressStep = 0;

  constructor(options: ReceiverOptions) {
    this.#o = options;
    this.#span = imageReceiveSpan(options.window);
  }

  /** An Image Data Request from the controller. */
  receive(request: Message): void {
    if (this.#done) {
      // A retransmission after the end (our answer was lost): answer again.
      this.#o.respond(request, this.#endAnswer);
      return;
    }
    const seq = request.seq;
    this.#next ??= seq;
    const ahead = (seq - this.#next) & 0xff;
    if (ahead >= HALF_SEQ || this.#early.has(seq)) {
      this.#o.respond(request, ResultCode.Success); // already have it: re-ack, write nothing
      return;
    }
    if (ahead >= this.#span) {
      this.#o.log.debug(`Image Data seq ${seq} beyond the receive span (next ${this.#next}, span ${this.#span}): dropped`);
      return; // the controller retransmits it once the span has moved
    }
    const block = this.#o.profile.readImageBlock(request.elements);
    if (block.kind === "abort") return this.#fail(request, ResultCode.Success, "refused", block.reason);
    if (block.kind === "corrupt") {
      // A bad block is refused; the controller sends it again under the same sequence number.
      this.#o.log.info(`Image Data seq ${seq}: ${block.reason}, asking again`);
      this.#o.respond(request, ResultCode.ImageDataErrorInvalidChecksum);
      return;
    }
    if (block.data.length > this.#o.profile.imageBlockSize) {
      return this.#fail(request, ResultCode.ImageDataErrorInvalidDataLength, "integrity", `block of ${block.data.length} bytes exceeds ${this.#o.profile.imageBlockSize}`);
    }
    if (ahead !== 0) {
      this.#early.set(seq, { data: block.data, last: block.last });
      this.#acknowledge(request);
      return;
    }
    // The block the stream needs next (the usual case) is written straight away, then whatever had arrived early and is now contiguous.
    this.#next = (this.#next + 1) & 0xff;
    let taken = this.#accept(request, block.data, block.last);
    for (let b = this.#early.get(this.#next); taken === "more" && b; b = this.#early.get(this.#next)) {
      this.#early.delete(this.#next);
      this.#next = (this.#next + 1) & 0xff;
      taken = this.#accept(request, b.data, b.last);
    }
    if (taken === "more") this.#acknowledge(request);
    // The request that completes the image is answered by #complete, once the sink has every byte.
    else if (taken === "complete") void this.#complete(request);
  }

  /** Give up: nothing more is written, the sink is left to the caller. */
  cancel(): void {
    this.#done = true;
    this.#early.clear();
    for (const release of this.#held.splice(0)) release();
  }

  /** One block in stream order, on its way to the sink; a refusal answers `request` (the block in hand) with why. */
  #accept(request: Message, data: Uint8Array, markedLast: boolean): "more" | "complete" | "failed" {
    const { size } = this.#o;
    if (this.#accepted + data.length > size) {
      this.#fail(request, ResultCode.ImageDataErrorInvalidDataLength, "integrity", `image longer than the announced ${size} bytes`);
      return "failed";
    }
    this.#accepted += data.length;
    this.#blocks++;
    this.#lastBlockBytes = data.length;
    this.#md5.update(data);
    this.#queued++;
    this.#writing = this.#writing.then(() => this.#write(data));
    this.#progress();
    if (this.#accepted === size) return "complete";
    if (markedLast) {
      this.#fail(request, ResultCode.ImageDataErrorInvalidDataLength, "integrity", `EOF after ${this.#accepted} of ${size} bytes`);
      return "failed";
    }
    return "more";
  }

  /** One block into the sink, in order; a failing sink ends the transfer (the chain itself never rejects). */
  async #write(data: Uint8Array): Promise<void> {
    if (this.#done) return;
    try {
      await this.#o.sink.write(data);
    } catch (err) {
      this.#fail(undefined, ResultCode.ImageDataErrorOtherError, "sink", `cannot store the image: ${describeError(err)}`);
      return;
    }
    this.#queued--;
    if (this.#queued <= (this.#o.maxQueuedBlocks ?? MAX_IMAGE_WINDOW) / 2) for (const release of this.#held.splice(0)) release();
  }

  /** Acknowledge now, or once the sink has caught up: the block just taken is the most the sink may lag by (back-pressure keeps memory flat). */
  #acknowledge(request: Message): void {
    const ack = () => this.#o.respond(request, ResultCode.Success);
    if (this.#queued <= (this.#o.maxQueuedBlocks ?? MAX_IMAGE_WINDOW)) ack();
    else this.#held.push(ack);
  }

  /**
   * The last block arrived (`request` brought it): check the MD5, and
   * answer once the sink has taken every byte. The controller ends the
   * transfer, and gives its download slot to another AP, on that answer;
   * so an image is stored before it counts as sent (a fleet counts this
   * AP's download as over when its sink has the last byte).
   */
  async #complete(request: Message): Promise<void> {
    const md5 = this.#md5.digest();
    if (!md5.equals(this.#o.md5)) {
      this.#fail(request, ResultCode.ImageDataErrorOtherError, "integrity", `MD5 ${md5.toString("hex")} of the received image does not match ${Buffer.from(this.#o.md5).toString("hex")}`);
      return;
    }
    await this.#writing;
    if (this.#done) {
      // A failed write already ended the transfer: the last block is refused too.
      this.#o.respond(request, this.#endAnswer);
      return;
    }
    this.#done = true;
    this.#o.respond(request, ResultCode.Success);
    this.#o.log.info(`${this.#accepted} bytes, ${this.#blocks} msgs, ${this.#lastBlockBytes} last`);
    this.#o.log.info("Last block stored");
    this.#o.log.info("Image transfer completed from WLC, last 1");
    let result: ImageSinkResult;
    try {
      result = await this.#o.sink.finish();
    } catch (err) {
      this.#o.onDone({ ok: false, error: new ImageSourceError("sink", `cannot store the image: ${describeError(err)}`) });
      return;
    }
    this.#o.onDone({ ok: true, result, blocks: this.#blocks, lastBlockBytes: this.#lastBlockBytes });
  }

  #fail(request: Message | undefined, resultCode: number, failure: ImageSourceFailure, reason: string): void {
    if (this.#done) return;
    this.#endAnswer = resultCode;
    if (request) this.#o.respond(request, resultCode);
    this.cancel();
    this.#o.onDone({ ok: false, error: new ImageSourceError(failure, reason) });
  }

  #progress(): void {
    const step = Math.floor((this.#accepted / this.#o.size) * 10);
    if (step > this.#progressStep && step < 10) {
      this.#progressStep = step;
      this.#o.log.info(`Image download ${step * 10}% (${this.#accepted} of ${this.#o.size} bytes)`);
    }
  }
}
