/**
 * The AP's SSH server (ssh2): password logins checked by the AP's
 * `authenticate` (the console owns the credentials), public-key logins
 * against OpenSSH authorized keys, a host key kept in the state dir; an
 * interactive shell on a pty through the shared line editor, or one
 * command per exec request (`ssh ap 'show version'`). A log line per login,
 * failed login and logout names the user, the peer and the method — never
 * a password.
 */
import { timingSafeEqual } from "node:crypto";
import { type AddressInfo, createServer, type Server as NetServer, type Socket } from "node:net";
import { StringDecoder } from "node:string_decoder";
// ssh2 is CommonJS: its named exports exist for the types only, at run time it is one object.
import ssh2, { type AuthContext, type Connection, type ParsedKey, type ServerChannel } from "ssh2";
import { type Clock, ConfigError, describeError, type Log, systemClock } from "../../core/index.js";
import type { ApConsole } from "../types.js";
import { CONSOLE_LIMITS, type ConsoleLimits } from "./limits.js";
import { ConsoleLink, type ConsolePort, type LinkEnd, runOneLine } from "./link.js";

export interface SshConsoleOptions {
  /** TCP port (0: any free one; `port` on the server says which). */
  port: number;
  address: string;
  /** The host key, OpenSSH private key text (loadHostKey). */
  hostKey: string;
  /** Password logins: whether `user` may log in with `password`. Without it, no password login. */
  authenticate?(user: string, password: string): boolean | Promise<boolean>;
  /** Public-key logins: OpenSSH authorized_keys lines (`ssh-ed25519 AAAA… comment`); any user name. */
  authorizedKeys?: readonly string[];
  log: Log;
  limits?: ConsoleLimits;
  clock?: Clock;
}

/** A user name as it may appear in a log line: printable, bounded. */
function printable(user: string): string {
  const clean = user.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}

/** The public keys of authorized_keys lines; a line that is no key is an operator's mistake, said once. */
function parseAuthorizedKeys(lines: readonly string[]): ParsedKey[] {
  return lines
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((line, i) => {
      const key = ssh2.utils.parseKey(line);
      if (key instanceof Error) throw new ConfigError(`authorized key ${i + 1}: not an OpenSSH public key (${key.message})`);
      return key;
    });
}

/** The port an ssh2 channel is, for the console link; closing a shell exits 0 (an exec request sets its own status). */
function channelPort(channel: ServerChannel, shell: boolean): ConsolePort {
  return {
    write: (text) => void channel.write(text),
    close: () => {
      if (shell) channel.exit(0);
      channel.end();
    },
    buffered: () => channel.writableLength,
  };
}

/** A TCP connection not yet logged in: counted, and dropped at the login timeout. */
interface Pending {
  loggedIn(): void;
}

export class SshConsoleServer {
  /** TCP is ours, so that a connection counts from its first byte (ssh2 reports one only once its client sent its version line). */
  readonly #tcp: NetServer;
  readonly #ssh: ssh2.Server;
  readonly #sockets = new Set<Socket>();
  /** Connections not logged in yet, by peer address:port. */
  readonly #pending = new Map<string, Pending>();
  #sessions = 0;

  private constructor(tcp: NetServer, ssh: ssh2.Server) {
    this.#tcp = tcp;
    this.#ssh = ssh;
  }

