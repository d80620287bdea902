/**
 * Turns an ImageSource into what the WTP starts (capwap/wtp's
 * ImageSourceStarter): one sink per download, the sink's precheck first,
 * "started" once the sink has begun, the sink aborted on any failure, and a
 * typed reason for the WTP's table.
 */
import { describeError } from "../core/index.js";
import type { CapwapSession, ImageDownload, ImageSourceStarter } from "../capwap/wtp/index.js";
import { type ImageSink, tappedSink } from "./sink.js";
import { type ImageSource, ImageSourceError } from "./source.js";

export interface SourceStarterOptions {
  /** The file the AP asks for: its class name (SPEC.md §2). */
  imageName: string;
  /** The source for one download; the CAPWAP session is lent for a source that downloads through it. */
  source: (download: ImageDownload, session: CapwapSession) => ImageSource;
  /** A sink for each download. */
  sink: (download: ImageDownload) => ImageSink;
}

/**
 * The console line a source logs as it asks for the image (Cisco's `Image
 * Data Request sent to …`): `to` names the server, `method` a way other
 * than CAPWAP; a download of an efficient image upgrade carries its role as
 * real APs do (replicaStatus 0: the primary, from the controller; 1: a
 * subordinate, from its primary).
 */
export function imageRequestLine(to: string, name: string, download: ImageDownload, method?: string): string {
  const role = download.efficient ? `, replicaStatus ${download.efficient.role === "primary" ? 0 : 1}` : "";
  return `Image Data Request sent to ${to}, fileName [${name}]${method ? `, method ${method}` : ""}${role}`;
}

export function imageSourceStarter(options: SourceStarterOptions): ImageSourceStarter {
  return {
    start(download, host) {
      const { log } = host.session;
      const sink = options.sink(download);
      const cancel = new AbortController();
      // ABORT runs after the session moved on: its failure is logged, never thrown.
      const abortSink = (reason: string) => void sink.abort(reason).catch((err: unknown) => log.error(`ABORT failed: ${describeError(err)}`));
      const observed = tappedSink(sink, { begun: () => !cancel.signal.aborted && host.started() });
      const run = async () => {
        try {
          await sink.precheck?.().catch((err: unknown) => {
            throw new ImageSourceError("sink", describeError(err), { cause: err });
          });
          if (cancel.signal.aborted) return;
          const result = await options.source(download, host.session).fetch({ name: options.imageName }, observed, { signal: cancel.signal });
          if (!cancel.signal.aborted) host.finished({ reboot: result.reboot === true, ...(result.version ? { version: result.version } : {}) });
        } catch (err) {
          if (cancel.signal.aborted) return;
          const failure = err instanceof ImageSourceError ? err : new ImageSourceError("internal", describeError(err), { cause: err });
          abortSink(failure.message);
          host.failed(failure.reason, failure.message);
        }
      };
      void run();
      return {
        abort(reason) {
          log.info(`Aborting image download(0x0): ${reason}, ${options.imageName}`);
          cancel.abort(new ImageSourceError("aborted", reason));
          abortSink(reason);
        },
      };
    },
  };
}
