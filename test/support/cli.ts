import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { main } from "../../cli/main.js";

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
    async until(text: string, timeoutMs = 15_000) {
      const started = Date.now();
      while (!out.includes(text)) {
        if (Date.now() - started > timeoutMs) throw new Error(`no "${text}" within ${timeoutMs} ms; output:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** The built CLI (npm test builds it first): `vap` as an operator runs it, in a process of its own. */
export const VAP_BIN = join(import.meta.dirname, "../../dist/cli/vap.js");
/** How long a process may take to end after Ctrl-C before the cleanup kills it (a controller stops its nginx first). */
const INTERRUPT_GRACE_MS = 10_000;

export interface VapProcess {
  readonly child: ChildProcess;
  /** What it printed so far, stdout and stderr as they came. */
  readonly out: string;
  /** Its exit code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once its output passes `test`; fails with the output when it exits first or `timeoutMs` passes. */
  until(test: string | RegExp | ((out: string) => boolean), timeoutMs?: number): Promise<void>;
  /** Ctrl-C; resolves with its exit code. */
  interrupt(): Promise<number | null>;
}

const spawned = new Set<VapProcess>();

/** `vap ARGS…` as its own process (the built CLI), its output collected; stopVapProcesses() ends whatever is left after a test. */
export function spawnVap(argv: readonly string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): VapProcess {
  const child = spawn(process.execPath, [VAP_BIN, ...argv], { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const running: VapProcess = {
    child,
    exited,
    get out() {
      return out;
    },
    async until(test, timeoutMs = 60_000) {
      const passes = typeof test === "string" ? (t: string) => t.includes(test) : test instanceof RegExp ? (t: string) => test.test(t) : test;
      const started = Date.now();
      while (!passes(out)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`vap ${argv[0]} exited (${child.exitCode ?? child.signalCode}) before ${String(test)}; output:\n${out}`);
        if (Date.now() - started > timeoutMs) throw new Error(`vap ${argv[0]}: no ${String(test)} within ${timeoutMs} ms; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async interrupt() {
      child.kill("SIGINT");
      return (await exited).code;
    },
  };
  spawned.add(running);
  void exited.then(() => spawned.delete(running));
  return running;
}

/** After each test: Ctrl-C to every process spawnVap() started that still runs, SIGKILL to one that outlives the grace. */
export async function stopVapProcesses(): Promise<void> {
  await Promise.all(
    [...spawned].map(async (p) => {
      p.child.kill("SIGINT");
      const timer = setTimeout(() => p.child.kill("SIGKILL"), INTERRUPT_GRACE_MS);
      await p.exited;
      clearTimeout(timer);
    }),
  );
}
