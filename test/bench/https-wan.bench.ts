/**
 * https.fetch-vs-curl: the same file from the same nginx over HTTPS (a
 * private CA) through `vap wan` (its own process, a tcp: pair), fetched by
 * vap's fetchHttp into a file sink (what `vap fetch` does: the file is
 * fsynced before it is renamed into place) and by `curl --cacert -o`, whose
 * file the bench then fsyncs too, so both times end with the same durable
 * file; interleaved, each into a fresh file name, medians. Value: vap's
 * speed / curl's (target ≥ 0.95), one line per link:
 * - 100 ms RTT with 1 % loss set (a tcp: pair carries the delay; loss is for
 *   datagrams, see `vap wan --help`), a file large enough that the body,
 *   not the round trips, takes most of the time;
 * - 100 ms RTT at 10 Mbit/s, where the rate decides.
 * curl's time is its own time_total (connect to last byte, not its exec)
 * plus the fsync; curl without the fsync is reported beside.
 */
import { spawnSync } from "node:child_process";
import { closeSync, fsyncSync, openSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fetchHttp, fileSink } from "../../agent/transfer/index.js";
import { startNginx } from "../transfer/http/support.js";
import { content } from "../transfer/tftp/support.js";
import { tempDir } from "../support/temp.js";
import { report } from "./report.js";
import { vapProcess } from "./vap-process.js";

const ROUNDS = 5;
const LINKS = [
  { name: "100ms-rtt-1pct-loss", flags: ["--delay", "50ms", "--loss", "1%"], size: 32 * 1024 * 1024 },
  { name: "100ms-rtt-10mbit", flags: ["--delay", "50ms", "--rate", "10mbit"], size: 4 * 1024 * 1024 },
] as const;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbPerS = (bytes: number, ms: number) => Math.round((bytes / 1e6 / (ms / 1000)) * 100) / 100;

async function vapGet(url: string, ca: string, local: string, size: number): Promise<number> {
  const started = performance.now();
  const { bytes } = await fetchHttp(url, fileSink(local), { ca });
  const ms = performance.now() - started;
  if (bytes !== size) throw new Error(`fetchHttp got ${bytes} bytes`);
  return ms;
}

/** curl's own time for the download, and that plus making its file durable. */
function curlGet(url: string, caFile: string, local: string, size: number): { ms: number; durableMs: number } {
  const r = spawnSync("curl", ["--silent", "--show-error", "--fail", "--cacert", caFile, "-o", local, "-w", "%{time_total}", url], { encoding: "utf8" });
  if (r.status !== 0 || statSync(local).size !== size) throw new Error(`curl ${url} failed: ${r.stderr}`);
  const started = performance.now();
  const fd = openSync(local, "r+");
  fsyncSync(fd);
  closeSync(fd);
  const ms = Number(r.stdout) * 1000;
  return { ms, durableMs: ms + performance.now() - started };
}

const files = Object.fromEntries(LINKS.map((l, i) => [`${l.name}.bin`, content(l.size, i + 1)]));
const nginx = await startNginx(files);
const out = tempDir("https-wan-bench");
/** A fresh name for every download, the last one's file removed first: no run pays for truncating or replacing another's. */
let downloads = 0;
function freshFile(): string {
  rmSync(join(out, `got${downloads}`), { force: true });
  return join(out, `got${++downloads}`);
}
try {
  for (const link of LINKS) {
    const wan = await vapProcess(["wan", "--seed", "1", ...link.flags, "--listen", "tcp:127.0.0.1:0", "--to", `127.0.0.1:${nginx.httpsPort}`], /tcp 127\.0\.0\.1:(\d+) ->/);
    try {
      const url = `https://127.0.0.1:${wan.ports[0]}/${link.name}.bin`;
      const vap: number[] = [];
      const curl: number[] = [];
      const curlNoSync: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        vap.push(await vapGet(url, nginx.caPem, freshFile(), link.size));
        const c = curlGet(url, nginx.caFile, freshFile(), link.size);
        curl.push(c.durableMs);
        curlNoSync.push(c.ms);
      }
      const [v, c] = [median(vap), median(curl)];
      report({
        bench: "https.fetch-vs-curl",
        value: Math.round((c / v) * 100) / 100,
        unit: `x curl's speed (same nginx over HTTPS through vap wan ${link.flags.join(" ")}, ${link.size} B, median of ${ROUNDS})`,
        bound: 0.95,
        boundKind: "peer:curl",
        link: link.name,
        vapMBps: mbPerS(link.size, v),
        curlMBps: mbPerS(link.size, c),
        curlWithoutFsyncMBps: mbPerS(link.size, median(curlNoSync)),
      });
    } finally {
      wan.child.kill();
    }
  }
} finally {
  await nginx.stop();
}
