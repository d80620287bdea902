/**
 * `archive download-sw` (SPEC.md §6): fetch an AP image by URL with the
 * image sources of agent/transfer, streaming into the upgrade engine as the
 * console's download (PRECHECK, /tmp/cli_part.tar, `-c PREDOWNLOAD`,
 * ACTIVATE), and tell the operator what happens in the lines automation
 * waits for: genielibs' `execute_archive_download` answers `Username:` and
 * `Password:` and needs both `Successfully setup AP image` and `Image
 * download completed`. The reload is the caller's. A password never reaches
 * a written line or the log: a URL is shown as `sftp://*****@host/path`.
 */
import { describeError, type Log, type LogFields } from "../core/index.js";
import { imageSourceFor, LOGIN_SCHEMES, redactCredentials, tappedSink, type ImageSink } from "../transfer/index.js";
import type { UpgradeEngine } from "../upgrade/index.js";

export interface ArchiveRequest {
  /** tftp://, sftp://[user[:pass]@]host/path, ftp://, ftps/ftpes://, http://, https:// */
  url: string;
  /** /reload: reload once the image is set up; /no-reload: leave that to the operator. */
  reload: boolean;
  /** /overwrite: replace an identical version in the standby partition too (else: "already present"). */
  overwrite: boolean;
}

export interface ArchiveContext {
  engine: UpgradeEngine;
  /** The AP's class ("ap1g8"): the image family the AP accepts. */
  imageName: string;
  /** To the operator's session (progress, result lines), "\n" line ends. */
  write(text: string): void;
  /** Ask the operator on the same session: "Username: " (echoed) or "Password: " (secret: true, never echoed). */
  ask(prompt: string, secret: boolean): Promise<string>;
  /** Ctrl-C or the session's end: abort cleanly (ABORT phase), partitions untouched. */
  signal: AbortSignal;
  /** The AP's log: upgrade.sh lines go there as for any download (and thus to `show logging`). */
  log: Log;
  /** PEM roots an https:// / ftpes:// server is checked against, beyond the system's (the AP config may give one). */
  ca?: string;
}

export interface ArchiveResult {
  /** "Successfully setup AP image." and "Image download completed." were printed. */
  ok: boolean;
}

/** The progress bar's width: one `#` per 2% of the image. */
export const PROGRESS_MARKS = 50;

/** The lines a real AP prints around a download, exactly (automation matches them). */
export const ARCHIVE_LINES = {
  patience: "It may take a few minutes. If longer, please abort command, check network and try again.",
  upgrading: "Upgrading ...",
  setUp: "Successfully setup AP image.",
  completed: "Image download completed.",
  done: "Archive done.",
  failed: "Image download failed.",
} as const;

/**
 * The session's side of a download: whole lines, and the `#` bar (50 marks
 * as the bytes arrive) on a line of its own that any other line first ends.
 */
class ArchiveOutput {
  #marks = 0;
  #bytes = 0;
  #size: number | undefined;
  #barOpen = false;

  constructor(private readonly write: (text: string) => void) {}

