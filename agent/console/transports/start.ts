/**
 * Every console transport an AP runs, started from one call: its console
 * socket (on unless told otherwise), SSH when a port is given, the local
 * terminal when asked. `vap run` and `vap lab` call this with the AP's
 * console; SSH or the terminal failing to start stops those already started.
 */
import { type Clock, describeError, type Log, systemClock } from "../../core/index.js";
import type { ApConsole } from "../types.js";
import { hostKeyPath, loadHostKey } from "./host-key.js";
import { CONSOLE_LIMITS, type ConsoleLimits, DEFAULT_SSH_ADDRESS } from "./limits.js";
import { ConsoleSocketServer } from "./socket.js";
import { SshConsoleServer } from "./ssh.js";
import { attachTerminal, type LocalTerminal, type TerminalStreams } from "./terminal.js";

/** A console that checks passwords itself (the interpreter owns the credentials); SSH password logins need it. */
export type PasswordCheck = (user: string, password: string) => boolean | Promise<boolean>;

export interface ConsoleTransportOptions {
  /** The AP's state dir: the SSH host key lives there. */
  stateDir: string;
  log: Log;
  /** The console socket's runtime dir (consoleRuntimeDir()); undefined: no socket. */
  socketDir?: string;
  /** SSH on this port (0: any free one); undefined: no SSH. */
  ssh?: { port: number; address?: string; authenticate?: PasswordCheck; authorizedKeys?: readonly string[] };
  /** The local terminal (stdin a TTY). */
  terminal?: TerminalStreams;
  limits?: ConsoleLimits;
  clock?: Clock;
}

export interface ConsoleTransports {
  readonly ssh: SshConsoleServer | undefined;
  readonly socket: ConsoleSocketServer | undefined;
  readonly terminal: LocalTerminal | undefined;
  close(): Promise<void>;
}

export async function startConsoleTransports(console: ApConsole, o: ConsoleTransportOptions): Promise<ConsoleTransports> {
  const limits = o.limits ?? CONSOLE_LIMITS;
  const clock = o.clock ?? systemClock;
  let ssh: SshConsoleServer | undefined;
  let socket: ConsoleSocketServer | undefined;
  let terminal: LocalTerminal | undefined;
  const close = async () => {
    terminal?.detach();
    await Promise.all([ssh?.close(), socket?.close()]);
  };
  try {
    if (o.socketDir !== undefined) {
      // The socket is on by default, a convenience: one that cannot start (another AP of this name on this host) leaves the AP running without it.
      socket = await ConsoleSocketServer.listen(console, o.socketDir, { log: o.log, limits, clock }).catch((err: unknown) => {
        o.log.warn(`Console: no console socket: ${describeError(err)}`);
        return undefined;
      });
      if (socket) o.log.info(`Console: vap console ${console.name} reaches this AP (${socket.path})`);
    }
    if (o.ssh) {
      const address = o.ssh.address ?? DEFAULT_SSH_ADDRESS;
      ssh = await SshConsoleServer.listen(console, {
        port: o.ssh.port,
        address,
        hostKey: loadHostKey(hostKeyPath(o.stateDir)),
        ...(o.ssh.authenticate ? { authenticate: o.ssh.authenticate } : {}),
        ...(o.ssh.authorizedKeys ? { authorizedKeys: o.ssh.authorizedKeys } : {}),
        log: o.log,
        limits,
        clock,
      });
      o.log.info(`Console: SSH on ${address}:${ssh.port}`);
    }
    if (o.terminal) terminal = attachTerminal(console, o.terminal, { limits, clock });
  } catch (err) {
    await close().catch((e: unknown) => o.log.warn(`Console: a transport did not close cleanly: ${describeError(e)}`));
    throw err;
  }
  return { ssh, socket, terminal, close };
}
