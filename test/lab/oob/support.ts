/** The OOB file-server tests' peers and fixtures: a three-level PKI, a bundle, curl, and servers that are closed after each test. */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach } from "vitest";
import { createLog, type Log } from "../../../agent/core/index.js";
import { issueCa, issueLeaf, validFor } from "../../../agent/pki/index.js";
import { OobTokens, type OobFileServer, type OobServerKind, type OobServerOptions, type OobTransfer, startOobServer } from "../../../lab/controller/oob/index.js";
import { requirePeer } from "../../support/peers.js";
import { tempDir } from "../../support/temp.js";
import { content } from "../../transfer/tftp/support.js";

export const KINDS: readonly OobServerKind[] = ["embedded", "nginx"];
export const AP = "02:00:00:00:00:01";
export const ADDRESS = "127.0.0.1";
/** Another loopback address of this host: a client there is "another AP". */
export const OTHER_ADDRESS = "127.0.0.2";
/** Odd-sized, so that a half and a middle fall inside a TLS record and a read chunk. */
export const IMAGE_SIZE = 1_234_567;
export const IMAGE = content(IMAGE_SIZE, 12);

/**
 * Root CA → intermediate CA → server leaf naming 127.0.0.1: the server gets
 * the leaf and the intermediate, the client trusts only the root (the seed's
 * restriction on CA chains, beaten).
 */
export function chainPki(address = ADDRESS): { rootFile: string; cert: string; key: string } {
  const validity = validFor(1);
  const root = issueCa("ecdsa", validity, "vap OOB test root");
  const intermediate = issueCa("ecdsa", validity, "vap OOB test intermediate", root);
  const leaf = issueLeaf(intermediate, { commonName: "vap-controller", role: "controller", type: "ecdsa", validity, ipAddresses: [address] });
  const rootFile = join(tempDir("oob-root"), "root.pem");
  writeFileSync(rootFile, root.cert);
  return { rootFile, cert: leaf.cert + intermediate.cert, key: leaf.key };
}

/** A bundle folder holding `files` (default: ap1g8 = IMAGE). */
export function bundle(files: Record<string, Uint8Array> = { ap1g8: IMAGE }): string {
  const dir = tempDir("oob-bundle");
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

export interface Started {
  server: OobFileServer;
  tokens: OobTokens;
  rootFile: string;
  bundleDir: string;
  /** nginx's parent folder (empty again once closed). */
  workDir: string;
  transfers: OobTransfer[];
  /** Every line the server logged: console lines and pino JSON records. */
  lines: string[];
  /** A token for AP at the server's address (or `claims.address`) for ap1g8 (or `claims.image`). */
  token(claims?: { address?: string; image?: string }): string;
}

const running = new Set<OobFileServer>();
// Also after a failed test: no listener, no nginx left behind.
afterEach(async () => {
  for (const server of [...running]) await server.close();
  running.clear();
});

/** A log whose every line (console and JSON) lands in `lines`. */
export function capturingLog(lines: string[]): Log {
  return createLog({ console: (line) => lines.push(line), json: { write: (record: string) => void lines.push(record) } });
}

export async function start(kind: OobServerKind, options: Partial<OobServerOptions> = {}): Promise<Started> {
  const pki = chainPki(options.address);
  const tokens = options.tokens ?? new OobTokens();
  const lines: string[] = [];
  const workDir = options.workDir ?? tempDir("oob-work");
  const bundleDir = options.bundleDir ?? bundle();
  const server = await startOobServer({ kind, bundleDir, address: ADDRESS, port: 0, cert: pki.cert, key: pki.key, tokens, log: capturingLog(lines), workDir, ...options });
  running.add(server);
  const transfers: OobTransfer[] = [];
  server.on("transfer", (t) => transfers.push(t));
  return {
    server,
    tokens,
    rootFile: pki.rootFile,
    bundleDir,
    workDir,
    transfers,
    lines,
    token: (claims = {}) => tokens.issue({ ap: AP, address: claims.address ?? options.address ?? ADDRESS, image: claims.image ?? "ap1g8" }).token,
  };
}

export interface CurlResult {
  /** curl's exit code: 0, 7 refused, 18 partial, 28 timeout, 60 untrusted certificate. */
  code: number;
  /** The HTTP status (0 when there was none). */
  status: number;
  body: Buffer;
  stderr: string;
}

export interface CurlRequest {
  token?: string;
  /** Default: /images/ap1g8 of the server's URL. */
  url?: string;
  range?: string;
  head?: boolean;
  /** The client's source address (curl --interface). */
  from?: string;
  extra?: string[];
}

/** Real curl, trusting only `rootFile`, the token (if any) as `Authorization: Bearer`. */
export function curl(s: Pick<Started, "server" | "rootFile">, r: CurlRequest = {}): Promise<CurlResult> {
  const out = join(tempDir("oob-curl"), "body");
  const args = ["-sS", "--cacert", s.rootFile, "-o", out, "-w", "%{http_code}", ...(r.extra ?? [])];
  if (r.token !== undefined) args.push("-H", `Authorization: Bearer ${r.token}`);
  if (r.range !== undefined) args.push("-r", r.range);
  if (r.head) args.push("-I");
  if (r.from !== undefined) args.push("--interface", r.from);
  args.push(r.url ?? s.server.url("ap1g8"));
  return new Promise((resolve) => {
    execFile(requirePeer("curl"), args, { encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: unknown }).code ?? -1) : 0;
      resolve({ code, status: Number(stdout) || 0, body: existsSync(out) ? readFileSync(out) : Buffer.alloc(0), stderr });
    });
  });
}

/** The pids of nginx's process group under `workDir`, from its pid file: the master first, then its workers. */
export function nginxProcesses(workDir: string): number[] {
  const folder = readdirSync(workDir).find((name) => name.startsWith("vap-oob-nginx-"));
  if (!folder) return [];
  const master = Number(readFileSync(join(workDir, folder, "nginx.pid"), "utf8"));
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        // "pid (comm) state ppid pgrp …"
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === master;
      } catch {
        return false;
      }
    })
    .map(Number)
    .sort((a, b) => Number(b === master) - Number(a === master));
}

/** Whether `pid` runs (a zombie does not). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** nginx's own files under `workDir` (its access and error logs), to read before close. */
export function nginxLogs(workDir: string): string {
  const folder = readdirSync(workDir).find((name) => name.startsWith("vap-oob-nginx-"));
  if (!folder) return "";
  return ["access.log", "error.log"].map((name) => readFileSync(join(workDir, folder, name), "utf8")).join("");
}

/** A folder other accounts may pass through (nginx's workers as the bundle's owner). */
export function passable(dir: string): string {
  chmodSync(dir, 0o755);
  return dir;
}
