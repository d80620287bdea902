/**
 * The OOB file server as a real controller runs it: nginx serving the bundle
 * over TLS (`--https-server nginx`). The controller writes nginx's config
 * into a private folder, starts it (`daemon off`, its own process group),
 * and stops it at close. nginx asks the controller about every request
 * (`auth_request` to a small HTTP endpoint on a unix socket in that folder,
 * which verifies the token) and logs every response as a JSON line that the
 * controller reads back as `transfer` events.
 *
 * Faults, with nginx still in the path of every one:
 * - refuse: no nginx at all (server.ts), the URL's port is free;
 * - tls: nginx presents the untrusted certificate server.ts made;
 * - token: the auth endpoint answers 403 to every token;
 * - 404: the images location's root is an empty folder: nginx's own 404, after the token check;
 * - stall, truncate, corrupt: nginx proxies the images location (unbuffered)
 *   to the controller's endpoint, which sends the file through the same
 *   serveFile() as the embedded server, shaped by the fault: nginx passes
 *   the silence on, closes the client's connection when its upstream closes
 *   early, and relays the flipped bytes. A corrupt copy on disk would cost a
 *   second copy of every image; nginx itself cannot stall or cut a response.
 */
import { accessSync, chmodSync, chownSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, symlinkSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError, describeError, type GroupedDaemon, spawnGrouped } from "../../../agent/core/index.js";
import { type Backend, type BackendContext, bindError, closingAll, hostPort, listen, type OobTransfer, probePort } from "./backend.js";
import { type OobFault, isBodyFault } from "./faults.js";
import { ACCESS_LOG_POLL_MS, NGINX_PORT_TRIES, NGINX_START_TIMEOUT_MS, NGINX_STALL_HOLD_S, NGINX_STOP_TIMEOUT_MS, NGINX_WORKER_CONNECTIONS } from "./limits.js";
import { answer, requestTarget, serveFile, type Tally } from "./serve.js";

/** The account nginx's workers run as when the controller is root (nginx then demands one). */
interface WorkerAccount {
  uid: number;
  gid: number;
  user: string;
  group: string;
}

/** What the controller writes into nginx's folder. */
interface Layout {
  dir: string;
  conf: string;
  pid: string;
  errorLog: string;
  accessLog: string;
  socket: string;
}

/** The path of the auth endpoint on the controller's socket, and the headers nginx tells it the request with. */
const AUTH_PATH = "/auth";
const IMAGE_HEADER = "x-oob-image";
const ADDRESS_HEADER = "x-oob-address";
const AP_HEADER = "x-oob-ap";
/** sun_path is 108 bytes on Linux, its terminating NUL included. */
const MAX_SOCKET_PATH = 107;

export async function startNginx(ctx: BackendContext): Promise<Backend> {
  const { o } = ctx;
  const program = nginxProgram(o.nginx);
  const worker = process.getuid?.() === 0 ? workerAccount(o.bundleDir) : undefined;
  const dir = workFolder(o.workDir ?? tmpdir());
  let endpoint: { close(): Promise<void> } | undefined;
  let log: AccessLogTail | undefined;
  const release = async () => {
    log?.close();
    await endpoint?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const layout = writeLayout(dir, ctx, worker);
    endpoint = await startEndpoint(ctx, layout.socket, worker);
    log = new AccessLogTail(layout.accessLog, (line) => {
      const transfer = transferOf(line);
      if (transfer) ctx.report(transfer);
      else o.log.warn(`OOB HTTPS (nginx): an access log line the controller cannot read: ${line.slice(0, 200)}`);
    });
    const { daemon, port } = await launch(program, ctx, layout, worker);
    let closing = false;
    daemon.process.once("exit", (code, signal) => {
      if (!closing) o.log.error(`OOB HTTPS server nginx exited (${signal ?? `code ${code}`}): APs fall back to CAPWAP until the controller restarts it`);
    });
    return {
      port,
      async close() {
        closing = true;
        await stopNginx(daemon);
        // Then what nginx logged until it stopped is read once more, in release().
        await release();
      },
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/** Absolute: nginx reads every path in its config and on its command line from its own prefix, not from the controller's cwd. */
function workFolder(parent: string): string {
  try {
    return resolve(mkdtempSync(join(parent, "vap-oob-nginx-")));
  } catch (err) {
    throw new ConfigError(`OOB nginx work folder: cannot make one in ${parent} (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`, { cause: err });
  }
}

/** The given program, or nginx where Debian and others put it (a normal user's PATH often lacks /usr/sbin). */
function nginxProgram(given: string | undefined): string {
  const candidates = given !== undefined ? [given] : [...(process.env.PATH ?? "").split(":").filter(Boolean), "/usr/sbin", "/usr/local/sbin", "/sbin"].map((d) => join(d, "nginx"));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not there, or not executable: the next one.
    }
  }
  throw new ConfigError(
    given !== undefined
      ? `nginx program ${given} is not an executable file (https-server nginx)`
      : "nginx is not installed (https-server nginx): no nginx in PATH, /usr/sbin or /usr/local/sbin; install it or use the embedded server",
  );
}

/** The name /etc/passwd or /etc/group gives `id`. */
function accountName(file: string, id: number): string | undefined {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields.length >= 3 && fields[2] === String(id)) return fields[0];
  }
  return undefined;
}

