/**
 * The image-source seam (DESIGN.md "One image-source seam"): every way of
 * getting firmware — CAPWAP Image Data here, later OOB HTTPS, TFTP, SFTP,
 * FTP, HTTP, each under agent/transfer/<name>/ — fetches an image into an
 * ImageSink, can be cancelled, and fails with a typed reason the WTP's table
 * can act on (retry, fall back to another source, give up).
 */
import { VapError } from "../core/index.js";
import type { ImageSourceFailure } from "../capwap/wtp/index.js";
import type { ImageSink, ImageSinkResult } from "./sink.js";

export class ImageSourceError extends VapError {
  constructor(
    readonly reason: ImageSourceFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`IMAGE_SOURCE_${reason.toUpperCase().replace("-", "_")}`, message, options);
  }
}

export interface ImageRequest {
  /** What the AP asks for: its class name (SPEC.md §2), or the file a URL names. */
  name: string;
  /** Where an out-of-band source finds it (https://, tftp://, sftp://, ftp://, http://). */
  url?: string;
}

export interface FetchOptions {
  /** The caller gave up: stop, and reject with reason "aborted". */
  signal: AbortSignal;
}

export interface ImageSource {
  /**
   * Stream the image into `sink` — begin (its size, when known), then its
   * bytes in order, then finish once size and checksum are verified; progress
   * is what the sink sees. Resolves with the sink's result; rejects with an
   * ImageSourceError. Aborting the sink after a failure is the caller's.
   */
  fetch(image: ImageRequest, sink: ImageSink, options: FetchOptions): Promise<ImageSinkResult>;
}

/**
 * A source that fetches each request's own URL, or `server` (a directory
 * URL) joined with the request's name — how a controller's image server is
 * reached. `what` names the protocol in the error when there is neither.
 */
export function urlImageSource(
  what: string,
  server: string | undefined,
  fetchUrl: (url: string, sink: ImageSink, o: { signal: AbortSignal; name: string }) => Promise<ImageSinkResult>,
): ImageSource {
  return {
    async fetch(image, sink, { signal }) {
      const url = image.url ?? (server ? `${server.replace(/\/$/, "")}/${encodeURIComponent(image.name)}` : undefined);
      if (!url) throw new ImageSourceError("internal", `no ${what} server or URL for ${image.name}`);
      return fetchUrl(url, sink, { signal, name: image.name });
    },
  };
}
