/**
 * What a fleet counts of an AP's image downloads: each one's source, how
 * long its bytes flowed, how many arrived, and how it ended — observed at
 * the seam between the WTP and its sources, so no source knows it is
 * watched.
 */
import type { Clock } from "../core/index.js";
import type { ImageSourceFailure, ImageSourceName, ImageSources } from "../capwap/wtp/index.js";
import { type ImageSink, tappedSink } from "../transfer/index.js";

export type DownloadEvent =
  /** Its first byte arrived (a controller that limits downloads at once holds the others before any byte). */
  | { kind: "started"; source: ImageSourceName; mode: "join" | "predownload" }
  /**
   * Its bytes stopped flowing: the sink took the last announced byte (the
   * AP answers the last Image Data block only after that, so before the
   * controller can give its slot to another AP), or the download ended first.
   */
  | { kind: "drained"; source: ImageSourceName; mode: "join" | "predownload" }
  /** It ended: installed (`ok`) or failed for `reason`; `ms` from its first byte (from its start when none came). */
  | { kind: "ended"; source: ImageSourceName; mode: "join" | "predownload"; ok: boolean; reason?: ImageSourceFailure; bytes: number; ms: number; flowed: boolean };

interface Current {
  source: ImageSourceName;
  mode: "join" | "predownload";
  startedAt: number;
  bytes: number;
  /** Bytes the source announced (begin), when it did. */
  size?: number;
  flowed: boolean;
  drained: boolean;
}

export class DownloadWatch {
  #current: Current | undefined;

  constructor(
    readonly clock: Clock,
    readonly onEvent: (event: DownloadEvent) => void,
  ) {}

  /** The sink a download writes into, its bytes counted. */
  sink(sink: ImageSink): ImageSink {
    return tappedSink(sink, {
      begin: (image) => {
        if (this.#current && image.size !== undefined) this.#current.size = image.size;
      },
      write: (chunk) => {
        const c = this.#current;
        if (!c) return;
        if (!c.flowed) {
          c.flowed = true;
          c.startedAt = this.clock.now();
          this.onEvent({ kind: "started", source: c.source, mode: c.mode });
        }
        c.bytes += chunk.byteLength;
        if (c.size !== undefined && c.bytes >= c.size) this.#drain(c);
      },
      finish: () => this.#current && this.#drain(this.#current),
    });
  }

  #drain(c: Current): void {
    if (!c.flowed || c.drained) return;
    c.drained = true;
    this.onEvent({ kind: "drained", source: c.source, mode: c.mode });
  }

  /** The sources, each start and end reported. */
  sources(sources: ImageSources): ImageSources {
    const watched: ImageSources = {};
    for (const [name, starter] of Object.entries(sources) as [ImageSourceName, NonNullable<ImageSources[ImageSourceName]>][]) {
      watched[name] = {
        start: (download, host) => {
          const current: Current = { source: name, mode: download.mode, startedAt: this.clock.now(), bytes: 0, flowed: false, drained: false };
          this.#current = current;
          let ended = false;
          const end = (ok: boolean, reason?: ImageSourceFailure) => {
            if (ended) return;
            ended = true;
            this.#drain(current);
            if (this.#current === current) this.#current = undefined;
            this.onEvent({ kind: "ended", source: name, mode: download.mode, ok, ...(reason ? { reason } : {}), bytes: current.bytes, ms: this.clock.now() - current.startedAt, flowed: current.flowed });
          };
          const running = starter.start(download, {
            session: host.session,
            started: () => host.started(),
            finished: (result) => {
              end(true);
              host.finished(result);
            },
            failed: (reason, message) => {
              end(false, reason);
              host.failed(reason, message);
            },
          });
          return {
            abort: (reason) => {
              end(false, "aborted");
              running.abort(reason);
            },
          };
        },
      };
    }
    return watched;
  }
}
