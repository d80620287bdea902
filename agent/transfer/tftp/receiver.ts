/**
 * The receiving side of one read transfer (the client's), as a pure
 * transition function. Sink calls are effects and their completion is an
 * input ("sink-ready"). An ACK releases the sender's next window, so it is
 * how a slow sink slows the sender instead of filling memory: an ACK goes
 * out while the sink lags by at most `sinkLeadBytes` (its writes overlap
 * the next window on the wire rather than sitting between windows), and
 * waits otherwise — at most the lead and one window are ever held. The
 * sink must have begun before ACK 0 (it may refuse the image) and have
 * taken every block before the final ACK (the image is complete then).
 *
 * The server's transfer id (its port) is the shell's business; this machine
 * says whether a packet goes to the server's well-known port ("server", a
 * request) or to the transfer's peer.
 */
import { DALLY_WAITS, DEFAULT_RETRIES, SINK_LEAD_BYTES } from "./limits.js";
import { acceptOptionAck, type OptionRequest, requestedOptions, RFC1350_OPTIONS, type TransferOptions } from "./options.js";
import { Opcode, type TftpPacket, TftpErrorCode } from "./packet.js";
import { backOff, freshRetransmission, type Retransmission, wireBlock } from "./retransmit.js";

export type TftpFailureReason = "unreachable" | "not-found" | "refused" | "timeout" | "truncated" | "protocol" | "aborted" | "sink";

export interface ReceiverState {
  readonly phase: "request" | "data" | "dally" | "done" | "failed";
  readonly filename: string;
  /** Options still asked for; dropped after the server refuses them with ERROR 8. */
  readonly request: OptionRequest | undefined;
  readonly options: TransferOptions;
  /** Blocks received in order (the transfer's block count, past any rollover). */
  readonly received: number;
  readonly bytes: number;
  /** Which rollover the server uses; known at the first wrap. */
  readonly wrapsToOne: boolean | undefined;
  /** Sink calls (begin, write) not yet finished. */
  readonly sinkBusy: number;
  /** The sink's begin call finished (sink calls finish in order, so the first sink-ready is begin's). */
  readonly sinkBegun: boolean;
  /** How far (in bytes of blocks) an ACK may run ahead of the sink. */
  readonly sinkLeadBytes: number;
  /** Block to ACK once the sink allows (sinkHoldsAck). */
  readonly ackDue: number | undefined;
  readonly lastAcked: number;
  /** The final block, once it arrived. */
  readonly finalBlock: number | undefined;
  /** A duplicate or out-of-order block was already answered since the last progress. */
  readonly answeredStray: boolean;
  readonly retransmission: Retransmission;
  readonly retries: number;
}

export type ReceiverInput =
  | { type: "start" }
  | { type: "packet"; packet: TftpPacket }
  /** `calls` sink calls finished: a write finishes one per block it carried (a shell may gather blocks into one write). */
  | { type: "sink-ready"; calls: number }
  | { type: "timeout" }
  | { type: "abort"; reason: TftpFailureReason; code: TftpErrorCode; message: string };

export type ReceiverEffect =
  | { type: "send"; to: "server" | "peer"; packet: TftpPacket }
  | { type: "arm"; ms: number }
  | { type: "begin"; size: number | undefined }
  | { type: "write"; data: Uint8Array }
  /** Every block is in the sink and the final ACK is sent: the sink may finish. */
  | { type: "complete" }
  /** The dally after the final ACK is over: the socket may close. */
  | { type: "closed" }
  | { type: "failed"; reason: TftpFailureReason; message: string };

export interface ReceiverStep {
  state: ReceiverState;
  effects: ReceiverEffect[];
}

export function initialReceiver(
  filename: string,
  request: OptionRequest | undefined,
  timeoutMs: number,
  retries: number = DEFAULT_RETRIES,
  sinkLeadBytes: number = SINK_LEAD_BYTES,
): ReceiverState {
  return {
    phase: "request",
    filename,
    request,
    options: { ...RFC1350_OPTIONS, timeoutMs },
    received: 0,
    bytes: 0,
    wrapsToOne: undefined,
    sinkBusy: 0,
    sinkBegun: false,
    sinkLeadBytes,
    ackDue: undefined,
    lastAcked: 0,
    finalBlock: undefined,
    answeredStray: false,
    retransmission: freshRetransmission(timeoutMs),
    retries,
  };
}

/**
 * A copy of `s` for a step to change before returning it (the state a step
 * was given never changes). The steps every datagram takes build their next
 * state here rather than as `{ ...s, field: value }`: that literal missed
 * V8's inline caches on every call (a tenth of the client's CPU in a profile
 * of a windowed transfer), and so did a generic spread helper shared by both
 * machines; one literal with the fields in initialReceiver's order gives V8 one shape.
 */
