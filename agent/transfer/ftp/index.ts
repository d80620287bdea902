/** FTP (basic-ftp): the client that streams an image into a sink, passive mode, plain or explicit TLS (ftpes://) with a private CA. */
export { fetchFtp, parseFtpUrl, type FetchFtpOptions } from "./client.js";
export { ftpImageSource } from "./source.js";
export { DEFAULT_FTP_TIMEOUT_MS } from "./limits.js";
