/**
 * `vap wan`: the WAN impairment proxy from the command line, to rehearse a
 * remote-site upgrade (a lab AP 100 ms away from its controller) or to put
 * any UDP/TCP service behind a slow, lossy link; with --link, the same link
 * at layer 3 between two network namespaces (tun-link.ts).
 */
import { type Command, type CommandIo, noPositionals, parseOptions, untilSignal } from "../../agent/command-kit/index.js";
import { systemRandom, ConfigError } from "../../agent/core/index.js";
import type { Endpoint } from "../../agent/net/index.js";
import { parseDuration } from "../../agent/config/index.js";
import type { DirectionStats } from "./direction.js";
import { describeImpairment, type Impairment, parseProbability, parseRate } from "./impairment.js";
import { type RelayProtocol, type RelaySpec, type RelayStats, startWanProxy, type WanProxyOptions } from "./proxy.js";
import { type LinkEnd, startWanLink, type WanLink, type WanLinkEnd } from "./tun-link.js";

const USAGE = `--listen [tcp:|tftp:]HOST:PORT --to HOST:PORT [--listen … --to …] [options]
   or: --link [NS_A]:ADDRESS/PREFIX,[NS_B]:ADDRESS/PREFIX [options]
  Relays each --listen to the --to in the same position, across one emulated
  WAN link shared by all pairs, until SIGINT/SIGTERM; then prints the counters.
  Pairs are UDP unless --listen starts with tcp: or tftp: (UDP that follows
  the TFTP server's transfer id, the new port it answers from). IPv6: [::1]:5246.
  --link joins two network namespaces (ip netns add) by a TUN device in each,
  addressed as given (an empty NS is this namespace), and passes every IP
  packet across the link: TCP, UDP and ICMP all see the delay, loss,
  duplication, reordering and rate, and TCP retransmits what is lost. Needs
  root and /dev/net/tun; the devices are deleted when vap wan stops.
  Example: --link ap:10.77.0.1/30,wlc:10.77.0.2/30
  --delay 50ms        one-way delay, each direction (RTT ≈ 2 × delay)
  --jitter 5ms        ± uniform around the delay; never reorders by itself
  --loss 1%           probability a datagram is lost (1% or 0.01)
  --reorder 1%        probability a datagram is held back 10ms so later ones overtake it
  --duplicate 0.5%    probability a datagram is sent twice
  --rate 10mbit       link rate each way: bit kbit mbit gbit byte kbyte mbyte gbyte
  --queue 1s          rate queue bound; datagrams beyond it are tail-dropped
  --idle 60s          forget a UDP client after this long without traffic (pairs only)
  --seed 7            same seed, same datagrams → same fates (default: random, printed)
  --stats 10s         print the counters at this interval
  TCP pairs get delay and rate only (no loss, duplication, reordering or
  jitter); a FIN or reset follows the data across the link.
  Durations: 50ms, 0.5s, 2m (a bare number is seconds).`;

function parse(argv: string[]) {
  const { values, positionals } = parseOptions(argv, {
    listen: { type: "string", multiple: true },
    link: { type: "string" },
    to: { type: "string", multiple: true },
    delay: { type: "string" },
    jitter: { type: "string" },
    loss: { type: "string" },
    reorder: { type: "string" },
    duplicate: { type: "string" },
    rate: { type: "string" },
    queue: { type: "string" },
    idle: { type: "string" },
    seed: { type: "string" },
    stats: { type: "string" },
  });
  noPositionals(positionals);
  return values;
}

function invalid(flag: string, expected: string, value: string): never {
  throw new ConfigError(`--${flag}: expected ${expected}, got "${value}"`);
}

function flagValue<T>(flag: string, text: string | undefined, read: (text: string) => T | undefined, expected: string): T | undefined {
  if (text === undefined) return undefined;
  const value = read(text);
  return value === undefined ? invalid(flag, expected, text) : value;
}

