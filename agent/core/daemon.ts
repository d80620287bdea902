import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";

export interface GroupedDaemon {
  process: ChildProcess;
  /** What it wrote to stderr so far (why it did not start), the last STDERR_KEPT bytes of it. */
  stderr(): string;
  /** SIGKILL to its whole process group (a forking daemon's children and nginx's workers too), resolved once it exited. */
  stop(): Promise<void>;
}

/** A daemon that logs to a file writes little to stderr; one that does not must not grow the parent's memory without end. */
const STDERR_KEPT = 64 * 1024;

/**
 * util-linux's setpriv (on every Debian and Raspberry Pi OS): it sets the
 * parent-death signal and then becomes the program, so the daemon hears
 * SIGTERM when its parent dies however it died, even by SIGKILL, which no
 * exit handler sees.
 */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

/**
 * A daemon (nginx, a test peer) in its own process group, stdout ignored,
 * stderr kept. Its own group, so that stop() ends the master and every
 * worker it forked in one signal, and a Ctrl-C meant for the parent's
 * shutdown does not kill it first. A parent that exits normally (or through
 * an uncaught error) takes the group with it; a SIGKILLed parent too, where
 * setpriv gives the daemon a parent-death signal.
 */
export function spawnGrouped(program: string, args: readonly string[]): GroupedDaemon {
  const [command, argv] = SETPRIV ? [SETPRIV, ["--pdeathsig", "SIGTERM", "--", program, ...args]] : [program, args];
  const child = spawn(command, argv, { stdio: ["ignore", "ignore", "pipe"], detached: true });
  const kill = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // The group is gone already, or never started (spawn failed: `error` says why).
    }
  };
  process.once("exit", kill);
  const exited = new Promise<void>((resolve) => {
    const done = () => {
      process.off("exit", kill);
      resolve();
    };
    // A program that cannot be spawned (ENOENT) emits `error` and never `exit`.
    child.once("exit", done);
    child.once("error", done);
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-STDERR_KEPT)));
  return {
    process: child,
    stderr: () => stderr,
    async stop() {
      kill();
      await exited;
    },
  };
}
