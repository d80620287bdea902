/**
 * The CAPWAP image source (RFC 5415 §9.1): ask the controller for the image
 * by name (the hardware class, e.g. "ap1g8"), take its size and MD5, then
 * receive its Image Data Requests through the sliding-window receiver into
 * a sink. Used after Join on a version mismatch, and in Run for a
 * predownload (the WTP stays in Run and reports the outcome).
 */
import { type Clock, describeError, type TimerHandle } from "../../core/index.js";
import { MAX_IMAGE_WINDOW } from "../../config/index.js";
import { isSuccess, MessageType, ResultCode, resultCodeName } from "../../capwap/codec/index.js";
import { findElement, type Message, type VendorProfile } from "../../capwap/profiles/index.js";
import type { CapwapSession, ImageDownload, ImageSourceStarter } from "../../capwap/wtp/index.js";
import type { ImageSink, ImageSinkResult } from "../sink.js";
import { type FetchOptions, type ImageRequest, type ImageSource, ImageSourceError } from "../source.js";
import { imageRequestLine, imageSourceStarter } from "../starter.js";
import { ImageDataReceiver, type TransferOutcome } from "./receiver.js";

export interface CapwapImageSourceOptions {
  /** RFC 5415 §4.7 ImageDataStartTimer: the first block must come within this. */
  startTimeoutMs: number;
  /** A transfer with no block for this long is dead; default startTimeoutMs. */
  inactivityMs?: number;
  clock: Clock;
}

/** The most blocks kept while the Image Data Response is still on its way: the largest window, and the largest receive span. */
const MAX_EARLY_BLOCKS = MAX_IMAGE_WINDOW;

/** The AP's Initiate Download Image Data Request: every element it carries, in one place. */
function initiateDownload(profile: VendorProfile, imageName: string, { window, fallback }: ImageDownload): Omit<Message, "seq"> {
  return {
    type: MessageType.ImageDataRequest,
    elements: [
      { kind: "ImageIdentifier", vendorId: profile.vendorId, identifier: imageName },
      { kind: "InitiateDownload" },
      // The window this AP accepted (the controller's offer, capped by ours): the controller sends no more.
      { kind: "ImageWindow", window },
      // After a failed HTTPS try: the controller counts this download as a fallback, and why.
      ...(fallback !== undefined ? [{ kind: "OobFallback" as const, reason: fallback }] : []),
    ],
  };
}

interface Settle {
  resolve(result: ImageSinkResult): void;
  reject(err: ImageSourceError): void;
}

/** One download through the joined CAPWAP session. */
export class CapwapImageSource implements ImageSource {
  readonly #session: CapwapSession;
  readonly #download: ImageDownload;
  readonly #o: CapwapImageSourceOptions;
  #receiver: ImageDataReceiver | undefined;
  /** Blocks that overtook the Image Data Response. */
  readonly #early: Message[] = [];
  #timer: TimerHandle | undefined;
  #flowing = false;
  /** When the last block came; the inactivity timer re-arms from it rather than per block. */
  #lastBlockAt = 0;
  /** How the fetch ends; undefined once it has. */
  #settle: Settle | undefined;

  constructor(session: CapwapSession, download: ImageDownload, options: CapwapImageSourceOptions) {
    this.#session = session;
    this.#download = download;
    this.#o = options;
  }

  fetch(image: ImageRequest, sink: ImageSink, { signal }: FetchOptions): Promise<ImageSinkResult> {
    return new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
      signal.addEventListener("abort", () => this.#fail("aborted", String(signal.reason)), { once: true });
      this.#session.onImageData((message) => this.#imageData(message));
      void this.#start(image.name, sink);
    });
  }

  #imageData(message: Message): void {
    if (!this.#settle) return;
    if (!this.#receiver) {
      // Blocks that overtook the Image Data Response; beyond a receive span's
      // worth they could not be taken anyway, and the controller resends them.
      if (this.#early.length < MAX_EARLY_BLOCKS) this.#early.push(message);
      return;
    }
    this.#lastBlockAt = this.#o.clock.now();
    if (!this.#flowing) {
      this.#flowing = true;
      this.#watchInactivity();
    }
    this.#receiver.receive(message);
  }

  async #start(name: string, sink: ImageSink): Promise<void> {
    const { log, profile } = this.#session;
    const { controllerAddress, window } = this.#download;
    log.info(`wtpOpenImgFile: request ${name}, local /tmp/part.tar`);
    log.info(imageRequestLine(controllerAddress, name, this.#download));
    let response: Message;
    try {
      response = await this.#session.request(initiateDownload(profile, name, this.#download));
    } catch {
      return this.#fail("timeout", "image download cannot start");
    }
    if (!this.#settle) return;
    log.info(`Image Data Response from ${controllerAddress}`);
    const result = findElement(response.elements, "ResultCode")?.resultCode ?? ResultCode.Success;
    log.info(`AC accepted previous sent request with result code: ${result}`);
    const info = findElement(response.elements, "ImageInformation");
    if (!isSuccess(result)) return this.#fail("refused", `image download cannot start: ${resultCodeName(result)}`);
    if (!info) return this.#fail("refused", "image download cannot start: no Image Information");
    try {
      await sink.begin({ name, size: info.fileSize });
    } catch (err) {
      return this.#fail("sink", describeError(err));
    }
    if (!this.#settle) return;
    this.#receiver = new ImageDataReceiver({
      profile,
      window,
      size: info.fileSize,
      md5: info.hash,
      sink,
      log,
      respond: (request, resultCode) => this.#session.respond(request, [{ kind: "ResultCode", resultCode }]),
      onDone: (outcome) => this.#done(outcome),
    });
    // RFC 5415 ImageDataStartTimer: the seed logs its expiry as "image download cannot start".
    this.#timer = this.#o.clock.setTimer("image-data-start", this.#o.startTimeoutMs, () => this.#fail("timeout", "image download cannot start"));
    for (const m of this.#early.splice(0)) this.#imageData(m);
  }

  #done(outcome: TransferOutcome): void {
    if (!outcome.ok) {
      return this.#fail(outcome.error.reason, outcome.error.message);
    }
    this.#end()?.resolve(outcome.result);
  }

  #fail(reason: ImageSourceError["reason"], message: string): void {
    this.#end()?.reject(new ImageSourceError(reason, message));
  }

  /** One timer for the whole transfer: when it fires early because blocks kept coming, it waits again for the rest. */
  #watchInactivity(): void {
    const { inactivityMs = this.#o.startTimeoutMs, clock } = this.#o;
    this.#timer?.cancel();
    this.#timer = clock.setTimer("image-data", Math.max(1, this.#lastBlockAt + inactivityMs - clock.now()), () => {
      if (clock.now() - this.#lastBlockAt >= inactivityMs) this.#fail("timeout", `no image data for ${inactivityMs / 1000} s`);
      else this.#watchInactivity();
    });
  }

  /** Stop the timer and the receiver; returns how to settle the fetch, once. */
  #end(): Settle | undefined {
    const settle = this.#settle;
    this.#settle = undefined;
    this.#timer?.cancel();
    this.#receiver?.cancel();
    return settle;
  }
}

/** The CAPWAP source as the WTP starts it: one CapwapImageSource per download, into a sink of the caller's. */
export function capwapImageSource(options: CapwapImageSourceOptions & { imageName: string; sink: (download: ImageDownload) => ImageSink }): ImageSourceStarter {
  const { imageName, sink, ...source } = options;
  return imageSourceStarter({ imageName, sink, source: (download, session) => new CapwapImageSource(session, download, source) });
}
