/**
 * What both shells do with the socket of one transfer: the transfer id
 * check (RFC 1350 §4: a datagram from any other port gets ERROR 5 and
 * leaves the transfer alone), and the one retransmission timer.
 */
import type { Clock, TimerHandle } from "../../core/index.js";
import { type DatagramSocket, type Endpoint } from "../../net/index.js";
import { decodePacket, encodePacket, Opcode, type TftpPacket, TftpDecodeError, TftpErrorCode } from "./packet.js";

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.address === b.address;
}

/** ERROR 5 to a stranger on a transfer's socket (never to an ERROR, so two strangers cannot loop). */
export function refuseStranger(socket: DatagramSocket, data: Uint8Array, from: Endpoint): void {
  if (data.length >= 2 && data[0] === 0 && data[1] === Opcode.Error) return;
  socket.send(encodePacket({ opcode: Opcode.Error, code: TftpErrorCode.UnknownTransferId, message: "Unknown transfer ID" }), from);
}

/**
 * Decode a datagram from the transfer's peer. A malformed one is dropped
 * like a lost datagram: an ERROR would end a transfer the peer may still
 * complete, and retransmission recovers from the loss.
 */
export function decodeFromPeer(data: Uint8Array): TftpPacket | undefined {
  try {
    return decodePacket(data);
  } catch (err) {
    if (err instanceof TftpDecodeError) return undefined;
    throw err;
  }
}

/**
 * The transfer's single retransmission timer: arming replaces the previous
 * deadline. A transfer re-arms on every ACK it sends or takes, which in
 * lock-step is every block; so arming only moves the deadline, and the one
 * underlying timer, when it fires early, waits out the rest. A timer is
 * replaced only when a deadline comes sooner than the running one.
 */
export class RetransmitTimer {
  #handle: TimerHandle | undefined;
  /** When the running timer fires. */
  #handleDue = 0;
  /** When the transfer's wait is over. */
  #due = 0;

  constructor(
    private readonly clock: Clock,
    private readonly name: string,
    private readonly onExpiry: () => void,
  ) {}

  arm(ms: number): void {
    this.#due = this.clock.now() + ms;
    if (this.#handle && this.#handleDue <= this.#due) return;
    this.#handle?.cancel();
    this.#start(ms);
  }

  cancel(): void {
    this.#handle?.cancel();
    this.#handle = undefined;
  }

  #start(ms: number): void {
    this.#handleDue = this.clock.now() + ms;
    this.#handle = this.clock.setTimer(this.name, ms, () => {
      this.#handle = undefined;
      const left = this.#due - this.clock.now();
      if (left > 0) this.#start(left);
      else this.onExpiry();
    });
  }
}
