/** The FTP image source's limits and defaults, named beside what they bound (docs/ARCHITECTURE.md "Where the limits live"). */

/** Connecting, a reply on the control connection, or a silence on the data connection longer than this is a timeout. */
export const DEFAULT_FTP_TIMEOUT_MS = 30_000;

/**
 * Where ftp:// and ftpes:// go without a port. ftpes:// is FTP with explicit
 * TLS (AUTH TLS on the control port, the name FileZilla gives it); ftps://
 * usually means implicit TLS on 990, which vap does not speak.
 */
export const FTP_PORTS: Readonly<Record<string, number>> = { "ftp:": 21, "ftpes:": 21 };
