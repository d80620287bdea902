/**
 * The TFTP wire format (RFC 1350 §5, OACK from RFC 2347 §2) as plain typed
 * messages and two pure functions. No Node: it imports only the pure core
 * leaves. Every malformed datagram becomes a TftpDecodeError carrying the
 * error code to answer with, so one place in each shell decides its fate.
 */
import { PeerError, UsageError } from "../../core/errors.js";

export const enum Opcode {
  ReadRequest = 1,
  WriteRequest = 2,
  Data = 3,
  Ack = 4,
  Error = 5,
  OptionAck = 6,
}

/** RFC 1350 Appendix, plus 8 from RFC 2347. */
export enum TftpErrorCode {
  NotDefined = 0,
  FileNotFound = 1,
  AccessViolation = 2,
  DiskFull = 3,
  IllegalOperation = 4,
  UnknownTransferId = 5,
  FileExists = 6,
  NoSuchUser = 7,
  OptionRefused = 8,
}

/** Option names are case-insensitive (RFC 2347 §2): keys are lower case, in the order the peer sent them. */
export type TftpOptions = ReadonlyMap<string, string>;

export interface RequestPacket {
  opcode: Opcode.ReadRequest | Opcode.WriteRequest;
  filename: string;
  /** Lower case: "octet", "netascii", "mail". */
  mode: string;
  options: TftpOptions;
}
export interface DataPacket {
  opcode: Opcode.Data;
  block: number;
  data: Uint8Array;
}
export interface AckPacket {
  opcode: Opcode.Ack;
  block: number;
}
export interface ErrorPacket {
  opcode: Opcode.Error;
  code: number;
  message: string;
}
export interface OptionAckPacket {
  opcode: Opcode.OptionAck;
  options: TftpOptions;
}
export type TftpPacket = RequestPacket | DataPacket | AckPacket | ErrorPacket | OptionAckPacket;

/** A datagram that is not TFTP as RFC 1350/2347 write it; `replyCode` is what to answer (when answering at all). */
export class TftpDecodeError extends PeerError {
  readonly replyCode: TftpErrorCode;

  constructor(message: string, replyCode = TftpErrorCode.IllegalOperation) {
    super("VAP_TFTP_MALFORMED", message);
    this.replyCode = replyCode;
  }
}

/** One char per byte (latin-1): every byte value survives decode → encode. */
function byteString(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return text;
}

/** Reads NUL-terminated strings and 16-bit fields in order, failing as TftpDecodeError. */
class Cursor {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  u16(field: string): number {
    if (this.remaining < 2) throw new TftpDecodeError(`${field}: datagram ends after ${this.bytes.length} bytes`);
    const value = (this.bytes[this.offset]! << 8) | this.bytes[this.offset + 1]!;
    this.offset += 2;
    return value;
  }

  /** RFC 1350 strings are bytes up to a NUL; decoded one byte per char so any name survives a round trip. */
  string(field: string): string {
    const end = this.bytes.indexOf(0, this.offset);
    if (end < 0) throw new TftpDecodeError(`${field}: no terminating NUL`);
    const text = byteString(this.bytes.subarray(this.offset, end));
    this.offset = end + 1;
    return text;
  }
}

function decodeOptions(c: Cursor): Map<string, string> {
  const options = new Map<string, string>();
  while (c.remaining > 0) {
    const name = c.string("option name").toLowerCase();
    const value = c.string(`option ${name} value`);
    if (name === "") throw new TftpDecodeError("empty option name", TftpErrorCode.OptionRefused);
    if (options.has(name)) throw new TftpDecodeError(`option ${name} given twice`, TftpErrorCode.OptionRefused);
    options.set(name, value);
  }
  return options;
}

