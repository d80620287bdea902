import { spawn } from "node:child_process";
import { join } from "node:path";
import { main } from "../../cli/main.js";

/** The built CLI (npm run build), for tests that run vap as its own process. */
export const VAP_BIN = join(import.meta.dirname, "../../dist/cli/vap.js");

export interface VapRun {
  code: number;
  out: string;
  err: string;
}

/** Run a `vap` command in this process (the CLI entry point, not a child) and collect what it prints. */
export async function vap(...argv: string[]): Promise<VapRun> {
  let out = "";
  let err = "";
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

/** Resolves once `output()` holds `text`; fails after `timeoutMs`, showing `shown()`. */
async function outputUntil(output: () => string, shown: () => string, text: string, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!output().includes(text)) {
    if (Date.now() - started > timeoutMs) throw new Error(`no "${text}" within ${timeoutMs} ms; output:\n${shown()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Run a `vap` command in-process; `stop()` ends a long-running one like Ctrl-C would. */
export function startVap(...argv: string[]) {
  let out = "";
  let err = "";
  const abort = new AbortController();
  const done = main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), signal: abort.signal });
  return {
    done,
    stop: () => abort.abort(),
    get out() {
      return out;
    },
    get err() {
      return err;
    },
    until: (text: string, timeoutMs?: number) => outputUntil(() => out, () => `${out}\n${err}`, text, timeoutMs),
  };
}

/** Run the built `vap` as a child process; `signal()` sends it SIGINT (Ctrl-C) by default, `done` its exit status. */
export function spawnVap(...argv: string[]) {
  let out = "";
  const child = spawn(process.execPath, [VAP_BIN, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.setEncoding("utf8").on("data", (t: string) => (out += t));
  child.stderr.setEncoding("utf8").on("data", (t: string) => (out += t));
  const done = new Promise<number>((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return {
    done,
    signal: (name: NodeJS.Signals = "SIGINT") => child.exitCode === null && child.signalCode === null && child.kill(name),
    /** stdout and stderr, as they came. */
    get out() {
      return out;
    },
    until: (text: string, timeoutMs?: number) => outputUntil(() => out, () => out, text, timeoutMs),
  };
}