  line(text: string): void {
    if (this.#barOpen) this.closeBar();
    this.write(`${text}\n`);
  }

  begin(size: number | undefined): void {
    this.#size = size;
    this.#bytes = 0;
  }

  advance(bytes: number): void {
    this.#bytes += bytes;
    // Without a size the bar fills only when the image is complete.
    if (!this.#size) return;
    this.#mark(Math.min(PROGRESS_MARKS, Math.floor((this.#bytes * PROGRESS_MARKS) / this.#size)));
  }

  /** Every byte arrived: the full bar and 100.0%. */
  complete(): void {
    this.#mark(PROGRESS_MARKS);
    this.closeBar();
  }

  /** End the bar where it got to: the percentage reached, when the size was known. */
  closeBar(): void {
    if (!this.#barOpen) return;
    this.#barOpen = false;
    const share = this.#marks === PROGRESS_MARKS ? 1 : this.#size ? Math.min(1, this.#bytes / this.#size) : undefined;
    this.write(share === undefined ? "\n" : ` ${(share * 100).toFixed(1)}%\n`);
  }

  #mark(upTo: number): void {
    if (upTo <= this.#marks && this.#barOpen) return;
    this.#barOpen = true;
    if (upTo > this.#marks) this.write("#".repeat(upTo - this.#marks));
    this.#marks = Math.max(this.#marks, upTo);
  }
}

/**
 * `log` that also shows each upgrade.sh line on the session as a real AP
 * does: `do PHASE, …` as it is, the others as `status '…'`. Debug lines stay
 * in the log.
 */
function showingLog(log: Log, show: (line: string) => void): Log {
  const both =
    (level: "info" | "warn" | "error") =>
    (msg: string, fields?: LogFields): void => {
      log[level](msg, fields);
      show(msg.startsWith("do ") ? msg : `status '${msg}'`);
    };
  return {
    debug: (msg, fields) => log.debug(msg, fields),
    info: both("info"),
    warn: both("warn"),
    error: both("error"),
    child: (bindings, options) => showingLog(log.child(bindings, options), show),
  };
}

/** An answer, or a rejection once `signal` aborts (the operator pressed Ctrl-C at the prompt). */
function answered(question: Promise<string>, signal: AbortSignal): Promise<string> {
  if (signal.aborted) return Promise.reject(new Error("download aborted"));
  return new Promise((resolve, reject) => {
    const stop = () => reject(new Error("download aborted"));
    signal.addEventListener("abort", stop, { once: true });
    question.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop));
  });
}

/**
 * `url` with what a login scheme (sftp://, ftp://, ftpes://) lacks asked
 * for: `Username:` when it names no user, then `Password:` (secret) when it
 * has none. An empty user name logs in as the URL says (anonymous FTP).
 */
async function withCredentials(url: string, context: ArchiveContext): Promise<{ url: string; password?: string }> {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0]?.toLowerCase() ?? "";
  const parsed = new URL(url);
  const given = parsed.password === "" ? {} : { password: decodeURIComponent(parsed.password) };
  if (!LOGIN_SCHEMES.includes(scheme) || parsed.password !== "") return { url, ...given };
  if (parsed.username === "") {
    const user = (await answered(context.ask("Username: ", false), context.signal)).trim();
    if (user === "") return { url };
    parsed.username = encodeURIComponent(user);
  }
  const password = await answered(context.ask("Password: ", true), context.signal);
  parsed.password = encodeURIComponent(password);
  return { url: parsed.href, password };
}

/** `text` with every occurrence of `secret` masked: a server's error message may echo what it was sent. */
function masked(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join("*****") : text;
}

/**
 * Download the image `request.url` names into the standby partition and
 * point BOOT at it; on any failure (the URL, the server, the signature, the
 * operator's Ctrl-C) `Image download failed.` with the reason, and ABORT:
 * both partitions and BOOT stay as they were.
 */
export async function archiveDownload(request: ArchiveRequest, context: ArchiveContext): Promise<ArchiveResult> {
  const { engine, signal } = context;
  const shown = redactCredentials(request.url);
  const out = new ArchiveOutput((text) => context.write(text));
  let password: string | undefined;
  let sink: ImageSink | undefined;
  const abortSink = () => void sink?.abort("aborted by the operator");
  try {
    // An unsupported URL fails before anything is asked for.
    imageSourceFor(request.url);
    const credentials = await withCredentials(request.url, context);
    password = credentials.password;
    const source = imageSourceFor(credentials.url, context.ca === undefined ? {} : { ca: context.ca });
    out.line(`Starting download AP image ${shown} ...`);
    out.line(ARCHIVE_LINES.patience);
    context.log.info(`archive download-sw: Starting download AP image ${shown}`);
    const engineSink = engine.downloadSink("cli", { log: showingLog(context.log, (line) => out.line(line)), overwrite: request.overwrite });
    sink = engineSink;
    // Ctrl-C while PREDOWNLOAD installs still stops ACTIVATE: the engine's ABORT comes between.
    signal.addEventListener("abort", abortSink, { once: true });
    if (signal.aborted) throw new Error("download aborted");
    await engineSink.precheck!();
    const shownSink = tappedSink(engineSink, {
      begin: (image) => out.begin(image.size),
      write: (chunk) => out.advance(chunk.length),
      finish: () => {
        out.complete();
        out.line(ARCHIVE_LINES.upgrading);
      },
    });
    await source.fetch({ name: context.imageName, url: credentials.url }, shownSink, { signal });
    out.line(ARCHIVE_LINES.setUp);
    out.line(ARCHIVE_LINES.completed);
    out.line(ARCHIVE_LINES.done);
    context.log.info(`archive download-sw: ${shown}: image set up in ${engine.state.boot}`);
    return { ok: true };
  } catch (err) {
    const reason = masked(signal.aborted ? "Download aborted by the operator." : describeError(err), password);
    out.closeBar();
    await sink?.abort(reason);
    out.line(ARCHIVE_LINES.failed);
    out.line(reason);
    context.log.warn(`archive download-sw: ${shown}: image download failed: ${reason}`);
    return { ok: false };
  } finally {
    signal.removeEventListener("abort", abortSink);
  }
}
