/** A real nginx for the HTTP(S) tests, on free loopback TCP ports with a private CA, and a TCP relay that breaks a connection mid-body. */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { spawnGrouped } from "../../../agent/core/index.js";
import { freeTcpPort, tcpAccepting as accepting } from "../../support/loopback.js";
import { listeningIn } from "../../support/netns.js";
import { requirePeer } from "../../support/peers.js";
import { writeServerCertificate } from "../../support/server-cert.js";
import { tempDir } from "../../support/temp.js";
import { sleep } from "../tftp/support.js";

export { freeTcpPort };

export interface RunningNginx {
  httpPort: number;
  httpsPort: number;
  /** The private CA's certificate (PEM) that issued the HTTPS server's. */
  caPem: string;
  caFile: string;
  /** The directory it serves (files may be added while it runs). */
  root: string;
  /** Basic auth credentials for /auth/, which serves the same files. */
  user: { name: string; password: string };
  /** nginx's access log so far: one line per request, the client's address first. */
  accessLog(): string;
  stop(): Promise<void>;
}

/** What the test server answers besides its files: a redirect, a redirect loop, a refusal, and a slow folder. */
function nginxConf(dir: string, address: string, httpPort: number, httpsPort: number): string {
  const locations = `
      root ${dir}/www;
      location = /moved { return 302 /small.bin; }
      location = /loop { return 302 /loop; }
      location = /forbidden { return 403; }
      location /slow/ { limit_rate 64k; }
      location /auth/ { auth_basic "vap"; auth_basic_user_file ${dir}/htpasswd; alias ${dir}/www/; }`;
  return `worker_processes 1;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  default_type application/octet-stream;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server { listen ${address}:${httpPort};${locations}
  }
  server {
    listen ${address}:${httpsPort} ssl;
    ssl_certificate ${dir}/server.pem;
    ssl_certificate_key ${dir}/server.key;${locations}
  }
}
`;
}

/** How long nginx may take to listen on a loaded machine, and how often another process may take a free port first. */
const NGINX_START_MS = 10_000;
const NGINX_PORT_TRIES = 3;

/**
 * nginx inside a network namespace (the layer-3 WAN link tests): it listens
 * on every address there (so it may start before a link gives the namespace
 * `address`), and its certificate names `address`.
 */
export interface NginxPlace {
  netns: string;
  address: string;
}

/**
 * nginx serving `files` (names may hold a folder: "slow/x.bin") over HTTP and
 * HTTPS on 127.0.0.1, or on `at`; the HTTPS certificate names that address
 * and comes from a fresh private CA.
 */
export async function startNginx(files: Record<string, Uint8Array>, at?: NginxPlace): Promise<RunningNginx> {
  const program = requirePeer("nginx");
  const dir = tempDir("nginx");
  // Workers run as nobody; tempDir() is private to root.
  chmodSync(dir, 0o755);
  for (const [name, bytes] of Object.entries(files)) {
    const path = join(dir, "www", name);
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    writeFileSync(path, bytes, { mode: 0o644 });
  }
  mkdirSync(join(dir, "www"), { recursive: true, mode: 0o755 });
  mkdirSync(join(dir, "tmp"), { recursive: true });
  mkdirSync(join(dir, "logs"), { recursive: true });
  const { caPem, caFile } = writeServerCertificate(dir, "vap test HTTPS CA", at?.address);
  // nginx's {PLAIN} scheme (RFC 2307 syntax): a test password needs no hashing tool. Workers run as nobody.
  const user = { name: "vap", password: `pw-${randomBytes(9).toString("base64url")}` };
  writeFileSync(join(dir, "htpasswd"), `${user.name}:{PLAIN}${user.password}\n`, { mode: 0o644 });

  let failure = "";
  for (let attempt = 0; attempt < NGINX_PORT_TRIES; attempt++) {
    const [httpPort, httpsPort] = [await freeTcpPort(), await freeTcpPort()];
    if (httpPort === httpsPort) continue;
    writeFileSync(join(dir, "nginx.conf"), nginxConf(dir, at ? "0.0.0.0" : "127.0.0.1", httpPort, httpsPort));
    const args = ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", `daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;`];
    // Its own process group: stop() ends the master and its workers together (`ip netns exec` execs nginx in its place).
    const { process: child, stderr, stop } = at ? spawnGrouped("ip", ["netns", "exec", at.netns, program, ...args]) : spawnGrouped(program, args);
    const listening = async () =>
      at ? (await listeningIn(at.netns, "tcp", httpPort)) && (await listeningIn(at.netns, "tcp", httpsPort)) : (await accepting(httpPort)) && (await accepting(httpsPort));
    const started = Date.now();
    while (child.exitCode === null && Date.now() - started < NGINX_START_MS && !(await listening())) await sleep(10);
    if (child.exitCode === null && (await listening())) {
      return { httpPort, httpsPort, caPem, caFile, root: join(dir, "www"), user, accessLog: () => readFileSync(join(dir, "access.log"), "utf8"), stop };
    }
    await stop();
    failure = stderr();
    // Another process took a port between freeTcpPort() and nginx's bind: try others.
    if (!/Address already in use/.test(failure)) break;
  }
  throw new Error(`nginx did not start: ${failure}`);
}

