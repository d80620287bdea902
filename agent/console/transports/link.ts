/**
 * One console session carried over a byte channel (an SSH channel, the
 * local terminal, a `vap console` connection): keystrokes in through the
 * line editor, lines handed to the session one at a time, its output and
 * prompts out, the idle timer, and the limits that keep a flood or a
 * stalled reader from costing more than bounded memory.
 *
 * Lines typed while a command runs wait (typed ahead), unless the session
 * asks something meanwhile — `archive download-sw` asking `Username:` shows
 * as a changed `prompt` while its input is still running — in which case
 * the next line is its answer. The prompt is written whenever the session
 * is ready for a line: no input running, or its prompt changed since the
 * last line was handed in. Ctrl-C always reaches the session at once.
 */
import type { Clock, TimerHandle } from "../../core/index.js";
import type { ApConsole, ConsoleSession, ConsoleTerminal } from "../types.js";
import { type EditorEvent, LineEditor } from "./line-editor.js";
import type { ConsoleLimits } from "./limits.js";

/** The byte channel under a session: SSH's, the terminal's, the socket's. */
export interface ConsolePort {
  /** Text for the client, as it goes on the wire. */
  write(text: string): void;
  /** End the channel (after what was written). */
  close(): void;
  /** Bytes written but not yet taken by the client. */
  buffered(): number;
}

/** Why a session ended, for the transport's log line. */
export type LinkEnd = "session" | "eof" | "idle" | "flood" | "stalled" | "transport";

export interface LinkOptions {
  /** Ask Username:/Password: first (the socket and the terminal trust their owner; SSH logged in already). */
  login: boolean;
  user?: string;
  /** Start in privileged EXEC: a transport only the host's owner reaches (ApConsole.open). */
  privileged?: boolean;
  /** A terminal (a pty, a raw tty): echo and "\r\n" line ends. Without one (ssh -T, a pipe) the client's side echoes and "\n" stays. */
  terminal: boolean;
  limits: ConsoleLimits;
  clock: Clock;
  onEnd?(why: LinkEnd): void;
}

type Queued = { kind: "line"; text: string } | { kind: "eof" };

/** The output line that tells a too-long line was dropped. */
export const tooLongLine = (max: number): string => `% Input line longer than ${max} characters: discarded\n`;

export class ConsoleLink {
  readonly #port: ConsolePort;
  readonly #options: LinkOptions;
  readonly #editor: LineEditor;
  readonly #session: ConsoleSession;
  readonly #queue: Queued[] = [];
  /** Inputs handed in and not yet resolved. */
  #running = 0;
  /** The session's prompt when the last line was handed in. */
  #promptAtInput: string | undefined;
  /** A prompt is on the screen, waiting for a line. */
  #prompted = false;
  #idle: TimerHandle | undefined;
  #closed = false;

  constructor(console: ApConsole, port: ConsolePort, options: LinkOptions) {
    this.#port = port;
    this.#options = options;
    this.#editor = new LineEditor(options.limits);
    const terminal: ConsoleTerminal = {
      write: (text) => {
        this.#write(text);
        this.#ready();
      },
      close: () => this.#close("session"),
    };
    this.#session = console.open(terminal, { login: options.login, privileged: options.privileged === true, ...(options.user !== undefined ? { user: options.user } : {}) });
    this.#ready();
  }

