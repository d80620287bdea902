/**
 * The line editor every interactive console transport shares (SSH's pty,
 * the local terminal, `vap console`): what a typed key does to the line,
 * as pure state over decoded text — no I/O, no timers. It answers with
 * events: what to echo, a finished line, Ctrl-C, Ctrl-D on an empty line.
 *
 * Keys: printable characters, Backspace (DEL or ^H), Ctrl-U (erase the
 * line), Ctrl-C, Ctrl-D, Enter (CR, LF or CR LF — one line), and the up and
 * down arrows (ESC [ A / ESC O A …) through this session's history. Other
 * control characters and escape sequences are swallowed: garbage never
 * reaches a line as control bytes.
 */

export type EditorEvent =
  /** Text for the terminal, as it is ("\r\n" already where a line ends). */
  | { readonly kind: "echo"; readonly text: string }
  /** Enter: the line, without its end. */
  | { readonly kind: "line"; readonly text: string }
  /** Enter on a line that grew past the limit: it was dropped. */
  | { readonly kind: "too-long" }
  /** Ctrl-C: the line is dropped. */
  | { readonly kind: "interrupt" }
  /** Ctrl-D on an empty line. */
  | { readonly kind: "eof" };

export interface LineEditorLimits {
  readonly maxLineLength: number;
  readonly historyLines: number;
}

const CTRL_C = "\x03";
const CTRL_D = "\x04";
const CTRL_H = "\b";
const CTRL_U = "\x15";
const ESC = "\x1b";
const DEL = "\x7f";
const BELL = "\x07";

/** Erase `n` characters before the cursor on a terminal. */
const rubOut = (n: number): string => "\b \b".repeat(n);

type EscapeState = "none" | "esc" | "csi" | "ss3";

export class LineEditor {
  readonly #limits: LineEditorLimits;
  #line = "";
  #overflow = false;
  #escape: EscapeState = "none";
  #afterCr = false;
  readonly #history: string[] = [];
  /** Where the arrows are in the history: history.length means the fresh line. */
  #recall = 0;

  constructor(limits: LineEditorLimits) {
    this.#limits = limits;
  }

  /** What is typed so far (the transport redraws it after output that came in between). */
  get line(): string {
    return this.#line;
  }

  /** Feed typed text; `secret` (a password is being typed) turns echo and history off. */
  feed(text: string, secret: boolean): EditorEvent[] {
    const events: EditorEvent[] = [];
    const echo = (t: string) => {
      if (!secret && t !== "") events.push({ kind: "echo", text: t });
    };
    for (const ch of text) {
      const afterCr = this.#afterCr;
      this.#afterCr = ch === "\r";
      if (this.#escape !== "none") {
        this.#escapeKey(ch, secret, echo);
        continue;
      }
      switch (ch) {
        case "\n":
        case "\r":
          // CR LF is one line end; a bare LF ends a line as CR does.
          if (ch === "\n" && afterCr) break;
          events.push({ kind: "echo", text: "\r\n" });
          events.push(this.#finish(secret));
          break;
        case DEL:
        case CTRL_H:
          if (this.#line.length > 0) {
            this.#line = this.#line.slice(0, -1);
            echo(rubOut(1));
          }
          break;
        case CTRL_U:
          echo(rubOut(this.#line.length));
          this.#line = "";
          this.#overflow = false;
          break;
        case CTRL_C:
          this.#line = "";
          this.#overflow = false;
          this.#recall = this.#history.length;
          events.push({ kind: "echo", text: "^C\r\n" }, { kind: "interrupt" });
          break;
        case CTRL_D:
          if (this.#line === "") events.push({ kind: "eof" });
          break;
        case ESC:
          this.#escape = "esc";
          break;
        default:
          if (ch < " ") break;
          if (this.#line.length + ch.length > this.#limits.maxLineLength) {
            if (!this.#overflow) echo(BELL);
            this.#overflow = true;
            break;
          }
          this.#line += ch;
          echo(ch);
      }
    }
    return events;
  }

  #finish(secret: boolean): EditorEvent {
    const line = this.#line;
    const overflow = this.#overflow;
    this.#line = "";
    this.#overflow = false;
    if (overflow) return { kind: "too-long" };
    if (!secret && line.trim() !== "" && this.#history.at(-1) !== line) {
      this.#history.push(line);
      if (this.#history.length > this.#limits.historyLines) this.#history.shift();
    }
    this.#recall = this.#history.length;
    return { kind: "line", text: line };
  }

  /** ESC [ params final, or ESC O final: only the up and down arrows mean something. */
  #escapeKey(ch: string, secret: boolean, echo: (t: string) => void): void {
    if (this.#escape === "esc") {
      this.#escape = ch === "[" ? "csi" : ch === "O" ? "ss3" : "none";
      return;
    }
    // CSI parameters and intermediates (0x20–0x3f) go by until the final byte (0x40–0x7e).
    if (this.#escape === "csi" && ch >= " " && ch <= "?") return;
    this.#escape = "none";
    if (secret || (ch !== "A" && ch !== "B")) return;
    const recall = ch === "A" ? Math.max(0, this.#recall - 1) : Math.min(this.#history.length, this.#recall + 1);
    if (recall === this.#recall) return;
    this.#recall = recall;
    const next = this.#history[recall] ?? "";
    echo(rubOut(this.#line.length) + next);
    this.#line = next;
    this.#overflow = false;
  }
}
