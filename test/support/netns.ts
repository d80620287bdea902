/**
 * Network namespaces for the layer-3 WAN link tests: each test makes its own
 * pair with random names and a random /30 in 10.200.0.0/16 (parallel workers
 * never clash), and removeNamespaces() (test/support/setup.ts, after a
 * file's tests, and at a script's exit) deletes any a test left.
 */
import { execFile, execFileSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";

const made = new Set<string>();

function deleteNamespace(name: string): void {
  made.delete(name);
  try {
    execFileSync("ip", ["netns", "delete", name], { stdio: "ignore" });
  } catch {
    // Already gone.
  }
}

/** Delete every namespace this process made and has not deleted yet. */
export function removeNamespaces(): void {
  for (const name of [...made]) deleteNamespace(name);
}
process.once("exit", removeNamespaces);

export interface NamespacePair {
  a: string;
  b: string;
  /** The two ends' addresses in a fresh /30 (without the prefix). */
  addressA: string;
  addressB: string;
  /** "ADDRESS/30" of each end, as startWanLink takes them. */
  cidrA: string;
  cidrB: string;
  /** Delete both namespaces (every process still in them keeps them alive only until it exits). */
  remove(): void;
}

/** A namespace named vapt-<random> with its loopback up. */
function addNamespace(): string {
  const name = `vapt-${randomBytes(5).toString("hex")}`;
  execFileSync("ip", ["netns", "add", name]);
  made.add(name);
  execFileSync("ip", ["-n", name, "link", "set", "lo", "up"]);
  return name;
}

export function namespacePair(): NamespacePair {
  const a = addNamespace();
  const b = addNamespace();
  // One of the 16384 /30s of 10.200.0.0/16; .1 and .2 are its hosts.
  const block = randomInt(16384) * 4;
  const base = `10.200.${block >> 8}.`;
  const [addressA, addressB] = [`${base}${(block & 255) + 1}`, `${base}${(block & 255) + 2}`];
  return {
    a,
    b,
    addressA,
    addressB,
    cidrA: `${addressA}/30`,
    cidrB: `${addressB}/30`,
    remove() {
      deleteNamespace(a);
      deleteNamespace(b);
    },
  };
}

/** The namespaces that exist now (`ip netns list`), by name. */
export function namespaces(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.split(" ")[0]!)
    .filter(Boolean);
}

export interface NsRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `program args…` inside namespace `ns` to completion, asynchronously
 * (a link in this process must keep relaying meanwhile); never throws on the
 * exit status: the test judges.
 */
export function inNamespace(ns: string, program: string, args: readonly string[], timeoutMs = 60_000): Promise<NsRun> {
  return new Promise((resolve) => {
    execFile("ip", ["netns", "exec", ns, program, ...args], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Whether something listens on `port` (TCP or UDP) inside `ns`. */
export async function listeningIn(ns: string, protocol: "tcp" | "udp", port: number): Promise<boolean> {
  const r = await inNamespace(ns, "ss", ["-H", "-ln", protocol === "tcp" ? "-t" : "-u", "sport", "=", `:${port}`]);
  return r.stdout.trim() !== "";
}

/** TcpRetransSegs of `ns`'s TCP stack (a fresh namespace counts from 0). */
export async function tcpRetransmissions(ns: string): Promise<number> {
  const r = await inNamespace(ns, "nstat", ["-asz", "TcpRetransSegs"]);
  const m = /TcpRetransSegs\s+(\d+)/.exec(r.stdout);
  if (!m) throw new Error(`nstat in ${ns} printed no TcpRetransSegs: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}
