/** The HTTP(S) image source's limits and defaults, named beside what they bound (docs/ARCHITECTURE.md "Where the limits live"). */

/** Redirects followed before giving up: a loop, or a chain no image server needs. */
export const MAX_REDIRECTS = 5;

/**
 * Ranged retries after the connection broke mid-body. Each resumes where the
 * last one stopped, so a flaky link still completes; a server that keeps
 * cutting the connection fails the download.
 */
export const MAX_RESUMES = 3;

/** Connecting, waiting for the response headers, or a silence inside the body longer than this is a timeout. */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;

/** Statuses that send the client elsewhere (RFC 9110 §15.4) and carry a Location. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
