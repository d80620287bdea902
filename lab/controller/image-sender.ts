/**
 * The controller's half of a CAPWAP image transfer (RFC 5415 §9.1) with the
 * seed's sliding window: up to `window` Image Data Requests in flight
 * (unacknowledged), each acknowledged by its sequence number, and none more
 * than `span` blocks past the oldest unacknowledged one. The first block
 * goes alone so the AP can anchor its window [inf]; then the window opens. Block i goes out under
 * sequence number first + i: each new block takes the channel's next number,
 * so the channel's counter ends past every number the transfer used and the
 * next request cannot repeat one the AP has answered (RFC 5415 §4.5.3 lets it
 * answer from its cache). A block the AP refuses (bad checksum) goes again
 * under its own number; a lost one is resent when three later blocks were
 * acknowledged (fast retransmit; fewer in windows under four) or when its
 * timeout — adaptive, from the measured round trip (RFC 6298 style) —
 * expires. While it goes again, new blocks keep going out as far as the span
 * lets them: an AP that buffers two windows ahead (a vap AP) keeps `window`
 * blocks in flight through a loss instead of waiting a round trip for the
 * resent block's acknowledgement.
 */
import type { ControlChannel, PendingRequest } from "../../agent/capwap/channel/index.js";
import { MessageType, ResultCode, resultCodeName } from "../../agent/capwap/codec/index.js";
import { findElement, type Message, type VendorProfile } from "../../agent/capwap/profiles/index.js";
import type { Clock, Log } from "../../agent/core/index.js";
import type { ImageFile } from "./image-library.js";

export interface ImageSenderOptions {
  channel: ControlChannel;
  profile: VendorProfile;
  file: ImageFile;
  /** Blocks in flight (sent, not yet acknowledged) at most. */
  window: number;
  /** How far past the oldest unacknowledged block sending may go: the AP's receive span, at least `window`. */
  span: number;
  clock: Clock;
  log: Log;
  /** The ceiling of the adaptive timeout: RFC 5415 RetransmitInterval. */
  maxTimeoutMs: number;
  /** Fault injection: corrupt block `index` on its first transmission (after its checksum). */
  corruptBlock?: (index: number) => boolean;
  onProgress?: (bytes: number) => void;
  onDone: (error?: Error) => void;
}

interface InFlight {
  index: number;
  request: PendingRequest;
  sentAt: number;
  /** Acknowledgements of later blocks seen while this one waits. */
  overtaken: number;
}

const MIN_TIMEOUT_MS = 100;
/**
 * How far past the smoothed round trip a timeout lies at the least, as a
 * share of it (RFC 6298's G term, for an event loop's timing rather than a
 * clock's tick). On a steady link RTTVAR decays towards 0, and a timeout of
 * about one round trip fired together with the acknowledgement: a third of
 * all blocks went twice at 100 ms RTT and no loss.
 */
const TIMEOUT_MARGIN = 0.25;
/**
 * The reorder allowance: a block is taken as lost, and sent again at once,
 * when this many blocks sent after it were acknowledged (TCP's three
 * duplicate acknowledgements, RFC 5681 §3.2) — or as many as its window
 * lets follow it, so windows of 2 and 3 recover without their timer too.
 */
export const FAST_RETRANSMIT_AFTER = 3;

export class ImageSender {
  readonly #o: ImageSenderOptions;
  readonly #blocks: number;
  /**
   * Oldest block not yet acknowledged, and the next never sent. Every block
   * in between is either in flight (a refused one goes straight back in) or
   * acknowledged, so "acknowledged" needs no record of its own.
   */
  #base = 0;
  #next = 0;
  #firstSeq = 0;
  readonly #inFlight = new Map<number, InFlight>();
  #srtt: number | undefined;
  #rttvar = 0;
  #done = false;
  /** Later acknowledgements that prove a block lost: the allowance, or fewer when the window holds fewer. */
  readonly #lostAfter: number;
  /**
   * Requests sent, retransmissions, blocks refused (bad checksum), and late
   * acknowledgements: copies of an acknowledgement for a block sent again
   * before the first answer came (normal in a sliding window, not a discard).
   */
  readonly stats = { sent: 0, retransmits: 0, refused: 0, lateAcks: 0 };

  constructor(options: ImageSenderOptions) {
    this.#o = options;
    this.#blocks = Math.max(1, Math.ceil(options.file.size / options.profile.imageBlockSize));
    this.#lostAfter = Math.min(FAST_RETRANSMIT_AFTER, options.window - 1);
  }

