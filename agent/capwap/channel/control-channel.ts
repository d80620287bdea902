/**
 * The control-message layer both ends share (RFC 5415 §4.5): sequence
 * numbers, requests retransmitted every RetransmitInterval up to
 * MaxRetransmit times, responses matched by type and sequence number, the
 * last responses cached so a duplicate request gets the same answer again,
 * fragmentation above the packet size and reassembly. It moves plaintext
 * CAPWAP packets; DTLS and the socket belong to whoever owns the channel.
 */
import {
  CapwapDecodeError,
  controlHeader,
  decodeControlMessage,
  decodeControlPacket,
  encodeControlPacket,
  fragmentPayload,
  headerLength,
  isRequest,
  messageTypeName,
  Reassembler,
} from "../codec/index.js";
import { equalBytes, RepeatLimiter, type Clock, type Log, type RepeatLimit, type TimerHandle } from "../../core/index.js";
import { DEFAULT_LINK_MTU, ipUdpOverhead } from "../../net/index.js";
import type { Element, Message, VendorProfile } from "../profiles/index.js";

export interface ControlChannelOptions {
  profile: VendorProfile;
  clock: Clock;
  /** Put one plaintext CAPWAP packet on the way to the peer. */
  transmit: (packet: Uint8Array) => void;
  /**
   * Largest CAPWAP packet (header included) before fragmenting, asked for
   * each message: a DTLS session knows its data MTU only once connected.
   * Both ends answer it with maxControlPacket().
   */
  maxPacketSize: () => number;
  /** RFC 5415 §4.7 RetransmitInterval (3 s) and MaxRetransmit (5). */
  retransmitIntervalMs: number;
  maxRetransmit: number;
  /** A request from the peer (never a duplicate: those are answered from the cache). */
  onRequest: (request: Message) => void;
  /** A packet that could not be used: malformed, or a response nobody waits for. */
  onDiscard: (reason: string, detail: { messageType?: number; error?: CapwapDecodeError }) => void;
  /**
   * Where the channel logs what it drops or reads only in part, each kind
   * thinned per reason by a RepeatLimiter (its first lines, then a summary
   * per interval) so a peer sending garbage costs a few lines: discarded
   * packets at info, elements kept raw (a body that misfits its layout) at
   * debug, each line naming `peer`. A caller giving it leaves logging out
   * of onDiscard.
   */
  diagnostics?: { log: Log; peer: string; limit?: RepeatLimit };
  /** Every plaintext packet in and out, for captures. */
  onPacket?: (direction: "in" | "out", packet: Uint8Array) => void;
  /**
   * Fault injection (a lab controller's fault plan): asked each time the
   * response to a `requestType` request would go out, resends from the
   * response cache included. True drops all its packets as if lost on the
   * wire: onPacket still sees them, transmit does not.
   */
  dropResponse?: (requestType: number) => boolean;
}

export interface PendingRequest {
  readonly type: number;
  readonly seq: number;
  /** How often it was sent again. */
  readonly retransmits: number;
  /** Send it again now (a sliding window's fast retransmit); counts as a retransmission. */
  retransmitNow(): void;
  /** Stop retransmitting and forget the request. */
  cancel(): void;
}

export interface RequestOptions {
  /** Use this sequence number (resending a refused block under its own number) instead of the next one. */
  seq?: number;
  /** Override RetransmitInterval for this request (adaptive timeouts of a sliding window). */
  retransmitIntervalMs?: number;
  /** A late copy of the response arrived after the request was answered (it was retransmitted, and the peer answered each copy). */
  onLateResponse?: () => void;
}

interface Pending {
  readonly type: number;
  readonly seq: number;
  packets: Uint8Array[];
  retransmits: number;
  intervalMs: number;
  timer: TimerHandle;
  onResponse: (response: Message) => void;
  onTimeout: () => void;
  onLateResponse: (() => void) | undefined;
}

/** A request answered after retransmissions: its other copies' responses may still come (RFC 5415 §4.5.3: each copy is answered). */
interface Answered {
  readonly responseType: number;
  /** Late responses still expected: one per retransmission. */
  copies: number;
  readonly onLateResponse: (() => void) | undefined;
}

/** Responses remembered for duplicate detection; far below the 8-bit sequence space. */
const RESPONSE_CACHE = 64;
const PLAIN_HEADER = controlHeader();
const REASSEMBLY = { timeoutMs: 10_000, maxBufferedBytes: 256 * 1024 };

/**
 * The largest CAPWAP control packet that leaves as one datagram toward
 * `peerAddress`: with DTLS, what the connected session seals in one record
 * (OpenSSL's data MTU for the negotiated suite, after IP, UDP and the DTLS
 * preamble); in plaintext, the link MTU less the IP and UDP headers of the
 * peer's family. A session still handshaking carries no CAPWAP packet yet.
 * Cisco's 1400-byte Join and Image Data Requests fit one IPv4 datagram under
 * DTLS this way.
 */
