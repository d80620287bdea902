import { appendFileSync } from "node:fs";

/** Receives SSLKEYLOGFILE lines ("CLIENT_RANDOM <random> <master secret>"). */
export type KeylogSink = (line: string) => void;

/**
 * A sink appending to a file in the SSLKEYLOGFILE format that Wireshark and
 * tshark read (`-o tls.keylog_file:PATH`). The file holds session secrets,
 * hence mode 0600. Writes are synchronous: one short line per handshake, and
 * the line must be on disk before anyone opens the capture.
 */
export function keylogFileSink(path: string): KeylogSink {
  return (line) => appendFileSync(path, `${line}\n`, { mode: 0o600 });
}
