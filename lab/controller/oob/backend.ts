/** What the embedded server and nginx share: the options, what a transfer is, and binding the listener's port. */
import type { EventEmitter } from "node:events";
import { createServer, isIP, type ListenOptions, type Server, type Socket } from "node:net";
import { type Clock, ConfigError, describeError, type Log } from "../../../agent/core/index.js";
import type { OobFault } from "./faults.js";
import type { OobTokens, OobVerdict } from "./tokens.js";

export const OOB_SERVER_KINDS = ["embedded", "nginx"] as const;
export type OobServerKind = (typeof OOB_SERVER_KINDS)[number];

export interface OobServerOptions {
  kind: OobServerKind;
  /** Files named by class: DIR/ap1g8 …, served read-only; only class-like names (`^[a-z0-9]+$`) are ever opened. */
  bundleDir: string;
  /** The listen address, also the URL's host: an IP address. */
  address: string;
  /** 0: any free port. A port in use is a ConfigError naming it. */
  port: number;
  /** PEM: the controller's certificate chain (leaf, then intermediates) and its key. */
  cert: string;
  key: string;
  tokens: OobTokens;
  fault?: OobFault;
  log: Log;
  clock?: Clock;
  /**
   * nginx: the folder under which it gets a private folder for its config,
   * key, pid, logs, socket and temp files, removed at close (default: the
   * system's temp dir). As root, nginx's workers run as the bundle's owner,
   * who must be able to reach this folder.
   */
  workDir?: string;
  /** nginx: the program (default: `nginx` in PATH, /usr/sbin or /usr/local/sbin). */
  nginx?: string;
}

/** One response of the file server, when it ended. */
export interface OobTransfer {
  /** The AP the token was issued to; absent when the request had no valid one. */
  ap?: string;
  /** The client's address. */
  address: string;
  /** The image class, or the path asked for when it named none. */
  file: string;
  /** Body bytes sent. */
  bytes: number;
  seconds: number;
  status: number;
  /** The whole response went out (false: stalled, truncated, or the client left). */
  complete: boolean;
  method: "HTTPS";
}

export interface OobFileServerEvents {
  transfer: [OobTransfer];
}

export interface OobFileServer extends EventEmitter<OobFileServerEvents> {
  readonly port: number;
  /** https://<address>:<port>/images/<class> (an IPv6 address bracketed). */
  url(image: string): string;
  /** Stops the listener (and nginx), removes the files it created. */
  close(): Promise<void>;
}

/** What a running server is, to the FileServer in front of it. */
export interface Backend {
  port: number;
  close(): Promise<void>;
}

/** What a backend is given: the options, the certificate to present, and the one way to check a request and to report a transfer. */
export interface BackendContext {
  o: OobServerOptions & { clock: Clock };
  tls: { cert: string; key: string };
  authorize(authorization: string | undefined, address: string, image: string): OobVerdict;
  report(transfer: OobTransfer): void;
}

/** The operator's one line for a port that cannot be bound. */
export function bindError(address: string, port: number, err: unknown): ConfigError {
  if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") return new ConfigError(`HTTPS port ${port} is in use (ap file-transfer https port)`, { cause: err });
  return new ConfigError(`cannot listen for HTTPS on ${hostPort(address, port)}: ${describeError(err)}`, { cause: err });
}

export function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Bind `address`:`port` and let it go again: the port (a free one for 0),
 * or the ConfigError an in-use port is. For the `refuse` fault and for nginx,
 * which cannot be asked for port 0.
 */
export function probePort(address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (err) => reject(bindError(address, port, err)));
    server.listen({ host: address, port, exclusive: true }, () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}


/** close() for `server` that does not wait for its clients: every connection, a stalled transfer's too, is destroyed. */
export function closingAll(server: Server): () => Promise<void> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
}

/** Listen, rejecting with the bind error; once listening, a server error (an accept failing: EMFILE) is a warning, not a crash. */
export async function listen(server: Server, options: ListenOptions, log: Log): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => log.warn(`OOB HTTPS server: ${describeError(err)}`));
}