export function maxControlPacket(peerAddress: string, dtls?: { readonly maxPayload: number }, linkMtu = DEFAULT_LINK_MTU): number {
  if (dtls && dtls.maxPayload > 0) return dtls.maxPayload;
  return linkMtu - ipUdpOverhead(peerAddress);
}

export class ControlChannel {
  readonly #o: ControlChannelOptions;
  #nextSeq: number;
  #nextFragmentId = 1;
  readonly #pending = new Map<number, Pending>();
  /** seq → the request's payload and our response packets. */
  readonly #responses = new Map<number, { request: Uint8Array; packets: Uint8Array[] }>();
  /** seq → a retransmitted request already answered; bounded by the sequence space, a new request on the seq replaces it. */
  readonly #answered = new Map<number, Answered>();
  /** Late copies of responses to retransmitted requests: expected, not discarded. */
  #lateResponses = 0;
  readonly #reassembler = new Reassembler(REASSEMBLY);
  readonly #discards: RepeatLimiter | undefined;
  readonly #rawElements: RepeatLimiter | undefined;
  #closed = false;

  constructor(options: ControlChannelOptions, initialSeq = 0) {
    this.#o = options;
    this.#nextSeq = initialSeq & 0xff;
    const d = options.diagnostics;
    if (d) {
      const common = { log: d.log, clock: options.clock, ...(d.limit && { limit: d.limit }) };
      this.#discards = new RepeatLimiter({ ...common, what: "packets discarded" });
      this.#rawElements = new RepeatLimiter({ ...common, what: "elements kept raw", level: "debug" });
    }
  }

