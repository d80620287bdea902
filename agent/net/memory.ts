/**
 * An in-memory datagram network for deterministic tests: delivery happens
 * on the injected Clock (so a ManualClock steps it), and a filter can drop,
 * delay or observe any datagram.
 */
import type { Clock } from "../core/index.js";
import { type DatagramHandler, type DatagramSocket, type Endpoint, endpointKey } from "./socket.js";

export interface InFlight {
  from: Endpoint;
  to: Endpoint;
  data: Uint8Array;
}

/** Decide a datagram's fate: "drop", a delay in ms, several delays (duplicates), or undefined for the default latency. */
export type NetworkFilter = (d: InFlight) => "drop" | number | number[] | undefined;

export class MemoryNetwork {
  readonly #sockets = new Map<string, { handler: DatagramHandler }>();
  #nextPort = 40000;
  filter: NetworkFilter = () => undefined;

  constructor(
    private readonly clock: Clock,
    private readonly latencyMs = 1,
  ) {}

  bind(address: string, port = 0): DatagramSocket {
    const local = { address, port: port || this.#nextPort++ };
    const key = endpointKey(local);
    if (this.#sockets.has(key)) throw new Error(`${key} is already bound`);
    const entry = { handler: (() => {}) as DatagramHandler };
    this.#sockets.set(key, entry);
    let closed = false;
    return {
      local,
      send: (data, to) => {
        if (closed) return;
        // No copy: every sender hands over a buffer it never writes again (each encoder and
        // addDtlsPreamble return fresh ones; a channel resends its own unchanged), as a UDP socket expects.
        const d: InFlight = { from: local, to, data };
        const fate = this.filter(d);
        if (fate === "drop") return;
        for (const delay of Array.isArray(fate) ? fate : [fate ?? this.latencyMs]) {
          this.clock.setTimer("network", delay, () => {
            // The limited broadcast address reaches every socket bound to the port.
            if (to.address === "255.255.255.255") {
              for (const [other, entry] of this.#sockets) if (other.endsWith(`:${to.port}`) && other !== key) entry.handler(d.data, local);
            } else {
              this.#sockets.get(endpointKey(to))?.handler(d.data, local);
            }
          });
        }
      },
      onMessage: (h) => {
        entry.handler = h;
      },
      close: () => {
        closed = true;
        this.#sockets.delete(key);
      },
    };
  }
}
