/**
 * The console socket's frames (`vap console` ↔ the AP), pure functions over
 * bytes: a type byte, a 16-bit big-endian length, the payload. The client
 * opens with ATTACH (its keystrokes follow as DATA; payload one byte, 1 when
 * it is a terminal: echo and "\r\n") or COMMAND (one line, UTF-8); the AP
 * answers with DATA (output) and ends with EXIT (one byte: the status).
 */
import { concatBytes } from "../../core/bytes.js";
import { VapError } from "../../core/errors.js";
import { MAX_FRAME_BYTES } from "./limits.js";

export const FrameType = { attach: 1, command: 2, data: 3, exit: 4 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  readonly type: FrameType;
  readonly payload: Uint8Array;
}

const HEADER_BYTES = 3;
const TYPES = new Set<number>(Object.values(FrameType));

/** A frame the peer should not have sent: its message is the one line the AP answers with. */
export class FrameError extends VapError {
  constructor(message: string) {
    super("VAP_CONSOLE_FRAME", message);
  }
}

/** One frame; a payload over MAX_FRAME_BYTES is the caller's bug (split() first). */
export function encodeFrame(type: FrameType, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (payload.length > MAX_FRAME_BYTES) throw new RangeError(`a console frame holds at most ${MAX_FRAME_BYTES} bytes, not ${payload.length}`);
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  frame[0] = type;
  frame[1] = payload.length >> 8;
  frame[2] = payload.length & 0xff;
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/** DATA frames carrying `bytes`, MAX_FRAME_BYTES at most each. */
export function dataFrames(bytes: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += MAX_FRAME_BYTES) frames.push(encodeFrame(FrameType.data, bytes.subarray(at, at + MAX_FRAME_BYTES)));
  return frames;
}

/** Frames out of a byte stream in any chunks; holds at most one frame's bytes. Throws FrameError on what no peer sends. */
export class FrameDecoder {
  #pending = new Uint8Array(0);

  push(chunk: Uint8Array): Frame[] {
    const bytes = this.#pending.length === 0 ? chunk : concatBytes([this.#pending, chunk]);
    const frames: Frame[] = [];
    let at = 0;
    while (bytes.length - at >= HEADER_BYTES) {
      const type = bytes[at]!;
      if (!TYPES.has(type)) throw new FrameError(`unknown frame type ${type}`);
      const length = (bytes[at + 1]! << 8) | bytes[at + 2]!;
      if (length > MAX_FRAME_BYTES) throw new FrameError(`frame of ${length} bytes, more than ${MAX_FRAME_BYTES}`);
      if (bytes.length - at < HEADER_BYTES + length) break;
      frames.push({ type: type as FrameType, payload: bytes.slice(at + HEADER_BYTES, at + HEADER_BYTES + length) });
      at += HEADER_BYTES + length;
    }
    this.#pending = bytes.slice(at);
    return frames;
  }
}
