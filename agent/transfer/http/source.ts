/**
 * HTTP(S) as an ImageSource: the image a request names, from the URL it
 * gives or from `server` (https://host[:port]/dir) joined with its name —
 * how a controller's out-of-band download or an image server is reached.
 * fetchHttp's failures already carry the seam's reasons.
 */
import { type ImageSource, ImageSourceError } from "../source.js";
import { fetchHttp, type FetchHttpOptions } from "./client.js";

export function httpImageSource(o: { server?: string } & Omit<FetchHttpOptions, "signal" | "name"> = {}): ImageSource {
  const { server, ...fetchOptions } = o;
  return {
    async fetch(image, sink, { signal }) {
      const url = image.url ?? (server ? `${server.replace(/\/$/, "")}/${encodeURIComponent(image.name)}` : undefined);
      if (!url) throw new ImageSourceError("internal", `no HTTP server or URL for ${image.name}`);
      return fetchHttp(url, sink, { ...fetchOptions, signal, name: image.name });
    },
  };
}
