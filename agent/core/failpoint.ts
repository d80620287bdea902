/**
 * Failpoints: named places where a crash test can kill the process (the
 * etcd/gofail idea). `VAP_FAILPOINTS="flash.boot-renamed"` (comma-separated,
 * `name#n` for the n-th pass) makes the process SIGKILL itself there, which
 * is how the power-cut tests stop an upgrade at exact points. Unset, a
 * failpoint costs one Map lookup.
 */
import { isMainThread } from "node:worker_threads";

const armed = new Map<string, number>();
for (const spec of (process.env.VAP_FAILPOINTS ?? "").split(",").filter(Boolean)) {
  const [name, nth] = spec.split("#");
  armed.set(name!, Number(nth ?? 1));
}

/** In a worker thread a failpoint ends that thread as a crash would (exit code 137), not the process: a fleet worker's crash test. */
export function failpoint(name: string): void {
  const left = armed.get(name);
  if (left === undefined) return;
  if (left > 1) armed.set(name, left - 1);
  else if (!isMainThread) process.exit(137);
  else process.kill(process.pid, "SIGKILL");
}
