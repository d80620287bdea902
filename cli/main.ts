import { ConfigError, describeError, VapError } from "../agent/core/index.js";
import { type Command, CommandLineError, type CommandIo } from "../agent/command-kit/index.js";
import { commands } from "./commands.js";

function usage(list: readonly Command[]): string {
  const lines = list.map((c) => `  vap ${c.path.join(" ").padEnd(18)} ${c.summary}`);
  return ["usage: vap <command> [options]", "", "commands:", ...lines, "", "`vap <command> --help` for a command's options.", "exit status: 0 done, 1 failed, 2 bad command line or config, 70 a bug in vap."].join("\n");
}

/** Longest command path that prefixes argv. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const c of commands) {
    if (c.path.every((w, i) => argv[i] === w) && (!best || c.path.length > best.path.length)) best = c;
  }
  return best ? { command: best, rest: argv.slice(best.path.length) } : undefined;
}

/** The second line of a command-line mistake: where the right words are. */
const helpHint = (path: readonly string[]) => `see vap ${[...path, "--help"].join(" ")}\n`;

/** What is wrong with a command line that names no command. */
function unknownCommand(argv: string[]): string {
  const [first] = argv;
  if (first!.startsWith("-")) return `Unknown option '${first}'`;
  const group = commands.filter((c) => c.path.length > 1 && c.path[0] === first).map((c) => c.path.slice(1).join(" "));
  if (group.length === 0) return `unknown command "${first}"`;
  return argv.length > 1 ? `unknown command "${first} ${argv[1]}" (${first} has: ${group.join(", ")})` : `"${first}" needs one of: ${group.join(", ")}`;
}

export async function main(argv: string[], io: CommandIo): Promise<number> {
  const found = findCommand(argv);
  if (!found) {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h") {
      io.stdout(usage(commands) + "\n");
      return 0;
    }
    io.stderr(`vap: ${unknownCommand(argv)}\n${helpHint([])}`);
    return 2;
  }
  if (found.rest.includes("--help") || found.rest.includes("-h")) {
    io.stdout(`usage: vap ${found.command.path.join(" ")} ${found.command.usage}\n`);
    return 0;
  }
  try {
    return await found.command.run(found.rest, io);
  } catch (err) {
    const code = exitCode(err);
    // Operator-facing failures are one line; only bugs get a stack.
    io.stderr(`vap ${found.command.path.join(" ")}: ${code === 70 ? ((err as Error)?.stack ?? String(err)) : describeError(err)}\n`);
    if (err instanceof CommandLineError) io.stderr(helpHint(found.command.path));
    return code;
  }
}

/** A file the command line names that cannot be used as named. */
const PATH_ERRORS = new Set(["ENOENT", "ENOTDIR", "EISDIR", "EACCES", "EPERM", "EEXIST", "ELOOP", "ENAMETOOLONG"]);

/**
 * 2: the command line or config is wrong (retrying cannot help, so
 * systemd's RestartPreventExitStatus=2 stops there); 1: a runtime failure,
 * including the system's (disk full); 70: a bug.
 */
function exitCode(err: unknown): number {
  if (err instanceof ConfigError) return 2;
  if (err instanceof VapError) return 1;
  const errno = err as NodeJS.ErrnoException;
  if (typeof errno?.syscall === "string" && typeof errno.code === "string") return PATH_ERRORS.has(errno.code) ? 2 : 1;
  return 70;
}
