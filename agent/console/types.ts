/**
 * The AP console's seam (SPEC.md §6): one command interpreter, carried by
 * any transport — the local terminal (`vap run --console`), SSH, and
 * `vap console <AP>` over a local control socket. A transport opens a
 * session on the AP's console, shows its prompt, echoes what is typed
 * (except a secret line), hands each line in, passes Ctrl-C on, and writes
 * what the session writes; the session decides everything else (login,
 * modes, commands, exec-timeout, when it ends).
 */

/** The transport's side of a session: where output goes, and how the session ends it. */
export interface ConsoleTerminal {
  /** Output, lines ending in "\n" (a transport that needs "\r\n" converts). Prompts are written by the transport from `prompt`. */
  write(text: string): void;
  /** The session is over (exit, logout, failed logins, exec-timeout, reload): close the channel. */
  close(): void;
}

/** One operator's session on the AP's console, whatever carries it. */
export interface ConsoleSession {
  /**
   * What to show before the next line: "Username: ", "Password: ",
   * "AP0200.0000.0001>", "AP0200.0000.0001#", "Proceed with reload command
   * (cold)? [confirm]" — or "" while a command runs and asks nothing: no
   * line is taken then. A command that asks (enable's Password:, a
   * download's Username:) changes it while its input() is still pending,
   * and the next line is the answer.
   */
  readonly prompt: string;
  /** The next line is a secret (a password): the transport must not echo it. */
  readonly secret: boolean;
  /** Idle time after which the transport ends the session (`exec-timeout`); 0: never. */
  readonly idleTimeoutMs: number;
  /** One line the operator typed, without its line end. Resolves once what it started is over (a download too). */
  input(line: string): Promise<void>;
  /** Ctrl-C: abort what runs (a download ABORTs cleanly, partitions untouched), or drop the line being typed. */
  interrupt(): void;
  /** The transport went away: abort what runs, forget the session. */
  end(): void;
}

/** How a transport opens a session. */
export interface ConsoleOpenOptions {
  login: boolean;
  user?: string;
  privileged?: boolean;
}

/** What a running AP offers its transports: sessions on its console. */
export interface ApConsole {
  /** The AP's name (its prompt), as `vap console <name>` finds it. */
  readonly name: string;
  /**
   * A new session; `login` asks Username:/Password: first (SSH authenticates
   * in its own protocol and passes false); `privileged` starts it in
   * privileged EXEC (`#`) — for the transports only the host's owner can
   * reach (the local terminal, `vap console`), as root on the box is; others
   * start in user EXEC (`>`) and `enable` with the secret.
   */
  open(terminal: ConsoleTerminal, options: ConsoleOpenOptions): ConsoleSession;
  /** A login a transport takes in its own protocol (SSH password auth): the console's credentials decide. */
  authenticate(user: string, password: string): Promise<boolean>;
}