/**
 * A TCP relay to 127.0.0.1:`targetPort` that resets its first `cutConnections`
 * connections after `cutAfter` bytes from the server (a link that breaks
 * mid-body) and passes later ones through; it keeps what each connection's
 * client sent.
 */
export class BreakingRelay {
  readonly requests: string[] = [];
  readonly #server = createServer((client) => this.#relay(client));
  readonly #sockets = new Set<Socket>();

  constructor(
    private readonly targetPort: number,
    private readonly cutAfter: number,
    private readonly cutConnections = 1,
  ) {}

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return (this.#server.address() as { port: number }).port;
  }

  #relay(client: Socket): void {
    const index = this.requests.push("") - 1;
    const upstream = connect({ port: this.targetPort, host: "127.0.0.1" });
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.once("close", () => this.#sockets.delete(s));
      s.on("error", () => {});
    }
    client.on("data", (d: Buffer) => {
      this.requests[index] += d.toString("latin1");
      upstream.write(d);
    });
    let relayed = 0;
    upstream.on("data", (d: Buffer) => {
      if (index >= this.cutConnections) return void client.write(d);
      if (relayed >= this.cutAfter) return;
      const room = this.cutAfter - relayed;
      relayed += d.length;
      if (room > d.length) return void client.write(d);
      client.write(d.subarray(0, room), () => {
        client.resetAndDestroy();
        upstream.destroy();
      });
    });
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.end());
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A forward proxy that speaks only CONNECT (how undici reaches http:// and https:// through HTTP_PROXY/HTTPS_PROXY); it keeps each target it was asked for. */
export class ConnectProxy {
  readonly targets: string[] = [];
  readonly #server = createServer((client) => this.#tunnel(client));
  readonly #sockets = new Set<Socket>();

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return (this.#server.address() as { port: number }).port;
  }

  #tunnel(client: Socket): void {
    this.#sockets.add(client);
    client.once("close", () => this.#sockets.delete(client));
    client.on("error", () => {});
    let head = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.off("data", onData);
      const target = /^CONNECT (\S+):(\d+) HTTP\/1\.1\r\n/.exec(head.toString("latin1"));
      if (!target) return void client.end("HTTP/1.1 405 Method Not Allowed\r\n\r\n");
      this.targets.push(`${target[1]}:${target[2]}`);
      const upstream = connect({ host: target[1]!, port: Number(target[2]) }, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length > end + 4) upstream.write(head.subarray(end + 4));
        client.pipe(upstream).pipe(client);
      });
      this.#sockets.add(upstream);
      upstream.once("close", () => this.#sockets.delete(upstream));
      upstream.on("error", () => client.destroy());
    };
    client.on("data", onData);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
