/**
 * Asking for a password on a terminal: the prompt on stderr, the answer read
 * in raw mode so it is never echoed, Enter to end it, Backspace to take a
 * character back, Ctrl-C or Ctrl-D (on an empty line) to give up.
 */
import { ConfigError } from "../core/index.js";

/** What readSecret needs of a terminal's input (process.stdin; a stub in tests). */
export interface SecretInput {
  setRawMode(raw: boolean): unknown;
  on(event: "data", listener: (data: Buffer | string) => void): unknown;
  off(event: "data", listener: (data: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

const CTRL_C = "\u0003";
const CTRL_D = "\u0004";
const BACKSPACES = new Set(["\u007f", "\b"]);

/** Show `prompt` on `output`, read one line from `input` without echo; rejects with a ConfigError when the user gives up. */
export function readSecret(prompt: string, input: SecretInput, output: (text: string) => void): Promise<string> {
  // Raw before the prompt shows: what is typed (or pasted) the moment it appears is not echoed.
  input.setRawMode(true);
  input.resume();
  output(prompt);
  return new Promise<string>((resolve, reject) => {
    let secret = "";
    const done = (end: () => void) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      output("\n");
      end();
    };
    const onData = (data: Buffer | string) => {
      for (const char of data.toString()) {
        if (char === "\r" || char === "\n") return done(() => resolve(secret));
        if (char === CTRL_C || (char === CTRL_D && secret === "")) return done(() => reject(new ConfigError("no password given")));
        if (BACKSPACES.has(char)) secret = secret.slice(0, -1);
        else if (char >= " ") secret += char;
      }
    };
    input.on("data", onData);
  });
}
