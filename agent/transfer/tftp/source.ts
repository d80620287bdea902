/**
 * TFTP as an ImageSource: the image a request names, from the URL it gives
 * or from `server` (tftp://host[:port]/dir) joined with its name — how a
 * subordinate AP asks its primary for `ap1g8`, or a controller its image
 * server. TFTP's failure reasons map onto the seam's.
 */
import type { ImageSourceFailure } from "../../capwap/wtp/index.js";
import { type ImageSource, ImageSourceError } from "../source.js";
import { fetchTftp, parseTftpUrl, TftpError, type FetchTftpOptions } from "./client.js";
import type { OptionRequest } from "./options.js";
import type { TftpFailureReason } from "./receiver.js";

const FAILURES: Record<TftpFailureReason, ImageSourceFailure> = {
  unreachable: "network",
  "not-found": "not-found",
  refused: "refused",
  timeout: "timeout",
  truncated: "integrity",
  protocol: "network",
  aborted: "aborted",
  sink: "sink",
};

export interface TftpSourceOptions extends Omit<FetchTftpOptions, "signal"> {
  /** tftp://host[:port]/dir a request's name is fetched from when it carries no URL. */
  server?: string;
  /** Options to ask for instead of the client's defaults (a subordinate AP asks its primary for what suits their LAN). */
  request?: OptionRequest;
}

export function tftpImageSource(o: TftpSourceOptions = {}): ImageSource {
  const { server, request, ...fetchOptions } = o;
  return {
    async fetch(image, sink, { signal }) {
      const url = image.url ?? (server ? `${server.replace(/\/$/, "")}/${image.name}` : undefined);
      if (!url) throw new ImageSourceError("internal", `no TFTP server or URL for ${image.name}`);
      try {
        return await fetchTftp(request ? { ...parseTftpUrl(url), options: request } : url, sink, { ...fetchOptions, signal });
      } catch (err) {
        if (err instanceof TftpError) throw new ImageSourceError(FAILURES[err.reason], err.message, { cause: err });
        throw err;
      }
    },
  };
}
