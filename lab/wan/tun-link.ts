/**
 * The WAN link at layer 3: two TUN devices, each end in its own network
 * namespace (or the current one), and every IP packet between them crosses
 * the same link model and scheduler as the proxy's datagrams. Unlike the
 * proxy's tcp: pairs, nothing is terminated here: TCP segments are lost,
 * copied, reordered and jittered like any datagram, so the endpoints' own
 * TCP stacks see the loss and retransmit, and every protocol (TFTP's new
 * ports, ICMP) crosses without a per-protocol relay.
 *
 * The devices are created in this process's namespace, moved, addressed and
 * brought up with `ip`; they are not persistent, so closing them (close(),
 * or this process ending in any way) deletes them wherever they are. Needs
 * root (CAP_NET_ADMIN) and /dev/net/tun.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { ConfigError, describeError, loadAddon, silentLog, systemClock, systemRandom, type Clock, type Log } from "../../agent/core/index.js";
import { Direction, type DirectionStats, wanLinkDirections } from "./direction.js";
import { type Impairment, impairmentOf } from "./impairment.js";

/** lab/wan/native/tun.c. */
interface TunDevice {
  write(packet: Uint8Array): boolean;
  close(): void;
}
interface VapTunAddon {
  Tun: new (name: string, onPackets: (error: Error | null, packets: Buffer[]) => void) => TunDevice;
}

export interface LinkEnd {
  /** A namespace `ip netns` knows; undefined keeps the end in this process's namespace. */
  netns?: string;
  /** The end's address with its prefix, "10.77.0.1/30": the prefix's route leads over the link. */
  address: string;
}

export interface WanLinkOptions {
  a: LinkEnd;
  b: LinkEnd;
  /** Unset fields take `NO_IMPAIRMENT`'s values. */
  impairment?: Partial<Impairment>;
  /** The same seed and the same packets give the same losses, copies and reorderings. */
  seed: number;
  clock?: Clock;
  log?: Log;
}

export interface WanLinkEnd extends LinkEnd {
  /** The TUN device's name. */
  device: string;
}

export interface WanLinkStats {
  aToB: DirectionStats;
  bToA: DirectionStats;
}

export interface WanLink {
  readonly a: WanLinkEnd;
  readonly b: WanLinkEnd;
  readonly impairment: Impairment;
  stats(): WanLinkStats;
  /** Stops the link and deletes both devices. */
  close(): Promise<void>;
}

/** `ip netns` keeps a namespace as a file here (iproute2's NETNS_RUN_DIR). */
const NETNS_DIR = "/run/netns";
/** iproute2's own rule for a namespace name is looser; this keeps it a plain word. */
const NETNS_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

let tunAddon: VapTunAddon | undefined;

function checkEnd(which: "a" | "b", end: LinkEnd): { address: string; prefix: number } {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(end.address);
  const family = m ? isIP(m[1]!) : 0;
  const prefix = Number(m?.[2]);
  if (!m || family === 0 || prefix > (family === 4 ? 32 : 128)) {
    throw new ConfigError(`link end ${which}: expected ADDRESS/PREFIX like 10.77.0.1/30, got "${end.address}"`);
  }
  if (end.netns !== undefined) {
    if (!NETNS_NAME.test(end.netns)) throw new ConfigError(`link end ${which}: "${end.netns}" is not a namespace name`);
    if (!existsSync(`${NETNS_DIR}/${end.netns}`)) throw new ConfigError(`link end ${which}: network namespace "${end.netns}" does not exist (see ip netns list)`);
  }
  return { address: m[1]!, prefix };
}

/** Run `ip ARGS…`; its complaint becomes a one-line ConfigError. */
function ip(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("ip", args, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const why = stderr.trim().split("\n")[0] || describeError(err);
      reject(new ConfigError(`ip ${args.join(" ")}: ${why}`, { cause: err }));
    });
  });
}

/** Move the device into its end's namespace, address it and bring it up. */
async function configure(end: WanLinkEnd): Promise<void> {
  const inNs = end.netns === undefined ? [] : ["-n", end.netns];
  if (end.netns !== undefined) await ip(["link", "set", end.device, "netns", end.netns]);
  await ip([...inNs, "addr", "add", end.address, "dev", end.device]);
  await ip([...inNs, "link", "set", end.device, "up"]);
}

/** Start the link; on any failure nothing it made is left behind. */
export async function startWanLink(options: WanLinkOptions): Promise<WanLink> {
  const impairment = impairmentOf(options.impairment);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLog;
  const ends = { a: checkEnd("a", options.a), b: checkEnd("b", options.b) };
  if (isIP(ends.a.address) !== isIP(ends.b.address) || ends.a.address === ends.b.address) {
    throw new ConfigError(`link ends: expected two different addresses of one family, got ${options.a.address} and ${options.b.address}`);
  }
  const { scheduler, forward, back, nextRandom } = wanLinkDirections(impairment, options.seed, clock);
  const aToB = new Direction(forward, nextRandom());
  const bToA = new Direction(back, nextRandom());
  tunAddon ??= loadAddon<VapTunAddon>("vap_tun");
  const { Tun } = tunAddon;

  // A name of at most 15 bytes (IFNAMSIZ), unique enough for parallel links.
  const tag = systemRandom.int(2 ** 24).toString(16).padStart(6, "0");
  const a: WanLinkEnd = { ...options.a, device: `vapwan${tag}a` };
  const b: WanLinkEnd = { ...options.b, device: `vapwan${tag}b` };
  const devices: TunDevice[] = [];
  /** What the link released toward `to`, written into its device; a write refused for a full queue is a drop the receiver's stack recovers from. */
  const writer = (to: WanLinkEnd, device: () => TunDevice) => (packet: Uint8Array) => {
    try {
      device().write(packet);
    } catch (err) {
      log.warn(`wan: link ${to.device}: ${describeError(err)}`);
    }
  };
  const reader = (from: WanLinkEnd, direction: Direction, send: (packet: Uint8Array) => void) => (error: Error | null, packets: Buffer[]) => {
    if (error) log.error(`wan: link ${from.device} stopped reading: ${describeError(error)}`);
    for (const p of packets) direction.datagram(p, send);
  };
  try {
    const toB = writer(b, () => devices[1]!);
    const toA = writer(a, () => devices[0]!);
    devices.push(new Tun(a.device, reader(a, aToB, toB)));
    devices.push(new Tun(b.device, reader(b, bToA, toA)));
    await configure(a);
    await configure(b);
  } catch (err) {
    scheduler.close();
    for (const d of devices) d.close();
    throw err instanceof ConfigError ? err : new ConfigError(`wan link: ${describeError(err)}`, { cause: err });
  }
  log.info(`wan: link ${a.device} (${a.netns ?? "this namespace"}, ${a.address}) <-> ${b.device} (${b.netns ?? "this namespace"}, ${b.address})`);

  return {
    a,
    b,
    impairment,
    stats: () => ({ aToB: { ...aToB.stats }, bToA: { ...bToA.stats } }),
    async close() {
      scheduler.close();
      for (const d of devices.splice(0)) d.close();
    },
  };
}
