/**
 * TFTP on loopback, a 50 MB file at blksize 1468, every side twelve
 * times, interleaved round by round in a shuffled order; the medians of the
 * last nine compared. On this 2-core VM single rounds swing by a third with
 * scheduling, so nine rounds, and no side always first or last. The first
 * three rounds warm every side up and are reported apart, as each side's
 * warm-up speeds (the first is the cold one): each server's page cache
 * fills in the first, but vap's JIT takes about three. In one `vap tftp
 * serve` process the CPU time per 50 MB fell 320, 240, 200, 160, 150 ms over
 * its first five transfers (124 → 200 MB/s), while TurboFan compiled the
 * hot path on the other core (a core's worth of samples in the first two
 * transfers, almost none from the fourth); atftpd served all six at 130.
 * - tftp.server-vs-atftpd: `vap tftp serve` (its own process, the vap
 *   binary's flags) and atftpd serving the same file to the same client,
 *   atftp, at windowsize 16 (what vap's client asks for). Value: vap's
 *   speed / atftpd's (target ≥ 1).
 * - tftp.server-vs-tftpd-hpa: `vap tftp serve` and tftpd-hpa (which has no
 *   windowsize) serving the same file to atftp asking for no windowsize, so
 *   both run RFC 1350 lock-step. Value: vap's speed / tftpd-hpa's.
 * - tftp.client-vs-atftp: vap's client (fetchTftp into a file sink, in this
 *   process) and the atftp client fetching from the same atftpd at
 *   windowsize 16. Value: vap's speed / atftp's (target ≥ 1). atftp's time
 *   includes its exec (about a millisecond against a second of transfer).
 *   vap's file sink makes the file durable (fsync) before it renames it into
 *   place, which atftp never does; so atftp's time here is its run plus an
 *   fsync of its file, as the HTTPS bench charges curl, and its time without
 *   one is reported beside. Every download writes a fresh file, the previous
 *   one removed, so neither side pays for truncating the other's.
 *   vapCpuMs and atftpCpuMs: the CPU time (user and system, all threads)
 *   each client took for one download, the median of the timed rounds
 *   (atftp's to 10 ms, as /proc counts a child's; the fsync the bench
 *   charges it is the bench's own).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fetchTftp, fileSink } from "../../agent/transfer/index.js";
import { tempDir } from "../support/temp.js";
import { type RunningServer, startAtftpd, startTftpdHpa } from "../transfer/tftp/support.js";
import { endedChildrenCpuMs, median, report, StealMeter } from "./report.js";

const SIZE = 50 * 1024 * 1024;
/** Rounds that warm every side up, reported apart. */
const WARM_UP_ROUNDS = 3;
/** Timed rounds after the warm-up rounds. */
const ROUNDS = 9;
const BLOCK_SIZE = 1468;
const WINDOW_SIZE = 16;

const here = dirname(fileURLToPath(import.meta.url));
const vapBinary = join(here, "../../cli/vap.js");
const vapFlags = readFileSync(vapBinary, "utf8").split("\n", 1)[0]!.split(/\s+/).filter((a) => a.startsWith("--"));
const mbPerS = (ms: number) => Math.round((SIZE / 1e6 / (ms / 1000)) * 10) / 10;
/** The timed rounds' values of a side's per-round list (the first WARM_UP_ROUNDS warm it up), and their median. */
const timedRounds = (values: number[]) => values.slice(WARM_UP_ROUNDS);
const timedMedian = (values: number[]) => median(timedRounds(values));
/** How each figure was taken, for its unit. */
const SAMPLED = `loopback, median of ${ROUNDS} after ${WARM_UP_ROUNDS} warm-up rounds`;
/** The first side's speed over the second's, from the median times of their timed rounds. */
const ratio = (ms: number[], peerMs: number[]) => Math.round((timedMedian(peerMs) / timedMedian(ms)) * 100) / 100;

function servedFile(): string {
  const dir = tempDir("tftp-bench");
  chmodSync(dir, 0o755);
  const path = join(dir, "image");
  const fd = openSync(path, "w", 0o644);
  for (let done = 0; done < SIZE; done += 1 << 20) writeSync(fd, randomBytes(1 << 20));
  closeSync(fd);
  return path;
}

