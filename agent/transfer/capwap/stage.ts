/**
 * The CAPWAP image stage (RFC 5415 §9.1): ask the controller for the image
 * by name (the hardware class, e.g. "ap1g8"), take its size and MD5, then
 * receive its Image Data Requests through the sliding-window receiver into
 * a sink. Used after Join on a version mismatch, and in Run for a
 * predownload (the AP stays in Run and reports the outcome).
 */
import { type Clock, describeError, type TimerHandle } from "../../core/index.js";
import { MAX_IMAGE_WINDOW } from "../../config/index.js";
import { isSuccess, MessageType, ResultCode, resultCodeName } from "../../capwap/codec/index.js";
import { findElement, type Message, PredownloadState } from "../../capwap/profiles/index.js";
import type { ImageContext, ImageStage, ImageStageHost } from "../../capwap/wtp/index.js";
import type { ImageSink } from "../sink.js";
import { ImageDataReceiver, type TransferOutcome } from "./receiver.js";

export interface CapwapImageStageOptions {
  /** The file the AP asks for: its class name (SPEC.md §2). */
  imageName: string;
  /** A sink for each download. */
  sink: (context: ImageContext) => ImageSink;
  clock: Clock;
  /** RFC 5415 §4.7 ImageDataStartTimer: the first block must come within this. */
  startTimeoutMs: number;
  /** A transfer with no block for this long is dead; default startTimeoutMs. */
  inactivityMs?: number;
  /** Versions match after join (upgrade.sh NO_UPGRADE). */
  noUpgrade?: () => void;
}

/** The most blocks kept while the Image Data Response is still on its way: the largest window. */
const MAX_EARLY_BLOCKS = MAX_IMAGE_WINDOW;

interface Transfer {
  host: ImageStageHost;
  context: ImageContext;
  sink: ImageSink;
  receiver?: ImageDataReceiver;
  /** Blocks that overtook the Image Data Response. */
  early: Message[];
  timer?: TimerHandle;
  started: boolean;
  /** When the last block came; the inactivity timer re-arms from it rather than per block. */
  lastBlockAt: number;
}

export class CapwapImageStage implements ImageStage {
  readonly #o: CapwapImageStageOptions;
  #transfer: Transfer | undefined;

  constructor(options: CapwapImageStageOptions) {
    this.#o = options;
  }

  get active(): boolean {
    return this.#transfer !== undefined;
  }

  noUpgrade(): void {
    this.#o.noUpgrade?.();
  }

