/**
 * SFTP as an ImageSource: the image a request names, from the URL it gives
 * or from `server` (sftp://user[:password]@host[:port]/dir) joined with its
 * name — how a controller reaches an image server.
 */
import { type ImageSource, urlImageSource } from "../source.js";
import { fetchSftp, type FetchSftpOptions } from "./client.js";

export function sftpImageSource(o: { server?: string } & Omit<FetchSftpOptions, "signal" | "name"> = {}): ImageSource {
  const { server, ...fetchOptions } = o;
  return urlImageSource("SFTP", server, (url, sink, request) => fetchSftp(url, sink, { ...fetchOptions, ...request }));
}
