/** The SFTP image source's limits and defaults, named beside what they bound (docs/ARCHITECTURE.md "Where the limits live"). */

/** Connecting and the SSH handshake, or a silence between two chunks of the file, longer than this is a timeout. */
export const DEFAULT_SFTP_TIMEOUT_MS = 30_000;

/** Where sftp:// goes without a port. */
export const SFTP_PORT = 22;
