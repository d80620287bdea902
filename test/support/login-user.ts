/**
 * A real local user with a password, for the servers that log users in
 * (sshd, vsftpd). Each test file makes its own with a random name and
 * removes it after its tests (setup.ts) or at exit, so parallel workers
 * never share one; useradd takes a lock on /etc/passwd, so a busy lock is
 * retried.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { sleep } from "../transfer/tftp/support.js";
import { requirePeer } from "./peers.js";

export interface LoginUser {
  name: string;
  password: string;
}

const made: string[] = [];

/** How often a locked /etc/passwd (another worker's useradd or userdel), or a busy user, is retried. */
const LOCK_TRIES = 50;
const LOCK_WAIT_MS = 100;

/** useradd and userdel exit 10 when the password files are locked; userdel 8 while a process of the user (a killed server's session, not yet reaped) remains. */
const PASSWD_LOCKED = 10;
const USER_BUSY = 8;

async function retryLocked(program: string, args: string[], input?: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const run = spawnSync(requirePeer(program), args, { encoding: "utf8", ...(input === undefined ? {} : { input }) });
    if (run.status === 0) return;
    const locked = run.status === PASSWD_LOCKED || (program === "userdel" && run.status === USER_BUSY) || /lock/i.test(run.stderr);
    if (!locked || attempt >= LOCK_TRIES) throw new Error(`${program} ${args.join(" ")} failed (${run.status}): ${run.stderr.trim()}`);
    await sleep(LOCK_WAIT_MS);
  }
}

/** A user `vapt<random>` with a random password, home `home` (not created), shell /bin/sh (vsftpd's PAM wants a shell from /etc/shells). */
export async function createLoginUser(home: string): Promise<LoginUser> {
  const name = `vapt${randomBytes(4).toString("hex")}`;
  const password = `pw-${randomBytes(9).toString("base64url")}`;
  await retryLocked("useradd", ["--no-create-home", "--home-dir", home, "--shell", "/bin/sh", "--user-group", name]);
  made.push(name);
  await retryLocked("chpasswd", [], `${name}:${password}\n`);
  return { name, password };
}

/** Remove every user createLoginUser() made in this process. */
export async function removeLoginUsers(): Promise<void> {
  for (const name of made.splice(0)) await retryLocked("userdel", [name]);
}

// Benchmarks and a worker that ends without vitest's afterAll.
process.once("exit", () => {
  for (const name of made.splice(0)) spawnSync("userdel", [name]);
});