  /**
   * Send a request; `onResponse` gets the matching response, `onTimeout`
   * fires after MaxRetransmit retransmissions went unanswered.
   */
  request(message: Omit<Message, "seq">, onResponse: (response: Message) => void, onTimeout: () => void, options: RequestOptions = {}): PendingRequest {
    const seq = options.seq ?? this.#nextSeq;
    if (options.seq === undefined) this.#nextSeq = (seq + 1) & 0xff;
    // A new request with this seq replaces any (long-forgotten) earlier one.
    this.#pending.get(seq)?.timer.cancel();
    this.#answered.delete(seq);
    const packets = this.#encode({ ...message, seq });
    const intervalMs = options.retransmitIntervalMs ?? this.#o.retransmitIntervalMs;
    const pending: Pending = { type: message.type, seq, packets, retransmits: 0, intervalMs, onResponse, onTimeout, onLateResponse: options.onLateResponse, timer: this.#arm(seq, intervalMs) };
    this.#pending.set(seq, pending);
    this.#send(packets);
    const channel = this;
    return {
      type: message.type,
      seq,
      get retransmits() {
        return pending.retransmits;
      },
      retransmitNow() {
        if (channel.#pending.get(seq) !== pending) return;
        pending.timer.cancel();
        pending.retransmits++;
        pending.timer = channel.#arm(seq, pending.intervalMs);
        channel.#send(pending.packets);
      },
      cancel: () => this.#forget(seq, pending),
    };
  }

  /** Late copies of responses to retransmitted requests, taken as expected rather than discarded. */
  get lateResponses(): number {
    return this.#lateResponses;
  }

  /** The sequence number the next request will carry. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Answer `request` (same seq, type + 1) and remember the answer for duplicates. */
  respond(request: Message, elements: Message["elements"] = []): void {
    const packets = this.#encode({ type: request.type + 1, seq: request.seq, elements });
    const cached = this.#responses.get(request.seq);
    if (cached) cached.packets = packets;
    this.#send(packets, this.#o.dropResponse?.(request.type));
  }

  /** A plaintext CAPWAP packet from the peer. */
  receive(packet: Uint8Array): void {
    if (this.#closed) return;
    this.#o.onPacket?.("in", packet);
    let message: Message | undefined;
    /** The control header on: the packet's from payloadOffset, or the reassembled message. */
    let payload: Uint8Array | undefined;
    let payloadOffset: number;
    try {
      const decoded = decodeControlPacket<Element>(packet, this.#o.profile.elements);
      message = decoded.message;
      payloadOffset = decoded.payloadOffset;
      if (!message) {
        const whole = this.#reassembler.push("peer", decoded.header, packet.subarray(payloadOffset), this.#o.clock.now());
        if (!whole) return;
        payload = whole.payload;
        message = decodeControlMessage(payload, this.#o.profile.elements);
      }
    } catch (err) {
      if (!(err instanceof CapwapDecodeError)) throw err;
      this.#discard("malformed packet", `malformed packet: ${err.message}`, { messageType: err.messageType, error: err });
      return;
    }
    this.#noteRawElements(message);
    if (isRequest(message.type)) this.#incomingRequest(message, payload ?? packet.subarray(payloadOffset));
    else this.#incomingResponse(message);
  }

  /** Stop every retransmission; the channel accepts nothing more. */
  close(): void {
    this.#discards?.flush();
    this.#rawElements?.flush();
    this.#closed = true;
    for (const p of this.#pending.values()) p.timer.cancel();
    this.#pending.clear();
    this.#responses.clear();
    this.#answered.clear();
  }

  #incomingRequest(message: Message, payload: Uint8Array): void {
    const cached = this.#responses.get(message.seq);
    if (cached && equalBytes(cached.request, payload)) {
      // RFC 5415 §4.5.3: a retransmitted request gets the cached response again.
      if (cached.packets.length > 0) this.#send(cached.packets, this.#o.dropResponse?.(message.type));
      return;
    }
    this.#responses.delete(message.seq);
    // The payload is a datagram's own buffer (nobody reuses it), so keeping a view costs no copy.
    this.#responses.set(message.seq, { request: payload, packets: [] });
    if (this.#responses.size > RESPONSE_CACHE) this.#responses.delete(this.#responses.keys().next().value!);
    this.#o.onRequest(message);
  }

  #incomingResponse(message: Message): void {
    const pending = this.#pending.get(message.seq);
    if (!pending && this.#lateCopy(message)) return;
    if (!pending || pending.type + 1 !== message.type) {
      const unexpected = `unexpected ${messageTypeName(message.type)}`;
      this.#discard(unexpected, `${unexpected} (seq ${message.seq})`, { messageType: message.type });
      return;
    }
    this.#forget(message.seq, pending);
    if (pending.retransmits > 0) this.#answered.set(message.seq, { responseType: message.type, copies: pending.retransmits, onLateResponse: pending.onLateResponse });
    pending.onResponse(message);
  }

  /** Whether `response` answers a copy of a retransmitted request already answered: counted, not discarded. */
  #lateCopy(response: Message): boolean {
    const answered = this.#answered.get(response.seq);
    if (!answered || answered.responseType !== response.type) return false;
    if (--answered.copies === 0) this.#answered.delete(response.seq);
    this.#lateResponses++;
    answered.onLateResponse?.();
    return true;
  }

  /** `kind` keys the log's rate limit ("malformed packet"); `reason` tells this packet's whole story. */
  #discard(kind: string, reason: string, detail: { messageType?: number; error?: CapwapDecodeError }): void {
    this.#o.onDiscard(reason, detail);
    if (!this.#discards) return;
    const peer = this.#o.diagnostics!.peer;
    this.#discards.record(peer, kind, () => `Discarding packet from ${peer}: ${reason}`);
  }

  /** The codec's note on an element it kept raw starts with the layout's name, which keys the rate limit. */
  #noteRawElements(message: Message): void {
    if (!this.#rawElements) return;
    const peer = this.#o.diagnostics!.peer;
    for (const el of message.elements) {
      if (!("note" in el) || el.note === undefined) continue;
      const note = el.note;
      this.#rawElements.record(peer, note.slice(0, note.indexOf(":")), () => `${messageTypeName(message.type)} from ${peer}: element kept raw: ${note}`);
    }
  }

  #arm(seq: number, intervalMs: number): TimerHandle {
    return this.#o.clock.setTimer(`retransmit-${seq}`, intervalMs, () => this.#retransmit(seq));
  }

  #retransmit(seq: number): void {
    const pending = this.#pending.get(seq);
    if (!pending || this.#closed) return;
    if (pending.retransmits >= this.#o.maxRetransmit) {
      this.#pending.delete(seq);
      pending.onTimeout();
      return;
    }
    pending.retransmits++;
    pending.timer = this.#arm(seq, pending.intervalMs);
    this.#send(pending.packets);
  }

  #forget(seq: number, pending: Pending): void {
    pending.timer.cancel();
    if (this.#pending.get(seq) === pending) this.#pending.delete(seq);
  }

  #encode(message: Message): Uint8Array[] {
    // Most messages fit in one packet: encode it whole, in one allocation.
    const packet = encodeControlPacket(message, this.#o.profile.elements, PLAIN_HEADER);
    const max = this.#o.maxPacketSize();
    if (packet.length <= max) return [packet];
    const id = this.#nextFragmentId;
    this.#nextFragmentId = (id % 0xffff) + 1;
    return fragmentPayload(packet.subarray(headerLength(PLAIN_HEADER)), PLAIN_HEADER, max, id);
  }

  #send(packets: Uint8Array[], dropped = false): void {
    if (this.#closed) return;
    for (const p of packets) {
      this.#o.onPacket?.("out", p);
      if (!dropped) this.#o.transmit(p);
    }
  }
}