/**
 * As root, nginx runs its workers (which read the files and talk to the
 * network) as the `user` its config names. The owner of the bundle can
 * read the bundle, and needs no more: the workers run as that account. A
 * bundle root owns leaves them root, as the controller itself is.
 */
function workerAccount(bundleDir: string): WorkerAccount {
  const { uid, gid } = statSync(bundleDir);
  const user = accountName("/etc/passwd", uid);
  const group = accountName("/etc/group", gid);
  if (user === undefined || group === undefined) {
    throw new ConfigError(`nginx's workers would run as the owner of ${bundleDir} (uid ${uid}, gid ${gid}), which has no name in /etc/passwd or /etc/group`);
  }
  return { uid, gid, user, group };
}

function writeLayout(dir: string, ctx: BackendContext, worker: WorkerAccount | undefined): Layout {
  const layout: Layout = {
    dir,
    conf: join(dir, "nginx.conf"),
    pid: join(dir, "nginx.pid"),
    errorLog: join(dir, "error.log"),
    accessLog: join(dir, "access.log"),
    socket: join(dir, "controller.sock"),
  };
  if (Buffer.byteLength(layout.socket) > MAX_SOCKET_PATH) throw new ConfigError(`OOB nginx work folder ${dir} is too deep for a unix socket in it (a path of at most ${MAX_SOCKET_PATH} bytes)`);
  // Workers of another account may pass through (to the socket, to www/) but not list it; the key stays the master's.
  if (worker) chmodSync(dir, 0o711);
  writeFileSync(join(dir, "server.pem"), ctx.tls.cert, { mode: 0o644 });
  writeFileSync(join(dir, "server.key"), ctx.tls.key, { mode: 0o600 });
  mkdirSync(join(dir, "tmp"));
  mkdirSync(join(dir, "www"), { mode: 0o755 });
  mkdirSync(join(dir, "empty"), { mode: 0o755 });
  // /images/<class> is www/images/<class>: the bundle, or nothing at all for the 404 fault.
  // A relative target would be read from www/, not from the controller's cwd (`vap controller --bundle bundle`).
  symlinkSync(ctx.o.fault === "404" ? join(dir, "empty") : resolve(ctx.o.bundleDir), join(dir, "www", "images"));
  writeFileSync(layout.accessLog, "");
  return layout;
}

/**
 * nginx's config. The images location checks the method (405), then the
 * token (auth_request: 401/403), then serves the file (404, 416, 200, 206);
 * one range at most, as the embedded server. The access log's JSON lines
 * carry what a transfer event needs and nothing more: no header, so never a
 * token.
 */
