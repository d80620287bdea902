/** The console transports' limits and defaults, once: what a flood, garbage or a crowd may cost. */
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ConsoleLimits {
  /** Sessions open at once over one transport (SSH, the console socket); one more is told so and closed. */
  readonly maxSessions: number;
  /** Characters in one typed line; a longer line is discarded with a `%` line (a command is a few words). */
  readonly maxLineLength: number;
  /** Lines typed ahead while a command runs; beyond, the session ends with a clear line. */
  readonly maxQueuedLines: number;
  /** Output waiting for a reader that does not read; beyond, the session ends (a stalled client costs bounded memory). */
  readonly maxOutputBufferBytes: number;
  /** Lines kept for the up/down arrows, per session. */
  readonly historyLines: number;
  /** Failed SSH logins (password or key) on one connection before it is disconnected, as a real AP's three. */
  readonly maxAuthFailures: number;
  /** SSH connections not yet logged in, at once (each costs a handshake). */
  readonly maxUnauthenticated: number;
  /** How long an SSH connection may take to log in before it is dropped. */
  readonly loginTimeoutMs: number;
}

export const CONSOLE_LIMITS: ConsoleLimits = {
  maxSessions: 64,
  maxLineLength: 512,
  maxQueuedLines: 32,
  maxOutputBufferBytes: 1 << 20,
  historyLines: 20,
  maxAuthFailures: 3,
  maxUnauthenticated: 64,
  loginTimeoutMs: 60_000,
};

/** The largest frame the console socket carries either way (keystrokes and output come in pieces this size at most). */
export const MAX_FRAME_BYTES = 16 * 1024;

/** The AP's SSH host key, under its state dir: made once, then the same across restarts (clients keep it in known_hosts). */
export const SSH_HOST_KEY_FILE = join("console", "ssh_host_ed25519_key");

/** The SSH server's address when `--ssh-port` is given without `--ssh-address`. */
export const DEFAULT_SSH_ADDRESS = "127.0.0.1";

/**
 * Where console sockets live: $VAP_RUNTIME_DIR, else $XDG_RUNTIME_DIR/vap,
 * else /tmp/vap-<uid>: a folder of the user's own, mode 0700.
 */
export function consoleRuntimeDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VAP_RUNTIME_DIR) return env.VAP_RUNTIME_DIR;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "vap");
  return join(tmpdir(), `vap-${process.getuid?.() ?? "user"}`);
}
