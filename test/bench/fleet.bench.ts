/**
 * `vap fleet` against `vap controller`, each in its own process on this
 * host, as the issue's done-when runs them:
 *  - fleet.10k.time-to-run / join-rate: VAP_BENCH_FLEET_APS (10,000) APs to Run, against TRex Wireless's published 93 joins/s;
 *  - fleet.10k.rss-per-ap: both processes' resident memory per AP once all are in Run (target ≤ 150 KiB for the fleet);
 *  - fleet.10k.hold: restarts, missed Echo Responses and Data Channel Keep-Alives while all hold Run for VAP_BENCH_FLEET_HOLD (10m);
 *  - fleet.storm: VAP_BENCH_STORM_APS (100) APs in sink mode download a realistic ap1g8 image (70 MB) at join, the
 *    controller allowing VAP_BENCH_STORM_LIMIT (10) at once, window 20: aggregate MB/s against one AP's download alone
 *    over the same loopback. (At 100 at once, 200 APs overran the lab controller's one socket: blocks lost, downloads
 *    failed after retransmissions and started over — the controller's limit is what keeps a storm useful.)
 * VAP_BENCH_FLEET_ONLY=storm skips the 10k run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FleetSummary } from "../../agent/fleet/index.js";
import { freeLoopbackAddress } from "../support/loopback.js";
import { report } from "./report.js";
import { vapCommand } from "./vap-process.js";

const APS = Number(process.env.VAP_BENCH_FLEET_APS ?? 10_000);
const HOLD = process.env.VAP_BENCH_FLEET_HOLD ?? "10m";
const STORM_APS = Number(process.env.VAP_BENCH_STORM_APS ?? 100);
const STORM_LIMIT = Number(process.env.VAP_BENCH_STORM_LIMIT ?? 10);
const ONLY = process.env.VAP_BENCH_FLEET_ONLY;
const TREX_JOINS_PER_SECOND = 93;
const dir = mkdtempSync(join(tmpdir(), "vap-fleet-bench-"));

function run(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const [program, ...rest] = vapCommand(args);
  const child = spawn(program, rest, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return { child, output: () => out, exited: new Promise((r) => child.once("exit", (code) => r(code))) };
}

async function until(test: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!test()) {
    if (Date.now() - started > timeoutMs) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resident memory of a process, bytes (/proc: the whole process, every worker thread). */
function rss(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
}

async function controller(extra: string[]) {
  const address = await freeLoopbackAddress();
  const c = run(["controller", "--pki", join(dir, "pki"), "--address", address, "--control-socket", join(dir, `${address}.sock`), ...extra]);
  await until(() => c.output().includes("Operator commands on"), "controller");
  return { address, c };
}

async function fleet(args: string[], onRun?: (pid: number) => void): Promise<FleetSummary> {
  const f = run(["fleet", "--pki", join(dir, "pki"), "--json", ...args]);
  let sampled = false;
  const sampler = setInterval(() => {
    if (!sampled && onRun && /Run (\d+)/.exec(f.output().split("\n").at(-2) ?? "")?.[1] === String(APS)) {
      sampled = true;
      onRun(f.child.pid!);
    }
  }, 500);
  const code = await f.exited;
  clearInterval(sampler);
  const last = f.output().trim().split("\n").at(-1)!;
  if (code !== 0) throw new Error(`vap fleet exited ${code}: ${f.output().slice(-2000)}`);
  return JSON.parse(last) as FleetSummary;
}

try {
  for (const argv of [
    ["pki", "init", join(dir, "pki"), "--aps", "0"],
    ["image", "keygen", join(dir, "keys")],
    ["image", "bundle", "--version", "17.12.1.5", "--out", join(dir, "bundle"), "--keys", join(dir, "keys"), "--classes", "ap1g8", "--size", "realistic"],
  ]) {
    const r = run(argv);
    if ((await r.exited) !== 0) throw new Error(`vap ${argv.join(" ")}: ${r.output()}`);
  }

  // 10,000 APs join, hold Run, stop.
  if (ONLY === undefined || ONLY === "10k") {
    const { address, c } = await controller(["--echo-interval", "30"]);
    let rssAtRun: { fleet: number; controller: number } | undefined;
    const s = await fleet(["--controller", address, "--aps", String(APS), "--until", "run", "--hold", HOLD], (pid) => (rssAtRun = { fleet: rss(pid), controller: rss(c.child.pid!) }));
    c.child.kill("SIGINT");
    await c.exited;
    report({ bench: "fleet.10k.time-to-run", value: s.timeToAllRunSeconds ?? NaN, unit: "s", bound: 300, boundKind: "target", aps: APS, inRun: s.inRun, handshakesFailed: s.handshakes.failed, joinSeconds: s.joinSeconds });
    report({ bench: "fleet.10k.join-rate", value: s.joinRatePerSecond ?? NaN, unit: "joins/s", bound: TREX_JOINS_PER_SECOND, boundKind: "peer:trex-published", aps: APS, note: "the fleet's default ramp is 100 APs/s" });
    if (rssAtRun) {
      report({ bench: "fleet.10k.rss-per-ap", value: Math.round(rssAtRun.fleet / APS / 1024), unit: "KiB", bound: 150, boundKind: "target", aps: APS, note: "vap fleet's whole process (supervisor and workers) once all were in Run" });
      report({ bench: "fleet.10k.controller-rss-per-ap", value: Math.round(rssAtRun.controller / APS / 1024), unit: "KiB", aps: APS, note: "vap controller's process with every AP in Run" });
    }
    report({ bench: "fleet.10k.hold", value: s.hold?.restarts ?? NaN, unit: "restarts", bound: 0, boundKind: "target", seconds: s.hold?.seconds, missedEchoes: s.hold?.missedEchoes, echoesReceived: s.hold?.echoesReceived, echoesExpected: s.hold?.echoesExpected, missedKeepAlives: s.hold?.missedKeepAlives, keepAlivesReceived: s.hold?.keepAlivesReceived, keepAlivesExpected: s.hold?.keepAlivesExpected });
  }

  // The storm, after one AP alone over the same loopback.
  if (ONLY === undefined || ONLY === "storm") {
    const storm = async (aps: number) => {
      const { address, c } = await controller(["--bundle", join(dir, "bundle"), "--version", "17.12.1.5", "--window", "20", "--max-downloads", String(STORM_LIMIT)]);
      const s = await fleet(["--controller", address, "--aps", String(aps), "--image-trust", join(dir, "keys", "image-ca.pem"), "--until", "upgraded", "--timeout", "30m", "--expect-max-downloads", String(STORM_LIMIT)]);
      c.child.kill("SIGINT");
      await c.exited;
      return s;
    };
    const one = await storm(1);
    const many = await storm(STORM_APS);
    const d = many.downloads;
    report({
      bench: "fleet.storm",
      value: d.throughputMBps ?? NaN,
      unit: "MB/s",
      // One AP alone: its image over its own download time (a single download has no storm span).
      bound: Math.round((Object.values(one.downloads.bytesByMethod).reduce((a, b) => a + b, 0) / 1e6 / one.downloads.seconds.max) * 100) / 100,
      boundKind: "peer:one-transfer-alone",
      aps: STORM_APS,
      imageBytes: Object.values(d.bytesByMethod).reduce((a, b) => a + b, 0) / STORM_APS,
      installed: d.ok,
      failures: d.failuresByReason,
      peakConcurrent: d.peakConcurrent,
      controllerLimit: STORM_LIMIT,
      limitRespected: d.limitRespected,
      downloadSeconds: d.seconds,
      oneAloneSeconds: one.downloads.seconds.max,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