  start(): void {
    this.#firstSeq = this.#o.channel.nextSeq;
    this.#send(0, false);
  }

  cancel(): void {
    this.#done = true;
    for (const f of this.#inFlight.values()) f.request.cancel();
    this.#inFlight.clear();
  }

  /** Sending may go on while fewer than `window` blocks are in flight and as far as the span past the oldest unacknowledged block; block 0 goes alone. */
  #fill(): void {
    const { window, span } = this.#o;
    while (!this.#done && this.#next < this.#blocks && this.#inFlight.size < window && this.#next < this.#base + span && (this.#base > 0 || this.#next === 0)) {
      this.#send(this.#next, false);
    }
  }

  #send(index: number, again: boolean): void {
    const { profile, file, channel } = this.#o;
    const size = profile.imageBlockSize;
    // A view valid until the next read(): encoded into the request below, before any other read.
    const data = file.read(index * size, size);
    const last = index === this.#blocks - 1;
    const element = profile.imageBlock(data, last);
    if (!again && this.#o.corruptBlock?.(index)) {
      const bad = Uint8Array.from(data);
      bad[bad.length >> 1]! ^= 0xff;
      // The checksum stays that of the good data: what corruption on the wire looks like.
      (element as { data: Uint8Array }).data = bad;
    }
    if (index === this.#next) this.#next++;
    const seq = (this.#firstSeq + index) & 0xff;
    const sentAt = this.#o.clock.now();
    const request = channel.request(
      { type: MessageType.ImageDataRequest, elements: [element] },
      (response) => this.#answered(index, response),
      () => this.#fail(`no answer to image block ${index} after retransmissions`),
      // A new block takes the channel's next number; a refused one goes again under its own.
      { ...(again ? { seq } : {}), retransmitIntervalMs: this.#timeout(), onLateResponse: () => this.stats.lateAcks++ },
    );
    if (request.seq !== seq) {
      // Someone else's request took a number inside the transfer: the AP's window would break.
      request.cancel();
      return this.#fail(`image block ${index} got sequence number ${request.seq}, not ${seq}: another request interleaved`);
    }
    this.stats.sent++;
    this.#inFlight.set(index, { index, request, sentAt: again ? Number.NaN : sentAt, overtaken: 0 });
  }

  #answered(index: number, response: Message): void {
    if (this.#done) return;
    const flight = this.#inFlight.get(index);
    if (!flight) return;
    this.#inFlight.delete(index);
    const result = findElement(response.elements, "ResultCode")?.resultCode ?? ResultCode.Success;
    if (result === ResultCode.ImageDataErrorInvalidChecksum) {
      this.stats.refused++;
      this.#send(index, true);
      return;
    }
    if (result !== ResultCode.Success) return this.#fail(`the AP refused image block ${index}: ${resultCodeName(result)}`);
    // Karn: only blocks sent once measure the round trip.
    if (flight.request.retransmits === 0 && !Number.isNaN(flight.sentAt)) this.#sample(this.#o.clock.now() - flight.sentAt);
    else this.stats.retransmits += flight.request.retransmits;
    for (const other of this.#inFlight.values()) {
      if (other.index < index && ++other.overtaken === this.#lostAfter) {
        // Counted with the channel's own retransmissions when the block is acknowledged.
        other.sentAt = Number.NaN;
        other.request.retransmitNow();
      }
    }
    while (this.#base < this.#next && !this.#inFlight.has(this.#base)) this.#base++;
    this.#o.onProgress?.(Math.min(this.#base * this.#o.profile.imageBlockSize, this.#o.file.size));
    if (this.#base === this.#blocks) {
      this.#done = true;
      this.#o.onDone();
      return;
    }
    this.#fill();
  }

  /** RFC 6298: smoothed round trip and its variation give the timeout. */
  #sample(rtt: number): void {
    if (this.#srtt === undefined) {
      this.#srtt = rtt;
      this.#rttvar = rtt / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - rtt);
      this.#srtt = 0.875 * this.#srtt + 0.125 * rtt;
    }
  }

  #timeout(): number {
    if (this.#srtt === undefined) return this.#o.maxTimeoutMs;
    return Math.min(this.#o.maxTimeoutMs, Math.max(MIN_TIMEOUT_MS, this.#srtt + Math.max(TIMEOUT_MARGIN * this.#srtt, 4 * this.#rttvar)));
  }

  #fail(reason: string): void {
    if (this.#done) return;
    this.cancel();
    this.#o.log.warn(`Image transfer of ${this.#o.file.name} aborted: ${reason}`);
    this.#o.onDone(new Error(reason));
  }
}
