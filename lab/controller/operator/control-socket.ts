/**
 * The controller's local control socket: a unix socket, mode 0600 (whoever
 * can reach it is the operator), over which `vap controller exec` sends
 * command lines and reads back what IOS would print. One JSON object a
 * line each way — `{"command", "indent"?}` in, `{"ok", "text", "prompt"}`
 * out — any number per connection (the interactive prompt keeps one open).
 */
import { connect, type Server, type Socket } from "node:net";
import { describeError, type Log, VapError } from "../../../agent/core/index.js";
import { listenPrivateSocket } from "../../../agent/net/index.js";
import type { Answer } from "../../../agent/console/index.js";
import { operatorCommand } from "./commands.js";
import { EXEC_TIMEOUT_MS, MAX_REQUEST_BYTES, promptOf } from "./limits.js";
import type { OperatorContext } from "./views.js";

/** One answer on the wire: the command's text, and the prompt an interactive client shows next. */
export interface WireAnswer extends Answer {
  prompt: string;
}

export class ControlSocket {
  readonly path: string;
  readonly #server: Server;
  readonly #log: Log;
  #context: OperatorContext | undefined;
  readonly #connections = new Set<Socket>();

  private constructor(path: string, server: Server, log: Log) {
    this.path = path;
    this.#server = server;
    this.#log = log;
    server.on("connection", (socket) => this.#converse(socket));
  }

  /** Listen on `path` (mode 0600); commands are answered once serve() gives the controller. */
  static async listen(path: string, log: Log): Promise<ControlSocket> {
    const server = await listenPrivateSocket(path, { what: "--control-socket", owner: "controller" });
    return new ControlSocket(path, server, log);
  }

  serve(context: OperatorContext): void {
    this.#context = context;
  }

  /** Stop listening (the socket file goes with it) and end every connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#connections) socket.destroy();
    });
  }

  #answer(request: string): WireAnswer {
    const context = this.#context;
    const prompt = promptOf(context?.controller.name ?? "");
    let command: unknown;
    let indent: unknown;
    try {
      ({ command, indent } = JSON.parse(request) as { command?: unknown; indent?: unknown });
    } catch {
      return { ok: false, text: "% Bad request: not JSON\n", prompt };
    }
    if (typeof command !== "string" || (indent !== undefined && (typeof indent !== "number" || !Number.isInteger(indent) || indent < 0 || indent > MAX_REQUEST_BYTES))) {
      return { ok: false, text: '% Bad request: expected {"command": string, "indent"?: number}\n', prompt };
    }
    if (!context) return { ok: false, text: "% The controller is still starting\n", prompt };
    return { ...operatorCommand(command, context, indent === undefined ? {} : { indent }), prompt };
  }

  #converse(socket: Socket): void {
    let pending = "";
    this.#connections.add(socket);
    socket.on("close", () => this.#connections.delete(socket));
    socket.setEncoding("utf8");
    socket.on("error", (err) => this.#log.debug(`control socket client: ${describeError(err)}`));
    socket.on("data", (chunk: string) => {
      pending += chunk;
      let end: number;
      while ((end = pending.indexOf("\n")) >= 0) {
        const request = pending.slice(0, end);
        pending = pending.slice(end + 1);
        socket.write(`${JSON.stringify(this.#answer(request))}\n`);
      }
      if (pending.length > MAX_REQUEST_BYTES) {
        socket.end(`${JSON.stringify({ ok: false, text: `% Bad request: longer than ${MAX_REQUEST_BYTES} bytes\n`, prompt: "" })}\n`);
        pending = "";
      }
    });
  }
}

/** No controller answers at the socket: the one line `vap controller exec` prints (exit status 1). */
export class NoControllerError extends VapError {
  constructor(path: string, why: string, options?: ErrorOptions) {
    super("VAP_NO_CONTROLLER", `no controller listening on ${path} (${why})`, options);
  }
}

/** A connection to a controller's control socket: ask() one command line at a time. */
export class ControlClient {
  readonly #socket: Socket;
  readonly #waiting: { resolve: (a: WireAnswer) => void; reject: (e: Error) => void }[] = [];
  #received = "";

  private constructor(socket: Socket, path: string) {
    this.#socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.#received += chunk;
      let end: number;
      while ((end = this.#received.indexOf("\n")) >= 0) {
        const line = this.#received.slice(0, end);
        this.#received = this.#received.slice(end + 1);
        this.#waiting.shift()?.resolve(JSON.parse(line) as WireAnswer);
      }
    });
    const gone = (err?: Error) => {
      for (const w of this.#waiting.splice(0)) w.reject(new NoControllerError(path, err ? describeError(err) : "it closed the connection"));
    };
    socket.on("error", gone);
    socket.on("close", () => gone());
  }

  static connect(path: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new ControlClient(socket, path));
      });
      socket.once("error", (err: NodeJS.ErrnoException) => reject(new NoControllerError(path, err.code ?? describeError(err), { cause: err })));
    });
  }

  /** Send one command line; resolves with the controller's answer, or fails after EXEC_TIMEOUT_MS. */
  ask(command: string, indent?: number): Promise<WireAnswer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new VapError("VAP_EXEC_TIMEOUT", `the controller did not answer within ${EXEC_TIMEOUT_MS / 1000} s`)), EXEC_TIMEOUT_MS);
      const settle = <T>(f: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        f(v);
      };
      this.#waiting.push({ resolve: settle(resolve), reject: settle(reject) });
      this.#socket.write(`${JSON.stringify(indent === undefined ? { command } : { command, indent })}\n`);
    });
  }

  close(): void {
    this.#socket.end();
  }
}
