/**
 * What the benches across `vap wan --link` share: the link itself (its own
 * process, between two network namespaces, so TCP segments are really lost),
 * the packets it dropped, a program run inside a namespace, and curl's own
 * timing of a download. They need root: `ip netns add` fails without it.
 */
import { spawnSync } from "node:child_process";
import type { NamespacePair } from "../support/netns.js";
import { vapProcess } from "./vap-process.js";

export const mbPerS = (bytes: number, ms: number) => Math.round((bytes / 1e6 / (ms / 1000)) * 100) / 100;

/** `program args…`, inside network namespace `netns` when one is given, `input` on its stdin. */
export function runIn(netns: string | undefined, program: string, args: readonly string[], input?: string) {
  const [p, ...a] = netns === undefined ? [program, ...args] : ["ip", "netns", "exec", netns, program, ...args];
  return spawnSync(p!, a, { encoding: "utf8", ...(input !== undefined ? { input } : {}) });
}

/**
 * `curl --cacert CA_FILE [EXTRA…] -o OUT URL` inside `netns`: curl's own
 * time_total in ms (connect to last byte, not its exec); fails unless it
 * got `size` bytes.
 */
export function curlTime(netns: string | undefined, url: string, caFile: string, out: string, size: number, extra: readonly string[] = []): number {
  const r = runIn(netns, "curl", ["--silent", "--show-error", "--fail", "--cacert", caFile, ...extra, "-o", out, "-w", "%{time_total} %{size_download}", url]);
  const [seconds, bytes] = r.stdout.trim().split(" ").map(Number);
  if (r.status !== 0 || bytes !== size) throw new Error(`curl ${url} failed (${bytes} of ${size} bytes): ${r.stderr}`);
  return seconds! * 1000;
}

export interface LinkDrops {
  /** Packets the link dropped from namespace a to b, and back. */
  aToB: number;
  bToA: number;
}

/** The packets the link dropped in each direction, from the final counters `vap wan --link` prints as it stops. */
function droppedOf(finalCounters: string): LinkDrops {
  const dropped = (dir: string) => Number(new RegExp(`${dir}: in .*?, dropped (\\d+)`).exec(finalCounters)?.[1] ?? NaN);
  return { aToB: dropped("a -> b"), bToA: dropped("b -> a") };
}

/** `body`'s result while `vap wan --link` (seed 1, `flags`) joins the pair's namespaces (a's address on a, b's on b), and what the link dropped. */
export async function acrossLink<T>(ns: NamespacePair, flags: readonly string[], body: () => Promise<T>): Promise<{ result: T; dropped: LinkDrops }> {
  const wan = await vapProcess(["wan", "--seed", "1", ...flags, "--link", `${ns.a}:${ns.cidrA},${ns.b}:${ns.cidrB}`], new RegExp(`in namespace ${ns.b}\\n`));
  const stopped = new Promise((resolve) => wan.child.once("exit", resolve));
  let result: T;
  try {
    result = await body();
  } finally {
    wan.child.kill("SIGINT");
    await stopped;
  }
  return { result, dropped: droppedOf(wan.output()) };
}
