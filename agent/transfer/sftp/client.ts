/**
 * `fetchSftp`: download one image by SFTP (ssh2-sftp-client) into an
 * ImageSink, streaming with back-pressure (file-download.ts). Password
 * and/or private key authentication. The server's host key is checked
 * against a known_hosts text when one is given, and otherwise accepted and
 * reported by its fingerprint: vap is a lab tool, and a lab's SFTP server
 * is rarely in anyone's known_hosts.
 */
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import SftpClient from "ssh2-sftp-client";
import { ConfigError } from "../../core/index.js";
import { downloadFile, type FileDownloadResult, type FileSession } from "../file-download.js";
import type { ImageSink } from "../sink.js";
import { ImageSourceError } from "../source.js";
import { type LoginUrl, parseLoginUrl, redactCredentials } from "../url.js";
import { sftpFailure } from "./failures.js";
import { hostKeyFingerprint, isKnownHostKey } from "./known-hosts.js";
import { DEFAULT_SFTP_TIMEOUT_MS, SFTP_PORT } from "./limits.js";

export interface FetchSftpOptions {
  signal?: AbortSignal;
  /** Connect, handshake and body-silence timeout; default DEFAULT_SFTP_TIMEOUT_MS. */
  timeoutMs?: number;
  /** The image's name for the sink; default the URL's last path segment. */
  name?: string;
  /** A private key (OpenSSH or PEM text) to authenticate with, besides the URL's password. */
  identity?: string;
  /** The text of a known_hosts file: the server's key must be listed there for its host and port. */
  knownHosts?: string;
  /** Told the server's key type and fingerprint when no known_hosts was given (one line, for a log). */
  onUncheckedHostKey?(line: string): void;
}

/** An sftp:// URL as a target; a user is required (SSH has no anonymous login). A path starting "/~/" is relative to the user's home. */
export function parseSftpUrl(url: string): LoginUrl & { user: string } {
  const target = parseLoginUrl(url, { "sftp:": SFTP_PORT });
  if (target.user === undefined) throw new ConfigError(`"${redactCredentials(url)}" names no user (sftp://user[:password]@host[:port]/path)`);
  return { ...target, user: target.user, path: target.path.startsWith("/~/") ? target.path.slice(3) : target.path };
}

/** One SFTP connection for one file. */
class SftpSession implements FileSession {
  readonly #client: SftpClient;
  #hostKeyRefused: string | undefined;
  #reading: Readable | undefined;

  constructor(
    private readonly target: LoginUrl & { user: string },
    private readonly o: FetchSftpOptions,
  ) {
    // The library's default callbacks print to the console; a lost connection shows up as the download's error instead.
    this.#client = new SftpClient("vap", { error: () => {}, end: () => {}, close: () => {} });
  }

  #verifyHostKey(key: Buffer): boolean {
    const { type, fingerprint } = hostKeyFingerprint(key);
    const where = `${this.target.host}:${this.target.port}`;
    if (this.o.knownHosts === undefined) {
      this.o.onUncheckedHostKey?.(`host key of ${where} not checked (no known_hosts given): ${type} ${fingerprint}`);
      return true;
    }
    if (isKnownHostKey(this.o.knownHosts, this.target.host, this.target.port, key)) return true;
    this.#hostKeyRefused = `host key of ${where} is not in known_hosts: ${type} ${fingerprint}`;
    return false;
  }

  async connect(): Promise<void> {
    const { host, port, user, password } = this.target;
    try {
      await this.#client.connect({
        host,
        port,
        username: user,
        ...(password === undefined ? {} : { password }),
        ...(this.o.identity === undefined ? {} : { privateKey: this.o.identity }),
        readyTimeout: this.o.timeoutMs ?? DEFAULT_SFTP_TIMEOUT_MS,
        hostVerifier: (key: Buffer) => this.#verifyHostKey(key),
      });
    } catch (err) {
      if (this.#hostKeyRefused) throw new ImageSourceError("refused", this.#hostKeyRefused, { cause: err });
      throw err;
    }
  }

  async size(): Promise<number> {
    const stat = await this.#client.stat(this.target.path);
    if (!stat.isFile) throw new ImageSourceError("not-found", `${this.target.path} is not a file`);
    return stat.size;
  }

  async download(into: Writable): Promise<void> {
    this.#reading = this.#client.createReadStream(this.target.path, {});
    await pipeline(this.#reading, into);
  }

  close(): void {
    // ssh2's read stream neither ends nor fails when its connection is destroyed under it.
    this.#reading?.destroy(new Error("connection closed"));
    // destroy, not end: a cancelled or stalled download must not wait for the server.
    // The library's ssh2 Client is public at run time, though not in its types.
    (this.#client as unknown as { client: { destroy(): void } }).client.destroy();
  }
}

export async function fetchSftp(url: string, sink: ImageSink, o: FetchSftpOptions = {}): Promise<FileDownloadResult> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_SFTP_TIMEOUT_MS;
  return downloadFile(new SftpSession(parseSftpUrl(url), o), sink, { url, name: o.name, signal: o.signal, timeoutMs, failure: sftpFailure });
}
