/**
 * https.fetch-vs-curl: the same file from the same nginx over HTTPS (a
 * private CA) across an emulated WAN, fetched by vap and by `curl --cacert
 * -o`, whose file the bench then fsyncs, so both times end with the same
 * durable file (vap's file sink fsyncs before it renames the file into
 * place); interleaved, each into a fresh file name, medians. Value: vap's
 * speed / curl's (target ≥ 0.95), one line per link:
 * - 100 ms RTT with 0 % and with 1 % loss across `vap wan --link` (its own
 *   process): nginx in one network namespace, `vap fetch` and curl in the
 *   other, so TCP segments are really lost and retransmitted; vap's time is
 *   the one `vap fetch` prints (request to durable file), the line also
 *   gives the packets the link dropped;
 * - 100 ms RTT at 10 Mbit/s through a tcp: pair of `vap wan` (the relay
 *   terminates TCP, so it carries delay and rate but no loss), where the
 *   rate decides; vap is fetchHttp in this process into a file sink.
 * curl's time is its own time_total (connect to last byte, not its exec)
 * plus the fsync; curl without the fsync is reported beside.
 */
import { closeSync, fsyncSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fetchHttp, fileSink } from "../../agent/transfer/index.js";
import { namespacePair } from "../support/netns.js";
import { startNginx } from "../transfer/http/support.js";
import { content } from "../transfer/tftp/support.js";
import { tempDir } from "../support/temp.js";
import { acrossLink, curlTime, mbPerS, runIn } from "./netns-link.js";
import { median, report, type BenchLine } from "./report.js";
import { vapCommand, vapProcess } from "./vap-process.js";

const ROUNDS = 5;
const DELAY = ["--delay", "50ms"];
const TUN_LINKS = [
  { name: "tun-100ms-rtt", flags: [...DELAY, "--loss", "0%"], size: 8 * 1024 * 1024 },
  { name: "tun-100ms-rtt-1pct-loss", flags: [...DELAY, "--loss", "1%"], size: 4 * 1024 * 1024 },
] as const;
const RELAY_LINK = { name: "100ms-rtt-10mbit", flags: [...DELAY, "--rate", "10mbit"], size: 4 * 1024 * 1024 } as const;

/** curl's own time for the download, and that plus making its file durable. */
function curlGet(netns: string | undefined, url: string, caFile: string, local: string, size: number): { ms: number; durableMs: number } {
  const ms = curlTime(netns, url, caFile, local, size);
  const started = performance.now();
  const fd = openSync(local, "r+");
  fsyncSync(fd);
  closeSync(fd);
  return { ms, durableMs: ms + performance.now() - started };
}

/** `vap fetch` inside `netns`: the time it prints, from its request to the durable file. */
function vapFetchIn(netns: string, url: string, caFile: string, local: string, size: number): number {
  const [node, ...args] = vapCommand(["fetch", url, local, "--ca", caFile]);
  const r = runIn(netns, node, args);
  const m = /, (\d+) bytes in ([\d.]+) s/.exec(r.stdout);
  if (r.status !== 0 || !m || Number(m[1]) !== size) throw new Error(`vap fetch ${url} failed: ${r.stdout}${r.stderr}`);
  return Number(m[2]) * 1000;
}

const out = tempDir("https-wan-bench");
/** A fresh name for every download, the last one's file removed first: no run pays for truncating or replacing another's. */
let downloads = 0;
function freshFile(): string {
  rmSync(join(out, `got${downloads}`), { force: true });
  return join(out, `got${++downloads}`);
}

/** Interleaved rounds of vap and curl, and the line that compares their medians. */
async function compare(
  link: { name: string; flags: readonly string[]; size: number },
  how: string,
  vapGet: (local: string) => Promise<number> | number,
  curl: (local: string) => { ms: number; durableMs: number },
): Promise<BenchLine> {
  const vap: number[] = [];
  const curlMs: number[] = [];
  const curlNoSync: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    vap.push(await vapGet(freshFile()));
    const c = curl(freshFile());
    curlMs.push(c.durableMs);
    curlNoSync.push(c.ms);
  }
  const [v, c] = [median(vap), median(curlMs)];
  return {
    bench: "https.fetch-vs-curl",
    value: Math.round((c / v) * 100) / 100,
    unit: `x curl's speed (same nginx over HTTPS ${how} ${link.flags.join(" ")}, ${link.size} B, median of ${ROUNDS})`,
    bound: 0.95,
    boundKind: "peer:curl",
    link: link.name,
    vapMBps: mbPerS(link.size, v),
    curlMBps: mbPerS(link.size, c),
    curlWithoutFsyncMBps: mbPerS(link.size, median(curlNoSync)),
  };
}

async function tunRows(): Promise<void> {
  const ns = namespacePair();
  const nginx = await startNginx(Object.fromEntries(TUN_LINKS.map((l, i) => [`${l.name}.bin`, content(l.size, i + 1)])), { netns: ns.b, address: ns.addressB });
  try {
    for (const link of TUN_LINKS) {
      const url = `https://${ns.addressB}:${nginx.httpsPort}/${link.name}.bin`;
      const { result: line, dropped } = await acrossLink(ns, link.flags, () =>
        compare(
          link,
          "across vap wan --link (TUN, namespaces)",
          (local) => vapFetchIn(ns.a, url, nginx.caFile, local, link.size),
          (local) => curlGet(ns.a, url, nginx.caFile, local, link.size),
        ),
      );
      report({ ...line, linkDroppedToNginx: dropped.aToB, linkDroppedFromNginx: dropped.bToA });
    }
  } finally {
    await nginx.stop();
    ns.remove();
  }
}

async function relayRow(): Promise<void> {
  const link = RELAY_LINK;
  const nginx = await startNginx({ [`${link.name}.bin`]: content(link.size, 9) });
  const wan = await vapProcess(["wan", "--seed", "1", ...link.flags, "--listen", "tcp:127.0.0.1:0", "--to", `127.0.0.1:${nginx.httpsPort}`], /tcp 127\.0\.0\.1:(\d+) ->/);
  try {
    const url = `https://127.0.0.1:${wan.ports[0]}/${link.name}.bin`;
    const line = await compare(
      link,
      "through a tcp: pair of vap wan",
      async (local) => {
        const started = performance.now();
        const { bytes } = await fetchHttp(url, fileSink(local), { ca: nginx.caPem });
        if (bytes !== link.size) throw new Error(`fetchHttp got ${bytes} bytes`);
        return performance.now() - started;
      },
      (local) => curlGet(undefined, url, nginx.caFile, local, link.size),
    );
    report(line);
  } finally {
    wan.child.kill();
    await nginx.stop();
  }
}

await tunRows();
await relayRow();
