/**
 * Every TFTP number vap relies on, as data: the ranges the RFCs allow and
 * the defaults vap picks. Pure (no Node), so the codec and the machines
 * share it.
 */

/** RFC 1350: the well-known server port. */
export const TFTP_PORT = 69;

/** RFC 1350's fixed block size, and what a transfer uses when no blksize was agreed. */
export const DEFAULT_BLOCK_SIZE = 512;

/** RFC 2348 §2: blksize may be 8 to 65464 octets. */
export const BLOCK_SIZE_RANGE = { min: 8, max: 65464 } as const;

/** RFC 7440 §2: windowsize may be 1 to 65535; vap accepts and asks for at most 64 (a serving transfer holds three windows of blocks: the one in flight, the next read ahead, and its armed copy in the socket). */
export const WINDOW_SIZE_RANGE = { min: 1, max: 64 } as const;

/** RFC 2349 §2: timeout is 1 to 255 seconds. */
export const TIMEOUT_SECONDS_RANGE = { min: 1, max: 255 } as const;

/** The retransmission timeout when none was negotiated. */
export const DEFAULT_TIMEOUT_MS = 1_000;

/** Each retransmission doubles the wait up to this cap (back-off), so a congested path is not flooded. */
export const MAX_BACKOFF_MS = 8_000;

/**
 * How many retransmission waits a receiver dallies after its final ACK,
 * answering the final DATA again should that ACK be lost. The sender's
 * retransmissions come 1, 3 and 7 waits after its send; 8 waits outlast a
 * lost ACK and two lost retransmissions. Twice the wait missed the second
 * retransmission: over 200 seeded runs at 20 % loss, 9 senders failed
 * after their receiver had completed; with 8, none did. The socket does
 * not keep a finished CLI process alive meanwhile.
 */
export const DALLY_WAITS = 8;

/** Retransmissions of one packet before a transfer gives up. */
export const DEFAULT_RETRIES = 5;

/**
 * How far a receiver's ACKs may run ahead of its sink. Writing a window
 * while the next one is on the wire, instead of between windows, took
 * vap's client from 70–80 to 95–107 MB/s into a file on loopback; a
 * megabyte bounds what a slow disk can make it hold.
 */
export const SINK_LEAD_BYTES = 1 << 20;

/**
 * Blocks a receiver gathers into one sink write (well inside the lead, so
 * gathering never holds an ACK). Datagrams on loopback mostly arrive one per
 * wakeup, so a write per wakeup was a write per one or two blocks: 20,000
 * sink calls for a 50 MB image, each a promise chain and a turn of the loop.
 */
export const SINK_WRITE_BYTES = 64 * 1024;

/** Concurrent transfers a server runs before it answers "busy". */
export const DEFAULT_MAX_TRANSFERS = 64;

/** A primary AP's server (efficient image upgrade): Cisco serves "at most three subordinates at a time"; the fourth is told busy and retries. */
export const PRIMARY_MAX_TRANSFERS = 3;

/**
 * Retransmissions a subordinate's try at its primary makes before it fails
 * [inf]: the primary is one LAN hop away, so 3 (about 7 s of silence) tell a
 * dead primary from a slow one; the client's default 5 (about 31 s) would
 * make a subordinate of a dead primary spend minutes on each of its tries.
 */
export const PRIMARY_RETRIES = 3;

/**
 * What vap's client asks for: the largest block that fits an Ethernet MTU
 * (1500 − 20 IPv4 − 8 UDP − 4 TFTP), and a window that keeps a LAN busy.
 * A server that refuses an option simply leaves it out of its OACK.
 */
export const CLIENT_REQUEST = { blockSize: 1468, windowSize: 16 } as const;

/** The transfer mode vap speaks; netascii and mail (RFC 1350) are refused. */
export const OCTET_MODE = "octet";

/** Block numbers are 16 bits on the wire (RFC 1350 §5). */
export const BLOCK_NUMBER_MODULO = 0x10000;
