/**
 * Shared fixtures for the DTLS tests: lab X.509 material, an in-memory link
 * between our client and our server (with loss injection), and real
 * `openssl s_server` / `s_client` peers on loopback.
 */
import { tempDir } from "../support/temp.js";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  DtlsContext,
  DtlsServer,
  DtlsSession,
  type DtlsClientOptions,
  type DtlsContextOptions,
  type DtlsError,
  type DtlsServerOptions,
  type DtlsTransportOptions,
} from "../../agent/capwap/dtls/index.js";
import { issueCa, issueLeaf, validFor, type IssuedCertificate, type PkiKeyType } from "../../agent/pki/index.js";
import { requirePeer } from "../support/peers.js";

export interface LabPki {
  type: PkiKeyType;
  ca: IssuedCertificate;
  controller: IssuedCertificate;
  ap: IssuedCertificate;
  apName: string;
}

const pkis = new Map<PkiKeyType, LabPki>();

/** One CA with a controller and an AP certificate, made once per key type. */
export function labPki(type: PkiKeyType): LabPki {
  let pki = pkis.get(type);
  if (!pki) {
    const validity = validFor(30);
    const ca = issueCa(type, validity);
    const apName = type === "rsa" ? "C9120AXI-0200000000a2" : "C9120AXI-0200000000e1";
    pki = {
      type,
      ca,
      controller: issueLeaf(ca, { commonName: "vap-controller", role: "controller", type, validity }),
      ap: issueLeaf(ca, { commonName: apName, role: "ap", type, validity }),
      apName,
    };
    pkis.set(type, pki);
  }
  return pki;
}

export function clientContext(pki: LabPki, extra: Partial<DtlsContextOptions> = {}): DtlsContext {
  return new DtlsContext({ role: "client", cert: pki.ap.cert, key: pki.ap.key, ca: pki.ca.cert, ...extra });
}

export function serverContext(pki: LabPki, extra: Partial<DtlsContextOptions> = {}): DtlsContext {
  return new DtlsContext({ role: "server", cert: pki.controller.cert, key: pki.controller.key, ca: pki.ca.cert, ...extra });
}

/** Files for the openssl CLI: ca.pem, controller.pem/.key, ap.pem/.key. */
export function pkiFiles(pki: LabPki, dir = tempDir("dtls")): Record<"dir" | "ca" | "cert" | "key" | "apCert" | "apKey", string> {
  const files = {
    dir,
    ca: join(dir, "ca.pem"),
    cert: join(dir, "controller.pem"),
    key: join(dir, "controller.key"),
    apCert: join(dir, "ap.pem"),
    apKey: join(dir, "ap.key"),
  };
  writeFileSync(files.ca, pki.ca.cert);
  writeFileSync(files.cert, pki.controller.cert);
  writeFileSync(files.key, pki.controller.key, { mode: 0o600 });
  writeFileSync(files.apCert, pki.ap.cert);
  writeFileSync(files.apKey, pki.ap.key, { mode: 0o600 });
  return files;
}

export type Direction = "c2s" | "s2c";

export const CLIENT_ADDR = { address: "192.0.2.10", port: 40001 };

/**
 * Our client and our server joined in memory. Every datagram gets an index
 * per direction (0 = first one sent), and `drop` decides its fate, which is
 * how the loss tests remove exactly one handshake datagram. Delivery is
 * asynchronous (setImmediate) so real retransmission timers interleave.
 */
export class Link {
  readonly sent: Record<Direction, Uint8Array[]> = { c2s: [], s2c: [] };
  readonly log: { dir: Direction; datagram: Uint8Array; time: number }[] = [];
  drop: (dir: Direction, index: number, datagram: Uint8Array) => boolean = () => false;
  readonly server: DtlsServer;
  client!: DtlsSession;
  #queue: { dir: Direction; datagram: Uint8Array }[] = [];
  #scheduled = false;