export function decodePacket(bytes: Uint8Array): TftpPacket {
  const c = new Cursor(bytes);
  const opcode = c.u16("opcode");
  switch (opcode) {
    case Opcode.ReadRequest:
    case Opcode.WriteRequest: {
      const filename = c.string("filename");
      if (filename === "") throw new TftpDecodeError("empty filename");
      const mode = c.string("mode").toLowerCase();
      return { opcode, filename, mode, options: decodeOptions(c) };
    }
    case Opcode.Data: {
      const block = c.u16("block");
      return { opcode, block, data: bytes.subarray(c.offset) };
    }
    case Opcode.Ack: {
      const block = c.u16("block");
      if (c.remaining > 0) throw new TftpDecodeError(`ACK: ${c.remaining} bytes after the block number`);
      return { opcode, block };
    }
    case Opcode.Error: {
      const code = c.u16("error code");
      // Robustness: a peer that forgets the NUL still told us why it stopped.
      const message = bytes.indexOf(0, c.offset) < 0 ? byteString(bytes.subarray(c.offset)) : c.string("error message");
      return { opcode, code, message };
    }
    case Opcode.OptionAck:
      return { opcode, options: decodeOptions(c) };
    default:
      throw new TftpDecodeError(`unknown opcode ${opcode}`);
  }
}

/** Byte length of a string as encodePacket writes it, NUL included. */
function stringLength(text: string, field: string): number {
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0 || ch > 0xff) throw new UsageError(`TFTP ${field} "${text}" has a character that cannot go on the wire`);
  }
  return text.length + 1;
}

function optionEntries(options: TftpOptions): string[] {
  return [...options].flat();
}

/** A DATA packet's opcode and block number, before its block (RFC 1350 §5). */
export const DATA_HEADER_BYTES = 4;

/** A DATA packet's first 4 bytes (opcode, block): sent ahead of the block's bytes where they lie, without copying them into a packet. */
export function encodeDataHeader(block: number): Uint8Array {
  const header = new Uint8Array(DATA_HEADER_BYTES);
  header[1] = Opcode.Data;
  header[2] = block >> 8;
  header[3] = block & 0xff;
  return header;
}

export function encodePacket(p: TftpPacket): Uint8Array {
  const strings =
    p.opcode === Opcode.ReadRequest || p.opcode === Opcode.WriteRequest
      ? [p.filename, p.mode, ...optionEntries(p.options)]
      : p.opcode === Opcode.OptionAck
        ? optionEntries(p.options)
        : p.opcode === Opcode.Error
          ? [p.message]
          : [];
  const fixed = p.opcode === Opcode.Data ? 4 + p.data.length : p.opcode === Opcode.Ack || p.opcode === Opcode.Error ? 4 : 2;
  const out = new Uint8Array(fixed + strings.reduce((n, s) => n + stringLength(s, "string"), 0));
  out[0] = 0;
  out[1] = p.opcode;
  let at = 2;
  if (p.opcode === Opcode.Data || p.opcode === Opcode.Ack || p.opcode === Opcode.Error) {
    const field = p.opcode === Opcode.Error ? p.code : p.block;
    out[2] = field >> 8;
    out[3] = field & 0xff;
    at = 4;
  }
  if (p.opcode === Opcode.Data) out.set(p.data, 4);
  for (const s of strings) {
    for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i);
    out[at++] = 0;
  }
  return out;
}

/** "ERROR 1 (File not found)" style names for logs. */
export function describePacket(p: TftpPacket): string {
  switch (p.opcode) {
    case Opcode.ReadRequest:
    case Opcode.WriteRequest:
      return `${p.opcode === Opcode.ReadRequest ? "RRQ" : "WRQ"} ${p.filename}`;
    case Opcode.Data:
      return `DATA ${p.block} (${p.data.length} bytes)`;
    case Opcode.Ack:
      return `ACK ${p.block}`;
    case Opcode.Error:
      return `ERROR ${p.code} (${p.message})`;
    case Opcode.OptionAck:
      return `OACK ${[...p.options].map(([k, v]) => `${k}=${v}`).join(" ")}`;
  }
}
