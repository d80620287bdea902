/**
 * The sending side of one read transfer (the server's), as a pure
 * transition function `(state, input) → { state, effects }`: reads, sends
 * and the retransmission timer are effects; a read's result, an ACK, a
 * peer's ERROR and the timer's expiry are inputs. The shell (server.ts)
 * carries the effects out.
 *
 * Windows (RFC 7440): up to windowSize blocks past the last ACK are in
 * flight. An ACK for a block inside the window means the receiver lost the
 * next one, so the window restarts after it. An ACK that moves nothing is
 * ignored, never answered — answering duplicate ACKs is the Sorcerer's
 * Apprentice bug (RFC 1123 §4.2.3.1), which doubles the traffic per
 * duplicate.
 *
 * Armed replies: with a shell whose socket can hold a reply (the native
 * one), the machine hands it the next window, armed on the ACK that will
 * release it, once the current window is out; the socket sends it the
 * moment that ACK arrives, and the ACK reaches the machine `answered`.
 * Only the event loop's turn leaves the path between an ACK and the next
 * window, which is most of a lock-step round trip; the machine still
 * decides every datagram. Any other ACK disarms the reply before the
 * machine answers it itself.
 */
import { DEFAULT_RETRIES } from "./limits.js";
import type { TransferOptions } from "./options.js";
import { type DataPacket, Opcode, type TftpPacket, TftpErrorCode } from "./packet.js";
import { backOff, blocksAhead, freshRetransmission, type Retransmission, wireBlock } from "./retransmit.js";

export interface SenderState {
  readonly phase: "option-ack" | "data" | "done" | "failed";
  readonly options: TransferOptions;
  /** The OACK to (re)send until ACK 0, when options were agreed. */
  readonly optionAck: TftpPacket | undefined;
  /** Highest block the receiver has acknowledged (blocks count from 1 over the whole transfer). */
  readonly acked: number;
  /** Highest block sent since the window last (re)started. */
  readonly sentUpTo: number;
  /** Blocks acked+1 … acked+blocks.length, read and kept for retransmission. */
  readonly blocks: readonly Uint8Array[];
  /** The final block (shorter than blockSize, possibly empty), once read. */
  readonly lastBlock: number | undefined;
  /** A read effect is outstanding. */
  readonly reading: boolean;
  readonly retransmission: Retransmission;
  readonly retries: number;
  /** The shell can arm replies. */
  readonly armsReplies: boolean;
  /** The block whose ACK releases the armed reply, if one is armed. */
  readonly replyFor: number | undefined;
  /** The last block the armed reply sends. */
  readonly replyUpTo: number;
}

export type SenderInput =
  | { type: "start" }
  /** The read effect's answer: blocks `first`… as one run; shorter than `count` blocks means end of file. */
  | { type: "read"; first: number; count: number; data: Uint8Array }
  /** `answered`: the socket sent the armed reply on this ACK already. */
  | { type: "ack"; block: number; answered?: boolean }
  | { type: "peer-error"; code: number; message: string }
  | { type: "timeout" }
  /** Stop from this side (read failure, server shutdown): tell the peer why. */
  | { type: "abort"; code: TftpErrorCode; message: string };

export type SenderFailure = "timeout" | "peer-error" | "aborted";

export type SenderEffect =
  | { type: "send"; packet: TftpPacket }
  | { type: "arm"; ms: number }
  /** Read `count` blocks starting at block `first` (file offset (first − 1) × blockSize). */
  | { type: "read"; first: number; count: number }
  /** Send these the moment ACK `ack` (its wire number) arrives, before this machine hears of it. */
  | { type: "arm-reply"; ack: number; packets: DataPacket[] }
  /** Forget the armed reply. */
  | { type: "disarm" }
  | { type: "done" }
  | { type: "failed"; reason: SenderFailure; message: string };

export interface SenderStep {
  state: SenderState;
  effects: SenderEffect[];
}