function copy(s: ReceiverState): { -readonly [K in keyof ReceiverState]: ReceiverState[K] } {
  return {
    phase: s.phase,
    filename: s.filename,
    request: s.request,
    options: s.options,
    received: s.received,
    bytes: s.bytes,
    wrapsToOne: s.wrapsToOne,
    sinkBusy: s.sinkBusy,
    sinkBegun: s.sinkBegun,
    sinkLeadBytes: s.sinkLeadBytes,
    ackDue: s.ackDue,
    lastAcked: s.lastAcked,
    finalBlock: s.finalBlock,
    answeredStray: s.answeredStray,
    retransmission: s.retransmission,
    retries: s.retries,
  };
}

function readRequest(s: ReceiverState): ReceiverEffect {
  const options = s.request ? requestedOptions(s.request) : new Map<string, string>();
  return { type: "send", to: "server", packet: { opcode: Opcode.ReadRequest, filename: s.filename, mode: "octet", options } };
}

function ack(s: ReceiverState, block: number): ReceiverEffect {
  return { type: "send", to: "peer", packet: { opcode: Opcode.Ack, block: wireBlock(block, s.wrapsToOne) } };
}

function failed(s: ReceiverState, reason: TftpFailureReason, message: string, tellPeer?: TftpErrorCode): ReceiverStep {
  const effects: ReceiverEffect[] = [];
  if (tellPeer !== undefined && s.phase !== "request") effects.push({ type: "send", to: "peer", packet: { opcode: Opcode.Error, code: tellPeer, message } });
  effects.push({ type: "failed", reason, message });
  return { state: { ...s, phase: "failed" }, effects };
}

/** The due ACK waits for the sink: before it has begun, before the final ACK, or when it lags beyond its lead. */
function sinkHoldsAck(s: ReceiverState): boolean {
  if (s.sinkBusy === 0) return false;
  return !s.sinkBegun || s.ackDue === s.finalBlock || s.sinkBusy * s.options.blockSize > s.sinkLeadBytes;
}

/** Send the due ACK unless the sink holds it; after the final block that ends the transfer. */
function flushAck(s: ReceiverState, effects: ReceiverEffect[]): ReceiverStep {
  if (s.ackDue === undefined || sinkHoldsAck(s)) return { state: s, effects };
  const block = s.ackDue;
  if (block !== s.finalBlock) {
    effects.push(ack(s, block), { type: "arm", ms: s.retransmission.waitMs });
    const acked = copy(s);
    acked.ackDue = undefined;
    acked.lastAcked = block;
    return { state: acked, effects };
  }
  // Dally after the final ACK (RFC 1350 §6): should the ACK be lost, the final DATA comes again.
  const dally = { waitMs: s.retransmission.waitMs * DALLY_WAITS, tries: 0 };
  effects.push(ack(s, block), { type: "arm", ms: dally.waitMs });
  const acked = { ...s, ackDue: undefined, lastAcked: block, retransmission: dally };
  const size = s.options.size;
  if (size !== undefined && size !== s.bytes) {
    // The final ACK still goes out: the server is done either way.
    const wrong = failed(acked, "truncated", `server announced ${size} bytes (tsize) but sent ${s.bytes}`);
    return { state: wrong.state, effects: [...effects, ...wrong.effects] };
  }
  effects.push({ type: "complete" });
  return { state: { ...acked, phase: "dally" }, effects };
}

/** The transfer is established (OACK accepted or DATA 1 arrived): the sink learns what comes. */
function established(s: ReceiverState, options: TransferOptions, effects: ReceiverEffect[]): ReceiverState {
  effects.push({ type: "begin", size: options.size });
  return { ...s, phase: "data", options, sinkBusy: s.sinkBusy + 1, retransmission: freshRetransmission(options.timeoutMs) };
}

function onData(s: ReceiverState, block: number, data: Uint8Array, effects: ReceiverEffect[]): ReceiverStep {
  const next = s.received + 1;
  let wrapsToOne = s.wrapsToOne;
  // The first wrap tells which rollover the server uses: 65535 → 0 or 65535 → 1. A 1 is
  // unambiguous only in lock-step: in a window it may be the block after a lost 0.
  if (wrapsToOne === undefined && next % 0x10000 === 0 && (block === 0 || (block === 1 && s.options.windowSize === 1))) wrapsToOne = block === 1;
  if (block !== wireBlock(next, wrapsToOne)) {
    if (s.answeredStray) return { state: s, effects };
    // A duplicate (our ACK was lost) or a block after a gap: say once where we are, and the sender resends from there.
    return flushAck({ ...s, ackDue: s.received, answeredStray: true }, effects);
  }
  if (data.length > s.options.blockSize) return failed(s, "protocol", `DATA ${block} carries ${data.length} bytes, over the ${s.options.blockSize}-byte block size`, TftpErrorCode.IllegalOperation);
  effects.push({ type: "write", data });
  const final = data.length < s.options.blockSize;
  const due = final || next - s.lastAcked >= s.options.windowSize;
  const moved = copy(s);
  moved.wrapsToOne = wrapsToOne;
  moved.received = next;
  moved.bytes = s.bytes + data.length;
  moved.sinkBusy = s.sinkBusy + 1;
  moved.finalBlock = final ? next : undefined;
  if (due) moved.ackDue = next;
  moved.answeredStray = false;
  // Progress resets the back-off (a schedule that is fresh already is kept, not rebuilt per block).
  if (s.retransmission.tries > 0 || s.retransmission.waitMs !== s.options.timeoutMs) moved.retransmission = freshRetransmission(s.options.timeoutMs);
  return flushAck(moved, effects);
}

