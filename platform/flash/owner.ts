/**
 * Who holds a flash: the owner file names a process by its pid and by what
 * makes it that process and no later one given the same number — the
 * kernel's boot id and the process's start time (/proc/PID/stat, field 22).
 * After kill -9 or a power cut the pid may belong to anything by the next
 * start (systemd hands out low pids after a boot); a pid alone then kept
 * the AP down for good.
 */
import { readFileSync } from "node:fs";

export interface FlashOwner {
  pid: number;
  /** `<boot id>/<start time>`; absent where /proc is not (the pid alone decides). */
  stamp?: string;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The stamp of a running process, or undefined when /proc cannot tell. */
export function processStamp(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  const boot = readProc("/proc/sys/kernel/random/boot_id")?.trim();
  if (!stat || !boot) return undefined;
  // The command name in parentheses may hold spaces and ')': fields count from the last ')'.
  const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  return startTime ? `${boot}/${startTime}` : undefined;
}

export function currentOwner(): FlashOwner {
  const stamp = processStamp(process.pid);
  return { pid: process.pid, ...(stamp ? { stamp } : {}) };
}

export function formatOwner(owner: FlashOwner): string {
  return `${owner.pid}${owner.stamp ? ` ${owner.stamp}` : ""}\n`;
}

/** An owner file's content; undefined for anything else (a torn write, garbage): nobody holds it. */
export function parseOwner(text: string): FlashOwner | undefined {
  const [pidText, stamp, extra] = text.trim().split(" ");
  const pid = Number(pidText);
  if (!/^\d+$/.test(pidText ?? "") || !Number.isSafeInteger(pid) || pid <= 0 || extra !== undefined) return undefined;
  return { pid, ...(stamp ? { stamp } : {}) };
}

export function sameOwner(a: FlashOwner, b: FlashOwner): boolean {
  return a.pid === b.pid && a.stamp === b.stamp;
}

/** The recorded process still runs: its pid is alive and, where both are known, it has the recorded stamp. */
export function ownerAlive(owner: FlashOwner): boolean {
  if (!pidRunning(owner.pid)) return false;
  const now = owner.stamp === undefined ? undefined : processStamp(owner.pid);
  return now === undefined || now === owner.stamp;
}

function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
