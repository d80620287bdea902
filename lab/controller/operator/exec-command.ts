/**
 * `vap controller exec`: one operator command to a running controller over
 * its control socket, the answer on stdout; without a command on a
 * terminal, a prompt (`vap-lab-wlc#`) with line editing and history.
 */
import { createInterface } from "node:readline/promises";
import { type Command, CommandLineError, type CommandIo, parseOptions } from "../../../agent/command-kit/index.js";
import { ControlClient } from "./control-socket.js";
import { defaultControlSocket } from "./limits.js";

const USAGE = `[--control-socket PATH | --address 127.0.0.1] ['<command>']
  Sends one command to the lab controller running on this host (its
  control socket: --control-socket PATH as the controller was given it, or
  the default for its --address) and prints the answer, as a 9800 would:
  show ap summary, show ap name <AP> config general, show ap uptime,
  show wireless stats ap image-download, show ap upgrade method,
  show ap file-transfer https summary, show ap image, show ap name <AP> image,
  show ap primary list, ap image predownload site-tag <site> start,
  ap image swap site-tag <site>, ap image reset site-tag <site>;
  abbreviations work (sh ap sum),
  '?' lists what may follow. Exit status 1 when the command is wrong or no
  controller answers. Without a command, on a terminal: a prompt.`;

/** The words of exec mode that leave it, as IOS's. */
const LEAVE = new Set(["exit", "quit", "logout", "end"]);

/** A prompt on the terminal until exit or Ctrl-D; each line's answer under it, the caret lined up after the prompt. */
async function interactive(client: ControlClient, io: CommandIo): Promise<number> {
  let { prompt } = await client.ask("");
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  try {
    for (;;) {
      const line = await rl.question(prompt).catch(() => undefined);
      if (line === undefined || LEAVE.has(line.trim().toLowerCase())) return 0;
      const answer = await client.ask(line, prompt.length);
      io.stdout(answer.text);
      prompt = answer.prompt;
    }
  } finally {
    rl.close();
  }
}

export const controllerExecCommand: Command = {
  path: ["controller", "exec"],
  summary: "run an operator command on the lab controller",
  usage: USAGE,
  async run(argv, io) {
    const { values: v, positionals } = parseOptions(argv, {
      "control-socket": { type: "string" },
      address: { type: "string", default: "127.0.0.1" },
    });
    if (v["control-socket"] !== undefined && argv.includes("--address")) throw new CommandLineError("give --control-socket or --address, not both");
    const path = v["control-socket"] ?? defaultControlSocket(v.address);
    const command = positionals.join(" ");
    if (command === "" && !process.stdin.isTTY) throw new CommandLineError("give a command, e.g. 'show ap summary' (a prompt needs a terminal)");
    const client = await ControlClient.connect(path);
    try {
      if (command === "") return await interactive(client, io);
      const answer = await client.ask(command);
      io.stdout(answer.text);
      return answer.ok ? 0 : 1;
    } finally {
      client.close();
    }
  },
};