export function nginxConfig(p: { layout: Layout; listen: string; fault: OobFault | undefined; worker: WorkerAccount | undefined }): string {
  const { dir, pid, errorLog, accessLog, socket } = p.layout;
  const upstream = `http://unix:${socket}`;
  const serve = isBodyFault(p.fault)
    ? `proxy_pass ${upstream};
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_read_timeout ${NGINX_STALL_HOLD_S}s;
      proxy_set_header Authorization "";
      proxy_set_header Connection "";`
    : "try_files $uri =404;";
  return `${p.worker ? `user ${p.worker.user} ${p.worker.group};\n` : ""}daemon off;
master_process on;
worker_processes 1;
pid ${pid};
error_log ${errorLog} warn;
events { worker_connections ${NGINX_WORKER_CONNECTIONS}; }
http {
  log_format vap_oob escape=json '{"address":"$remote_addr","ap":"$oob_ap","method":"$request_method","uri":"$uri","status":$status,"length":"$sent_http_content_length","bytes":$body_bytes_sent,"seconds":$request_time,"completion":"$request_completion"}';
  access_log ${accessLog} vap_oob;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server_tokens off;
  types { }
  default_type application/octet-stream;
  max_ranges 1;
  server {
    listen ${p.listen} ssl;
    ssl_certificate ${dir}/server.pem;
    ssl_certificate_key ${dir}/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${dir}/www;
    location / { return 404; }
    location ~ ^/images/(?<oob_image>[a-z0-9]+)$ {
      if ($request_method !~ ^(GET|HEAD)$) {
        add_header Allow "GET, HEAD" always;
        return 405;
      }
      auth_request ${AUTH_PATH};
      auth_request_set $oob_ap $upstream_http_${AP_HEADER.replaceAll("-", "_")};
      auth_request_set $oob_challenge $upstream_http_www_authenticate;
      add_header WWW-Authenticate $oob_challenge always;
      ${serve}
    }
    location = ${AUTH_PATH} {
      internal;
      proxy_pass ${upstream}:${AUTH_PATH};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header ${IMAGE_HEADER} $oob_image;
      proxy_set_header ${ADDRESS_HEADER} $remote_addr;
    }
  }
}
`;
}

/** The controller's endpoint for nginx: the token check, and the faulty upstream of the body faults. */
async function startEndpoint(ctx: BackendContext, path: string, worker: WorkerAccount | undefined): Promise<{ close(): Promise<void> }> {
  const server = createServer((req, res) => void endpoint(ctx, req, res).catch(() => res.destroy()));
  const close = closingAll(server);
  await listen(server, { path }, ctx.o.log);
  // Only nginx's workers may ask: whoever reaches this socket could fetch a faulty image without a token.
  chmodSync(path, 0o600);
  if (worker) chownSync(path, worker.uid, worker.gid);
  return { close };
}

async function endpoint(ctx: BackendContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const tally: Tally = { bytes: 0, length: 0 };
  if (req.url === AUTH_PATH) {
    const image = req.headers[IMAGE_HEADER];
    const address = req.headers[ADDRESS_HEADER];
    // Both come from nginx's config; without them nothing is let through.
    if (typeof image !== "string" || typeof address !== "string") return answer(res, 403, tally);
    const verdict = ctx.authorize(req.headers.authorization, address, image);
    if (!verdict.ok) return answer(res, verdict.status, tally, verdict.status === 401 ? { "WWW-Authenticate": "Bearer" } : {});
    res.writeHead(204, { [AP_HEADER]: verdict.claims.ap }).end();
    return;
  }
  const target = requestTarget(req.url ?? "");
  if (!isBodyFault(ctx.o.fault) || !("image" in target)) return answer(res, 404, tally);
  await serveFile(req, res, join(ctx.o.bundleDir, target.image), ctx.o.fault, tally);
}

/**
 * Write the config for a port and start nginx; with port 0, a free port,
 * tried again on another when someone took it before nginx bound it.
 */
