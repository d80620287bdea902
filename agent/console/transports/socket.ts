/**
 * Each AP's console socket, for `vap console <AP name>`: a unix socket at
 * `<runtime dir>/<AP name>.console` (the runtime dir: $VAP_RUNTIME_DIR,
 * else $XDG_RUNTIME_DIR/vap, else /tmp/vap-<uid>; 0700, the socket 0600):
 * whoever can reach it is the AP's owner, so it opens sessions without
 * Username:/Password:. The frames (frames.ts) carry a whole terminal
 * session (keystrokes in, through the same line editor as SSH) or one
 * command line and its exit status.
 */
import { chmodSync, lstatSync, mkdirSync } from "node:fs";
import { connect, type Server, type Socket } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { type Clock, ConfigError, describeError, type Log, systemClock, VapError } from "../../core/index.js";
import { listenPrivateSocket } from "../../net/index.js";
import type { ApConsole } from "../types.js";
import { dataFrames, encodeFrame, type Frame, FrameDecoder, FrameError, FrameType } from "./frames.js";
import { CONSOLE_LIMITS, type ConsoleLimits } from "./limits.js";
import { ConsoleLink, type ConsolePort, runOneLine } from "./link.js";

/** An AP name as a file name: what Cisco allows in a hostname (letters, digits, dots, hyphens), and underscores. */
const AP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Status of an EXIT that ends a connection whose frames made no sense. */
const BAD_FRAMES_STATUS = 2;

/** Where the console socket of the AP named `name` is, in the runtime dir `dir`. */
export function consoleSocketPath(dir: string, name: string): string {
  if (!AP_NAME.test(name)) throw new ConfigError(`"${name.slice(0, 64)}" is not an AP name (letters, digits, '.', '-', '_'; at most 63)`);
  return join(dir, `${name}.console`);
}

/** The runtime dir, made if missing; it must be the user's own and closed to others (0700). */
export function ensureRuntimeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory()) throw new ConfigError(`console runtime dir ${dir}: not a directory`);
    if (process.getuid && st.uid !== process.getuid()) throw new ConfigError(`console runtime dir ${dir}: owned by uid ${st.uid}, not by this user`);
    if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`console runtime dir ${dir}: ${describeError(err)}`, { cause: err });
  }
}

function socketPort(socket: Socket, status: { code: number }): ConsolePort {
  return {
    write: (text) => {
      for (const frame of dataFrames(Buffer.from(text, "utf8"))) socket.write(frame);
    },
    close: () => void socket.end(encodeFrame(FrameType.exit, Uint8Array.of(status.code))),
    buffered: () => socket.writableLength,
  };
}

export interface ConsoleSocketOptions {
  log: Log;
  limits?: ConsoleLimits;
  clock?: Clock;
}

export class ConsoleSocketServer {
  readonly path: string;
  readonly #server: Server;
  readonly #connections = new Set<Socket>();

  private constructor(path: string, server: Server) {
    this.path = path;
    this.#server = server;
  }