async function startVap(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [...vapFlags, vapBinary, "tftp", "serve", dir, "--address", "127.0.0.1", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  for (let i = 0; i < 500 && child.exitCode === null; i++) {
    const m = /on 127\.0\.0\.1:(\d+)/.exec(out);
    if (m) return { port: Number(m[1]), child };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`vap tftp serve did not start (exit ${child.exitCode})`);
}

/** The atftp client's wall time for the whole file, checked for size, and that plus making its file durable; windowsize 1 asks for no windowsize (RFC 1350 lock-step). */
function atftpTimes(port: number, local: string, windowSize: number): { ms: number; durableMs: number } {
  const window = windowSize > 1 ? ["--option", `windowsize ${windowSize}`] : [];
  const started = performance.now();
  const r = spawnSync("atftp", ["--option", `blksize ${BLOCK_SIZE}`, ...window, "-g", "-r", "image", "-l", local, "127.0.0.1", String(port)]);
  const ms = performance.now() - started;
  if (r.status !== 0 || statSync(local).size !== SIZE) throw new Error(`atftp from port ${port} failed: ${r.stderr}`);
  const fd = openSync(local, "r+");
  fsyncSync(fd);
  closeSync(fd);
  return { ms, durableMs: performance.now() - started };
}

const atftpGet = (port: number, local: string, windowSize: number) => atftpTimes(port, local, windowSize).ms;

async function vapGet(port: number, local: string): Promise<number> {
  const started = performance.now();
  const { bytes } = await fetchTftp({ host: "127.0.0.1", port, path: "image", options: { blockSize: BLOCK_SIZE, windowSize: WINDOW_SIZE, askSize: true } }, fileSink(local));
  const ms = performance.now() - started;
  if (bytes !== SIZE) throw new Error(`vap client got ${bytes} bytes`);
  return ms;
}

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const image = servedFile();
const outDir = tempDir("tftp-bench-out");
let downloads = 0;
/** A fresh name for every download, the last one's file removed first. */
function fresh(): string {
  rmSync(join(outDir, `got${downloads}`), { force: true });
  return join(outDir, `got${++downloads}`);
}
const vap = await startVap(dirname(image));
const peers: RunningServer[] = [];
try {
  const atftpd = await startAtftpd(dirname(image));
  peers.push(atftpd);
  const hpa = await startTftpdHpa(dirname(image));
  peers.push(hpa);
  /** One side's download times (ms, the warm-up rounds first) and the host's steal while it ran. */
  const side = () => ({ ms: [] as number[], steal: new StealMeter() });
  const windowed = { vap: side(), atftpd: side() };
  const lockStep = { vap: side(), hpa: side() };
  const client = { vap: side(), atftp: side(), atftpWithoutFsync: [] as number[], vapCpuMs: [] as number[], atftpCpuMs: [] as number[] };
  const timed = (s: ReturnType<typeof side>, download: () => number) => s.steal.measure(() => void s.ms.push(download()));
  const downloads: (() => Promise<void>)[] = [
    () => timed(windowed.vap, () => atftpGet(vap.port, fresh(), WINDOW_SIZE)),
    () => timed(windowed.atftpd, () => atftpGet(atftpd.port, fresh(), WINDOW_SIZE)),
    () => timed(lockStep.vap, () => atftpGet(vap.port, fresh(), 1)),
    () => timed(lockStep.hpa, () => atftpGet(hpa.port, fresh(), 1)),
    () =>
      client.vap.steal.measure(async () => {
        const cpu = process.cpuUsage();
        client.vap.ms.push(await vapGet(atftpd.port, fresh()));
        const { user, system } = process.cpuUsage(cpu);
        client.vapCpuMs.push((user + system) / 1000);
      }),
    () =>
      timed(client.atftp, () => {
        const cpu = endedChildrenCpuMs();
        const atftp = atftpTimes(atftpd.port, fresh(), WINDOW_SIZE);
        client.atftpCpuMs.push(endedChildrenCpuMs() - cpu);
        client.atftpWithoutFsync.push(atftp.ms);
        return atftp.durableMs;
      }),
  ];
  for (let round = 0; round < WARM_UP_ROUNDS + ROUNDS; round++) {
    // The first round in a fixed order; the others shuffled.
    const order = round === 0 ? downloads : shuffled(downloads);
    for (const download of order) await download();
  }
  /**
   * The warm-up rounds' speeds in order, the median of the timed rounds, every timed
   * round's sorted (the spread under whatever else the machine runs), and
   * the host's steal over all its rounds (on a VM, CPU time the host gave
   * other guests: a side that met more ran on less of the machine).
   */
  const speeds = (name: string, { ms, steal }: ReturnType<typeof side>) => ({
    [`${name}MBps`]: mbPerS(timedMedian(ms)),
    [`${name}RoundsMBps`]: timedRounds(ms).map(mbPerS).sort((a, b) => a - b),
    [`${name}WarmUpMBps`]: ms.slice(0, WARM_UP_ROUNDS).map(mbPerS),
    [`${name}StealPercent`]: steal.percent,
  });
  report({
    bench: "tftp.server-vs-atftpd",
    value: ratio(windowed.vap.ms, windowed.atftpd.ms),
    unit: `x atftpd's speed (atftp client, 50 MB, blksize ${BLOCK_SIZE}, windowsize ${WINDOW_SIZE}, ${SAMPLED})`,
    bound: 1,
    boundKind: "peer:atftpd",
    ...speeds("vap", windowed.vap),
    ...speeds("atftpd", windowed.atftpd),
  });
  report({
    bench: "tftp.server-vs-tftpd-hpa",
    value: ratio(lockStep.vap.ms, lockStep.hpa.ms),
    unit: `x tftpd-hpa's speed (atftp client, 50 MB, blksize ${BLOCK_SIZE}, no windowsize, ${SAMPLED})`,
    bound: 1,
    boundKind: "peer:tftpd-hpa",
    ...speeds("vap", lockStep.vap),
    ...speeds("tftpdHpa", lockStep.hpa),
  });
  report({
    bench: "tftp.client-vs-atftp",
    value: ratio(client.vap.ms, client.atftp.ms),
    unit: `x the atftp client's speed to a durable file (from atftpd, 50 MB, blksize ${BLOCK_SIZE}, windowsize ${WINDOW_SIZE}, ${SAMPLED})`,
    bound: 1,
    boundKind: "peer:atftp",
    ...speeds("vap", client.vap),
    ...speeds("atftp", client.atftp),
    atftpWithoutFsyncMBps: mbPerS(timedMedian(client.atftpWithoutFsync)),
    vapCpuMs: Math.round(timedMedian(client.vapCpuMs)),
    atftpCpuMs: Math.round(timedMedian(client.atftpCpuMs)),
  });
} finally {
  vap.child.kill();
  for (const peer of peers) await peer.stop();
}