  constructor(
    serverOptions: Omit<DtlsServerOptions, "sendDatagram">,
    /** Where the server sees the client's datagrams come from. */
    readonly clientAddress = CLIENT_ADDR,
  ) {
    this.server = new DtlsServer({ ...serverOptions, sendDatagram: (d) => this.#send("s2c", d) });
  }

  connect(options: Omit<DtlsClientOptions, "sendDatagram">): DtlsSession {
    this.client = DtlsSession.connect({ ...options, sendDatagram: (d) => this.#send("c2s", d) });
    return this.client;
  }

  #send(dir: Direction, datagram: Uint8Array): void {
    const index = this.sent[dir].push(datagram) - 1;
    if (this.drop(dir, index, datagram)) return;
    this.log.push({ dir, datagram, time: Date.now() });
    this.#queue.push({ dir, datagram });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#pump());
    }
  }

  #pump(): void {
    this.#scheduled = false;
    for (let item = this.#queue.shift(); item; item = this.#queue.shift()) {
      if (item.dir === "c2s") this.server.receive(item.datagram, this.clientAddress.address, this.clientAddress.port);
      else this.client.receive(item.datagram);
    }
  }

  /** Forget the recorded datagrams (long runs). */
  forget(): void {
    this.sent.c2s.length = 0;
    this.sent.s2c.length = 0;
    this.log.length = 0;
  }

  /** Resolves when both ends are connected; rejects with the first failure. */
  async handshake(timeoutMs = 10_000): Promise<DtlsSession> {
    const serverSide = new Promise<DtlsSession>((resolve, reject) => {
      this.server.once("session", (s) => {
        s.once("connected", () => resolve(s));
        s.once("close", (r) => reject(r ?? new Error("server session closed")));
      });
    });
    return withTimeout(Promise.all([connected(this.client), serverSide]).then(([, s]) => s), timeoutMs, "handshake");
  }
}

export function connected(session: DtlsSession): Promise<DtlsSession> {
  return new Promise((resolve, reject) => {
    if (session.state === "connected") return resolve(session);
    session.once("connected", () => resolve(session));
    session.once("close", (r) => reject(r ?? new Error("closed before connecting")));
  });
}

/** The reason a session that must fail closed with. */
export function failure(session: DtlsSession, timeoutMs = 10_000): Promise<DtlsError> {
  return withTimeout(
    new Promise<DtlsError>((resolve, reject) => {
      session.once("connected", () => reject(new Error("session connected but should have failed")));
      session.once("close", (r) => (r ? resolve(r) : reject(new Error("closed without a reason"))));
    }),
    timeoutMs,
    "failure",
  );
}

export function nextData(session: DtlsSession, timeoutMs = 10_000): Promise<string> {
  return withTimeout(new Promise((resolve) => session.once("data", (d) => resolve(Buffer.from(d).toString()))), timeoutMs, "data");
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export { freeUdpPort } from "../support/loopback.js";

/** A real openssl s_server / s_client child with its output collected. */
export class OpensslPeer {
  readonly proc: ChildProcessWithoutNullStreams;
  #out = "";
  #waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.proc = spawn(requirePeer("openssl"), args, { stdio: "pipe" });
    const collect = (chunk: Buffer) => {
      this.#out += chunk.toString();
      for (const w of this.#waiters.splice(0)) w();
    };
    this.proc.stdout.on("data", collect);
    this.proc.stderr.on("data", collect);
    this.proc.on("exit", () => {
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  get output(): string {
    return this.#out;
  }

  /** Resolves once stdout+stderr match `pattern`. */
  waitFor(pattern: RegExp, ms = 10_000): Promise<string> {
    const check = (resolve: (s: string) => void, reject: (e: Error) => void) => {
      const m = pattern.exec(this.#out);
      if (m) return resolve(m[0]);
      if (this.proc.exitCode !== null) return reject(new Error(`openssl exited (${this.proc.exitCode}) before ${pattern}: ${this.#out}`));
      this.#waiters.push(() => check(resolve, reject));
    };
    return withTimeout(new Promise(check), ms, `openssl output ${pattern} (got: ${this.#out.slice(-400)})`);
  }

  write(text: string): void {
    this.proc.stdin.write(text);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once("exit", () => resolve()));
    this.proc.kill("SIGTERM");
    await exited;
  }
}

/** Our client on a real UDP socket towards 127.0.0.1:port. */
export async function udpClient(
  port: number,
  options: Omit<DtlsClientOptions, "sendDatagram"> & DtlsTransportOptions,
): Promise<{ session: DtlsSession; close: () => Promise<void> }> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const session = DtlsSession.connect({ ...options, sendDatagram: (d) => socket.send(d, port, "127.0.0.1") });
  socket.on("message", (msg) => session.receive(msg));
  return {
    session,
    close: async () => {
      session.close();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/** Our server on a real UDP socket bound to 127.0.0.1:0. */
export async function udpServer(
  options: Omit<DtlsServerOptions, "sendDatagram">,
): Promise<{ server: DtlsServer; port: number; close: () => Promise<void> }> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const server = new DtlsServer({ ...options, sendDatagram: (d, address, port) => socket.send(d, port, address) });
  socket.on("message", (msg, rinfo) => server.receive(msg, rinfo.address, rinfo.port));
  return {
    server,
    port: socket.address().port,
    close: async () => {
      server.close();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
