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
