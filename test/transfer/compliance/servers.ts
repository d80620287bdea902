/**
 * Every real server the compliance suite fetches from, behind one shape: it
 * serves a set of files, names the URL of each, builds the ImageSource a
 * caller would use for it, and can be killed. A new transport is one row.
 */
import { httpImageSource, type ImageSource, tftpImageSource } from "../../../agent/transfer/index.js";
import { startNginx } from "../http/support.js";
import { servedDir, startAtftpd, startTftpdHpa, startVapTftpServe } from "../tftp/support.js";

export interface ServedFiles {
  [name: string]: Uint8Array;
}

export interface RunningSource {
  /** The URL of a served file, credentials included where the server wants them. */
  url(name: string): string;
  /** The source a caller builds for this server; `large` fetches a file past 65535 blocks where blocks exist. */
  source(o?: { large?: boolean }): ImageSource;
  /** The same server asked with a wrong password, where it asks for one. */
  wrongPassword?(name: string): string;
  /** Gone at once, as a crashed or unplugged server: no goodbye to the client. */
  stop(): Promise<void>;
}

export interface SourceServer {
  name: string;
  /** It asks for a password, so a wrong one can be tried. */
  asksPassword: boolean;
  start(files: ServedFiles): Promise<RunningSource>;
}

/** A client that notices a dead server within seconds: 50 ms doubling, three times. */
const QUICK_TFTP = { timeoutMs: 50, retries: 3 } as const;
const QUICK_HTTP_MS = 2_000;
/** RFC 1350's 512-byte blocks, windowed, so a 32 MiB file passes block 65535. */
const ROLLOVER_REQUEST = { blockSize: 512, windowSize: 16, askSize: true } as const;

function tftpRow(name: string, start: (dir: string) => Promise<{ port: number; stop(): Promise<void> }>): SourceServer {
  return {
    name,
    asksPassword: false,
    async start(files) {
      const server = await start(servedDir(files));
      return {
        url: (file) => `tftp://127.0.0.1:${server.port}/${file}`,
        source: (o) => tftpImageSource({ ...QUICK_TFTP, ...(o?.large ? { request: ROLLOVER_REQUEST } : {}) }),
        stop: () => server.stop(),
      };
    },
  };
}

function nginxRow(scheme: "http" | "https"): SourceServer {
  return {
    name: `nginx ${scheme}`,
    asksPassword: false,
    async start(files) {
      const nginx = await startNginx(files);
      const port = scheme === "http" ? nginx.httpPort : nginx.httpsPort;
      return {
        url: (file) => `${scheme}://127.0.0.1:${port}/${file}`,
        source: () => httpImageSource({ timeoutMs: QUICK_HTTP_MS, ...(scheme === "https" ? { ca: nginx.caPem } : {}) }),
        stop: () => nginx.stop(),
      };
    },
  };
}

export const SOURCE_SERVERS: readonly SourceServer[] = [
  tftpRow("vap tftp serve", (dir) => startVapTftpServe(dir)),
  tftpRow("tftpd-hpa", (dir) => startTftpdHpa(dir)),
  tftpRow("atftpd", (dir) => startAtftpd(dir)),
  nginxRow("http"),
  nginxRow("https"),
];
