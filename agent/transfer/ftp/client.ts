/**
 * `fetchFtp`: download one image by FTP (basic-ftp) into an ImageSink,
 * streaming with back-pressure (file-download.ts). Passive mode only (EPSV,
 * else PASV: the client connects out, as through any NAT). ftpes:// is
 * explicit TLS — AUTH TLS on the control connection, protected data
 * connections — with a private CA trusted instead of the system's roots.
 * Without a user in the URL the login is anonymous. The path is relative to
 * the login directory (RFC 1738 §3.2.2).
 */
import type { Writable } from "node:stream";
import { Client } from "basic-ftp";
import { downloadFile, type FileDownloadResult, type FileSession } from "../file-download.js";
import type { ImageSink } from "../sink.js";
import { type LoginUrl, parseLoginUrl } from "../url.js";
import { ftpFailure } from "./failures.js";
import { DEFAULT_FTP_TIMEOUT_MS, FTP_PORTS } from "./limits.js";

export interface FetchFtpOptions {
  signal?: AbortSignal;
  /** Connect, reply and data-silence timeout; default DEFAULT_FTP_TIMEOUT_MS. */
  timeoutMs?: number;
  /** The image's name for the sink; default the URL's last path segment. */
  name?: string;
  /** PEM of a private CA, trusted instead of the system's roots (ftpes://), as curl's --cacert. */
  ca?: string;
}

/** An ftp:// or ftpes:// URL as a target. */
export function parseFtpUrl(url: string): LoginUrl {
  return parseLoginUrl(url, FTP_PORTS);
}

/** One FTP control connection (and its data connection) for one file. */
class FtpSession implements FileSession {
  readonly #client: Client;
  readonly #file: string;

  constructor(
    private readonly target: LoginUrl,
    private readonly o: FetchFtpOptions,
  ) {
    this.#client = new Client(o.timeoutMs ?? DEFAULT_FTP_TIMEOUT_MS);
    this.#file = target.path.slice(1);
  }

  async connect(): Promise<void> {
    const { host, port, user, password, scheme } = this.target;
    // `ca` replaces Node's trust store; a private CA is added to it instead.
    const secureOptions = this.o.ca === undefined ? {} : { ca: this.o.ca };
    await this.#client.access({
      host,
      port,
      ...(user === undefined ? {} : { user }),
      ...(password === undefined ? {} : { password }),
      secure: scheme === "ftpes:",
      secureOptions,
    });
  }

  size(): Promise<number> {
    return this.#client.size(this.#file);
  }

  async download(into: Writable): Promise<void> {
    await this.#client.downloadTo(into, this.#file);
  }

  close(): void {
    this.#client.close();
  }
}

export async function fetchFtp(url: string, sink: ImageSink, o: FetchFtpOptions = {}): Promise<FileDownloadResult> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_FTP_TIMEOUT_MS;
  return downloadFile(new FtpSession(parseFtpUrl(url), o), sink, { url, name: o.name, signal: o.signal, timeoutMs, failure: ftpFailure });
}