function onPacket(s: ReceiverState, p: TftpPacket): ReceiverStep {
  const effects: ReceiverEffect[] = [];
  if (p.opcode === Opcode.Error) {
    if (s.phase === "dally") return { state: s, effects };
    if (s.phase !== "request") return failed(s, "truncated", `server stopped the transfer: ERROR ${p.code} (${p.message})`);
    if (p.code === TftpErrorCode.FileNotFound) return failed(s, "not-found", `${s.filename}: ${p.message || "file not found"}`);
    if (p.code === TftpErrorCode.OptionRefused && s.request) {
      // RFC 2347 §2: a server may refuse a request for its options; ask again without them.
      const plain = { ...s, request: undefined, retransmission: freshRetransmission(s.options.timeoutMs) };
      return { state: plain, effects: [readRequest(plain), { type: "arm", ms: plain.retransmission.waitMs }] };
    }
    return failed(s, "refused", `${s.filename}: server refused: ERROR ${p.code} (${p.message})`);
  }
  if (s.phase === "request") {
    if (p.opcode === Opcode.OptionAck) {
      const options = s.request ? acceptOptionAck(p.options, s.request, s.options.timeoutMs) : "OACK to a request without options";
      if (typeof options === "string") return failed({ ...s, phase: "data" }, "protocol", options, TftpErrorCode.OptionRefused);
      return flushAck({ ...established(s, options, effects), ackDue: 0 }, effects);
    }
    if (p.opcode === Opcode.Data && p.block === 1) return onData(established(s, { ...RFC1350_OPTIONS, timeoutMs: s.options.timeoutMs }, effects), 1, p.data, effects);
    return { state: s, effects };
  }
  if (s.phase === "dally") {
    // The final DATA again: our last ACK was lost. ACK again and keep dallying as long as the sender backs off.
    if (p.opcode !== Opcode.Data || p.block !== wireBlock(s.finalBlock!, s.wrapsToOne)) return { state: s, effects };
    const retransmission = backOff(s.retransmission, s.retries) ?? s.retransmission;
    return { state: { ...s, retransmission }, effects: [ack(s, s.finalBlock!), { type: "arm", ms: retransmission.waitMs }] };
  }
  if (p.opcode === Opcode.Data) return onData(s, p.block, p.data, effects);
  // The OACK again: our ACK 0 was lost.
  if (p.opcode === Opcode.OptionAck && s.received === 0) return flushAck({ ...s, ackDue: 0 }, effects);
  return { state: s, effects };
}

export function receiverStep(s: ReceiverState, input: ReceiverInput): ReceiverStep {
  if (s.phase === "done" || s.phase === "failed") return { state: s, effects: [] };
  switch (input.type) {
    case "start":
      return { state: s, effects: [readRequest(s), { type: "arm", ms: s.retransmission.waitMs }] };
    case "packet":
      return onPacket(s, input.packet);
    case "sink-ready": {
      const ready = copy(s);
      ready.sinkBusy = s.sinkBusy - input.calls;
      ready.sinkBegun = true;
      return flushAck(ready, []);
    }
    case "abort":
      // Once complete, the image is the sink's: a late cancel must not abort what it finished.
      if (s.phase === "dally") return { state: s, effects: [] };
      return failed(s, input.reason, input.message, input.code);
    case "timeout": {
      if (s.phase === "dally") return { state: { ...s, phase: "done" }, effects: [{ type: "closed" }] };
      // Waiting on our own sink is not the peer's silence.
      if (s.ackDue !== undefined && sinkHoldsAck(s)) return { state: s, effects: [{ type: "arm", ms: s.retransmission.waitMs }] };
      const retransmission = backOff(s.retransmission, s.retries);
      if (!retransmission) {
        return s.phase === "request"
          ? failed(s, "unreachable", `no answer to RRQ ${s.filename} after ${s.retries} retransmissions`)
          : failed(s, "timeout", `server silent after block ${s.received} (${s.retries} retransmissions)`);
      }
      const again = { ...s, retransmission, answeredStray: false };
      const resend = s.phase === "request" ? readRequest(s) : ack(s, s.lastAcked);
      return { state: again, effects: [resend, { type: "arm", ms: retransmission.waitMs }] };
    }
  }
}
