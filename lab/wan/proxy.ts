/**
 * The WAN impairment proxy: several relays (a CAPWAP AP needs UDP 5246 and
 * 5247, OOB HTTPS adds TCP 8443) behind one emulated WAN link. All relays
 * share the link's rate and order in each direction; each relay direction
 * draws its decisions from its own stream derived from the seed, so a relay
 * that sees the same datagrams sees the same fates, however its traffic
 * interleaves with the other relays'.
 */
import { lookup } from "node:dns/promises";
import { ConfigError, describeError, UsageError, silentLog, systemClock, type Clock, type Log } from "../../agent/core/index.js";
import { type Endpoint, endpointKey } from "../../agent/net/index.js";
import { Direction, type DirectionStats, wanLinkDirections } from "./direction.js";
import { type Impairment, impairmentOf } from "./impairment.js";
import { TcpRelay } from "./tcp-relay.js";
import { UdpRelay } from "./udp-relay.js";

/** `tftp` is UDP that follows a TFTP server's transfer ids (see udp-relay.ts). */
export type RelayProtocol = "udp" | "tcp" | "tftp";

export interface RelaySpec {
  protocol: RelayProtocol;
  /** Where the proxy listens; port 0 lets the kernel choose (see `WanProxy.relays`). */
  listen: Endpoint;
  /** The server; a host name is resolved once, at start. */
  to: Endpoint;
}

export interface WanProxyOptions {
  relays: readonly RelaySpec[];
  /** Unset fields take `NO_IMPAIRMENT`'s values. */
  impairment?: Partial<Impairment>;
  /** The same seed and the same datagrams give the same losses, copies and reorderings. */
  seed: number;
  /** A UDP client mapping with no traffic for this long is forgotten. Default 60 s. */
  idleTimeoutMs?: number;
  clock?: Clock;
  log?: Log;
}

export interface RelayStats {
  protocol: RelayProtocol;
  /** "address:port" actually bound. */
  listen: string;
  to: string;
  /** UDP client mappings or TCP connections open now. */
  clients: number;
  /** Client → server. */
  toServer: DirectionStats;
  /** Server → client. */
  toClient: DirectionStats;
}

export interface WanProxy {
  /** In the order given, with the endpoint actually bound. */
  readonly relays: readonly RelaySpec[];
  readonly impairment: Impairment;
  stats(): RelayStats[];
  close(): Promise<void>;
}

const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

interface OpenRelay {
  spec: RelaySpec;
  relay: UdpRelay | TcpRelay;
  toServer: Direction;
  toClient: Direction;
}

export async function startWanProxy(options: WanProxyOptions): Promise<WanProxy> {
  const impairment = impairmentOf(options.impairment);
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  if (!(idleTimeoutMs > 0)) throw new UsageError(`idleTimeoutMs: expected a duration > 0, got ${idleTimeoutMs}`);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLog;
  const { scheduler, forward: toServerLink, back: toClientLink, nextRandom } = wanLinkDirections(impairment, options.seed, clock);

  const open: OpenRelay[] = [];
  try {
    for (const spec of options.relays) {
      const toServer = new Direction(toServerLink, nextRandom());
      const toClient = new Direction(toClientLink, nextRandom());
      const to = await resolve(spec);
      const common = { listen: spec.listen, to, toServer, toClient };
      const relay = await listen<UdpRelay | TcpRelay>(spec, () =>
        spec.protocol === "tcp" ? TcpRelay.open({ ...common, impairment }) : UdpRelay.open({ ...common, idleTimeoutMs, clock, log, tftp: spec.protocol === "tftp" }),
      );
      open.push({ spec: { protocol: spec.protocol, listen: relay.listen, to }, relay, toServer, toClient });
      log.info(`wan: ${spec.protocol} ${endpointKey(relay.listen)} -> ${endpointKey(to)}`);
    }
  } catch (err) {
    scheduler.close();
    await Promise.all(open.map((r) => r.relay.close()));
    throw err;
  }

  return {
    relays: open.map((r) => r.spec),
    impairment,
    stats: () =>
      open.map((r) => ({
        protocol: r.spec.protocol,
        listen: endpointKey(r.spec.listen),
        to: endpointKey(r.spec.to),
        clients: r.relay.clients,
        toServer: { ...r.toServer.stats },
        toClient: { ...r.toClient.stats },
      })),
    async close() {
      scheduler.close();
      await Promise.all(open.map((r) => r.relay.close()));
    },
  };
}

/** Resolve the server's host name once: a UDP send to a name would look it up for every datagram. */
async function resolve(spec: RelaySpec): Promise<Endpoint> {
  try {
    const { address } = await lookup(spec.to.address);
    return { address, port: spec.to.port };
  } catch (err) {
    throw new ConfigError(`${spec.protocol} relay to ${spec.to.address}:${spec.to.port}: cannot resolve ${spec.to.address}: ${describeError(err)}`, { cause: err });
  }
}

/** Bind failures (address in use, not local) are the operator's to fix: one line naming the endpoint. */
async function listen<T>(spec: RelaySpec, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    throw new ConfigError(`${spec.protocol} relay cannot listen on ${endpointKey(spec.listen)}: ${describeError(err)}`, { cause: err });
  }
}
