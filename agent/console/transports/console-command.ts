/**
 * `vap console <AP name> [--command '<cmd>']`: the console of an AP running
 * on this host (`vap run`, `vap lab`), through its console socket. With
 * --command, one line for scripts: its output on stdout, exit status 0, or
 * 1 when it ended in a `%` error. Without, the terminal is attached in raw
 * mode (line editing, history and Ctrl-C are the AP's, as over SSH) until
 * `exit` or Ctrl-D; from a pipe, the lines are typed in order.
 */
import { type Command, onePositional, parseOptions } from "../../command-kit/index.js";
import { FrameType } from "./frames.js";
import { consoleRuntimeDir } from "./limits.js";
import { connectConsole } from "./socket.js";

const USAGE = `<AP name> [--command '<cmd>']
  Attaches to the console of the AP named <AP name> (its prompt, e.g.
  AP0200.0000.0001) that \`vap run\` or \`vap lab\` runs on this host, through
  its console socket <runtime dir>/<AP name>.console — the runtime dir is
  $VAP_RUNTIME_DIR, else $XDG_RUNTIME_DIR/vap, else /tmp/vap-<uid> (0700,
  the socket 0600: only the AP's user gets in, without a login).
  --command '<cmd>' runs one line and prints its output: exit status 0, or 1
  when it ended in a % error. Without it, on a terminal: the AP's prompt, with
  its line editing and history; Ctrl-C goes to the AP (it aborts a download),
  exit or Ctrl-D on an empty line leaves.`;

export const consoleCommand: Command = {
  path: ["console"],
  summary: "attach to a running AP's console (or run one --command)",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseOptions(argv, { command: { type: "string" } });
    const name = onePositional(positionals, `console ${USAGE}`);
    const dir = consoleRuntimeDir();
    const decoder = new TextDecoder();
    const connection = await connectConsole(dir, name, (bytes) => io.stdout(decoder.decode(bytes, { stream: true })));
    if (values.command !== undefined) {
      connection.send(FrameType.command, new TextEncoder().encode(values.command));
      return await connection.exit;
    }
    const { stdin } = process;
    const raw = stdin.isTTY === true;
    connection.send(FrameType.attach, Uint8Array.of(raw ? 1 : 0));
    if (raw) stdin.setRawMode(true);
    const typed = (chunk: Buffer) => connection.type(chunk);
    // A pipe that ends is Ctrl-U (an unfinished last line is dropped), then Ctrl-D: the session ends once the lines before it ran.
    const ended = () => connection.type(Uint8Array.of(0x15, 0x04));
    stdin.on("data", typed);
    stdin.once("end", ended);
    try {
      return await connection.exit;
    } finally {
      stdin.off("data", typed);
      stdin.off("end", ended);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
    }
  },
};
