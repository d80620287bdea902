/**
 * 1,000 APs join a controller over real UDP and DTLS and reach Run (issue
 * targets: all in Run within 60 s on this 2-core machine, ≤ 200 KB resident
 * per AP in Run). As in a load test against a real controller, the
 * controller runs in its own process (`vap controller`); this process holds
 * only the APs, so its RSS growth per AP is the fleet's cost of one AP.
 */
import { freeLoopbackAddress } from "../support/loopback.js";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startAp, type RunningAp } from "../../agent/ap/index.js";
import { parseApConfig } from "../../agent/config/index.js";
import { silentLog } from "../../agent/core/index.js";
import { initPki } from "../../agent/pki/index.js";
import { report, rssAfterGc } from "./report.js";

const APS = Number(process.env.VAP_BENCH_APS ?? 1000);
/** A loopback address with the CAPWAP ports free: two runs on one host never collide. */
const ADDRESS = await freeLoopbackAddress();
const dir = mkdtempSync(join(tmpdir(), "vap-join-bench-"));
const pki = initPki(dir, { aps: APS, model: "C9105AXI" });
const cli = join(dirname(fileURLToPath(import.meta.url)), "../../cli/vap.js");
const controller = spawn(process.execPath, [cli, "controller", "--pki", dir, "--address", ADDRESS, "--echo-interval", "30"], { stdio: ["ignore", "pipe", "inherit"] });
let joinedLines = 0;
controller.stdout.on("data", (chunk: Buffer) => (joinedLines += chunk.toString().split("is in Run").length - 1));
await new Promise((r) => setTimeout(r, 1000)); // let it bind

const before = rssAfterGc();
const started = performance.now();
const aps: RunningAp[] = [];
for (const [i, cred] of pki.aps.entries()) {
  const mac = cred.name.slice(-12).match(/../g)!.join(":");
  const config = parseApConfig({ baseMac: mac, controllers: [{ address: ADDRESS }], discovery: { bindAddress: ADDRESS }, dtls: { cert: cred.cert, key: cred.key, ca: pki.caCert } }, `ap-${i}`);
  aps.push(await startAp(config, { log: silentLog }));
  if (i % 100 === 99) await new Promise((r) => setTimeout(r, 100)); // 1,000 APs/s power-up
}
while (aps.some((a) => a.wtp.state !== "Run") && performance.now() - started < 120_000) await new Promise((r) => setTimeout(r, 50));
const inRun = performance.now();
const rss = rssAfterGc();
const inRunCount = aps.filter((a) => a.wtp.state === "Run").length;
const restarts = aps.reduce((n, a) => n + a.wtp.stats.restarts, 0);
for (const a of aps) await a.stop();
controller.kill("SIGTERM");
rmSync(dir, { recursive: true, force: true });

report({ bench: "join.time-to-run", value: Math.round(inRun - started) / 1000, unit: "s", bound: 60, boundKind: "target", aps: APS, inRun: inRunCount, controllerSawRun: joinedLines, restarts });
report({ bench: "join.rate", value: Math.round((inRunCount / (inRun - started)) * 1000), unit: "joins/s", aps: APS });
report({ bench: "join.memory-per-ap", value: Math.round((rss - before) / APS / 1024), unit: "KiB", bound: 200, boundKind: "target", aps: APS, note: "AP process RSS growth per AP in Run (controller in its own process)" });