  begin(host: ImageStageHost, context: ImageContext): void {
    const transfer: Transfer = { host, context, sink: this.#o.sink(context), early: [], started: false, lastBlockAt: 0 };
    this.#transfer = transfer;
    void this.#start(transfer);
  }

  imageDataRequest(message: Message): void {
    const t = this.#transfer;
    if (!t) return;
    if (!t.receiver) {
      // Blocks that overtook the Image Data Response; beyond a window's worth
      // they could not be taken anyway, and the controller resends them.
      if (t.early.length < MAX_EARLY_BLOCKS) t.early.push(message);
      return;
    }
    t.lastBlockAt = this.#o.clock.now();
    if (!t.started) {
      t.started = true;
      this.#watchInactivity(t);
    }
    t.receiver.receive(message);
  }

  abort(reason: string): void {
    const t = this.#transfer;
    if (!t) return;
    t.host.log.info(`Aborting image download(0x0): ${reason}, ${this.#o.imageName}`);
    this.#end(t);
    this.#abortSink(t, reason);
  }

  async #start(t: Transfer): Promise<void> {
    const { host, context } = t;
    const name = this.#o.imageName;
    try {
      await t.sink.precheck?.();
    } catch (err) {
      return this.#failed(t, (err as Error).message);
    }
    if (this.#transfer !== t) return;
    host.log.info(`wtpOpenImgFile: request ${name}, local /tmp/part.tar`);
    host.log.info(`Image Data Request sent to ${context.controllerAddress}, fileName [${name}]`);
    let response: Message;
    try {
      response = await host.request({
        type: MessageType.ImageDataRequest,
        elements: [
          { kind: "ImageIdentifier", vendorId: host.profile.vendorId, identifier: name },
          { kind: "InitiateDownload" },
          // The window this AP accepted (the controller's offer, capped by ours): the controller sends no more.
          { kind: "ImageWindow", window: context.window },
        ],
      });
    } catch {
      return this.#failed(t, "image download cannot start");
    }
    if (this.#transfer !== t) return;
    host.log.info(`Image Data Response from ${context.controllerAddress}`);
    const result = findElement(response.elements, "ResultCode")?.resultCode ?? ResultCode.Success;
    host.log.info(`AC accepted previous sent request with result code: ${result}`);
    const info = findElement(response.elements, "ImageInformation");
    if (!isSuccess(result)) return this.#failed(t, `image download cannot start: ${resultCodeName(result)}`);
    if (!info) return this.#failed(t, "image download cannot start: no Image Information");
    try {
      await t.sink.begin({ name, size: info.fileSize });
    } catch (err) {
      return this.#failed(t, (err as Error).message);
    }
    if (this.#transfer !== t) return;
    t.receiver = new ImageDataReceiver({
      profile: host.profile,
      window: context.window,
      size: info.fileSize,
      md5: info.hash,
      sink: t.sink,
      log: host.log,
      respond: (request, resultCode) => host.respond(request, [{ kind: "ResultCode", resultCode }]),
      onDone: (outcome) => void this.#done(t, outcome),
    });
    if (context.mode === "predownload") host.event([{ kind: "PredownloadStatus", state: PredownloadState.Downloading, version: context.controller }]);
    // RFC 5415 ImageDataStartTimer: the seed logs its expiry as "image download cannot start".
    t.timer = this.#o.clock.setTimer("image-data-start", this.#o.startTimeoutMs, () => this.#failed(t, "image download cannot start"));
    for (const m of t.early.splice(0)) this.imageDataRequest(m);
  }

  async #done(t: Transfer, outcome: TransferOutcome): Promise<void> {
    if (this.#transfer !== t) return;
    if (!outcome.ok) return this.#failed(t, outcome.error.message);
    this.#end(t);
    if (t.context.mode === "predownload") {
      t.host.log.info(`Predownload of ${outcome.result.version ?? t.context.controller} complete: it stands by in the backup partition`);
      t.host.event([{ kind: "PredownloadStatus", state: PredownloadState.Complete, version: t.context.controller }]);
      return t.host.finish("continue");
    }
    t.host.finish(outcome.result.reboot ? "reset" : "continue");
  }

  #failed(t: Transfer, reason: string): void {
    if (this.#transfer !== t) return;
    this.#end(t);
    this.#abortSink(t, reason);
    if (t.context.mode === "predownload") {
      t.host.log.warn(`Predownload of ${t.context.controller} failed: ${reason}`);
      t.host.event([{ kind: "PredownloadStatus", state: PredownloadState.Failed, version: t.context.controller }]);
      t.host.finish("continue");
    } else {
      t.host.finish(new Error(reason));
    }
  }

  /** One timer for the whole transfer: when it fires early because blocks kept coming, it waits again for the rest. */
  #watchInactivity(t: Transfer): void {
    const { inactivityMs = this.#o.startTimeoutMs, clock } = this.#o;
    t.timer?.cancel();
    t.timer = clock.setTimer("image-data", Math.max(1, t.lastBlockAt + inactivityMs - clock.now()), () => {
      if (clock.now() - t.lastBlockAt >= inactivityMs) this.#failed(t, `no image data for ${inactivityMs / 1000} s`);
      else this.#watchInactivity(t);
    });
  }

  /** ABORT runs after the session moved on: its failure is logged, never thrown. */
  #abortSink(t: Transfer, reason: string): void {
    t.sink.abort(reason).catch((err: unknown) => t.host.log.error(`ABORT failed: ${describeError(err)}`));
  }

  #end(t: Transfer): void {
    t.timer?.cancel();
    t.receiver?.cancel();
    if (this.#transfer === t) this.#transfer = undefined;
  }
}