export function initialSender(options: TransferOptions, optionAck: TftpPacket | undefined, retries: number = DEFAULT_RETRIES, armsReplies = false): SenderState {
  return {
    phase: optionAck ? "option-ack" : "data",
    options,
    optionAck,
    acked: 0,
    sentUpTo: 0,
    blocks: [],
    lastBlock: undefined,
    reading: false,
    retransmission: freshRetransmission(options.timeoutMs),
    retries,
    armsReplies,
    replyFor: undefined,
    replyUpTo: 0,
  };
}

/** A state a step is still building. */
type Draft = { -readonly [K in keyof SenderState]: SenderState[K] };

/**
 * A copy of `s` for a step to change before returning it (the state a step
 * was given never changes). The steps every datagram takes build their next
 * state here rather than as `{ ...s, field: value }`: that literal missed
 * V8's inline caches on every call (a tenth of the client's CPU in a profile
 * of a windowed transfer), and so did a generic spread helper shared by both
 * machines; one literal with the fields in initialSender's order gives V8 one shape.
 */
function copy(s: SenderState): Draft {
  return {
    phase: s.phase,
    options: s.options,
    optionAck: s.optionAck,
    acked: s.acked,
    sentUpTo: s.sentUpTo,
    blocks: s.blocks,
    lastBlock: s.lastBlock,
    reading: s.reading,
    retransmission: s.retransmission,
    retries: s.retries,
    armsReplies: s.armsReplies,
    replyFor: s.replyFor,
    replyUpTo: s.replyUpTo,
  };
}

function dataPacket(s: SenderState, block: number): DataPacket {
  return { opcode: Opcode.Data, block: wireBlock(block), data: s.blocks[block - s.acked - 1]! };
}

/**
 * Send every loaded block of the window not yet sent, ask for the rest of
 * the window (and, arming replies, the next one) to be read, and arm the
 * next window on the ACK of this one once it is out and loaded.
 */
function fill(s: SenderState, effects: SenderEffect[]): SenderState {
  const windowEnd = s.acked + s.options.windowSize;
  const loadedEnd = s.acked + s.blocks.length;
  let sentUpTo = s.sentUpTo;
  if (s.phase === "data") {
    for (; sentUpTo < Math.min(windowEnd, loadedEnd); sentUpTo++) effects.push({ type: "send", packet: dataPacket(s, sentUpTo + 1) });
  }
  let reading = s.reading;
  const readEnd = windowEnd + (s.armsReplies ? s.options.windowSize : 0);
  if (!reading && s.lastBlock === undefined && loadedEnd < readEnd) {
    reading = true;
    effects.push({ type: "read", first: loadedEnd + 1, count: readEnd - loadedEnd });
  }
  const filled = copy(s);
  filled.sentUpTo = sentUpTo;
  filled.reading = reading;
  if (s.armsReplies && s.phase === "data" && sentUpTo === windowEnd && s.replyFor !== windowEnd) armNextWindow(filled, windowEnd, effects);
  return filled;
}

/** Arm the window after `windowEnd` on its ACK, once that window is read whole (or up to the file's end). */
function armNextWindow(s: Draft, windowEnd: number, effects: SenderEffect[]): void {
  const upTo = Math.min(windowEnd + s.options.windowSize, s.acked + s.blocks.length);
  if (upTo === windowEnd || (upTo < windowEnd + s.options.windowSize && upTo !== s.lastBlock)) return;
  const packets: DataPacket[] = [];
  for (let b = windowEnd + 1; b <= upTo; b++) packets.push(dataPacket(s, b));
  effects.push({ type: "arm-reply", ack: wireBlock(windowEnd), packets });
  s.replyFor = windowEnd;
  s.replyUpTo = upTo;
}

function failed(s: SenderState, reason: SenderFailure, message: string, effects: SenderEffect[] = []): SenderStep {
  return { state: { ...s, phase: "failed", blocks: [] }, effects: [...effects, { type: "failed", reason, message }] };
}

