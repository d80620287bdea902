import { type ChildProcess, spawn } from "node:child_process";

export interface GroupedDaemon {
  process: ChildProcess;
  /** What it wrote to stderr so far (why it did not start). */
  stderr(): string;
  /** SIGKILL to its whole process group (a forking daemon's children and nginx's workers too), resolved once it exited. */
  stop(): Promise<void>;
}

/** A peer daemon in its own process group, stdout ignored, stderr kept. */
export function spawnGrouped(program: string, args: readonly string[]): GroupedDaemon {
  const child = spawn(program, args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  return {
    process: child,
    stderr: () => stderr,
    async stop() {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // The group is gone already.
      }
      await exited;
    },
  };
}
