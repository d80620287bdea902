/**
 * Every real server the compliance suite fetches from, behind one shape: it
 * serves a set of files, names the URL of each, builds the ImageSource a
 * caller would use for it, and can be killed. A new transport is one row.
 */
import { ftpImageSource, httpImageSource, type ImageSource, sftpImageSource, tftpImageSource } from "../../../agent/transfer/index.js";
import { type RunningFileServer, servedFiles, startSshd, startVsftpd } from "../../support/file-servers.js";
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
/** Connect and silence timeout for the TCP sources. */
const QUICK_TCP_MS = 2_000;
/** vsftpd (through PAM) answers a wrong password only after a few seconds, as a login should. */
const LOGIN_MS = 10_000;
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
    asksPassword: true,
    async start(files) {
      const nginx = await startNginx(files);
      const port = scheme === "http" ? nginx.httpPort : nginx.httpsPort;
      const at = (password: string, file: string) => `${scheme}://${nginx.user.name}:${password}@127.0.0.1:${port}/auth/${file}`;
      return {
        url: (file) => at(nginx.user.password, file),
        wrongPassword: (file) => at("wrong-secret", file),
        source: () => httpImageSource({ timeoutMs: QUICK_TCP_MS, ...(scheme === "https" ? { ca: nginx.caPem } : {}) }),
        stop: () => nginx.stop(),
      };
    },
  };
}

/** A server that logs a user in (sshd, vsftpd): a fresh user per start, the files in its (chroot) root. */
function loginRow(scheme: "sftp" | "ftp" | "ftpes", start: typeof startSshd | typeof startVsftpd): SourceServer {
  return {
    name: `${start === startSshd ? "sshd" : "vsftpd"} ${scheme}`,
    asksPassword: true,
    async start(files) {
      const served = await servedFiles(files);
      const server: RunningFileServer & { caPem?: string } = await start(served);
      const at = (password: string, file: string) => `${scheme}://${served.user.name}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/${file}`;
      const ca = scheme === "ftpes" ? { ca: server.caPem! } : {};
      return {
        url: (file) => at(served.user.password, file),
        wrongPassword: (file) => at("wrong-secret", file),
        source: () => (scheme === "sftp" ? sftpImageSource({ timeoutMs: LOGIN_MS }) : ftpImageSource({ timeoutMs: LOGIN_MS, ...ca })),
        stop: () => server.stop(),
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
  loginRow("sftp", startSshd),
  loginRow("ftp", startVsftpd),
  loginRow("ftpes", startVsftpd),
];
