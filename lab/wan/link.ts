/**
 * The WAN link model, pure: no sockets, no timers. `decide` draws one
 * datagram's random fate from a seeded stream; `LinkModel.offer` turns a
 * decision, a size and an arrival time into departure times. Tests check the
 * maths exactly through these two, and the relays only execute what they say.
 *
 * One LinkModel is one direction of the link. A packet first waits for the
 * serialization queue (rate), leaves it after bytes × 8 / rate, then travels
 * for delay ± jitter. Departures never go below the previous departure, so
 * jitter does not reorder; only a `reordered` decision does, by holding a
 * packet back `reorderHoldMs` without holding back the ones after it.
 */
import type { Random } from "../../agent/core/index.js";
import type { Impairment } from "./impairment.js";

export interface Decision {
  lost: boolean;
  duplicate: boolean;
  reordered: boolean;
  /** Offset from the delay, in [-jitter, +jitter). */
  jitterMs: number;
}

/**
 * One datagram's fate. Always four draws, whatever the outcome, so the n-th
 * datagram's decision depends only on the seed and n, never on timing or on
 * the fates of the datagrams before it.
 */
export function decide(imp: Impairment, random: Random): Decision {
  const lost = random.next() < imp.loss;
  const duplicate = random.next() < imp.duplicate;
  const reordered = random.next() < imp.reorder;
  const jitterMs = imp.jitterMs * (2 * random.next() - 1);
  return { lost, duplicate, reordered, jitterMs };
}

export type Fate =
  | { readonly kind: "lost" }
  /** Tail-dropped: the serialization queue already held `queueMs` of data. */
  | { readonly kind: "overflow" }
  | {
      readonly kind: "sent";
      /** Departure (delivery) time, on the arrival times' scale. */
      readonly at: number;
      /** Departure of the duplicate, when there is one. */
      readonly copyAt: number | undefined;
      readonly held: boolean;
    };

export class LinkModel {
  /** When the serializer is free for the next packet. */
  #txFreeAt = -Infinity;
  /** Latest departure of a packet not held back: the floor that keeps order. */
  #lastDeparture = -Infinity;

  constructor(private readonly imp: Impairment) {}

  /** Time in ms that `bytes` take to leave at the link rate (0 when unlimited). */
  serializationMs(bytes: number): number {
    return this.imp.rateBps > 0 ? (bytes * 8000) / this.imp.rateBps : 0;
  }

  /** One datagram of `bytes` arriving at `arrival` (ms, non-decreasing across calls). */
  offer(bytes: number, arrival: number, decision: Decision): Fate {
    if (decision.lost) return LOST;
    const tx = this.serializationMs(bytes);
    const txStart = Math.max(arrival, this.#txFreeAt);
    const backlog = txStart - arrival;
    // An empty queue always takes a packet, even one longer than the bound at a slow rate.
    if (backlog > 0 && backlog + tx > this.imp.queueMs) return OVERFLOW;
    const txEnd = txStart + tx;
    let at = txEnd + Math.max(0, this.imp.delayMs + decision.jitterMs);
    // The copy is serialized right behind the original and shares its path.
    const copyTx = decision.duplicate ? tx : 0;
    this.#txFreeAt = txEnd + copyTx;
    if (decision.reordered) {
      at += this.imp.reorderHoldMs;
    } else {
      at = Math.max(at, this.#lastDeparture);
      this.#lastDeparture = at + copyTx;
    }
    return { kind: "sent", at, copyAt: decision.duplicate ? at + copyTx : undefined, held: decision.reordered };
  }

  /**
   * Stream data (TCP) of `bytes` arriving at `arrival`: never lost, copied
   * or jittered, and queued whatever the backlog (the relay pauses the
   * sender instead). Returns its departure time.
   */
  stream(bytes: number, arrival: number): number {
    const txEnd = Math.max(arrival, this.#txFreeAt) + this.serializationMs(bytes);
    this.#txFreeAt = txEnd;
    this.#lastDeparture = Math.max(txEnd + this.imp.delayMs, this.#lastDeparture);
    return this.#lastDeparture;
  }
}

const LOST: Fate = { kind: "lost" };
const OVERFLOW: Fate = { kind: "overflow" };
