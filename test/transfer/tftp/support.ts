/** Real peers, files and sinks for the TFTP tests: tftpd-hpa, atftpd and their clients on free loopback ports. */
import { type ChildProcess, execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Random, seededRandom, spawnGrouped } from "../../../agent/core/index.js";
import type { ImageDescription, ImageSink } from "../../../agent/transfer/index.js";
import { requirePeer } from "../../support/peers.js";
import { tempDir } from "../../support/temp.js";

/** Where .ci/install-peers unpacks atftpd (it conflicts with tftpd-hpa as a package). */
export const ATFTPD = "/opt/atftpd/usr/sbin/atftpd";

import { setTimeout as sleep } from "node:timers/promises";

export { sleep };

/** Seeded content, so a failure names the same bytes every run. */
export function content(size: number, seed = size): Uint8Array {
  return seededRandom(seed).bytes(size);
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * A directory of files any user can read: tftpd-hpa and atftpd drop to
 * tftp/nobody, and tempDir() is private to root.
 */
export function servedDir(files: Record<string, Uint8Array>): string {
  const dir = tempDir("tftp");
  chmodSync(dir, 0o755);
  for (const [name, bytes] of Object.entries(files)) {
    writeFileSync(join(dir, name), bytes);
    chmodSync(join(dir, name), 0o644);
  }
  return dir;
}

import { freeUdpPort } from "../../support/loopback.js";

export { freeUdpPort };

async function portTaken(port: number): Promise<boolean> {
  const s = createSocket("udp4");
  return new Promise((resolve) => {
    s.once("error", () => resolve(true));
    s.bind({ port, address: "127.0.0.1", exclusive: true }, () => s.close(() => resolve(false)));
  });
}

export interface RunningServer {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** How long a daemon may take to bind its port on a loaded machine, and how often another process may take the free port first. */
const DAEMON_START_MS = 10_000;
const DAEMON_PORT_TRIES = 3;

async function startDaemon(program: string, args: (port: number) => string[]): Promise<RunningServer> {
  let failure = "";
  for (let attempt = 0; attempt < DAEMON_PORT_TRIES; attempt++) {
    const port = await freeUdpPort();
    // Its own process group: tftpd-hpa forks a child per transfer, and stop() must end those too.
    const { process: child, stderr, stop } = spawnGrouped(program, args(port));
    const started = Date.now();
    while (!(await portTaken(port)) && child.exitCode === null && Date.now() - started < DAEMON_START_MS) await sleep(10);
    // Bound by someone else meanwhile: our daemon exits (port in use); try another port.
    if (child.exitCode === null && (await portTaken(port))) return { port, process: child, stop };
    await stop();
    failure = `${program} did not start on port ${port}: ${stderr()}`;
  }
  throw new Error(failure);
}

/** tftpd-hpa in the foreground on 127.0.0.1, confined to `dir` (--secure); `extra` e.g. ["--refuse", "blksize"]. */
export function startTftpdHpa(dir: string, extra: string[] = []): Promise<RunningServer> {
  return startDaemon(requirePeer("/usr/sbin/in.tftpd"), (port) => ["--foreground", "--listen", "--address", `127.0.0.1:${port}`, "--secure", ...extra, dir]);
}

export interface LoggedTftpdHpa extends RunningServer {
  /** The RRQs tftpd-hpa --verbose logged so far: who asked for which file. */
  requests(): { from: string; file: string }[];
}

/**
 * startTftpdHpa() with its --verbose log kept: tftpd-hpa logs only to
 * syslog (/dev/log), which this machine has none of. The daemon runs in a
 * mount namespace of its own whose /dev is a fresh tmpfs holding just a
 * `log` bound to a socket socat reads into a file, so the host's /dev is
 * never touched.
 */
export async function startLoggedTftpdHpa(dir: string): Promise<LoggedTftpdHpa> {
  const logDir = tempDir("tftpd-log");
  const socket = join(logDir, "log");
  const file = join(logDir, "syslog");
  const reader = spawnGrouped(requirePeer("socat"), ["-u", `UNIX-RECV:${socket},mode=666`, `OPEN:${file},creat,append`]);
  const started = Date.now();
  while (!existsSync(socket) && reader.process.exitCode === null && Date.now() - started < DAEMON_START_MS) await sleep(10);
  if (!existsSync(socket)) {
    await reader.stop();
    throw new Error(`socat did not listen on ${socket}: ${reader.stderr()}`);
  }
  const tftpd = requirePeer("/usr/sbin/in.tftpd");
  const server = await startDaemon(requirePeer("unshare"), (port) => [
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    `mount -t tmpfs tmpfs /dev && touch /dev/log /dev/null && mount --bind "$0" /dev/log && exec "$1" --foreground --listen --address 127.0.0.1:${port} --secure --verbose "$2"`,
    socket,
    tftpd,
    dir,
  ]).catch(async (err: unknown) => {
    await reader.stop();
    throw err;
  });
  return {
    ...server,
    async stop() {
      await server.stop();
      await reader.stop();
    },
    requests() {
      const log = existsSync(file) ? readFileSync(file, "utf8") : "";
      return [...log.matchAll(/RRQ from (\S+) filename (\S+)/g)].map((m) => ({ from: m[1]!, file: m[2]! }));
    },
  };
}

/** atftpd standalone on 127.0.0.1 serving `dir`; `extra` e.g. ["--no-windowsize"]. */
export function startAtftpd(dir: string, extra: string[] = []): Promise<RunningServer> {
  return startDaemon(requirePeer(ATFTPD), (port) => ["--daemon", "--no-fork", "--port", String(port), "--bind-address", "127.0.0.1", "--logfile", "/dev/null", ...extra, dir]);
}

/** The built `vap` (npm test builds it first). */
const VAP = join(import.meta.dirname, "../../../dist/cli/vap.js");

/** `vap tftp serve dir` as its own process on 127.0.0.1, so a test can kill it as abruptly as a daemon. */
export function startVapTftpServe(dir: string, extra: string[] = []): Promise<RunningServer> {
  return startDaemon(process.execPath, (port) => [VAP, "tftp", "serve", dir, "--address", "127.0.0.1", "--port", String(port), ...extra]);
}

export interface ClientRun {
  code: number;
  output: string;
}

/** Run a peer client to completion (never throws on its exit status: the test judges). */
export function runClient(program: string, args: string[], timeoutMs = 60_000): Promise<ClientRun> {
  return new Promise((resolve) => {
    execFile(requirePeer(program), args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** An ImageSink that hashes what it gets and records the calls; `writeDelayMs` makes it slow (back-pressure). */
export class RecordingSink implements ImageSink {
  readonly calls: string[] = [];
  began: ImageDescription | undefined;
  bytes = 0;
  /** Each write's length, in order. */
  readonly writeSizes: number[] = [];
  /** The memory the writes' chunks lay in (a source may reuse a chunk's once its write resolved). */
  readonly chunkBuffers = new Set<ArrayBufferLike>();
  /** Writes started but not finished: more than one at a time would mean the source ignored back-pressure. */
  writing = 0;
  maxWriting = 0;
  readonly #hash = createHash("sha256");

  constructor(private readonly writeDelayMs = 0) {}

  async begin(image: ImageDescription): Promise<void> {
    this.calls.push("begin");
    this.began = image;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.writing++;
    this.maxWriting = Math.max(this.maxWriting, this.writing);
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    this.writeSizes.push(chunk.length);
    this.chunkBuffers.add(chunk.buffer);
    if (this.writeDelayMs > 0) await sleep(this.writeDelayMs);
    this.writing--;
  }

  async finish() {
    this.calls.push("finish");
    return {};
  }

  async abort(reason: string): Promise<void> {
    this.calls.push(`abort: ${reason}`);
  }

  get sha256(): string {
    return this.#hash.copy().digest("hex");
  }
}

/**
 * A seeded lossy relay for one TFTP client: it drops each datagram either
 * way with probability `loss`, and follows the server's transfer id (which
 * the in-repo WAN proxy cannot: its replies must come from the port it
 * sent to), so the client sees only the relay's port.
 */
export class LossyTftpRelay {
  dropped = 0;
  relayed = 0;
  #client: { address: string; port: number } | undefined;
  #serverPort: number;

  private constructor(
    private readonly listen: Socket,
    private readonly upstream: Socket,
    serverPort: number,
    private readonly loss: number,
    private readonly random: Random,
  ) {
    this.#serverPort = serverPort;
    listen.on("message", (m, r) => {
      this.#client = { address: r.address, port: r.port };
      this.#pass(() => upstream.send(m, this.#serverPort, "127.0.0.1"));
    });
    upstream.on("message", (m, r) => {
      this.#serverPort = r.port;
      if (this.#client) this.#pass(() => listen.send(m, this.#client!.port, this.#client!.address));
    });
  }

  static async open(serverPort: number, loss: number, seed: number): Promise<LossyTftpRelay> {
    const bind = async () => {
      const s = createSocket("udp4");
      await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
      return s;
    };
    return new LossyTftpRelay(await bind(), await bind(), serverPort, loss, seededRandom(seed));
  }

  get port(): number {
    return this.listen.address().port;
  }

  #pass(send: () => void): void {
    if (this.random.next() < this.loss) this.dropped++;
    else {
      this.relayed++;
      send();
    }
  }

  close(): void {
    this.listen.close();
    this.upstream.close();
  }
}
