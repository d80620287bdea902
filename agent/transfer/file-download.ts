/**
 * What SFTP and FTP downloads share: connect, ask the file's size, stream
 * the file into an ImageSink through a Writable (so the library's own pipe
 * applies back-pressure and memory never grows with the image), check the
 * byte count, close. A silence longer than the timeout — while connecting,
 * or between two chunks — closes the connection and fails with "timeout";
 * the caller's signal closes it and fails with "aborted". The protocol's
 * part is a FileSession and a function from its errors to the seam's
 * reasons.
 */
import { Writable } from "node:stream";
import type { ImageSourceFailure } from "../capwap/wtp/index.js";
import { describeError } from "../core/index.js";
import type { ImageSink, ImageSinkResult } from "./sink.js";
import { ImageSourceError } from "./source.js";
import { redactCredentials } from "./url.js";

export interface SourceFailure {
  reason: ImageSourceFailure;
  message: string;
}

/** One connection to a file server, for one file. */
export interface FileSession {
  connect(): Promise<void>;
  /** Bytes the server says the file holds (SFTP stat, FTP SIZE). */
  size(): Promise<number>;
  /** Pipe the file into `into`, resolving once `into` took every byte and the server said the file ended. */
  download(into: Writable): Promise<void>;
  /** Drop the connection at once (done, timed out, cancelled); safe to call more than once. */
  close(): void;
}

export interface FileDownloadOptions {
  /** The file's URL: every failure message starts with it, credentials redacted. */
  url: string;
  /** The image's name for the sink; default the URL's last path segment. */
  name?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Connecting, or a silence between two chunks, longer than this is a timeout. */
  timeoutMs: number;
  /** The protocol's errors as the seam's reasons. */
  failure(err: unknown): SourceFailure;
}

export interface FileDownloadResult extends ImageSinkResult {
  bytes: number;
}

/** Resets on every sign of life; fires once after `ms` of silence. */
class SilenceTimer {
  #timer: NodeJS.Timeout | undefined;
  fired = false;

  constructor(
    private readonly ms: number,
    private readonly onSilence: () => void,
  ) {}

  alive(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.fired = true;
      this.onSilence();
    }, this.ms);
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * A Writable that hands each chunk to the sink, taking the next only once
 * the sink took this one. The silence timer stops while the sink holds a
 * chunk: a slow sink (flash) is not a silent server.
 */
function sinkWritable(sink: ImageSink, silence: SilenceTimer, onWritten: (bytes: number) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      silence.stop();
      sink.write(chunk).then(
        () => {
          onWritten(chunk.length);
          silence.alive();
          done();
        },
        (err: unknown) => done(new ImageSourceError("sink", `sink refused the image: ${describeError(err)}`, { cause: err })),
      );
    },
  });
}

async function intoSink<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new ImageSourceError("sink", `sink refused the image: ${describeError(err)}`, { cause: err });
  }
}

/** The first ImageSourceError in an error's cause chain (a sink refusal travels through the library's pipe). */
function sourceErrorIn(err: unknown): ImageSourceError | undefined {
  for (let e = err, depth = 0; typeof e === "object" && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ImageSourceError) return e;
  }
  return undefined;
}

/** Download one file through `session` into `sink`; rejects with an ImageSourceError after aborting the sink. */
export async function downloadFile(session: FileSession, sink: ImageSink, o: FileDownloadOptions): Promise<FileDownloadResult> {
  const shown = redactCredentials(o.url);
  if (o.signal?.aborted) throw new ImageSourceError("aborted", `${shown}: download cancelled`);
  const name = o.name ?? decodeURIComponent(new URL(o.url).pathname.split("/").pop() ?? "");
  const silence = new SilenceTimer(o.timeoutMs, () => session.close());
  const cancel = () => session.close();
  o.signal?.addEventListener("abort", cancel, { once: true });
  let written = 0;
  let total: number | undefined;
  try {
    silence.alive();
    await session.connect();
    silence.alive();
    total = await session.size();
    silence.stop();
    await intoSink(() => sink.begin({ name, size: total }));
    silence.alive();
    const into = sinkWritable(sink, silence, (bytes) => (written += bytes));
    await session.download(into);
    if (written < total) throw new ImageSourceError("integrity", `truncated: ${written} of ${total} bytes`);
    if (written > total) throw new ImageSourceError("integrity", `${written} bytes where the server announced ${total}`);
    silence.stop();
    const result = await intoSink(() => sink.finish());
    return { ...result, bytes: written };
  } catch (err) {
    const failure = classify(err, o, silence.fired, written, total);
    await sink.abort(failure.message).catch(() => {});
    throw new ImageSourceError(failure.reason, `${shown}: ${failure.message}`, { cause: err });
  } finally {
    silence.stop();
    o.signal?.removeEventListener("abort", cancel);
    session.close();
  }
}

/** Why a download failed: the caller's cancel, a silence, our own typed error, or the protocol's error — a break after some bytes of a known size being a truncated image. */
function classify(err: unknown, o: FileDownloadOptions, timedOut: boolean, written: number, total: number | undefined): SourceFailure {
  if (o.signal?.aborted) return { reason: "aborted", message: "download cancelled" };
  const own = sourceErrorIn(err);
  if (own) return { reason: own.reason, message: own.message };
  if (timedOut) return { reason: "timeout", message: `no answer for ${o.timeoutMs} ms${total === undefined ? "" : ` after ${written} of ${total} bytes`}` };
  const failure = o.failure(err);
  if (total !== undefined && failure.reason === "network") return { reason: "integrity", message: `truncated: ${written} of ${total} bytes (${failure.message})` };
  return failure;
}

/** The socket codes that mean a timeout rather than a broken or refused connection. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(["ETIMEDOUT"]);

/**
 * A socket error (ECONNREFUSED, ECONNRESET, ENOTFOUND… anywhere in the cause
 * chain) as "network" (or "timeout"), one line with its code; undefined for
 * an error without one.
 */
export function socketFailure(err: unknown): SourceFailure | undefined {
  for (let e = err, depth = 0; typeof e === "object" && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code !== "string" || !/^E(?!RR_)[A-Z_]+$/.test(code)) continue;
    const text = typeof message === "string" && message !== "" ? message : code;
    return { reason: TIMEOUT_CODES.has(code) ? "timeout" : "network", message: text.includes(code) ? text : `${text} (${code})` };
  }
  return undefined;
}
