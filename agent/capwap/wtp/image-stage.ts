/**
 * The pluggable Image Data stage. After Join the WTP compares its version
 * with the controller's; on a mismatch it hands the session to the stage,
 * which downloads (CAPWAP Image Data, later HTTPS or TFTP) and says how it
 * ended. Image Data Requests from the controller are routed to it.
 */
import type { Log } from "../../core/index.js";
import type { Element, Message, VendorProfile } from "../profiles/index.js";

export interface ImageStageHost {
  readonly profile: VendorProfile;
  readonly log: Log;
  /** Send a request to the controller; resolves with the response, rejects when retransmissions run out. */
  request(message: Omit<Message, "seq">): Promise<Message>;
  /** Answer a controller request (same sequence number). */
  respond(request: Message, elements: Element[]): void;
  /** Tell the controller something in a WTP Event Request (predownload progress). */
  event(elements: Element[]): void;
  /**
   * The stage is done: "reset" reboots into the new image, "continue" goes
   * on with the running image, an Error restarts CAPWAP with its message as
   * the reason.
   */
  finish(outcome: "reset" | "continue" | Error): void;
}

export interface ImageContext {
  /** After Join on a version mismatch, or ordered in Run (predownload: stay in Run). */
  mode: "join" | "predownload";
  running: string;
  backup: string;
  /** The version the controller runs (join) or ordered (predownload). */
  controller: string;
  controllerAddress: string;
  /** Image Data window negotiated at join. */
  window: number;
}

export interface ImageStage {
  /** Versions match: nothing to download (upgrade.sh NO_UPGRADE). */
  noUpgrade?(): void;
  begin(host: ImageStageHost, context: ImageContext): void;
  /** An Image Data Request from the controller while the stage runs. */
  imageDataRequest(message: Message): void;
  /** The session is going down mid-stage: clean up (upgrade.sh ABORT). */
  abort(reason: string): void;
}
