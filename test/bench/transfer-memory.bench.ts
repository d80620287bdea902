/**
 * `vap fetch` keeps a flat resident set whatever the image size, by every
 * scheme: the same command fetches a 50 MB and a 200 MB file from the same
 * real server, in its own process with vap's V8 flags, and the peak RSS
 * (VmHWM) of both is compared — past start-up, a streaming fetch's memory
 * is a plateau (600 MB measured the same as 200 MB), so the difference is
 * what grows with the size. A row per scheme (tftp from vap tftp serve,
 * http/https from nginx, sftp from sshd, ftp/ftpes from vsftpd); another
 * transport is one more row.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningFileServer, type ServedFiles, servedFiles, startSshd, startVsftpd, stopFileServers } from "../support/file-servers.js";
import { removeLoginUsers } from "../support/login-user.js";
import { tempDir } from "../support/temp.js";
import { startNginx } from "../transfer/http/support.js";
import { servedDir } from "../transfer/tftp/support.js";
import { vapProcess } from "./vap-process.js";
import { report } from "./report.js";

const SIZE = Number(process.env.VAP_BENCH_IMAGE_BYTES ?? 200 * 1024 * 1024);
const SMALL = Math.min(SIZE, 50 * 1024 * 1024);
/** Growth of peak RSS from the small fetch to the big one that still counts as flat (allocator and GC timing). */
const FLAT_MB = 16;

/** A real server of one scheme: the directory it serves, the URL of that directory, the flags `vap fetch` needs for it. */
interface Served {
  dir: string;
  base: string;
  flags: string[];
  stop(): Promise<void>;
}

interface Row {
  scheme: string;
  start(): Promise<Served>;
}

async function loginServer(scheme: "sftp" | "ftp" | "ftpes", start: (s: ServedFiles) => Promise<RunningFileServer & { caFile?: string }>): Promise<Served> {
  const served = await servedFiles({});
  const server = await start(served);
  const base = `${scheme}://${served.user.name}:${encodeURIComponent(served.user.password)}@127.0.0.1:${server.port}`;
  return { dir: served.root, base, flags: scheme === "ftpes" ? ["--ca", server.caFile!] : [], stop: () => server.stop() };
}

async function webServer(scheme: "http" | "https"): Promise<Served> {
  const nginx = await startNginx({});
  const port = scheme === "http" ? nginx.httpPort : nginx.httpsPort;
  return { dir: nginx.root, base: `${scheme}://127.0.0.1:${port}`, flags: scheme === "https" ? ["--ca", nginx.caFile] : [], stop: () => nginx.stop() };
}

const ROWS: Row[] = [
  {
    scheme: "tftp",
    async start() {
      const dir = servedDir({});
      const { ports, child } = await vapProcess(["tftp", "serve", dir, "--address", "127.0.0.1", "--port", "0"], /on 127\.0\.0\.1:(\d+)/);
      const exited = new Promise((resolve) => child.once("exit", resolve));
      return { dir, base: `tftp://127.0.0.1:${ports[0]}`, flags: [], stop: async () => void (child.kill(), await exited) };
    },
  },
  { scheme: "http", start: () => webServer("http") },
  { scheme: "https", start: () => webServer("https") },
  { scheme: "sftp", start: () => loginServer("sftp", startSshd) },
  { scheme: "ftp", start: () => loginServer("ftp", startVsftpd) },
  { scheme: "ftpes", start: () => loginServer("ftpes", startVsftpd) },
];

const cli = join(dirname(fileURLToPath(import.meta.url)), "../../cli/vap.js");
// The flags of vap's shebang, as test/bench/run.ts gives every benchmark.
const vapFlags = readFileSync(cli, "utf8").split("\n", 1)[0]!.split(/\s+/).filter((a) => a.startsWith("--"));
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

interface FetchRun {
  /** Peak resident set (VmHWM) over the whole run. */
  peakRss: number;
  /** Resident set when a tenth, half and nine tenths of the file had arrived (FILE.part's size): flat means these stay level. */
  rssAt: Record<"10" | "50" | "90", number>;
  seconds: number;
  code: number | null;
}

/** Run `vap fetch url file` and follow its resident set, against how much of the file arrived, until it exits. */
async function fetchRss(url: string, file: string, size: number, flags: string[]): Promise<FetchRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [...vapFlags, cli, "fetch", url, file, ...flags], { stdio: "ignore" });
  let peakRss = 0;
  const rssAt = { "10": 0, "50": 0, "90": 0 };
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
      peakRss = Math.max(peakRss, kb("VmHWM"));
      const arrived = statSync(`${file}.part`).size / size;
      for (const at of ["10", "50", "90"] as const) if (rssAt[at] === 0 && arrived >= Number(at) / 100) rssAt[at] = kb("VmRSS");
    } catch {
      // Not begun, or exited between two samples: the last sample stands.
    }
  };
  const timer = setInterval(sample, 10);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearInterval(timer);
  return { peakRss, rssAt, seconds: (performance.now() - started) / 1000, code };
}

const out = tempDir("transfer-memory");
try {
  for (const row of ROWS) {
    const server = await row.start();
    execFileSync("sh", ["-c", `head -c ${SIZE} /dev/urandom > "$0/big" && head -c ${SMALL} /dev/urandom > "$0/small" && chmod 644 "$0/big" "$0/small"`, server.dir]);
    const small = await fetchRss(`${server.base}/small`, join(out, `${row.scheme}-small`), SMALL, server.flags);
    const big = await fetchRss(`${server.base}/big`, join(out, `${row.scheme}-big`), SIZE, server.flags);
    await server.stop();
    const intact = small.code === 0 && big.code === 0 && spawnSync("cmp", ["-s", join(server.dir, "big"), join(out, `${row.scheme}-big`)]).status === 0;
    for (const file of [join(server.dir, "big"), join(server.dir, "small"), join(out, `${row.scheme}-big`), join(out, `${row.scheme}-small`)]) rmSync(file, { force: true });
    report({
      bench: `transfer.${row.scheme}.rss-growth`,
      value: mb(big.peakRss - small.peakRss),
      unit: `MB (peak RSS fetching ${mb(SIZE)} MB minus fetching ${mb(SMALL)} MB)`,
      bound: FLAT_MB,
      boundKind: "target",
      peakRssMB: mb(big.peakRss),
      smallPeakRssMB: mb(small.peakRss),
      rssAt10: mb(big.rssAt["10"]),
      rssAt50: mb(big.rssAt["50"]),
      rssAt90: mb(big.rssAt["90"]),
      throughputMBps: mb(SIZE / big.seconds),
      intact,
    });
  }
} finally {
  await stopFileServers();
  await removeLoginUsers();
}