async function launch(program: string, ctx: BackendContext, layout: Layout, worker: WorkerAccount | undefined): Promise<{ daemon: GroupedDaemon; port: number }> {
  const { o } = ctx;
  for (let attempt = 1; ; attempt++) {
    const port = await probePort(o.address, o.port);
    writeFileSync(layout.conf, nginxConfig({ layout, listen: hostPort(o.address, port), fault: o.fault, worker }));
    // -e: nginx's own error log from the first line on (its compiled-in default may be unwritable).
    const daemon = spawnGrouped(program, ["-p", layout.dir, "-c", layout.conf, "-e", layout.errorLog]);
    if (await started(daemon, layout.pid)) return { daemon, port };
    await daemon.stop();
    const why = `${daemon.stderr()}\n${readText(layout.errorLog)}`;
    if (/Address already in use/.test(why)) {
      if (o.port === 0 && attempt < NGINX_PORT_TRIES) continue;
      throw bindError(o.address, port, Object.assign(new Error("address in use"), { code: "EADDRINUSE" }));
    }
    const emerg = /\[emerg\][^\n]*/.exec(why)?.[0] ?? (why.trim().split("\n").pop() || "no reason given");
    throw new ConfigError(`nginx did not start on ${hostPort(o.address, port)}: ${emerg}`);
  }
}

/**
 * nginx's fast shutdown (SIGTERM; a graceful one would wait for a stalled
 * transfer forever): the master ends its workers and reaps them, so none is
 * left a zombie. Whatever still runs after NGINX_STOP_TIMEOUT_MS is killed.
 */
async function stopNginx(daemon: GroupedDaemon): Promise<void> {
  const child = daemon.process;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    // Unref'd: once nginx exited, the timeout must not hold the controller's process for its remaining seconds.
    await Promise.race([exited, sleep(NGINX_STOP_TIMEOUT_MS, undefined, { ref: false })]);
  }
  await daemon.stop();
}

/**
 * nginx writes its pid file after it bound its listening sockets: once it
 * holds the master's pid, connections are accepted (a port test alone could
 * meet another server that took the port).
 */
async function started(daemon: GroupedDaemon, pidFile: string): Promise<boolean> {
  const child = daemon.process;
  if (child.pid === undefined) return false;
  const deadline = Date.now() + NGINX_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (readText(pidFile).trim() === String(child.pid)) return true;
    await sleep(20);
  }
  return false;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** One access log line (log_format vap_oob) as a transfer; undefined for a line that is not one. */
export function transferOf(line: string): OobTransfer | undefined {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { address, ap, method, uri, status, length, bytes, seconds, completion } = r;
  if (typeof address !== "string" || typeof uri !== "string" || typeof status !== "number" || typeof bytes !== "number" || typeof seconds !== "number") return undefined;
  return {
    ...(typeof ap === "string" && ap !== "" ? { ap } : {}),
    address,
    file: requestTarget(uri).file,
    bytes,
    seconds,
    status,
    // nginx calls a response whose upstream closed early complete too: the body must also have reached its Content-Length.
    complete: completion === "OK" && (method === "HEAD" || length === "" || Number(length) === bytes),
    method: "HTTPS",
  };
}

/** Follows a log file as it grows, one complete line at a time (inotify, and a slow poll in case a change notice is missed). */
class AccessLogTail {
  readonly #fd: number;
  readonly #onLine: (line: string) => void;
  readonly #decoder = new StringDecoder("utf8");
  readonly #buffer = Buffer.alloc(64 * 1024);
  readonly #watcher: FSWatcher;
  readonly #poll: NodeJS.Timeout;
  #offset = 0;
  #partial = "";

  constructor(path: string, onLine: (line: string) => void) {
    this.#fd = openSync(path, "r");
    this.#onLine = onLine;
    this.#watcher = watch(path, () => this.#drain());
    this.#watcher.on("error", () => {});
    this.#poll = setInterval(() => this.#drain(), ACCESS_LOG_POLL_MS);
    this.#poll.unref();
  }

  #drain(): void {
    for (;;) {
      const n = readSync(this.#fd, this.#buffer, 0, this.#buffer.length, this.#offset);
      if (n === 0) return;
      this.#offset += n;
      const lines = (this.#partial + this.#decoder.write(this.#buffer.subarray(0, n))).split("\n");
      this.#partial = lines.pop()!;
      for (const line of lines) if (line.trim() !== "") this.#onLine(line);
    }
  }

  close(): void {
    this.#drain();
    this.#watcher.close();
    clearInterval(this.#poll);
    closeSync(this.#fd);
  }
}
