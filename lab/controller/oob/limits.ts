/** The OOB HTTPS file-transfer server's limits and defaults, named beside what they bound (docs/ARCHITECTURE.md "Where the limits live"). */

/**
 * [inf] How long a token lets its AP start requests: an 85 MB image over a
 * slow WAN (1 Mbit/s is about 12 minutes for the whole file) still gets its
 * Range resumes in, each starting before this runs out; a leaked token is
 * worth little for long.
 */
export const OOB_TOKEN_TTL_MS = 10 * 60_000;

/** HMAC-SHA256's own block-size-independent strength: 32 random bytes of key. */
export const OOB_TOKEN_KEY_BYTES = 32;

/** 96 random bits: no two tokens alike. */
export const OOB_TOKEN_NONCE_BYTES = 12;

/** A real token is about 200 characters; anything far longer is refused before any work is spent on it. */
export const MAX_TOKEN_LENGTH = 1024;

/** The TLS port a real controller serves AP images on (`ap file-transfer https port`). */
export const DEFAULT_OOB_HTTPS_PORT = 8443;

/** How long nginx may take to listen on a loaded machine. */
export const NGINX_START_TIMEOUT_MS = 10_000;

/** How long nginx's fast shutdown may take before the controller kills what is left of it. */
export const NGINX_STOP_TIMEOUT_MS = 3000;

/** With port 0, how often another process may take the free port found before nginx binds it. */
export const NGINX_PORT_TRIES = 3;

/** Connections nginx's one worker takes at once: each download holds two (the AP's, and the token check's to the controller). */
export const NGINX_WORKER_CONNECTIONS = 1024;

/** How often the controller polls nginx's access log between the file system's change notices (a notice can be missed on some file systems). */
export const ACCESS_LOG_POLL_MS = 250;

/**
 * How long nginx holds a stalled upstream's connection open (the `stall`
 * fault): far longer than any AP's stall timeout, so the AP, not nginx,
 * decides when a silent download has failed.
 */
export const NGINX_STALL_HOLD_S = 3600;

/** The share of a response's body the `stall` and `truncate` faults send before going silent or closing. */
export const FAULT_BODY_SHARE = 0.5;

/** Bytes the `corrupt` fault flips in the middle of an image: any nonzero run breaks MD5 and the signature. */
export const CORRUPT_BYTES = 16;