  /** Listen at the console socket of `console` in the runtime dir `dir`. */
  static async listen(console: ApConsole, dir: string, options: ConsoleSocketOptions): Promise<ConsoleSocketServer> {
    ensureRuntimeDir(dir);
    const path = consoleSocketPath(dir, console.name);
    const server = await listenPrivateSocket(path, { what: "console socket", owner: "AP" });
    const socket = new ConsoleSocketServer(path, server);
    server.on("connection", (s) => socket.#converse(console, s, options));
    return socket;
  }

  /** Sessions open now. */
  get sessions(): number {
    return this.#connections.size;
  }

  /** Stop listening (the socket file goes) and end every session. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#connections) s.destroy();
    });
  }

  #converse(console: ApConsole, socket: Socket, options: ConsoleSocketOptions): void {
    const limits = options.limits ?? CONSOLE_LIMITS;
    const { log } = options;
    socket.on("error", (err) => log.debug(`Console: console socket client: ${describeError(err)}`));
    if (this.#connections.size >= limits.maxSessions) {
      log.warn(`Console: console socket session refused: ${limits.maxSessions} are open`);
      for (const frame of dataFrames(Buffer.from(`% Too many console sessions (${limits.maxSessions} open): try again later\n`))) socket.write(frame);
      socket.end(encodeFrame(FrameType.exit, Uint8Array.of(1)));
      return;
    }
    this.#connections.add(socket);
    const status = { code: 0 };
    const decoder = new FrameDecoder();
    const text = new StringDecoder("utf8");
    let link: ConsoleLink | undefined;
    let started = false;
    // Only the socket's owner can connect (0600 in a 0700 dir): the user is this process's.
    const user = userInfo().username;
    log.info(`Console: ${user} logged in on the console socket`);
    socket.on("close", () => {
      this.#connections.delete(socket);
      link?.end();
      log.info(`Console: ${user} logged out of the console socket`);
    });
    const refuse = (why: string) => {
      status.code = BAD_FRAMES_STATUS;
      const port = socketPort(socket, status);
      port.write(`% Bad console frame: ${why}\n`);
      port.close();
      link?.end();
      socket.removeAllListeners("data");
    };
    const frame = (f: Frame) => {
      if (!started) {
        started = true;
        if (f.type === FrameType.command) {
          const line = Buffer.from(f.payload).toString("utf8");
          void runOneLine(console, line, socketPort(socket, status), { limits, privileged: true }).then((code) => {
            status.code = code;
            socketPort(socket, status).close();
          });
          return;
        }
        if (f.type !== FrameType.attach) return refuse("the first frame is ATTACH or COMMAND");
        link = new ConsoleLink(console, socketPort(socket, status), { login: false, privileged: true, terminal: f.payload[0] === 1, limits, clock: options.clock ?? systemClock });
        return;
      }
      if (f.type !== FrameType.data || !link) return refuse("after ATTACH only DATA comes");
      link.input(text.write(f.payload));
    };
    socket.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        return refuse(err instanceof FrameError ? err.message : describeError(err));
      }
      for (const f of frames) frame(f);
    });
  }
}

/** Nothing answers at an AP's console socket: the one line `vap console` prints (exit status 1). */
export class NoApConsoleError extends VapError {
  constructor(name: string, path: string, why: string, options?: ErrorOptions) {
    super("VAP_NO_AP_CONSOLE", `no AP named ${name} answers on ${path} (${why}); is it running on this host, as this user?`, options);
  }
}

/** The client's side of a console socket: frames out, DATA and EXIT in. */
export interface ConsoleConnection {
  send(type: FrameType, payload?: Uint8Array): void;
  /** Keystrokes, as DATA frames. */
  type(bytes: Uint8Array): void;
  /** The AP's EXIT status, or an error if the connection ended without one. */
  readonly exit: Promise<number>;
  close(): void;
}

/** Connect to the console of the AP named `name` in the runtime dir `dir`; `output` takes what the AP prints. */
export function connectConsole(dir: string, name: string, output: (bytes: Uint8Array) => void): Promise<ConsoleConnection> {
  const path = consoleSocketPath(dir, name);
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("error", (err: NodeJS.ErrnoException) => reject(new NoApConsoleError(name, path, err.code ?? describeError(err), { cause: err })));
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      const decoder = new FrameDecoder();
      const exit = new Promise<number>((done, fail) => {
        let status: number | undefined;
        socket.on("data", (chunk: Buffer) => {
          try {
            for (const f of decoder.push(chunk)) {
              if (f.type === FrameType.data) output(f.payload);
              else if (f.type === FrameType.exit) status = f.payload[0] ?? 0;
            }
          } catch (err) {
            fail(err);
            socket.destroy();
          }
        });
        socket.on("error", (err) => fail(new NoApConsoleError(name, path, describeError(err), { cause: err })));
        socket.on("close", () => (status === undefined ? fail(new NoApConsoleError(name, path, "it closed the connection")) : done(status)));
      });
      exit.catch(() => {});
      resolve({
        send: (type, payload) => void socket.write(encodeFrame(type, payload)),
        type: (bytes) => {
          for (const frame of dataFrames(bytes)) socket.write(frame);
        },
        exit,
        close: () => socket.destroy(),
      });
    });
  });
}
