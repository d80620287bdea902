/**
 * One direction of one relay: the relay's own seeded decision stream and
 * counters, on top of the link direction every relay of the proxy shares
 * (one WAN link carries CAPWAP control, data and any TCP transfer, so they
 * share its rate and its order).
 */
import { type Clock, type Random, seededRandom, UsageError } from "../../agent/core/index.js";
import type { Impairment } from "./impairment.js";
import { decide, LinkModel } from "./link.js";
import { DeliveryScheduler, type Lane } from "./schedule.js";

/** Counters of one direction of one relay. TCP counts segments as packets. */
export interface DirectionStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Lost by the `loss` probability. */
  dropped: number;
  /** Tail-dropped by a full serialization queue. */
  queueDropped: number;
  duplicated: number;
  reordered: number;
}

function emptyStats(): DirectionStats {
  return { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, dropped: 0, queueDropped: 0, duplicated: 0, reordered: 0 };
}

/** One direction of the WAN link, shared by every relay of a proxy. */
export interface SharedLink {
  readonly impairment: Impairment;
  readonly model: LinkModel;
  readonly lane: Lane;
  readonly scheduler: DeliveryScheduler;
  readonly clock: Clock;
}

/** Both directions of one WAN link, on one scheduler. */
export interface WanLinkDirections {
  readonly scheduler: DeliveryScheduler;
  /** Client → server (the UDP/TCP proxy) or A → B (the TUN link). */
  readonly forward: SharedLink;
  readonly back: SharedLink;
  /** A fresh decision stream for one relay direction, derived from the seed in call order. */
  nextRandom(): Random;
}

export function wanLinkDirections(impairment: Impairment, seed: number, clock: Clock): WanLinkDirections {
  if (!Number.isInteger(seed)) throw new UsageError(`seed: expected a whole number, got ${seed}`);
  const scheduler = new DeliveryScheduler(clock);
  const link = (): SharedLink => ({ impairment, model: new LinkModel(impairment), lane: scheduler.lane(), scheduler, clock });
  const streams = seededRandom(seed);
  return { scheduler, forward: link(), back: link(), nextRandom: () => seededRandom(streams.int(2 ** 32)) };
}

/**
 * TCP data is offered to the link in segments of at most an Ethernet MSS, so
 * a 64 KiB read does not cross a slow link as one burst.
 */
const TCP_SEGMENT_BYTES = 1460;

export class Direction {
  readonly stats = emptyStats();

  constructor(
    private readonly link: SharedLink,
    private readonly random: Random,
  ) {}

  /** Impair one datagram; `send` runs at its departure, twice when duplicated. */
  datagram(data: Uint8Array, send: (data: Uint8Array) => void): void {
    const s = this.stats;
    s.packetsIn++;
    s.bytesIn += data.length;
    const fate = this.link.model.offer(data.length, this.link.clock.now(), decide(this.link.impairment, this.random));
    if (fate.kind === "lost") s.dropped++;
    else if (fate.kind === "overflow") s.queueDropped++;
    else {
      if (fate.held) s.reordered++;
      this.#deliver(fate.at, data, send);
      if (fate.copyAt !== undefined) {
        s.duplicated++;
        this.#deliver(fate.copyAt, data, send);
      }
    }
  }

  /** Stream data: delayed and rate-limited in order, never lost. `deliver` runs once per segment. */
  stream(data: Uint8Array, deliver: (segment: Uint8Array) => void): void {
    const step = this.link.impairment.rateBps > 0 ? TCP_SEGMENT_BYTES : data.length;
    for (let offset = 0; offset < data.length; offset += step) {
      const segment = data.subarray(offset, offset + step);
      this.stats.packetsIn++;
      this.stats.bytesIn += segment.length;
      this.#deliver(this.link.model.stream(segment.length, this.link.clock.now()), segment, deliver);
    }
  }

  /** Run `fn` once everything offered so far in this direction has departed (a FIN or a RST following the data). */
  after(fn: () => void): void {
    this.link.scheduler.run(this.link.lane, this.link.model.stream(0, this.link.clock.now()), fn);
  }

  #deliver(at: number, data: Uint8Array, send: (data: Uint8Array) => void): void {
    this.link.scheduler.run(this.link.lane, at, () => {
      this.stats.packetsOut++;
      this.stats.bytesOut += data.length;
      send(data);
    });
  }
}
