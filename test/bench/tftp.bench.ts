/**
 * TFTP on loopback, a 50 MB file, blksize 1468 and windowsize 16 (what vap's
 * client asks for), each side three times, interleaved; medians compared.
 * - tftp.server-vs-atftpd: `vap tftp serve` (its own process, the vap
 *   binary's flags) and atftpd serving the same file to the same client,
 *   atftp. Value: vap's speed / atftpd's (target ≥ 1).
 * - tftp.client-vs-atftp: vap's client (fetchTftp into a file sink, in this
 *   process) and the atftp client fetching from the same atftpd. Value:
 *   vap's speed / atftp's (target ≥ 1). atftp's time includes its exec
 *   (about a millisecond against a second of transfer).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fetchTftp, fileSink } from "../../agent/transfer/index.js";
import { tempDir } from "../support/temp.js";
import { report } from "./report.js";

const SIZE = 50 * 1024 * 1024;
const ROUNDS = 3;
const ATFTPD = "/opt/atftpd/usr/sbin/atftpd";
const OPTIONS = { blockSize: 1468, windowSize: 16 };

const here = dirname(fileURLToPath(import.meta.url));
const vapBinary = join(here, "../../cli/vap.js");
const vapFlags = readFileSync(vapBinary, "utf8").split("\n", 1)[0]!.split(/\s+/).filter((a) => a.startsWith("--"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbPerS = (ms: number) => Math.round((SIZE / 1e6 / (ms / 1000)) * 10) / 10;

function servedFile(): string {
  const dir = tempDir("tftp-bench");
  chmodSync(dir, 0o755);
  const path = join(dir, "image");
  const fd = openSync(path, "w", 0o644);
  for (let done = 0; done < SIZE; done += 1 << 20) writeSync(fd, randomBytes(1 << 20));
  closeSync(fd);
  return path;
}

/** Start a server process and wait for `ready` to find its port in what it prints (or, for atftpd, the port given). */
async function startServer(child: ChildProcess, port: () => number | undefined): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const p = port();
    if (p !== undefined) return p;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`server did not start (exit ${child.exitCode})`);
}

async function startVap(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [...vapFlags, vapBinary, "tftp", "serve", dir, "--address", "127.0.0.1", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  const port = await startServer(child, () => {
    const m = /on 127\.0\.0\.1:(\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  });
  return { port, child };
}

async function startAtftpd(dir: string): Promise<{ port: number; child: ChildProcess }> {
  // A port the kernel picks for a moment, then atftpd binds it.
  const probe = spawnSync(process.execPath, ["-e", "const s=require('dgram').createSocket('udp4');s.bind(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"], { encoding: "utf8" });
  const port = Number(probe.stdout.trim());
  const child = spawn(ATFTPD, ["--daemon", "--no-fork", "--port", String(port), "--bind-address", "127.0.0.1", "--logfile", "/dev/null", dir], { stdio: "ignore" });
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { port: await startServer(child, () => port), child };
}

/** The atftp client's wall time for the whole file, checked for size. */
function atftpGet(port: number, local: string): number {
  const started = performance.now();
  const r = spawnSync("atftp", ["--option", `blksize ${OPTIONS.blockSize}`, "--option", `windowsize ${OPTIONS.windowSize}`, "-g", "-r", "image", "-l", local, "127.0.0.1", String(port)]);
  const ms = performance.now() - started;
  if (r.status !== 0 || statSync(local).size !== SIZE) throw new Error(`atftp from port ${port} failed: ${r.stderr}`);
  return ms;
}

async function vapGet(port: number, local: string): Promise<number> {
  const started = performance.now();
  const { bytes } = await fetchTftp({ host: "127.0.0.1", port, path: "image", options: { ...OPTIONS, askSize: true } }, fileSink(local));
  const ms = performance.now() - started;
  if (bytes !== SIZE) throw new Error(`vap client got ${bytes} bytes`);
  return ms;
}

const image = servedFile();
const out = join(tempDir("tftp-bench-out"), "got");
const vap = await startVap(dirname(image));
const atftpd = await startAtftpd(dirname(image));
try {
  const server = { vap: [] as number[], atftpd: [] as number[] };
  const client = { vap: [] as number[], atftp: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    server.vap.push(atftpGet(vap.port, out));
    server.atftpd.push(atftpGet(atftpd.port, out));
    client.vap.push(await vapGet(atftpd.port, out));
    client.atftp.push(atftpGet(atftpd.port, out));
  }
  const [sv, sa, cv, ca] = [median(server.vap), median(server.atftpd), median(client.vap), median(client.atftp)];
  report({
    bench: "tftp.server-vs-atftpd",
    value: Math.round((sa / sv) * 100) / 100,
    unit: "x atftpd's speed (atftp client, 50 MB, blksize 1468, windowsize 16, loopback, median of 3)",
    bound: 1,
    boundKind: "peer:atftpd",
    vapMBps: mbPerS(sv),
    atftpdMBps: mbPerS(sa),
  });
  report({
    bench: "tftp.client-vs-atftp",
    value: Math.round((ca / cv) * 100) / 100,
    unit: "x the atftp client's speed (from atftpd, 50 MB, blksize 1468, windowsize 16, loopback, median of 3)",
    bound: 1,
    boundKind: "peer:atftp",
    vapMBps: mbPerS(cv),
    atftpMBps: mbPerS(ca),
  });
} finally {
  vap.child.kill();
  atftpd.child.kill();
}
