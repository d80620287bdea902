/**
 * The local terminal as a console transport (`vap run --console`): stdin in
 * raw mode through the same line editor as SSH and `vap console`, output
 * with "\r\n". Ctrl-C goes to the session (it aborts a download), so the
 * session's end — `exit`, Ctrl-D on an empty line, an exec-timeout — is how
 * the operator leaves; `ended` says so.
 */
import { StringDecoder } from "node:string_decoder";
import type { Clock } from "../../core/index.js";
import type { ApConsole } from "../types.js";
import type { ConsoleLimits } from "./limits.js";
import { ConsoleLink, type LinkEnd } from "./link.js";

export interface TerminalStreams {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

export interface LocalTerminal {
  /** Resolves when the session ended (its reason), the terminal given back as it was. */
  readonly ended: Promise<LinkEnd>;
  /** End the session and give the terminal back (the AP stops). */
  detach(): void;
}

export function attachTerminal(console: ApConsole, streams: TerminalStreams, o: { limits: ConsoleLimits; clock: Clock }): LocalTerminal {
  const { input, output } = streams;
  const raw = input.isTTY === true;
  if (raw) input.setRawMode(true);
  const decoder = new StringDecoder("utf8");
  let resolveEnded!: (why: LinkEnd) => void;
  const ended = new Promise<LinkEnd>((resolve) => (resolveEnded = resolve));
  const onData = (chunk: Buffer) => link.input(decoder.write(chunk));
  const link = new ConsoleLink(
    console,
    {
      write: (text) => void output.write(text),
      close: () => {
        input.off("data", onData);
        if (raw) input.setRawMode(false);
        input.pause();
      },
      buffered: () => output.writableLength,
    },
    { login: false, privileged: true, terminal: raw, limits: o.limits, clock: o.clock, onEnd: (why) => resolveEnded(why) },
  );
  input.on("data", onData);
  input.resume();
  return { ended, detach: () => link.end() };
}