/** Split a read run into blocks; a short run ends the file (an exact multiple ends with an empty block). */
function splitRead(s: SenderState, data: Uint8Array, count: number): { blocks: Uint8Array[]; lastBlock: number | undefined } {
  const size = s.options.blockSize;
  const blocks: Uint8Array[] = [];
  for (let at = 0; at + size <= data.length && blocks.length < count; at += size) blocks.push(data.subarray(at, at + size));
  if (blocks.length === count) return { blocks, lastBlock: undefined };
  blocks.push(data.subarray(blocks.length * size));
  return { blocks, lastBlock: s.acked + s.blocks.length + blocks.length };
}

export function senderStep(s: SenderState, input: SenderInput): SenderStep {
  if (s.phase === "done" || s.phase === "failed") return { state: s, effects: [] };
  const effects: SenderEffect[] = [];
  switch (input.type) {
    case "start": {
      if (s.optionAck) effects.push({ type: "send", packet: s.optionAck }, { type: "arm", ms: s.retransmission.waitMs });
      const next = fill(s, effects);
      if (!s.optionAck) effects.push({ type: "arm", ms: s.retransmission.waitMs });
      return { state: next, effects };
    }
    case "read": {
      if (!s.reading || input.first !== s.acked + s.blocks.length + 1) return { state: s, effects };
      const { blocks, lastBlock } = splitRead(s, input.data, input.count);
      const loaded = copy(s);
      loaded.blocks = s.blocks.length === 0 ? blocks : [...s.blocks, ...blocks];
      loaded.lastBlock = lastBlock;
      loaded.reading = false;
      return { state: fill(loaded, effects), effects };
    }
    case "ack": {
      if (s.phase === "option-ack") {
        if (input.block !== 0) return { state: s, effects };
        const next = fill({ ...s, phase: "data", retransmission: freshRetransmission(s.options.timeoutMs) }, effects);
        return { state: next, effects: [...effects, { type: "arm", ms: next.retransmission.waitMs }] };
      }
      // Which block the 16-bit number means: at most a window past the last ACK.
      const acked = s.acked + blocksAhead(input.block, s.acked);
      if (acked === s.acked || acked > s.sentUpTo) return { state: s, effects };
      if (acked === s.lastBlock) return { state: { ...s, phase: "done", acked, blocks: [] }, effects: [{ type: "done" }] };
      // The armed reply left on this ACK: its blocks are out. Any other ACK: the reply is stale.
      const answered = input.answered === true && acked === s.replyFor;
      if (!answered && s.replyFor !== undefined) effects.push({ type: "disarm" });
      // Anything past the ACK that was sent is resent: the receiver dropped it after a gap.
      const moved = copy(s);
      moved.acked = acked;
      moved.sentUpTo = answered ? s.replyUpTo : acked;
      moved.blocks = s.blocks.slice(acked - s.acked);
      moved.retransmission = freshRetransmission(s.options.timeoutMs);
      moved.replyFor = undefined;
      const next = fill(moved, effects);
      return { state: next, effects: [...effects, { type: "arm", ms: next.retransmission.waitMs }] };
    }
    case "timeout": {
      const retransmission = backOff(s.retransmission, s.retries);
      if (!retransmission) return failed(s, "timeout", `no ACK after ${s.retries} retransmissions`);
      if (s.phase === "option-ack") effects.push({ type: "send", packet: s.optionAck! });
      for (let b = s.acked + 1; b <= s.sentUpTo; b++) effects.push({ type: "send", packet: dataPacket(s, b) });
      effects.push({ type: "arm", ms: retransmission.waitMs });
      return { state: { ...s, retransmission }, effects };
    }
    case "peer-error":
      return failed(s, "peer-error", `peer sent ERROR ${input.code} (${input.message})`);
    case "abort":
      return failed(s, "aborted", input.message, [{ type: "send", packet: { opcode: Opcode.Error, code: input.code, message: input.message } }]);
  }
}
