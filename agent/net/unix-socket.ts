/**
 * A local control socket only its owner may use: a unix socket created
 * 0600 from birth, in place of a stale one its dead owner left behind. The
 * lab controller's `vap controller exec` socket and each AP's `vap console`
 * socket are both one of these.
 */
import { lstatSync, unlinkSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { ConfigError, describeError } from "../core/index.js";

/** How a socket's mistakes are named: `--control-socket PATH: another controller is listening there`. */
export interface UnixSocketLabel {
  /** What the one-line error starts with, before the path: the flag or the thing ("--control-socket", "console socket"). */
  readonly what: string;
  /** Who would be listening there: "controller", "AP". */
  readonly owner: string;
}

/** Whether something accepts connections on the unix socket `path` now. */
function answering(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNREFUSED" || err.code === "ENOENT" ? resolve(false) : reject(err)));
  });
}

/**
 * Make `path` free for a new socket: nothing there, or the socket of an
 * owner that died without removing it (nobody answers: it is replaced). A
 * live owner's socket, or a file that is no socket, is the operator's to
 * sort out.
 */
async function claim(path: string, label: UnixSocketLabel): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new ConfigError(`${label.what} ${path}: ${describeError(err)}`, { cause: err });
  }
  if (!isSocket) throw new ConfigError(`${label.what} ${path}: exists and is not a socket`);
  const live = await answering(path).catch((err: unknown) => {
    throw new ConfigError(`${label.what} ${path}: ${describeError(err)}`, { cause: err });
  });
  if (live) throw new ConfigError(`${label.what} ${path}: another ${label.owner} is listening there`);
  unlinkSync(path);
}

/** A server listening on the unix socket `path`, mode 0600; Node removes the file when it closes. */
export async function listenPrivateSocket(path: string, label: UnixSocketLabel): Promise<Server> {
  await claim(path, label);
  const server = createServer();
  const listening = new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  // The socket file takes its mode from the umask at bind(), which listen() does at once: 0600 from birth, never readable by others in between.
  const umask = process.umask(0o177);
  try {
    server.listen(path);
  } finally {
    process.umask(umask);
  }
  await listening.catch((err: unknown) => {
    throw new ConfigError(`${label.what} ${path}: cannot listen: ${describeError(err)}`, { cause: err });
  });
  return server;
}
