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