const ENDPOINT = /^(?:(udp|tcp|tftp):)?(?:\[([0-9a-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/i;

function endpointOf(flag: "listen" | "to", text: string): { protocol: RelayProtocol; endpoint: Endpoint } {
  const m = ENDPOINT.exec(text);
  const port = Number(m?.[4]);
  const protocol = (m?.[1]?.toLowerCase() ?? "udp") as RelayProtocol;
  if (!m || port > 65535 || (flag === "to" && (port === 0 || m[1] !== undefined))) {
    invalid(flag, flag === "listen" ? "[tcp:|tftp:]HOST:PORT" : "HOST:PORT (the protocol goes on --listen)", text);
  }
  return { protocol, endpoint: { address: m[2] ?? m[3]!, port } };
}

const LINK_END = /^([^:,]*):([^,]+)$/;

/** "ap:10.77.0.1/30,wlc:10.77.0.2/30" → the two ends; an empty namespace is this one. startWanLink checks the addresses. */
function linkEndsOf(text: string): { a: LinkEnd; b: LinkEnd } {
  const ends = text.split(",").map((part) => LINK_END.exec(part.trim()));
  if (ends.length !== 2 || !ends[0] || !ends[1]) invalid("link", "[NS_A]:ADDRESS/PREFIX,[NS_B]:ADDRESS/PREFIX", text);
  const [a, b] = ends.map((m) => (m![1] ? { netns: m![1], address: m![2]! } : { address: m![2]! })) as [LinkEnd, LinkEnd];
  return { a, b };
}

interface CommonOptions {
  impairment: Partial<Impairment>;
  seed: number;
  /** Counter print interval, ms; undefined prints only at exit. */
  statsEveryMs: number | undefined;
}

/** The link's flags as text, by name (`vap lab` reads the same ones as --wan-delay …). */
export type ImpairmentFlagValues = Partial<Record<"delay" | "jitter" | "loss" | "reorder" | "duplicate" | "rate" | "queue" | "seed", string>>;

/**
 * The impairment and seed the flags describe (a random seed when none is
 * given); a bad value is one ConfigError naming the flag as the operator
 * typed it (`prefix` + name).
 */
export function impairmentFlags(v: ImpairmentFlagValues, prefix = ""): { impairment: Partial<Impairment>; seed: number } {
  const duration = "a duration like 50ms or 0.5s";
  const probability = "a probability like 1% or 0.01";
  const impairment: Partial<Impairment> = {};
  const set = <K extends keyof Impairment>(key: K, value: Impairment[K] | undefined) => {
    if (value !== undefined) impairment[key] = value;
  };
  const flag = <T>(name: keyof ImpairmentFlagValues, read: (text: string) => T | undefined, expected: string) => flagValue(prefix + name, v[name], read, expected);
  set("delayMs", flag("delay", parseDuration, duration));
  set("jitterMs", flag("jitter", parseDuration, duration));
  set("loss", flag("loss", parseProbability, probability));
  set("reorder", flag("reorder", parseProbability, probability));
  set("duplicate", flag("duplicate", parseProbability, probability));
  set("rateBps", flag("rate", parseRate, "a rate like 10mbit, 512kbit or 100kbyte"));
  set("queueMs", flag("queue", parseDuration, duration));
  const seed = flag("seed", (t) => (/^\d{1,10}$/.test(t) && Number(t) < 2 ** 32 ? Number(t) : undefined), "a whole number from 0 to 4294967295") ?? systemRandom.int(2 ** 32);
  return { impairment, seed };
}

/** Relay pairs (--listen/--to) or a layer-3 link between namespaces (--link). */
export type WanCommandOptions = (CommonOptions & Omit<WanProxyOptions, keyof CommonOptions>) | (CommonOptions & { link: { a: LinkEnd; b: LinkEnd } });

/** argv → proxy or link options; every bad flag is a one-line ConfigError naming the flag and the value. */
export function wanOptionsOf(argv: string[]): WanCommandOptions {
  const v = parse(argv);
  const listens = v.listen ?? [];
  const tos = v.to ?? [];
  if (v.link !== undefined && (listens.length > 0 || tos.length > 0 || v.idle !== undefined)) {
    throw new ConfigError("--link joins two namespaces; --listen, --to and --idle are for relay pairs");
  }
  if (v.link === undefined && (listens.length === 0 || listens.length !== tos.length)) {
    throw new ConfigError(`expected pairs of --listen and --to (got ${listens.length} --listen, ${tos.length} --to), or --link`);
  }
  const relays: RelaySpec[] = listens.map((l, i) => {
    const { protocol, endpoint: listen } = endpointOf("listen", l);
    return { protocol, listen, to: endpointOf("to", tos[i]!).endpoint };
  });
  const { impairment, seed } = impairmentFlags(v);
  const positive = (text: string) => {
    const ms = parseDuration(text);
    return ms !== undefined && ms > 0 ? ms : undefined;
  };
  const statsEveryMs = flagValue("stats", v.stats, positive, "an interval > 0 like 10s");
  if (v.link !== undefined) return { link: linkEndsOf(v.link), impairment, seed, statsEveryMs };
  return { relays, impairment, seed, idleTimeoutMs: flagValue("idle", v.idle, positive, "a duration > 0 like 60s"), statsEveryMs };
}

function directionLine(name: string, s: DirectionStats): string {
  return (
    `  ${name}: in ${s.packetsIn} (${s.bytesIn} B), out ${s.packetsOut} (${s.bytesOut} B), ` +
    `dropped ${s.dropped}, queue-dropped ${s.queueDropped}, duplicated ${s.duplicated}, reordered ${s.reordered}\n`
  );
}

function formatStats(stats: readonly RelayStats[]): string {
  return stats
    .map((r) => {
      const what = `${r.protocol === "tcp" ? "connection" : "client"}${r.clients === 1 ? "" : "s"}`;
      return `${r.protocol} ${r.listen} -> ${r.to}, ${r.clients} ${what}\n` + directionLine("to server", r.toServer) + directionLine("to client", r.toClient);
    })
    .join("");
}

function formatLinkStats(link: WanLink): string {
  const s = link.stats();
  return `link ${link.a.device} <-> ${link.b.device}\n` + directionLine("a -> b", s.aToB) + directionLine("b -> a", s.bToA);
}

function linkEndLine(name: string, end: WanLinkEnd): string {
  return `wan: ${name} ${end.device} ${end.address} in ${end.netns === undefined ? "this namespace" : `namespace ${end.netns}`}\n`;
}

/** The proxy or link the arguments describe, what to print at start, and its counters. */
async function start(options: WanCommandOptions): Promise<{ banner: string; stats: () => string; close: () => Promise<void> }> {
  if ("link" in options) {
    const link = await startWanLink({ ...options.link, impairment: options.impairment, seed: options.seed });
    const banner = `wan: seed ${options.seed}, ${describeImpairment(link.impairment)}\n` + linkEndLine("a", link.a) + linkEndLine("b", link.b);
    return { banner, stats: () => formatLinkStats(link), close: () => link.close() };
  }
  const proxy = await startWanProxy(options);
  const banner =
    `wan: seed ${options.seed}, ${describeImpairment(proxy.impairment)}\n` +
    proxy.relays.map((r) => `wan: ${r.protocol} ${r.listen.address}:${r.listen.port} -> ${r.to.address}:${r.to.port}\n`).join("");
  return { banner, stats: () => formatStats(proxy.stats()), close: () => proxy.close() };
}

/** Run the proxy or link the arguments describe until SIGINT, SIGTERM or `io.signal`, then print the final counters. */
async function runWan(argv: string[], io: CommandIo): Promise<number> {
  const options = wanOptionsOf(argv);
  const { statsEveryMs } = options;
  const running = await start(options);
  io.stdout(running.banner);
  const ticker = statsEveryMs === undefined ? undefined : setInterval(() => io.stdout(running.stats()), statsEveryMs);
  try {
    await untilSignal(io.signal);
  } finally {
    clearInterval(ticker);
    await running.close();
  }
  io.stdout(`wan: stopped; final counters:\n${running.stats()}`);
  return 0;
}

export const wanCommand: Command = {
  path: ["wan"],
  summary: "relay UDP/TCP, or IP between namespaces, across an emulated WAN link (delay, loss, rate)",
  usage: USAGE,
  run: runWan,
};
