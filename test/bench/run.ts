/**
 * `npm run bench`: runs every compiled `*.bench.js` next to this file in its
 * own process (so one benchmark's heap never colours another's memory
 * figure) and passes their JSON lines through. `npm run bench -- codec` runs
 * only benchmarks whose file name contains "codec".
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// Benchmarks run with the V8 flags the `vap` command runs with (its shebang), so they measure the product.
const vapFlags = readFileSync(join(here, "../../cli/vap.js"), "utf8").split("\n", 1)[0]!.split(/\s+/).filter((a) => a.startsWith("--"));
const filter = process.argv[2] ?? "";
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.js") && f.includes(filter))
  .sort();
let failed = 0;
for (const file of files) {
  const r = spawnSync(process.execPath, ["--expose-gc", ...vapFlags, join(here, file)], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`bench ${file} exited with ${r.status ?? r.signal}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
