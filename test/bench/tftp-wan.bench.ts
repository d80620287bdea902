/**
 * tftp.wan: TFTP through `vap wan` (its own process, a `tftp:` pair) at
 * 100 ms RTT and no loss, blksize 1468, windowsize 1, 4 and 16. A windowed
 * transfer can at best move one window per round trip, so the value is the
 * measured throughput over window × blksize / RTT (target ≥ 0.9). The
 * request and its OACK take one more round trip, so a file of N windows
 * scores at most N / (N + 1): files are WINDOWS_PER_FILE windows long.
 *
 * Side by side in the same run, interleaved, medians of three: vap's client
 * from `vap tftp serve` (the value), vap's client from atftpd, and the atftp
 * client from atftpd.
 */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { fetchTftp, fileSink } from "../../agent/transfer/index.js";
import { content, servedDir, startAtftpd } from "../transfer/tftp/support.js";
import { tempDir } from "../support/temp.js";
import { median, report } from "./report.js";
import { vapProcess } from "./vap-process.js";

const RTT_MS = 100;
const BLOCK = 1468;
const WINDOWS = [1, 4, 16] as const;
const WINDOWS_PER_FILE = 50;
const ROUNDS = 3;

const sizeOf = (window: number) => window * BLOCK * WINDOWS_PER_FILE;
const round2 = (x: number) => Math.round(x * 100) / 100;

async function vapGet(port: number, name: string, window: number, local: string): Promise<number> {
  const started = performance.now();
  const { bytes } = await fetchTftp({ host: "127.0.0.1", port, path: name, options: { blockSize: BLOCK, windowSize: window, askSize: true } }, fileSink(local));
  const ms = performance.now() - started;
  if (bytes !== sizeOf(window)) throw new Error(`vap client got ${bytes} bytes of ${name}`);
  return ms;
}

function atftpGet(port: number, name: string, window: number, local: string): number {
  const started = performance.now();
  const r = spawnSync("atftp", ["--option", `blksize ${BLOCK}`, "--option", `windowsize ${window}`, "-g", "-r", name, "-l", local, "127.0.0.1", String(port)]);
  const ms = performance.now() - started;
  if (r.status !== 0 || statSync(local).size !== sizeOf(window)) throw new Error(`atftp ${name} from port ${port} failed: ${r.stderr}`);
  return ms;
}

const files = Object.fromEntries(WINDOWS.map((w) => [`w${w}`, content(sizeOf(w), w)]));
const dir = servedDir(files);
const local = join(tempDir("tftp-wan-bench"), "got");
const atftpd = await startAtftpd(dir);
const vapServer = await vapProcess(["tftp", "serve", dir, "--address", "127.0.0.1", "--port", "0"], /on 127\.0\.0\.1:(\d+)/);
const wan = await vapProcess(
  ["wan", "--delay", `${RTT_MS / 2}ms`, "--seed", "1", ...["--listen", "tftp:127.0.0.1:0", "--to", `127.0.0.1:${vapServer.ports[0]}`], ...["--listen", "tftp:127.0.0.1:0", "--to", `127.0.0.1:${atftpd.port}`]],
  /tftp 127\.0\.0\.1:(\d+) -> [^\n]*\n[^\n]*tftp 127\.0\.0\.1:(\d+) -> /,
);
const [toVap, toAtftpd] = wan.ports as [number, number];
try {
  for (const window of WINDOWS) {
    const name = `w${window}`;
    const times = { vapFromVap: [] as number[], vapFromAtftpd: [] as number[], atftpFromAtftpd: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      times.vapFromVap.push(await vapGet(toVap, name, window, local));
      times.vapFromAtftpd.push(await vapGet(toAtftpd, name, window, local));
      times.atftpFromAtftpd.push(atftpGet(toAtftpd, name, window, local));
    }
    const ideal = (window * BLOCK) / (RTT_MS / 1000);
    const efficiency = (ms: number) => round2(sizeOf(window) / (ms / 1000) / ideal);
    report({
      bench: "tftp.wan",
      value: efficiency(median(times.vapFromVap)),
      unit: `x window × blksize / RTT (vap client from vap tftp serve through vap wan, ${RTT_MS} ms RTT, windowsize ${window}, blksize ${BLOCK}, ${sizeOf(window)} B, median of ${ROUNDS})`,
      bound: 0.9,
      boundKind: "target",
      windowSize: window,
      idealKBps: round2(ideal / 1000),
      vapFromVapKBps: round2(sizeOf(window) / median(times.vapFromVap)),
      vapFromAtftpd: efficiency(median(times.vapFromAtftpd)),
      atftpFromAtftpd: efficiency(median(times.atftpFromAtftpd)),
      handshakeCeiling: round2(WINDOWS_PER_FILE / (WINDOWS_PER_FILE + 1)),
    });
  }
} finally {
  wan.child.kill();
  vapServer.child.kill();
  await atftpd.stop();
}
