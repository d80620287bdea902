/** SFTP (ssh2-sftp-client): the client that streams an image into a sink, with password or key login and an optional known_hosts check. */
export { fetchSftp, parseSftpUrl, type FetchSftpOptions } from "./client.js";
export { sftpImageSource } from "./source.js";
export { hostKeyFingerprint, isKnownHostKey } from "./known-hosts.js";
export { DEFAULT_SFTP_TIMEOUT_MS } from "./limits.js";
