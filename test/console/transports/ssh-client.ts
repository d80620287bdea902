/**
 * OpenSSH's `ssh` client (and `sshpass` for passwords) against a test SSH
 * console: one command to completion, or an interactive session driven
 * through its stdin with `waitFor`. Every process started here is killed
 * by `killClients()` (afterEach).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { requirePeer } from "../../support/peers.js";

export interface ClientRun {
  code: number | null;
  out: string;
  err: string;
}

const running = new Set<ChildProcess>();

export function killClients(): void {
  for (const p of running) p.kill("SIGKILL");
  running.clear();
}

/** ssh options for a test: no user config, a known_hosts of the test's own, no agent, no escape character. */
export function sshArgs(dir: string, port: number, extra: string[] = []): string[] {
  return [
    "-F", "/dev/null",
    "-p", String(port),
    "-e", "none",
    "-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`,
    "-o", "StrictHostKeyChecking=accept-new",
    "-o", "IdentitiesOnly=yes",
    "-o", "IdentityAgent=none",
    "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=10",
    ...extra,
  ];
}

/** Password logins only (the client tries no keys). */
export const PASSWORD_ONLY = ["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password"];

export interface Interactive {
  readonly process: ChildProcess;
  /** Everything the client printed so far. */
  readonly out: string;
  send(text: string | Buffer): void;
  /** Resolves once the output contains `text` (or matches it); fails if the client exits first. */
  waitFor(text: string | RegExp): Promise<void>;
  /** Resolves with the exit code once the client exits. */
  readonly exited: Promise<number | null>;
}

/** Start `program args`, stdin a pipe. */
export function interactive(program: string, args: string[], env: NodeJS.ProcessEnv = process.env): Interactive {
  const child = spawn(requirePeer(program), args, { stdio: ["pipe", "pipe", "pipe"], env });
  running.add(child);
  let out = "";
  let err = "";
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.test()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.setEncoding("latin1").on("data", (d: string) => {
    out += d;
    check();
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  child.stdin!.on("error", () => {});
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    process: child,
    get out() {
      return out;
    },
    send: (text) => void child.stdin!.write(text),
    waitFor(text) {
      const test = () => (typeof text === "string" ? out.includes(text) : text.test(out));
      if (test()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiters.push({ test, resolve });
        void exited.then((code) => reject(new Error(`${program} exited (${code}) before printing ${String(text)}; out: ${JSON.stringify(out)} err: ${JSON.stringify(err)}`)));
      });
    },
    exited,
  };
}

/** Run to completion with `input` on stdin. */
export async function runClient(program: string, args: string[], input = "", env: NodeJS.ProcessEnv = process.env): Promise<ClientRun> {
  const child = spawn(requirePeer(program), args, { stdio: ["pipe", "pipe", "pipe"], env });
  running.add(child);
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  child.stdin.on("error", () => {});
  child.stdin.end(input);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  running.delete(child);
  return { code, out, err };
}

/** An SSH_ASKPASS program that answers `password` and counts how often it was asked (in `counter`). */
export function askpass(dir: string, password: string): { program: string; counter: string } {
  const program = join(dir, "askpass.sh");
  const counter = join(dir, "asked");
  writeFileSync(program, `#!/bin/sh\necho x >> '${counter}'\necho '${password}'\n`, { mode: 0o700 });
  return { program, counter };
}