  /** Keystrokes (decoded text) from the client. */
  input(text: string): void {
    if (this.#closed) return;
    for (const event of this.#editor.feed(text, this.#session.secret)) {
      this.#event(event);
      if (this.#closed) return;
    }
    this.#armIdle();
  }

  /** The channel went away: end the session. */
  end(): void {
    this.#close("transport");
  }

  #event(event: EditorEvent): void {
    switch (event.kind) {
      case "echo":
        if (this.#options.terminal) this.#port.write(event.text);
        return;
      case "too-long":
        this.#write(tooLongLine(this.#options.limits.maxLineLength));
        this.#prompted = false;
        this.#ready();
        return;
      case "interrupt":
        this.#queue.length = 0;
        this.#prompted = false;
        this.#session.interrupt();
        this.#ready();
        return;
      case "line":
      case "eof":
        if (this.#queue.length >= this.#options.limits.maxQueuedLines) {
          this.#write(`% More than ${this.#options.limits.maxQueuedLines} lines typed ahead while a command runs: session closed\n`);
          this.#close("flood");
          return;
        }
        this.#queue.push(event.kind === "line" ? { kind: "line", text: event.text } : { kind: "eof" });
        this.#ready();
    }
  }

  /**
   * Whether the session takes a line now: it shows a prompt (an empty one: a
   * command runs and asks nothing), and nothing runs or what runs asks (its
   * prompt changed).
   */
  #wantsLine(): boolean {
    const prompt = this.#session.prompt;
    return prompt !== "" && (this.#running === 0 || prompt !== this.#promptAtInput);
  }

  /** Hand the next typed line in, or show the prompt, if the session is ready for one. */
  #ready(): void {
    // The constructor's open() may write before #session is set.
    if (this.#closed || this.#session === undefined || !this.#wantsLine()) return;
    // The prompt shows whenever the session is ready, also before a line typed ahead (as a terminal's transcript does).
    if (!this.#prompted) {
      this.#prompted = true;
      this.#port.write(this.#options.terminal && this.#queue.length === 0 ? this.#session.prompt + this.#editor.line : this.#session.prompt);
    }
    const next = this.#queue.shift();
    if (!next) {
      this.#armIdle();
      return;
    }
    if (next.kind === "eof") {
      this.#close("eof");
      return;
    }
    this.#prompted = false;
    this.#promptAtInput = this.#session.prompt;
    this.#running++;
    this.#idle?.cancel();
    this.#session
      .input(next.text)
      .catch(() => {
        // The session reports its own failures on the terminal; a rejected input only ends this one.
      })
      .finally(() => {
        this.#running--;
        this.#ready();
      });
    // What the line started may ask at once (its prompt changed already).
    this.#ready();
  }

  /** Session output: "\n" becomes "\r\n" on a terminal; a reader that does not read ends the session. */
  #write(text: string): void {
    if (this.#closed) return;
    this.#port.write(this.#options.terminal ? text.replace(/\r?\n/g, "\r\n") : text);
    if (this.#port.buffered() > this.#options.limits.maxOutputBufferBytes) this.#close("stalled");
  }

  /** exec-timeout: counted while the session waits at its prompt, never while a command runs. */
  #armIdle(): void {
    this.#idle?.cancel();
    this.#idle = undefined;
    const ms = this.#session.idleTimeoutMs;
    if (this.#closed || this.#running > 0 || ms <= 0) return;
    this.#idle = this.#options.clock.setTimer("console idle", ms, () => {
      this.#write("\n");
      this.#close("idle");
    });
  }

  #close(why: LinkEnd): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#idle?.cancel();
    this.#queue.length = 0;
    // The session ended itself: it knows; otherwise it is told to abort what runs and forget itself.
    if (why !== "session") this.#session?.end();
    this.#port.close();
    this.#options.onEnd?.(why);
  }
}

/** Ends in a `%` error: the last non-empty line of what a command printed starts with "%" (IOS's error lines). */
export function endsInError(output: string): boolean {
  const lines = output.split("\n").filter((l) => l.trim() !== "");
  return lines.at(-1)?.trimStart().startsWith("%") ?? false;
}

/**
 * One command line without a terminal (`ssh ap 'show version'`, `vap console
 * --command`): a session without login, the line, its output; resolves with
 * the exit status — 1 when the output ended in a `%` error, else 0.
 */
export async function runOneLine(console: ApConsole, line: string, port: ConsolePort, options: { user?: string; privileged?: boolean; limits: ConsoleLimits }): Promise<number> {
  let tail = "";
  let ended = false;
  let endSession!: () => void;
  const closedBySession = new Promise<void>((resolve) => (endSession = resolve));
  const terminal: ConsoleTerminal = {
    write(text) {
      if (ended) return;
      // Only the last lines decide the status: keep a bounded tail.
      tail = (tail + text).slice(-4 * options.limits.maxLineLength);
      port.write(text);
      if (port.buffered() > options.limits.maxOutputBufferBytes) {
        ended = true;
        session.end();
        endSession();
      }
    },
    close() {
      ended = true;
      endSession();
    },
  };
  const session = console.open(terminal, { login: false, privileged: options.privileged === true, ...(options.user !== undefined ? { user: options.user } : {}) });
  if (line.length > options.limits.maxLineLength) {
    terminal.write(tooLongLine(options.limits.maxLineLength));
  } else {
    await Promise.race([session.input(line).catch(() => {}), closedBySession]);
  }
  if (!ended) session.end();
  ended = true;
  return endsInError(tail) ? 1 : 0;
}
