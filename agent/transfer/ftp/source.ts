/**
 * FTP as an ImageSource: the image a request names, from the URL it gives
 * or from `server` (ftp:// or ftpes://[user[:password]@]host[:port]/dir)
 * joined with its name — how a controller reaches an image server.
 */
import { type ImageSource, urlImageSource } from "../source.js";
import { fetchFtp, type FetchFtpOptions } from "./client.js";

export function ftpImageSource(o: { server?: string } & Omit<FetchFtpOptions, "signal" | "name"> = {}): ImageSource {
  const { server, ...fetchOptions } = o;
  return urlImageSource("FTP", server, (url, sink, request) => fetchFtp(url, sink, { ...fetchOptions, ...request }));
}
