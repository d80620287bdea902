/** A `vap` command in its own process for a benchmark, started with the V8 flags of the `vap` binary's shebang, as users run it. */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const vapBinary = join(dirname(fileURLToPath(import.meta.url)), "../../cli/vap.js");
const vapFlags = readFileSync(vapBinary, "utf8").split("\n", 1)[0]!.split(/\s+/).filter((a) => a.startsWith("--"));

/** Start `vap ARGS…` and resolve once what it printed matches `ready`, with the ports its groups captured. */
export async function vapProcess(args: string[], ready: RegExp): Promise<{ ports: number[]; child: ChildProcess }> {
  const child = spawn(process.execPath, [...vapFlags, vapBinary, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  for (let i = 0; i < 1000 && child.exitCode === null; i++) {
    const m = ready.exec(out);
    if (m) return { ports: m.slice(1).map(Number), child };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  child.kill();
  throw new Error(`vap ${args.join(" ")} did not start: ${out}`);
}
