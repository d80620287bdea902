/**
 * `vap secret hash`: the scrypt hash of a console password or enable secret,
 * for the AP config's `console` section, which holds hashes only — the
 * secret itself never lands in a file.
 */
import { type Command, noPositionals, parseOptions } from "../command-kit/index.js";
import { ConfigError, hashSecret } from "../core/index.js";
import { MAX_LINE_CHARS } from "./limits.js";

const USAGE = `
  Asks for the secret twice on a terminal (never echoed), or reads the first
  line of stdin, and prints its scrypt hash for the AP config's console
  section (password, enableSecret).`;

async function firstLineOfStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes("\n") || text.length > MAX_LINE_CHARS) break;
  }
  return text.split(/\r?\n/, 1)[0]!;
}

export const secretHashCommand: Command = {
  path: ["secret", "hash"],
  summary: "print the scrypt hash of a console password or enable secret",
  usage: USAGE,
  async run(argv, io) {
    noPositionals(parseOptions(argv, {}).positionals);
    let secret: string;
    if (io.askSecret) {
      secret = await io.askSecret("Secret: ");
      if ((await io.askSecret("Again: ")) !== secret) throw new ConfigError("the two entries differ");
    } else {
      secret = await firstLineOfStdin();
    }
    if (secret === "") throw new ConfigError("the secret is empty");
    if (secret.length > MAX_LINE_CHARS) throw new ConfigError(`the secret is longer than ${MAX_LINE_CHARS} characters (a console line)`);
    io.stdout(`${hashSecret(secret)}\n`);
    return 0;
  },
};
