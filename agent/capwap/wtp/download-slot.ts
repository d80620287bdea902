/**
 * The one image download a WTP runs at a time: it starts the named source,
 * routes the controller's Image Data Requests to it and aborts it; only the
 * running download's reports reach the machine, so a late report from an
 * aborted one cannot move it.
 */
import type { Message } from "../profiles/index.js";
import type { CapwapSession, ImageDownload, ImageSourceName, ImageSources, RunningDownload } from "./image-source.js";
import type { WtpInput } from "./machine-types.js";

interface Current {
  running?: RunningDownload;
  receive?: (message: Message) => void;
}

export class DownloadSlot {
  readonly #sources: ImageSources;
  readonly #report: (input: WtpInput) => void;
  #current: Current | undefined;

  constructor(sources: ImageSources, report: (input: WtpInput) => void) {
    this.#sources = sources;
    this.#report = report;
  }

  start(source: ImageSourceName, download: ImageDownload, session: Omit<CapwapSession, "onImageData">): void {
    const current: Current = {};
    this.#current = current;
    const report = (input: WtpInput, last: boolean) => {
      if (this.#current !== current) return;
      if (last) this.#current = undefined;
      this.#report(input);
    };
    current.running = this.#sources[source]!.start(download, {
      session: { ...session, onImageData: (receive) => (current.receive = receive) },
      started: () => report({ type: "sourceStarted" }, false),
      finished: (result) => report({ type: "sourceFinished", result }, true),
      failed: (reason, message) => report({ type: "sourceFailed", reason, message }, true),
    });
  }

  imageData(message: Message): void {
    this.#current?.receive?.(message);
  }

  abort(reason: string): void {
    const current = this.#current;
    this.#current = undefined;
    current?.running?.abort(reason);
  }
}
