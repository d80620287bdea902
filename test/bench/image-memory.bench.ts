/**
 * An AP downloading a 200 MB image over CAPWAP keeps a flat, small resident
 * set (issue target: < 80 MB process RSS), because blocks stream from the
 * wire into the sink. The controller runs in its own process (vap
 * controller --bundle), the AP here with a hashing sink; RSS is sampled
 * through the download.
 */
import { freeLoopbackAddress } from "../support/loopback.js";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startAp } from "../../agent/ap/index.js";
import { parseApConfig } from "../../agent/config/index.js";
import { silentLog, systemClock } from "../../agent/core/index.js";
import { capwapImageSource } from "../../agent/transfer/index.js";
import { HashSink } from "../support/memory-images.js";
import { report } from "./report.js";

const SIZE = Number(process.env.VAP_BENCH_IMAGE_BYTES ?? 200 * 1024 * 1024);
/** A loopback address with the CAPWAP ports free: two runs on one host never collide. */
const ADDRESS = await freeLoopbackAddress();
const dir = mkdtempSync(join(tmpdir(), "vap-image-mem-"));
const cli = join(dirname(fileURLToPath(import.meta.url)), "../../cli/vap.js");
// Everything heavy happens in other processes, so this one holds only the AP.
execFileSync(process.execPath, [cli, "pki", "init", join(dir, "pki"), "--aps", "1", "--model", "C9105AXI"], { stdio: "ignore" });
mkdirSync(join(dir, "bundle"));
execFileSync("sh", ["-c", `head -c ${SIZE} /dev/urandom > "$0"`, join(dir, "bundle", "ap1g8")]);
const expectedSha256 = execFileSync("sha256sum", [join(dir, "bundle", "ap1g8")], { encoding: "utf8" }).split(" ")[0];
const controller = spawn(process.execPath, [cli, "controller", "--pki", join(dir, "pki"), "--address", ADDRESS, "--bundle", join(dir, "bundle"), "--window", "20", "--version", "17.12.1.5"], { stdio: "ignore" });
await new Promise((r) => setTimeout(r, 1000));

const samples: number[] = [];
const heap: number[] = [];
const apCert = readdirSync(join(dir, "pki", "ap")).find((f) => f.endsWith(".pem"))!;
const config = parseApConfig(
  {
    baseMac: apCert.slice(-16, -4).match(/../g)!.join(":"),
    controllers: [{ address: ADDRESS }],
    discovery: { bindAddress: ADDRESS },
    dtls: { cert: join(dir, "pki", "ap", apCert), key: join(dir, "pki", "ap", apCert.replace(/\.pem$/, ".key")), ca: join(dir, "pki", "ca.pem") },
  },
  "bench",
);
const sink = new HashSink();
const started = performance.now();
const ap = await startAp(config, {
  log: silentLog,
  wtp: { imageSources: { capwap: capwapImageSource({ imageName: "ap1g8", sink: () => sink, clock: systemClock, startTimeoutMs: 30_000, inactivityMs: 30_000 }) } },
});
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  samples.push(m.rss);
  heap.push(m.heapTotal + m.external);
}, 250);
while (!sink.finished && performance.now() - started < 600_000) await new Promise((r) => setTimeout(r, 100));
clearInterval(sampler);
const seconds = (performance.now() - started) / 1000;
await ap.stop();
controller.kill("SIGTERM");
rmSync(dir, { recursive: true, force: true });

const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
const at = (f: number) => mb(samples[Math.min(samples.length - 1, Math.floor(samples.length * f))] ?? 0);
const finished = sink.finished;
const intact = finished?.sha256 === expectedSha256;
report({ bench: "image-data.rss-while-downloading", value: mb(Math.max(...samples)), unit: "MB (peak RSS)", bound: 80, boundKind: "target", imageMB: mb(SIZE), rssAt10: at(0.1), rssAt50: at(0.5), rssAt90: at(0.9), peakHeapTotalPlusExternalMB: mb(Math.max(...heap)), completed: finished !== undefined, intact, seconds: Math.round(seconds * 10) / 10 });
if (finished && intact) {
  // From the image's first byte to its last: discovery, DTLS and join are not in it.
  report({ bench: "image-data.lan-throughput", value: mb(SIZE / ((finished.at - sink.beganAt!) / 1000)), unit: "MB/s", window: 20, note: "loopback, controller in its own process, DTLS, first block to last" });
}