  /** The port it listens on. */
  get port(): number {
    return (this.#tcp.address() as AddressInfo).port;
  }

  /** Sessions (shells and exec requests) open now. */
  get sessions(): number {
    return this.#sessions;
  }

  static async listen(console: ApConsole, options: SshConsoleOptions): Promise<SshConsoleServer> {
    const keys = parseAuthorizedKeys(options.authorizedKeys ?? []);
    const limits = options.limits ?? CONSOLE_LIMITS;
    const tcp = createServer();
    const ssh = new SshConsoleServer(tcp, new ssh2.Server({ hostKeys: [options.hostKey], ident: "vap" }));
    tcp.on("connection", (socket) => ssh.#admitTcp(socket, limits, options.log));
    ssh.#ssh.on("connection", (client, info) => ssh.#connection(console, client, `${info.ip}:${info.port}`, keys, options));
    await new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(options.port, options.address, () => {
        tcp.off("error", reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw new ConfigError(`SSH console on ${options.address}:${options.port}: cannot listen: ${describeError(err)}`, { cause: err });
    });
    return ssh;
  }

  /** Stop listening and end every connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#tcp.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
  }

  /** A new TCP connection: refused past maxUnauthenticated, dropped if it has not logged in within loginTimeoutMs, else handed to ssh2. */
  #admitTcp(socket: Socket, limits: ConsoleLimits, log: Log): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.#pending.size >= limits.maxUnauthenticated) {
      log.warn(`Console: SSH connection from ${peer} refused: ${limits.maxUnauthenticated} are logging in already`);
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    const timer = setTimeout(() => socket.destroy(), limits.loginTimeoutMs);
    timer.unref();
    const pending = {
      loggedIn: () => {
        clearTimeout(timer);
        if (this.#pending.get(peer) === pending) this.#pending.delete(peer);
      },
    };
    this.#pending.set(peer, pending);
    socket.once("close", () => {
      pending.loggedIn();
      this.#sockets.delete(socket);
    });
    this.#ssh.injectSocket(socket);
  }

  #connection(console: ApConsole, client: Connection, peer: string, keys: readonly ParsedKey[], options: SshConsoleOptions): void {
    const limits = options.limits ?? CONSOLE_LIMITS;
    const { log } = options;
    client.on("error", (err) => log.debug(`Console: SSH connection from ${peer}: ${describeError(err)}`));
    const loggedIn = () => this.#pending.get(peer)?.loggedIn();
    let failures = 0;
    let user = "";
    let method = "";
    const methods = [...(options.authenticate ? (["password"] as const) : []), ...(keys.length > 0 ? (["publickey"] as const) : [])];

    const fail = (ctx: AuthContext) => {
      failures++;
      log.warn(`Console: SSH login failed for ${printable(ctx.username)} from ${peer} (${ctx.method})`);
      if (failures >= limits.maxAuthFailures) {
        log.warn(`Console: SSH connection from ${peer} closed after ${failures} failed logins`);
        // A disconnect, not one more failure: a failure with no methods left would still have OpenSSH try keyboard-interactive.
        client.end();
      } else ctx.reject([...methods]);
    };

    client.on("authentication", (ctx) => {
      if (ctx.method === "password" && options.authenticate) {
        void Promise.resolve(options.authenticate(ctx.username, ctx.password)).then(
          (ok) => (ok ? accept(ctx) : fail(ctx)),
          () => fail(ctx),
        );
      } else if (ctx.method === "publickey" && keys.length > 0) {
        const key = keys.find((k) => k.type === ctx.key.algo && equal(k.getPublicSSH(), ctx.key.data));
        // Without a signature the client only asks whether the key would do; that is no failed login.
        if (!ctx.signature) return key ? ctx.accept() : ctx.reject([...methods]);
        if (key && ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) accept(ctx);
        else fail(ctx);
      } else ctx.reject([...methods]);
    });

    const accept = (ctx: AuthContext) => {
      loggedIn();
      user = ctx.username;
      method = ctx.method;
      log.info(`Console: ${printable(user)} logged in over SSH from ${peer} (${method})`);
      client.once("close", () => log.info(`Console: ${printable(user)} logged out of SSH from ${peer}`));
      ctx.accept();
    };

    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        let pty = false;
        session.on("pty", (ok) => {
          pty = true;
          ok?.();
        });
        session.on("window-change", (ok) => ok?.());
        session.on("env", (ok) => ok?.());
        session.on("shell", (ok) => this.#shell(console, ok(), { client, user, pty, limits, clock: options.clock ?? systemClock, log, peer }));
        session.on("exec", (ok, _reject, info) => this.#exec(console, ok(), info.command, { client, user, limits, log, peer }));
      });
    });
  }

  /** Over the limit: say so on the channel and close it; else count it until it or its connection closes. */
  #admit(client: Connection, channel: ServerChannel, limits: ConsoleLimits, log: Log, peer: string): boolean {
    if (this.#sessions >= limits.maxSessions) {
      log.warn(`Console: SSH session from ${peer} refused: ${limits.maxSessions} are open`);
      channel.write(`% Too many console sessions (${limits.maxSessions} open): try again later\r\n`);
      channel.exit(1);
      channel.end();
      return false;
    }
    this.#sessions++;
    let open = true;
    const closed = () => {
      if (open) this.#sessions--;
      open = false;
    };
    // A channel whose input nobody reads (exec) never emits "close": its connection's does.
    channel.once("close", closed);
    client.once("close", closed);
    return true;
  }

  #shell(console: ApConsole, channel: ServerChannel, o: { client: Connection; user: string; pty: boolean; limits: ConsoleLimits; clock: Clock; log: Log; peer: string }): void {
    if (!this.#admit(o.client, channel, o.limits, o.log, o.peer)) return;
    const link = new ConsoleLink(console, channelPort(channel, true), {
      login: false,
      user: o.user,
      terminal: o.pty,
      limits: o.limits,
      clock: o.clock,
      onEnd: (why: LinkEnd) => {
        if (why === "flood" || why === "stalled" || why === "idle") o.log.info(`Console: SSH session of ${printable(o.user)} from ${o.peer} ended (${why})`);
      },
    });
    const decoder = new StringDecoder("utf8");
    channel.on("data", (data: Buffer) => link.input(decoder.write(data)));
    channel.on("close", () => link.end());
    channel.on("error", () => link.end());
  }

  #exec(console: ApConsole, channel: ServerChannel, command: string, o: { client: Connection; user: string; limits: ConsoleLimits; log: Log; peer: string }): void {
    if (!this.#admit(o.client, channel, o.limits, o.log, o.peer)) return;
    channel.on("error", () => channel.destroy());
    void runOneLine(console, command, channelPort(channel, false), { user: o.user, limits: o.limits }).then((status) => {
      channel.exit(status);
      channel.end();
    });
  }
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
